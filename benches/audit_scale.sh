#!/usr/bin/env bash
# What `syscage audit` costs a node, what `syscage report` costs at 10,000 nodes, and
# how fast one fuzz shard runs: the figures of docs/SCALE.md.
#
#   cargo build --release && sudo benches/audit_scale.sh
#
# Starts N `sleep`s under one runtime/default filter (one `syscage enforce` running a
# shell that forks them: they share the filter, as a container's processes do) for N
# in 0 300 1000 3000, audits the host with and without reading filters, then merges
# 10,000 copies of the N=300 audit (one per synthetic node) with report. Every process
# it starts it kills by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${T:-target/release/syscage}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
measure() { # label, command...: wall seconds, peak RSS, output bytes
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$W/time" "$@" > "$W/out" 2>/dev/null || true
  read -r secs kib < "$W/time"
  printf '%-46s %7.2f s %8d KiB %10d bytes\n' "$label" "$secs" "$kib" "$(wc -c < "$W/out")"
}
for n in 0 300 1000 3000; do
  pid=
  if [ "$n" -gt 0 ]; then
    "$T" enforce -q -p runtime/default -- sh -c "for i in \$(seq $n); do sleep 900 & done; wait" &
    pid=$!
    while [ "$(pgrep -c -P "$pid" sleep || true)" -lt "$n" ]; do sleep 0.2; done
  fi
  procs=$(ls /proc | grep -c '^[0-9]')
  measure "audit, $n extra processes ($procs in /proc)" "$T" audit --format json
  measure "audit --no-filters, $n extra" "$T" audit --format json --no-filters
  [ "$n" = 300 ] && cp "$W/out" "$W/a300" && "$T" audit --format json > "$W/a300"
  if [ -n "$pid" ]; then pkill -P "$pid" sleep || true; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
done
python3 - "$W/a300" "$W/nodes.log" <<'PY'
import json, sys
# Every node as a Kubernetes node: its processes spread over 60 containers of 30 pods
# (5 processes a container), under the stacks the audit found.
import hashlib
a = json.loads(open(sys.argv[1]).readline())
procs = a["processes"]
with open(sys.argv[2], "w") as f:
    for i in range(10000):
        a["node"] = f"node-{i:05d}"
        for j, p in enumerate(procs[:300]):
            c = j // 5
            h = hashlib.sha256(f"{i}/{c}".encode()).hexdigest()
            u = hashlib.sha256(f"{i}/pod{c // 2}".encode()).hexdigest()
            p["container"] = {"engine": "containerd", "id": h, "qos": "burstable",
                              "pod": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}"}
        f.write(json.dumps(a, separators=(",", ":")) + "\n")
PY
echo "10,000 node audits: $(wc -c < "$W/nodes.log") bytes"
measure "report, 10,000 nodes" "$T" report --format json "$W/nodes.log"
head -n 1000 "$W/nodes.log" > "$W/nodes1k.log"
measure "report, 1,000 nodes" "$T" report --format json "$W/nodes1k.log"
for engines in reference,bpf reference,bpf,kernel; do
  measure "fuzz 1000 cases, $engines" "$T" fuzz -q --format json --seed 1 --cases 1000 --engines "$engines"
  python3 -c "import json,sys; d=json.load(open('$W/out')); print('   ', d['cases'], 'cases,', d['events'], 'events,', d['kernel_verdicts'], 'kernel verdicts in %.2f s: %.0f cases/s' % (d['seconds'], d['cases']/d['seconds']))"
done
