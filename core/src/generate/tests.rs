use proptest::prelude::*;

use super::output::{read_back, render, OutputFormat};
use super::*;
use crate::bpf;
use crate::policy::{self, Target};
use crate::profile::{KernelVersion, Runtime};
use crate::trace;

const TRACE: &str = r#"
{"arch":"x86_64","syscall":"execve","args":[1,2,3]}
{"arch":"x86_64","syscall":"openat","args":["AT_FDCWD",4096,"O_RDONLY|O_CLOEXEC"]}
{"arch":"x86_64","syscall":"read","args":[3,4096,832]}
{"arch":"x86_64","syscall":"socket","args":["AF_UNIX","SOCK_STREAM",0]}
{"arch":"x86_64","syscall":"socket","args":["AF_INET","SOCK_DGRAM",0]}
{"arch":"x86_64","syscall":"clone","args":["0x3d0f00",1,2,3,4]}
{"arch":"x86_64","syscall":"ioctl","args":[1,"0x5401",3]}
{"arch":"x86","syscall":"getpid"}
{"arch":"x86_64","syscall":"exit_group","args":[0]}
"#;

fn target(runtime: Runtime) -> Target {
    Target {
        runtime,
        ..Target::new(
            Arch::X86_64,
            KernelVersion {
                major: 6,
                minor: 18,
            },
        )
    }
}

fn events() -> Vec<Event> {
    trace::parse(TRACE, Arch::X86_64).unwrap().events
}

fn opts(args: ArgMode, runtime: Option<(RuntimeRelease, bool)>) -> Options {
    Options {
        default_action: Action::errno(1),
        args,
        runtime,
        native: Arch::X86_64,
        sources: vec!["t.jsonl".into()],
    }
}

/// The generated profile as written in `format` and read back, resolved for runc.
fn written_policy(g: &Generated, format: OutputFormat) -> Policy {
    written_for(g, format, Runtime::Runc)
}

fn written_for(g: &Generated, format: OutputFormat, runtime: Runtime) -> Policy {
    let r = render(&g.profile, format, "from t.jsonl", "t").unwrap();
    let any = read_back(&r.text, format, runtime).unwrap();
    policy::resolve_any(&any, &target(runtime)).unwrap()
}

fn permits(p: &Policy, arch: Arch, name: &str, args: [u64; 6]) -> bool {
    let sys = syscalls::number_of(arch, name).unwrap();
    Evaluator::new(p)
        .evaluate(&Event::new(sys, args))
        .worst()
        .permits()
}

#[test]
fn every_traced_call_goes_ahead_and_the_dangerous_ones_do_not() {
    let evs = events();
    let runc = Some((RuntimeRelease::from(Runtime::Runc), false));
    let g = generate(&evs, &opts(ArgMode::None, runc)).unwrap();
    assert_eq!(g.profile.architectures, [Arch::X86_64, Arch::X86]);
    for format in [OutputFormat::Oci, OutputFormat::Docker, OutputFormat::Spo] {
        let p = written_policy(&g, format);
        let startup = RuntimeRelease::from(Runtime::Runc).after_install(false);
        assert_eq!(verify(&p, &evs, &startup), [], "{format:?}");
        for (name, args) in [
            ("unshare", [0x1000_0000, 0, 0, 0, 0, 0]),
            ("ptrace", [0; 6]),
            ("mount", [0; 6]),
            ("kexec_load", [0; 6]),
        ] {
            assert!(!permits(&p, Arch::X86_64, name, args), "{format:?} {name}");
        }
        // No stray architecture: x32 is not opened.
        assert!(p.arches.iter().all(|a| a.arch != Arch::X32), "{format:?}");
        bpf::validate(&bpf::compile::compile(&p).unwrap()).unwrap();
    }
    // The runtime's own calls are there, with their reasons.
    assert!(g
        .added
        .iter()
        .any(|a| a.name == "capset" && matches!(a.reason, Reason::Startup(_))));
}

#[test]
fn observed_arguments_narrow_clone_socket_and_ioctl() {
    let evs = events();
    let g = generate(&evs, &opts(ArgMode::Observed, None)).unwrap();
    let p = written_policy(&g, OutputFormat::Docker);
    assert_eq!(verify(&p, &evs, &[]), []);
    let x = Arch::X86_64;
    assert!(permits(&p, x, "socket", [1, 1, 0, 0, 0, 0]));
    assert!(permits(&p, x, "socket", [2, 2, 0, 0, 0, 0]));
    assert!(!permits(&p, x, "socket", [16, 3, 0, 0, 0, 0]), "AF_NETLINK");
    assert!(permits(&p, x, "clone", [0x3d0f00, 0, 0, 0, 0, 0]));
    assert!(
        !permits(&p, x, "clone", [0x1000_0011, 0, 0, 0, 0, 0]),
        "CLONE_NEWUSER"
    );
    assert!(!permits(&p, x, "ioctl", [1, 0x5402, 0, 0, 0, 0]));
    // Without a runtime, nothing but the trace: prctl was never called.
    assert!(!permits(&p, x, "prctl", [0; 6]));
    // seccompiler: one architecture only.
    let err = render(&g.profile, OutputFormat::Seccompiler, "c", "t").unwrap_err();
    assert!(err.to_string().contains("x86_64, x86"), "{err}");
}

#[test]
fn seccompiler_output_reads_back_as_seccompiler() {
    let evs: Vec<Event> = events()
        .into_iter()
        .filter(|e| e.sys.arch == Arch::X86_64)
        .collect();
    let g = generate(&evs, &opts(ArgMode::Observed, None)).unwrap();
    let p = written_policy(&g, OutputFormat::Seccompiler);
    assert_eq!(p.builder, crate::policy::Builder::Seccompiler);
    assert_eq!(verify(&p, &evs, &[]), []);
    assert!(!permits(&p, Arch::X86_64, "socket", [16, 3, 0, 0, 0, 0]));
    assert!(!permits(&p, Arch::X86_64, "ptrace", [0; 6]));
}

#[test]
fn widening_a_base_adds_only_what_the_trace_needs() {
    let base = crate::builtin::lookup("docker/default", Runtime::Runc)
        .unwrap()
        .unwrap();
    let t = target(Runtime::Runc);
    let base_policy = policy::resolve(&base, &t).unwrap();
    let mut evs = events();
    evs.extend(
        trace::parse(
            "{\"syscall\":\"kexec_load\",\"args\":[16,7]}\n{\"syscall\":\"read\",\"args\":[0,0,1]}\n",
            Arch::X86_64,
        )
        .unwrap()
        .events,
    );
    let g = widen(&base, &base_policy, &evs, &opts(ArgMode::None, None)).unwrap();
    let names: Vec<&str> = g.added.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["kexec_load"],
        "Docker's default already allows the rest"
    );
    assert!(g.arches_added.is_empty(), "x86 is in Docker's archMap");
    let p = policy::resolve(&g.profile, &t).unwrap();
    assert_eq!(verify(&p, &evs, &[]), []);
    // Everything else stays as the base says.
    assert!(!permits(&p, Arch::X86_64, "mount", [0; 6]));
    assert!(distinguish::first_difference(&base_policy, &p).is_some());
}

#[test]
fn unnamed_numbers_and_empty_traces_are_refused() {
    let evs = trace::parse("{\"nr\":4000}\n", Arch::X86_64)
        .unwrap()
        .events;
    let e = generate(&evs, &opts(ArgMode::None, None)).unwrap_err();
    assert!(matches!(e, GenerateError::Unnamed { line: 1, .. }), "{e}");
    assert_eq!(
        generate(&[], &opts(ArgMode::None, None)).unwrap_err(),
        GenerateError::NoEvents
    );
}

use crate::distinguish;

/// runc's ENOSYS stub returns ENOSYS above the highest number the profile names per
/// architecture, as libseccomp resolves the names; on i386 libseccomp resolves
/// `socket` to a pseudo-number (the socketcall multiplexer), so a direct `socket`
/// (359) alone is above every named number: runc gives it ENOSYS (glibc then falls
/// back to socketcall). Verification says so instead of claiming the call goes ahead.
#[test]
fn runc_s_stub_on_i386_socket_is_reported() {
    let evs = trace::parse(
        "{\"arch\":\"x86\",\"syscall\":\"socket\",\"args\":[1,1,0]}\n",
        Arch::X86_64,
    )
    .unwrap()
    .events;
    let rt = Some((RuntimeRelease::from(Runtime::Runc), true));
    let g = generate(&evs, &opts(ArgMode::None, rt)).unwrap();
    let p = written_policy(&g, OutputFormat::Oci);
    let bad = verify(&p, &evs, &[]);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].verdict.contains("ENOSYS stub"), "{:?}", bad[0]);
    // Under crun there is no stub.
    let p = written_for(&g, OutputFormat::Oci, Runtime::Crun);
    assert_eq!(verify(&p, &evs, &[]), []);
}

fn name_pool() -> Vec<&'static str> {
    vec![
        "read",
        "write",
        "openat",
        "close",
        "mmap",
        "futex",
        "socket",
        "clone",
        "prctl",
        "ioctl",
        "getpid",
        "brk",
        "fstat",
        "personality",
        "unshare",
        "exit_group",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Soundness and tightness: every traced event goes ahead under the generated
    /// profile (written, read back, resolved for crun, with and without argument
    /// conditions), and every syscall neither traced nor the runtime's is denied. The
    /// output does not depend on the order of the events.
    #[test]
    fn generated_profiles_allow_the_trace_and_nothing_else(
        picks in proptest::collection::vec((0usize..16, 0u64..40, any::<bool>()), 1..40),
        observed in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let pool = name_pool();
        let evs: Vec<Event> = picks.iter().enumerate().map(|(i, (n, v, i386))| {
            let arch = if *i386 { Arch::X86 } else { Arch::X86_64 };
            let sys = syscalls::number_of(arch, pool[*n]).unwrap();
            let mut e = Event::new(sys, [*v, v * 3, 0, 0, 0, 0]);
            e.line = i + 1;
            e
        }).collect();
        let mode = if observed { ArgMode::Observed } else { ArgMode::None };
        // crun: runc's ENOSYS stub has its own rule for i386 (see the test below).
        let rt = Some((RuntimeRelease::from(Runtime::Crun), true));
        let g = generate(&evs, &opts(mode, rt)).unwrap();
        let p = written_for(&g, OutputFormat::Oci, Runtime::Crun);
        let startup = RuntimeRelease::from(Runtime::Crun).after_install(true);
        prop_assert_eq!(verify(&p, &evs, &startup), vec![]);
        let traced: BTreeSet<&str> = evs.iter().filter_map(|e| e.sys.name()).collect();
        let allowed: BTreeSet<&str> = startup.iter().map(|c| c.name).chain(traced.iter().copied()).collect();
        for (sys, name) in syscalls::all(Arch::X86_64) {
            if allowed.contains(name) {
                continue;
            }
            let v = Evaluator::new(&p).evaluate(&Event::new(sys, [0; 6]));
            let bypass = v.worst().origin == crate::policy::Origin::Bypass;
            prop_assert!(bypass || !v.worst().permits(), "{} is allowed", name);
        }
        // Order does not matter.
        let mut shuffled = evs.clone();
        let n = shuffled.len();
        for i in 0..n {
            shuffled.swap(i, (seed.wrapping_mul(i as u64 + 7) % n as u64) as usize);
        }
        let g2 = generate(&shuffled, &opts(mode, rt)).unwrap();
        prop_assert_eq!(
            render(&g.profile, OutputFormat::Docker, "c", "t").unwrap(),
            render(&g2.profile, OutputFormat::Docker, "c", "t").unwrap()
        );
    }
}
