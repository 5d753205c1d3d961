//! Runs/sec of the cBPF interpreter on a ~20-instruction filter shaped like compiled
//! output (arch check, x32 guard, binary search over syscall numbers), over a varied mix
//! of syscall numbers; and on syscage's compiled `runtime/default` over the bundled
//! traces' events. The workloads are [`syscage_benches::interp`]'s, which `probe`
//! counts instructions on.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use syscage_benches::interp::Workload;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("interp");
    let w = Workload::binary_search_20();
    g.throughput(Throughput::Elements(w.events.len() as u64));
    g.bench_function("binary_search_20_insns", |b| b.iter(|| w.run_once()));
    // syscage's own compiled runtime/default on the bundled traces' events.
    let w = Workload::runtime_default_compiled();
    g.throughput(Throughput::Elements(w.events.len() as u64));
    g.bench_function("runtime_default_compiled/bundled_traces", |b| {
        b.iter(|| w.run_once())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
