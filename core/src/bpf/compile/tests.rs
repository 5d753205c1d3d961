//! The compiler's contract: for every policy and every event, the compiled program run
//! by the interpreter returns what the reference evaluator returns; every program passes
//! the validator; argument-free decisions are cacheable by the kernel.

use super::*;
use crate::bpf::{run, validate};
use crate::eval::Evaluator;
use crate::event::SeccompData;
use crate::policy::{resolve, Target};
use crate::profile::{parse, KernelVersion, Runtime};
use crate::syscalls;

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

struct Pair<'p> {
    reference: Evaluator<'p>,
    program: crate::bpf::ValidProgram,
}

fn pair(policy: &Policy) -> Pair<'_> {
    let prog = compile(policy).unwrap_or_else(|e| panic!("{e}"));
    let program = validate(&prog).unwrap_or_else(|e| panic!("{e}"));
    Pair {
        reference: Evaluator::new(policy),
        program,
    }
}

fn agree(pair: &Pair<'_>, data: &SeccompData) -> Result<(), String> {
    let (want, origin) = pair.reference.decide(data);
    if matches!(origin, crate::policy::Origin::Bypass) {
        return Ok(()); // the kernel never runs the filter for these
    }
    let got = run(&pair.program, data).ret;
    if got != want {
        return Err(format!(
            "{data:?}: reference {} (by {origin}), bpf {}",
            crate::action::describe_ret(want),
            crate::action::describe_ret(got)
        ));
    }
    Ok(())
}

fn runtime_default(arch: Arch) -> Policy {
    let p = crate::builtin::lookup("runtime/default", Runtime::Runc)
        .unwrap()
        .unwrap();
    resolve(&p, &Target::new(arch, K)).unwrap()
}

#[test]
fn runtime_default_agrees_on_every_number_and_boundary() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let policy = runtime_default(arch);
        let prog = compile(&policy).unwrap();
        assert!(prog.len() < 1000, "{} instructions", prog.len());
        let pr = pair(&policy);
        for part in &policy.arches {
            let top = syscalls::max_nr(part.arch).unwrap() + 20;
            let base = if part.arch == Arch::X32 {
                X32_SYSCALL_BIT
            } else {
                0
            };
            for nr in (base..=top).chain([base | 0x3fff_ffff, 0xffff_ffff, X32_SYSCALL_BIT]) {
                let mut data = SeccompData {
                    nr,
                    arch: part.arch.audit_arch(),
                    ..Default::default()
                };
                for a0 in [
                    0,
                    1,
                    37,
                    38,
                    39,
                    40,
                    41,
                    8,
                    0x20000,
                    0xffff_ffff,
                    0x7E02_0000,
                    1 << 32,
                    u64::MAX,
                ] {
                    data.args[0] = a0;
                    agree(&pr, &data).unwrap();
                }
            }
        }
        let alien = SeccompData {
            nr: 1,
            arch: 0x1234,
            ..Default::default()
        };
        agree(&pr, &alien).unwrap();
    }
}

/// Every syscall the policy allows whatever its arguments must be cacheable by the
/// kernel (native and compat ABIs; x32 has no cache).
fn assert_cacheable(policy: &Policy) -> Result<usize, String> {
    let prog = compile(policy).map_err(|e| e.to_string())?;
    let mut n = 0;
    for part in &policy.arches {
        if !crate::bpf::cache::has_cache(part.arch) {
            continue;
        }
        for (sys, name) in syscalls::all(part.arch) {
            if policy.fixed_action(part.arch, sys.nr) == Some(crate::action::Action::ALLOW) {
                if !crate::bpf::cache::is_const_allow(&prog, part.arch.audit_arch(), sys.nr) {
                    return Err(format!(
                        "{} {name} is an argument-free ALLOW but not cacheable",
                        part.arch
                    ));
                }
                n += 1;
            }
        }
    }
    Ok(n)
}

#[test]
fn every_argument_free_allow_is_cacheable() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let n = assert_cacheable(&runtime_default(arch)).unwrap();
        assert!(n > 300, "{n}");
    }
}

#[test]
fn output_is_deterministic() {
    let p = runtime_default(Arch::X86_64);
    assert_eq!(compile(&p).unwrap(), compile(&p).unwrap());
}

#[test]
fn unconfined_cannot_be_compiled() {
    let p = crate::builtin::lookup("unconfined", Runtime::Runc)
        .unwrap()
        .unwrap();
    let p = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    assert!(matches!(compile(&p), Err(CompileError::Unconfined { .. })));
}

#[test]
fn far_jumps_get_trampolines() {
    // Many conditional rules on one syscall push the shared returns far away.
    let rules: Vec<String> = (0..300)
        .map(|i| format!(r#"{{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": {}, "args": [{{"index": 1, "value": {}, "op": "SCMP_CMP_EQ"}}]}}"#, i % 7 + 2, i * 3))
        .collect();
    let text = format!(
        r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#,
        rules.join(",")
    );
    let p = parse("t.json", &text, Runtime::Runc).unwrap();
    let policy = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    let pr = pair(&policy);
    for i in 0..310u64 {
        for arg in [i * 3, i * 3 + 1, (i * 3) | 1 << 32] {
            let data = SeccompData {
                nr: 16,
                arch: Arch::X86_64.audit_arch(),
                args: [0, arg, 0, 0, 0, 0],
                ..Default::default()
            };
            agree(&pr, &data).unwrap();
        }
    }
}

#[test]
fn too_long_is_a_clear_error() {
    // Two syscalls of 3,000 values: each tree fits (3,001 tests), the program does not.
    let rules: Vec<String> = (0..6000)
        .map(|i| format!(r#"{{"names": ["{}"], "action": "SCMP_ACT_ERRNO", "args": [{{"index": 1, "value": {}, "op": "SCMP_CMP_EQ"}}]}}"#, if i % 2 == 0 { "ioctl" } else { "fcntl" }, i / 2))
        .collect();
    let text = format!(
        r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#,
        rules.join(",")
    );
    let p = parse("big.json", &text, Runtime::Runc).unwrap();
    let policy = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    let e = compile(&policy).unwrap_err().to_string();
    assert!(
        e.contains("big.json")
            && e.contains("at most 4096")
            && e.contains("6002 argument tests over 2 syscalls"),
        "{e}"
    );
}

#[test]
fn decided_tests_emit_no_code_and_fall_through_correctly() {
    // `args[0] < 2^32`: the low-word test under `high == 1` is always true, so it emits
    // nothing; the sub-level must still go where that outcome leads (found by the
    // differential proptest).
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"], "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 0, "op": "SCMP_CMP_NE"},{"index": 0, "value": 4294967296, "op": "SCMP_CMP_LT"}]}]}"#;
    let p = parse("t.json", text, Runtime::Runc).unwrap();
    let policy = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    let pr = pair(&policy);
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let nr = syscalls::number_of(arch, "read").unwrap().nr;
        for a0 in [0, 1, 1 << 32, (1 << 32) + 1, 2 << 32, u64::MAX] {
            for a2 in [0, 1, 1 << 32] {
                let data = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    args: [a0, 0, a2, 0, 0, 0],
                    ..Default::default()
                };
                agree(&pr, &data).unwrap();
            }
        }
    }
}

#[test]
fn argument_free_decisions_return_directly() {
    // LD arch, JEQ arch, LD nr, the search, RET: no jumps to far returns on the way.
    let policy = runtime_default(Arch::X86_64);
    let prog = validate(&compile(&policy).unwrap()).unwrap();
    for name in ["read", "write", "futex", "mmap"] {
        let nr = syscalls::number_of(Arch::X86_64, name).unwrap().nr;
        let data = SeccompData {
            nr,
            arch: Arch::X86_64.audit_arch(),
            ..Default::default()
        };
        let n = run(&prog, &data).executed;
        assert!(n <= 10, "{name}: {n} instructions");
    }
}

#[test]
fn many_ranges_are_split_at_the_weighted_median_first() {
    // Every other syscall allowed, on x86_64 and x32: far more ranges than the optimal
    // search handles in one piece.
    let names: Vec<String> = syscalls::all(Arch::X86_64)
        .step_by(2)
        .map(|(_, n)| format!("\"{n}\""))
        .collect();
    let text = format!(
        r#"{{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_X86"], "syscalls": [{{"names": [{}], "action": "SCMP_ACT_ALLOW"}}]}}"#,
        names.join(",")
    );
    let p = parse("t.json", &text, Runtime::Runc).unwrap();
    let policy = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    let pr = pair(&policy);
    for part in &policy.arches {
        for (sys, _) in syscalls::all(part.arch) {
            let data = SeccompData {
                nr: sys.nr,
                arch: part.arch.audit_arch(),
                ..Default::default()
            };
            agree(&pr, &data).unwrap();
        }
    }
    assert_cacheable(&policy).unwrap();
}

/// A long level (1,500 values on one syscall, three actions, on a 64-bit argument and
/// on i386's 32-bit one): the pooled returns go into islands along the level, so the
/// program stays about one instruction a value (libseccomp's size) and every value and
/// its neighbours get the reference's verdict.
#[test]
fn long_levels_use_return_islands_and_agree() {
    let actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO"];
    let rules: Vec<String> = (0..1500)
        .map(|i| {
            format!(
                r#"{{"names": ["ioctl"], "action": "{}", "args": [{{"index": 1, "value": {}, "op": "SCMP_CMP_EQ"}}]}}"#,
                actions[i % 3],
                i * 3
            )
        })
        .collect();
    let text = format!(
        r#"{{"defaultAction": "SCMP_ACT_KILL_PROCESS", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{}]}}"#,
        rules.join(",")
    );
    let p = parse("long.json", &text, Runtime::Crun).unwrap();
    let policy = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    let pr = pair(&policy);
    let len = pr.program.program().len();
    // Two arches of ~1,500 tests each (x86_64 adds a high-word test).
    assert!(len < 2 * 1500 + 200, "{len} instructions");
    for arch in [Arch::X86_64, Arch::X86] {
        let nr = crate::syscalls::number_of(arch, "ioctl").unwrap().nr;
        for v in 0..4600u64 {
            for hi in [0u64, 1 << 32] {
                let data = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    args: [0, v | hi, 0, 0, 0, 0],
                    ..Default::default()
                };
                agree(&pr, &data).unwrap();
            }
        }
    }
}
