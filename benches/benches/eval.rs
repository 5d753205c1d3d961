//! Reference evaluator throughput: verdicts per second on decoded events against
//! `runtime/default` (target: 50 million a second on one core).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use syscage_benches::{bundled_events, runtime_default};
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;

fn bench(c: &mut Criterion) {
    let policy = runtime_default();
    let eval = Evaluator::new(&policy);
    let data: Vec<SeccompData> = bundled_events().iter().map(|e| e.data_with(0)).collect();
    let mut g = c.benchmark_group("reference");
    g.throughput(Throughput::Elements(data.len() as u64));
    g.bench_function("runtime_default/bundled_traces", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for d in &data {
                acc = acc.wrapping_add(eval.decide(black_box(d)).0);
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
