//! syscage's own `runtime/default` must be verdict-equivalent to Docker's published
//! default profile for Docker's default capabilities on x86_64 (and its x86/x32
//! sub-architectures): same return value for every syscall number and every boundary
//! value of every argument condition.

use syscage_core::action::describe_ret;
use syscage_core::arch::Arch;
use syscage_core::builtin;
use syscage_core::eval::Evaluator;
use syscage_core::policy::{resolve, Target};
use syscage_core::profile::{self, KernelVersion, Runtime};
use syscage_tests::{boundary_events, shared_profile};

fn compare(kernel: KernelVersion, runtime: Runtime, caps: Option<&[&str]>) -> usize {
    let Some(path) = shared_profile("docker-default.json") else {
        return 0;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let docker = profile::parse(&path.display().to_string(), &text, runtime).unwrap();
    let ours = builtin::lookup("runtime/default", runtime)
        .unwrap()
        .unwrap();
    let mut target = Target::new(Arch::X86_64, kernel);
    target.runtime = runtime;
    if let Some(caps) = caps {
        target.caps = caps.iter().map(|c| c.to_string()).collect();
    }
    let pd = resolve(&docker, &target).unwrap();
    let po = resolve(&ours, &target).unwrap();
    assert_eq!(
        pd.arches.iter().map(|a| a.arch).collect::<Vec<_>>(),
        vec![Arch::X86_64, Arch::X86, Arch::X32]
    );
    let (ed, eo) = (Evaluator::new(&pd), Evaluator::new(&po));
    let events = boundary_events(&[&pd, &po]);
    for d in &events {
        let (rd, _) = ed.decide(d);
        let (ro, origin) = eo.decide(d);
        assert_eq!(
            rd,
            ro,
            "{:?}: docker says {}, runtime/default says {} (by {origin})",
            d,
            describe_ret(rd),
            describe_ret(ro)
        );
    }
    events.len()
}

#[test]
fn equivalent_to_docker_default_for_default_caps() {
    let n = compare(
        KernelVersion {
            major: 6,
            minor: 18,
        },
        Runtime::Runc,
        None,
    );
    eprintln!("compared {n} events");
}

#[test]
fn equivalent_on_an_old_kernel_and_under_crun() {
    compare(KernelVersion { major: 4, minor: 4 }, Runtime::Runc, None);
    compare(KernelVersion { major: 6, minor: 1 }, Runtime::Crun, None);
}

#[test]
fn equivalent_with_every_capability_and_with_none() {
    let all = [
        "CAP_SYS_ADMIN",
        "CAP_SYS_PTRACE",
        "CAP_SYS_BOOT",
        "CAP_SYS_MODULE",
        "CAP_SYS_PACCT",
        "CAP_SYS_RAWIO",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_SYS_NICE",
        "CAP_SYSLOG",
        "CAP_BPF",
        "CAP_PERFMON",
        "CAP_DAC_READ_SEARCH",
        "CAP_SYS_CHROOT",
    ];
    compare(
        KernelVersion {
            major: 6,
            minor: 18,
        },
        Runtime::Runc,
        Some(&all),
    );
    compare(
        KernelVersion {
            major: 6,
            minor: 18,
        },
        Runtime::Runc,
        Some(&[]),
    );
}
