//! Compile time of `runtime/default` (x86_64, x86, x32) and of the large hand-made
//! profile of the comparison run, from the resolved policy to the program.
//!
//! Run: `cargo bench -p syscage-benches --bench compile`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use syscage_benches::compare::large_profile;
use syscage_benches::runtime_default;
use syscage_core::arch::Arch;
use syscage_core::bpf::compile::compile;
use syscage_core::policy::{resolve, Target};
use syscage_core::profile::KernelVersion;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    let policy = runtime_default();
    g.bench_function("runtime_default", |b| {
        b.iter(|| compile(black_box(&policy)).unwrap().len())
    });
    let target = Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    let large = resolve(&large_profile(), &target).unwrap();
    g.bench_function("large_profile", |b| {
        b.iter(|| compile(black_box(&large)).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
