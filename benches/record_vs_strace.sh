#!/bin/sh
# syscage record against strace on the same workloads, side by side in one run.
#
#   cargo build --release && benches/record_vs_strace.sh [RUNS]
#
# Each workload runs plain, under `strace -f` (to a file and to /dev/null, and with
# --seccomp-bpf, which stops only at the calls its filter traces: here all of them),
# and under `syscage record -f` (return values on, and --no-returns). Runs are
# interleaved (one of each configuration per round, RUNS rounds, default 5) so that
# load from elsewhere hits every configuration alike; the table gives the median wall
# time and its ratio to `strace -f -o FILE`. Needs strace and cc.
set -eu

runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
syscage=$root/target/release/syscage
[ -x "$syscage" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -o "$tmp/calls" "$root/tests/data/record/calls.c"

# name|command (run by sh -c)
workloads="getppid x 200k|$tmp/calls loop 200000
find /usr -maxdepth 3 -ls|find /usr -maxdepth 3 -ls >/dev/null
ls -lR /usr/share/doc|ls -lR /usr/share/doc >/dev/null"

configs="plain|
strace -f -o FILE|strace -f -o $tmp/out
strace -f -o /dev/null|strace -f -o /dev/null
strace -f --seccomp-bpf -o FILE|strace -f --seccomp-bpf -o $tmp/out
syscage record -f -o FILE|$syscage record -f -o $tmp/out --
syscage record -f --no-returns -o FILE|$syscage record -f --no-returns -o $tmp/out --"

now() { date +%s.%N; }

printf '%s\n' "$workloads" | while IFS='|' read -r wname wcmd; do
    : >"$tmp/times"
    i=0
    while [ "$i" -lt "$runs" ]; do
        printf '%s\n' "$configs" | while IFS='|' read -r cname cprefix; do
            t0=$(now)
            # shellcheck disable=SC2086
            $cprefix sh -c "$wcmd" </dev/null 2>/dev/null || true
            t1=$(now)
            echo "$cname|$(echo "$t1 - $t0" | bc)" >>"$tmp/times"
        done
        i=$((i + 1))
    done
    lines=$(grep -c . "$tmp/out" 2>/dev/null || echo 0)
    echo
    echo "## $wname ($runs runs each, median wall time)"
    echo
    echo "| configuration | seconds | vs strace -f -o FILE |"
    echo "|---|---:|---:|"
    median() { grep "^$1|" "$tmp/times" | cut -d'|' -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    base=$(median "strace -f -o FILE")
    printf '%s\n' "$configs" | while IFS='|' read -r cname _; do
        m=$(median "$cname")
        printf '| %s | %.3f | %.2f |\n' "$cname" "$m" "$(echo "$m / $base" | bc -l)"
    done
    echo
    echo "(last trace written: $lines lines)"
done
