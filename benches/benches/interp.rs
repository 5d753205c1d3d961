//! Runs/sec of the cBPF interpreter on a ~20-instruction filter shaped like compiled
//! output (arch check, x32 guard, binary search over syscall numbers), over a varied mix
//! of syscall numbers; and on syscage's compiled `runtime/default` over the bundled
//! traces' events.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use syscage_benches::{bundled_events, runtime_default};
use syscage_core::bpf::{asm::assemble, compile::compile, run, validate};
use syscage_core::event::SeccompData;

const FILTER: &str = include_str!("interp_filter.txt");

fn bench(c: &mut Criterion) {
    let prog = validate(&assemble(FILTER).expect("bench filter assembles")).expect("valid");
    let events: Vec<SeccompData> = (0..1024u32)
        .map(|i| SeccompData {
            nr: (i.wrapping_mul(2_654_435_761) >> 7) % 460,
            arch: if i % 97 == 0 {
                0x4000_0003
            } else {
                0xc000_003e
            },
            instruction_pointer: 0,
            args: [u64::from(i); 6],
        })
        .collect();
    let mut g = c.benchmark_group("interp");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("binary_search_20_insns", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for d in &events {
                acc = acc.wrapping_add(run(black_box(&prog), black_box(d)).ret);
            }
            acc
        })
    });
    // syscage's own compiled runtime/default on the bundled traces' events.
    let compiled = validate(&compile(&runtime_default()).expect("compiles")).expect("valid");
    let trace: Vec<SeccompData> = bundled_events().iter().map(|e| e.data_with(0)).collect();
    g.throughput(Throughput::Elements(trace.len() as u64));
    g.bench_function("runtime_default_compiled/bundled_traces", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for d in &trace {
                acc = acc.wrapping_add(run(black_box(&compiled), black_box(d)).ret);
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
