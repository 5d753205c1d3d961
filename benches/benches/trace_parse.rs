//! strace parsing throughput (MB/s) on a large synthetic trace: the bundled `examples/`
//! strace files repeated until the text is about 32 MB. Also JSON Lines, for reference.
//!
//! Run: `cargo bench -p syscage-benches --bench trace_parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use syscage_core::arch::Arch;
use syscage_core::trace;

const STRACE_EXAMPLES: &[&str] = &[
    include_str!("../../examples/curl-version.strace"),
    include_str!("../../examples/git-status.strace"),
    include_str!("../../examples/pid-prefix.strace"),
    include_str!("../../examples/python3-pass.strace"),
    include_str!("../../examples/raw-id.strace"),
    include_str!("../../examples/tt-T-y-pipeline.strace"),
    include_str!("../../examples/ttt-date.strace"),
    include_str!("../../examples/yy-curl.strace"),
];

const TARGET_BYTES: usize = 32 << 20;

fn repeated(parts: &[&str]) -> String {
    let mut s = String::with_capacity(TARGET_BYTES + (1 << 20));
    while s.len() < TARGET_BYTES {
        for p in parts {
            s.push_str(p);
            if !s.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = repeated(STRACE_EXAMPLES);
    let events = trace::parse_strace(&text, Arch::X86_64)
        .expect("synthetic trace parses")
        .events
        .len();
    eprintln!("strace: {} bytes, {events} events", text.len());
    let mut g = c.benchmark_group("trace_parse");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("strace", |b| {
        b.iter(|| trace::parse_strace(&text, Arch::X86_64).map(|t| t.events.len()))
    });

    let jsonl = repeated(&[include_str!("../../examples/denied.jsonl")]);
    g.throughput(Throughput::Bytes(jsonl.len() as u64));
    g.bench_function("jsonl", |b| {
        b.iter(|| trace::parse_jsonl(&jsonl, Arch::X86_64).map(|t| t.events.len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
