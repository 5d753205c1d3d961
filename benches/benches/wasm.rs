//! The wasm engine against the native reference engine, side by side on the same
//! strace trace (the bundled `examples/` strace files repeated to about 8 MB): the
//! whole of what `syscage check` asks of an engine — parse the trace, evaluate every
//! event against `runtime/default` (x86_64, kernel 6.18, runc), summarize. Throughput
//! is in events, so criterion prints verdicts per second for both; the ratio is the
//! issue's target.
//!
//! The wasm side is the embedded guest in wasmtime with its epoch deadline and the default
//! limits, a fresh instance per call as the CLI does, the trace passed as raw bytes
//! (`syscage_call_with_data`); the module is compiled once, outside the measurement.
//!
//! Run: `cargo bench -p syscage-benches --bench wasm`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use syscage_core::arch::Arch;
use syscage_core::engine::{EngineKind, Layer, Prepared};
use syscage_core::report::{self, Checked};
use syscage_core::trace;
use syscage_simulator::{Limits, Simulator};

const TARGET_BYTES: usize = 8 << 20;

fn strace_text() -> String {
    let parts: Vec<String> = syscage_benches::bundled_traces()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".strace"))
        .map(|(_, text)| text)
        .collect();
    let mut s = String::with_capacity(TARGET_BYTES + (1 << 20));
    while s.len() < TARGET_BYTES {
        for p in &parts {
            s.push_str(p);
            if !s.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    s
}

/// What the reference engine does for `check`: the summary's length, so nothing is
/// optimized away.
fn reference(prepared: &Prepared, text: &str) -> usize {
    let events = trace::parse_strace(text, Arch::X86_64)
        .expect("the bench trace parses")
        .events;
    let evaluator = prepared.evaluator();
    let checked: Vec<Checked> = events
        .into_iter()
        .map(|event| Checked {
            outcome: evaluator.evaluate(&event),
            event,
        })
        .collect();
    report::summary(&checked).len()
}

fn bench(c: &mut Criterion) {
    let text = strace_text();
    let policy = syscage_benches::runtime_default();
    let prepared = Prepared::new(
        vec![Layer::Policy(policy)],
        EngineKind::Reference,
        syscage_core::profile::KernelVersion {
            major: 6,
            minor: 18,
        },
    )
    .expect("runtime/default prepares");
    let events = trace::parse_strace(&text, Arch::X86_64)
        .expect("the bench trace parses")
        .events
        .len();

    let sim = Simulator::new(Limits::default()).expect("the embedded guest loads");
    let request = serde_json::to_vec(&serde_json::json!({
        "profiles": [{"builtin": "runtime/default"}],
        "traces": [{"source": "bench.strace", "data": {"offset": 0, "length": text.len()}}],
        "target": {"arch": "x86_64", "kernel": "6.18", "runtime": "runc"},
        "events": false,
    }))
    .unwrap();
    let wasm = || {
        sim.call_raw_with_data("check", &request, text.as_bytes(), |answer| {
            assert!(answer.starts_with(br#"{"ok":true"#), "the guest failed");
            answer.len()
        })
        .expect("the guest answers")
    };
    // Both engines count the same events.
    let answer = sim
        .call_raw_with_data("check", &request, text.as_bytes(), |a| a.to_vec())
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["result"]["counts"]["events"], events);
    eprintln!("wasm bench: {} bytes, {events} events", text.len());

    let mut g = c.benchmark_group("check_strace");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events as u64));
    g.bench_function("reference", |b| b.iter(|| reference(&prepared, &text)));
    g.bench_function("wasm", |b| b.iter(wasm));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
