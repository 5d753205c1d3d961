//! The running kernel as the final oracle: for random profiles, the reference
//! evaluator, the compiled filter in syscage's interpreter and the same filter in the
//! kernel (`syscage_enforcer::oracle`, each verdict observed with ptrace, no syscall
//! executed) agree on every event; so do the kernel and the interpreter on programs
//! libseccomp and seccompiler compiled; and the kernel agrees with the reference on
//! Docker's default profile over every syscall number and boundary argument of x86_64,
//! i386 and x32.
//!
//! Skips, saying why, where seccomp or ptrace is unavailable; fails instead when `CI`
//! is set. The random suite runs a fixed budget and requires at least 10,000
//! kernel-observed verdicts; failing seeds are kept in `kernel_differential.txt` next
//! to this file (proptest's regression file) and replayed first.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{json, Value};
use syscage_core::arch::Arch;
use syscage_core::bpf::{Insn, Program};
use syscage_core::event::SeccompData;
use syscage_core::policy::{resolve, runtime_rules, ResolveError, Target};
use syscage_core::profile::{parse, KernelVersion, Runtime};
use syscage_enforcer::differential::{compare, program_in_kernel, Engines};
use syscage_tests::{boundary_events, gen, kernel_oracle_usable, sample_events, shared_profile};

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};
const ALL: Engines = Engines {
    bpf: true,
    kernel: true,
};

fn config(cases: u32) -> Config {
    Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("txt"))),
        ..Config::default()
    }
}

#[test]
fn reference_bpf_and_kernel_agree_on_random_profiles() {
    if !kernel_oracle_usable() {
        return;
    }
    let shape = gen::Shape {
        arches: &["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
        ..gen::Shape::default()
    };
    let observed = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new(config(160));
    let strategy = (
        gen::profile(shape),
        any::<bool>(),
        proptest::array::uniform6(gen::value()),
    );
    let result = runner.run(&strategy, |(text, crun, args)| {
        let rt = if crun { Runtime::Crun } else { Runtime::Runc };
        // A profile the runtime refuses (runc: NOTIFY on write or as the default) never
        // reaches a kernel.
        let Ok(p) = parse("random.json", &text, rt) else {
            return Ok(());
        };
        let mut target = Target::new(Arch::X86_64, K);
        target.runtime = rt;
        let policy = match resolve(&p, &target) {
            Ok(p) => p,
            // libseccomp refuses or hangs on these: no runtime installs them.
            Err(
                ResolveError::Conflict { .. }
                | ResolveError::LibseccompHang { .. }
                | ResolveError::TooLong { .. }
                | ResolveError::RuntimeRefuses { .. },
            ) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        let c = compare(&policy, &sample_events(&[&policy], args), ALL)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        observed.set(observed.get() + c.kernel_observed);
        match c.disagreement {
            None => Ok(()),
            Some(d) => Err(TestCaseError::fail(format!(
                "{rt}: {:?}: {:?}\n{text}",
                d.event, d.verdicts
            ))),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("{} kernel-observed verdicts", observed.get());
    assert!(
        observed.get() >= 10_000,
        "only {} kernel-observed verdicts",
        observed.get()
    );
}

#[test]
fn kernel_agrees_with_the_reference_on_docker_default() {
    if !kernel_oracle_usable() {
        return;
    }
    let Some(path) = shared_profile("docker-default.json") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut total = 0;
    for rt in [Runtime::Runc, Runtime::Crun] {
        let p = parse("docker-default.json", &text, rt).unwrap();
        let mut target = Target::new(Arch::X86_64, K);
        target.runtime = rt;
        let policy = resolve(&p, &target).unwrap();
        let arches: Vec<Arch> = policy.arches.iter().map(|a| a.arch).collect();
        assert_eq!(arches, [Arch::X86_64, Arch::X86, Arch::X32]);
        let events = boundary_events(&[&policy]);
        let c = compare(&policy, &events, ALL).unwrap();
        assert_eq!(c.disagreement, None, "{rt}");
        assert!(c.kernel_observed > 1_000, "{}", c.kernel_observed);
        total += c.kernel_observed;
    }
    eprintln!("docker-default: {total} kernel-observed verdicts agree");
}

/// Runs the `scmp-export` helper (libseccomp in a child process).
fn libseccomp_export(input: &Value) -> Option<Program> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scmp-export"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    Program::from_raw(&out.stdout).ok()
}

#[test]
fn kernel_runs_libseccomp_programs_as_the_interpreter_does() {
    if !kernel_oracle_usable() {
        return;
    }
    let probe = json!({"default": 0x7fff_0000u32, "arches": [], "rules": []});
    if libseccomp_export(&probe).is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "libseccomp unusable in CI"
        );
        eprintln!("SKIP: libseccomp is not usable here");
        return;
    }
    let shape = gen::Shape {
        arches: &["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        ..gen::Shape::default()
    };
    let mut runner = TestRunner::new(config(40));
    let strategy = (gen::profile(shape), proptest::array::uniform6(gen::value()));
    let result = runner.run(&strategy, |(text, args)| {
        let p = parse("random.json", &text, Runtime::Crun).unwrap();
        let mut target = Target::new(Arch::X86_64, K);
        target.runtime = Runtime::Crun;
        // Only what libseccomp accepts and finishes (syscage predicts the rest).
        let Ok(policy) = resolve(&p, &target) else {
            return Ok(());
        };
        let (arches, default, rules) = runtime_rules(&p, &target).unwrap();
        let input = json!({
            "default": default.to_ret(),
            "arches": arches.iter().skip(1).map(|a| a.scmp_name()).collect::<Vec<_>>(),
            "rules": rules.iter().map(|r| json!({
                "name": r.name, "action": r.action.to_ret(),
                "conds": r.conds.iter().map(|c| json!([c.index, c.op.oci_name(), c.value, c.value_two])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let Some(prog) = libseccomp_export(&input) else {
            return Err(TestCaseError::fail(format!("libseccomp refused\n{text}")));
        };
        let (_, bad) = program_in_kernel(&prog, &sample_events(&[&policy], args))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        match bad {
            None => Ok(()),
            Some(d) => Err(TestCaseError::fail(format!(
                "{:?}: {:?}\n{text}",
                d.event, d.verdicts
            ))),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A seccompiler condition: (argument, 64-bit, operator index, value, mask).
type ScCond = (u8, bool, u8, u64, u64);

/// A seccompiler filter: one match action, rules ORed, conditions ANDed.
#[derive(Clone, Debug)]
struct ScRules {
    mismatch: u32,
    matched: u32,
    rules: BTreeMap<i64, Vec<Vec<ScCond>>>,
}

fn sc_action(r: u32) -> seccompiler::SeccompAction {
    use seccompiler::SeccompAction as A;
    match r >> 16 {
        0x7fff => A::Allow,
        0x0005 => A::Errno(r & 0xffff),
        0x0003 => A::Trap,
        0x7ff0 => A::Trace(r & 0xffff),
        0x7ffc => A::Log,
        0x8000 => A::KillProcess,
        _ => A::KillThread,
    }
}

fn seccompiler_program(s: &ScRules) -> Option<Program> {
    use seccompiler::{
        SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };
    let mut map = BTreeMap::new();
    for (nr, rules) in &s.rules {
        let mut out = Vec::new();
        for conds in rules {
            let cs: Vec<SeccompCondition> = conds
                .iter()
                .map(|&(arg, qword, op, v, mask)| {
                    let len = if qword {
                        SeccompCmpArgLen::Qword
                    } else {
                        SeccompCmpArgLen::Dword
                    };
                    let v = if qword { v } else { v & 0xffff_ffff };
                    let op = match op {
                        0 => SeccompCmpOp::Eq,
                        1 => SeccompCmpOp::Ne,
                        2 => SeccompCmpOp::Lt,
                        3 => SeccompCmpOp::Le,
                        4 => SeccompCmpOp::Gt,
                        5 => SeccompCmpOp::Ge,
                        _ => SeccompCmpOp::MaskedEq(mask),
                    };
                    SeccompCondition::new(arg, len, op, v).unwrap()
                })
                .collect();
            if !cs.is_empty() {
                out.push(SeccompRule::new(cs).ok()?);
            }
        }
        map.insert(*nr, out);
    }
    let f = SeccompFilter::new(
        map,
        sc_action(s.mismatch),
        sc_action(s.matched),
        seccompiler::TargetArch::x86_64,
    )
    .ok()?;
    let bpf: seccompiler::BpfProgram = f.try_into().ok()?;
    Some(Program::new(
        bpf.iter()
            .map(|i| Insn {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect(),
    ))
}

fn sc_strategy() -> impl Strategy<Value = ScRules> {
    let acts = prop_oneof![
        Just(0x7fff_0000u32),
        (0u32..5).prop_map(|e| 0x0005_0000 | e),
        Just(0x0003_0000),
        Just(0x7ff0_0003),
        Just(0x7ffc_0000),
        Just(0x8000_0000),
        Just(0),
    ];
    let cond = (0u8..6, any::<bool>(), 0u8..7, gen::value(), gen::value());
    let rules = proptest::collection::btree_map(
        prop_oneof![Just(0i64), Just(1), Just(9), Just(39), Just(257)],
        proptest::collection::vec(proptest::collection::vec(cond, 0..3), 0..3),
        0..4,
    );
    (acts.clone(), acts, rules).prop_map(|(mismatch, matched, rules)| ScRules {
        mismatch,
        matched,
        rules,
    })
}

#[test]
fn kernel_runs_seccompiler_programs_as_the_interpreter_does() {
    if !kernel_oracle_usable() {
        return;
    }
    let mut runner = TestRunner::new(config(60));
    let result = runner.run(
        &(sc_strategy(), proptest::array::uniform6(gen::value())),
        |(s, args)| {
            if s.mismatch == s.matched {
                return Ok(()); // seccompiler refuses identical actions
            }
            let Some(prog) = seccompiler_program(&s) else {
                return Ok(());
            };
            let mut events = Vec::new();
            for nr in [0u32, 1, 9, 39, 257, 60, 0x4000_0000] {
                let mut push = |a: [u64; 6]| {
                    events.push(SeccompData {
                        nr,
                        arch: 0xc000_003e,
                        instruction_pointer: 0,
                        args: a,
                    })
                };
                push(args);
                for conds in s.rules.get(&i64::from(nr)).into_iter().flatten() {
                    for &(arg, _, _, v, _) in conds {
                        for x in [
                            v,
                            v.wrapping_add(1),
                            v.wrapping_sub(1),
                            v & 0xffff_ffff,
                            v ^ (1 << 32),
                        ] {
                            let mut a = args;
                            a[arg as usize] = x;
                            push(a);
                        }
                    }
                }
            }
            events.push(SeccompData {
                nr: 3,
                arch: 0x4000_0003,
                instruction_pointer: 0,
                args,
            });
            let (_, bad) = program_in_kernel(&prog, &events)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{s:?}")))?;
            match bad {
                None => Ok(()),
                Some(d) => Err(TestCaseError::fail(format!(
                    "{:?}: {:?}\n{s:?}",
                    d.event, d.verdicts
                ))),
            }
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
