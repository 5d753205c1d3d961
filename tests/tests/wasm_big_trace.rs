//! A 100 MB strace trace through the simulator, alone in its test binary so that the
//! process's peak resident memory (`VmHWM`) is this test's: the answer is exact and
//! the host's memory stays bounded by the trace's copies plus the sandbox's limit.

use serde_json::json;
use syscage_simulator::{Limits, Simulator};

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_100_mb_trace_is_answered_within_the_limits() {
    const LINES: [&str; 4] = [
        "1234  openat(AT_FDCWD, \"/usr/lib/x86_64-linux-gnu/libc.so.6\", O_RDONLY|O_CLOEXEC) = 3\n",
        "1234  read(3, \"\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\"..., 832) = 832\n",
        "1234  mmap(NULL, 2170256, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7f1e2a400000\n",
        "1234  close(3)                          = 0\n",
    ];
    const DENIED: &str =
        "1234  unshare(CLONE_NEWUSER)            = -1 EPERM (Operation not permitted)\n";
    let mut text = String::with_capacity(101 << 20);
    let (mut events, mut denied) = (0u64, 0u64);
    while text.len() < 100 << 20 {
        for l in LINES {
            text.push_str(l);
        }
        events += 4;
        if events % 4000 == 0 {
            text.push_str(DENIED);
            events += 1;
            denied += 1;
        }
    }
    let size = text.len() as u64;
    let before = vm_hwm_kib();
    let limits = Limits::default();
    let sim = Simulator::new(limits).unwrap();
    let started = std::time::Instant::now();
    let request = serde_json::to_vec(&json!({
        "profiles": [{"builtin": "runtime/default"}],
        "traces": [{"source": "big.strace", "text": text}],
        "target": {"arch": "x86_64", "kernel": "6.18"},
        "events": false,
    }))
    .unwrap();
    drop(text);
    let answer = sim
        .call_raw("check", &request, |bytes| {
            serde_json::from_slice::<serde_json::Value>(bytes).unwrap()
        })
        .unwrap();
    drop(request);
    let elapsed = started.elapsed();
    let r = &answer["result"];
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(r["counts"]["events"], events, "{}", r["counts"]);
    assert_eq!(r["counts"]["not_permitted"], denied);
    assert_eq!(r["counts"]["actions"]["ERRNO"], denied);
    let peak = vm_hwm_kib();
    eprintln!(
        "{} MB trace, {events} events: {elapsed:?}; host VmHWM {} MiB (before {} MiB), limit {} MiB",
        size >> 20,
        peak >> 10,
        before >> 10,
        limits.max_memory >> 20
    );
    // Bounded: the trace as text and as a request (about 2x), plus the sandbox.
    assert!(
        peak < (before + (3 * size + limits.max_memory) / 1024),
        "VmHWM {peak} KiB"
    );
}
