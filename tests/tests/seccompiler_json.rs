//! Differential: seccompiler JSON files. For hand-written and generated filters, on
//! every target seccompiler supports, syscage's reference verdict equals the verdict of
//! the program the real `seccompiler::compile_from_json` generates (run in syscage's
//! kernel-exact interpreter), and syscage's own compiled filter agrees too, for every
//! boundary event (each syscall number of the tables and past them, x32 numbers, other
//! architectures, and boundary values of every tested argument). Files one of them
//! refuses, the other must refuse as well.
#![cfg(target_os = "linux")]

use std::collections::HashMap;

use proptest::prelude::*;
use seccompiler::TargetArch;
use syscage_core::action::describe_ret;
use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
use syscage_core::bpf::{self, compile::compile, Insn, Program, ValidProgram};
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;
use syscage_core::policy::{self, Origin, Policy, Target};
use syscage_core::profile::{parse_any, KernelVersion, Runtime};
use syscage_core::syscalls;
use syscage_tests::{boundary_events, gen, repo_root};

/// Before `uretprobe`/`uprobe` bypass seccomp: every number reaches the filter.
const K: KernelVersion = KernelVersion { major: 6, minor: 1 };

const TARGETS: [(Arch, TargetArch); 3] = [
    (Arch::X86_64, TargetArch::x86_64),
    (Arch::Aarch64, TargetArch::aarch64),
    (Arch::Riscv64, TargetArch::riscv64),
];

/// seccompiler's programs for every filter of `text`, as syscage programs.
fn seccompiler_programs(
    text: &str,
    arch: TargetArch,
) -> Result<HashMap<String, ValidProgram>, String> {
    let map = seccompiler::compile_from_json(text.as_bytes(), arch).map_err(|e| e.to_string())?;
    map.into_iter()
        .map(|(name, prog)| {
            let insns = prog
                .iter()
                .map(|f| Insn {
                    code: f.code,
                    jt: f.jt,
                    jf: f.jf,
                    k: f.k,
                })
                .collect();
            let valid = bpf::validate(&Program::new(insns))
                .map_err(|e| format!("seccompiler's program for {name} is invalid: {e}"))?;
            Ok((name, valid))
        })
        .collect()
}

fn syscage_policy(text: &str, filter: &str, arch: Arch) -> Result<Policy, String> {
    let p = parse_any("sc.json", text, Runtime::Runc, Some(filter)).map_err(|e| e.to_string())?;
    policy::resolve_any(&p, &Target::new(arch, K)).map_err(|e| e.to_string())
}

/// The events to ask about: the policy's boundary events, the same numbers as another
/// architecture sees them, x32 numbers, and the numbers no table has.
fn events(policy: &Policy, arch: Arch) -> Vec<SeccompData> {
    let mut out = boundary_events(&[policy]);
    let others = [
        Arch::X86_64,
        Arch::X86,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Riscv64,
    ];
    for other in others.into_iter().filter(|a| *a != arch) {
        for nr in [0, 1, 59, 63, 79, 202, 222, 0xffff_ffff] {
            out.push(SeccompData {
                nr,
                arch: other.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            });
        }
    }
    for nr in [
        X32_SYSCALL_BIT,
        X32_SYSCALL_BIT | 1,
        X32_SYSCALL_BIT | 202,
        u32::MAX,
    ] {
        out.push(SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args: [5; 6],
        });
    }
    out
}

/// Compares the engines on one filter of `text`; `Ok(false)` when both refuse the file.
fn compare(text: &str, filter: &str, arch: Arch, target: TargetArch) -> Result<bool, String> {
    let oracle = seccompiler_programs(text, target);
    let ours = syscage_policy(text, filter, arch);
    let (oracle, policy) = match (oracle, ours) {
        (Ok(o), Ok(p)) => (o, p),
        (Err(_), Err(_)) => return Ok(false),
        (Err(e), Ok(_)) => return Err(format!("seccompiler refuses ({e}), syscage accepts")),
        (Ok(_), Err(e)) => return Err(format!("seccompiler accepts, syscage refuses: {e}")),
    };
    let theirs = oracle
        .get(filter)
        .ok_or_else(|| format!("seccompiler compiled no filter {filter:?}"))?;
    let mine = compile(&policy).map_err(|e| e.to_string())?;
    // Within 1.5x of seccompiler's length, whatever the size (a few instructions of
    // slack for the smallest programs, whose shapes differ in a constant).
    let (n, theirs_n) = (mine.len(), theirs.program().len());
    if 2 * n > 3 * theirs_n + 16 {
        return Err(format!(
            "syscage's program has {n} instructions, seccompiler's {theirs_n}: more than 1.5x"
        ));
    }
    let mine = bpf::validate(&mine).map_err(|e| format!("syscage's program is invalid: {e}"))?;
    let reference = Evaluator::new(&policy);
    for data in events(&policy, arch) {
        let (want, origin) = reference.decide(&data);
        assert_ne!(*origin, Origin::Bypass, "no bypass on kernel {K}");
        let got = bpf::run(theirs, &data).ret;
        if got != want {
            return Err(format!(
                "{data:x?}: syscage's reference {} (by {origin}), seccompiler's program {}",
                describe_ret(want),
                describe_ret(got)
            ));
        }
        let compiled = bpf::run(&mine, &data).ret;
        if compiled != want {
            return Err(format!(
                "{data:x?}: syscage's reference {} (by {origin}), syscage's compiled filter {}",
                describe_ret(want),
                describe_ret(compiled)
            ));
        }
    }
    Ok(true)
}

fn cond(index: u8, ty: &str, op: &str, val: u64) -> String {
    format!(r#"{{"index": {index}, "type": "{ty}", "op": {op}, "val": {val}}}"#)
}

/// Hand-written filters: the example, each operator on both widths around 2^32, bare
/// rules beside conditional ones, duplicates, empty filters, and a rule long enough to
/// need seccompiler's helper jumps.
#[test]
fn hand_written_filters_agree() {
    let example = std::fs::read_to_string(repo_root().join("examples/firecracker-like.json"))
        .expect("examples/firecracker-like.json");
    let mut cases: Vec<String> = Vec::new();
    let ops = [
        "\"eq\"",
        "\"ne\"",
        "\"lt\"",
        "\"le\"",
        "\"gt\"",
        "\"ge\"",
        r#"{"masked_eq": 18446462598732840960}"#,
        r#"{"masked_eq": 4095}"#,
    ];
    for op in ops {
        for ty in ["dword", "qword"] {
            for val in [
                0,
                1,
                0xffff_ffff,
                1 << 32,
                (1 << 32) + 1,
                0x7_0000_0003,
                u64::MAX,
            ] {
                cases.push(format!(
                    r#"{{"main": {{"mismatch_action": {{"errno": 38}}, "match_action": "allow", "filter": [
                        {{"syscall": "read", "args": [{}]}},
                        {{"syscall": "read", "args": [{}, {}]}}
                    ]}}}}"#,
                    cond(0, ty, op, val),
                    cond(1, ty, op, val),
                    cond(0, "qword", "\"ne\"", val),
                ));
            }
        }
    }
    // Bare rules beside conditional ones (the bare ones count for nothing), duplicates.
    cases.push(
        r#"{"main": {"mismatch_action": "trap", "match_action": {"trace": 65537}, "filter": [
            {"syscall": "futex"}, {"syscall": "futex", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 128}]},
            {"syscall": "write"}, {"syscall": "write"}, {"syscall": "kill", "comment": "x"}
        ]}}"#
            .into(),
    );
    // Empty filter; no filter rules at all.
    cases.push(
        r#"{"main": {"mismatch_action": "log", "match_action": "kill_thread", "filter": []}}"#
            .into(),
    );
    // Long rules: seccompiler inserts helper jumps every ~40 instructions.
    let long: Vec<String> = (0..20)
        .map(|i| {
            cond(
                (i % 6) as u8,
                if i % 2 == 0 { "qword" } else { "dword" },
                "\"ne\"",
                1000 + i,
            )
        })
        .collect();
    // One-way 64-bit comparisons only (low word at its extreme), so 90 of them do not
    // multiply the tree.
    let one_way: Vec<String> = (0..90)
        .map(|i| {
            cond(
                (i % 6) as u8,
                "qword",
                "\"le\"",
                (i + 1) << 32 | 0xffff_ffff,
            )
        })
        .collect();
    for conds in [&long[..], &one_way[..]] {
        cases.push(format!(
            r#"{{"main": {{"mismatch_action": "allow", "match_action": {{"errno": 1}}, "filter": [
                {{"syscall": "ioctl", "args": [{}]}},
                {{"syscall": "ioctl", "args": [{}]}}
            ]}}}}"#,
            conds.join(","),
            cond(1, "dword", "\"eq\"", 0x5401)
        ));
    }
    let long_dword: Vec<String> = (0..200)
        .map(|i| cond((i % 6) as u8, "dword", "\"ne\"", i))
        .collect();
    cases.push(format!(
        r#"{{"main": {{"mismatch_action": "allow", "match_action": "kill_process", "filter": [
            {{"syscall": "mmap", "args": [{}]}}, {{"syscall": "mmap", "args": [{}]}}
        ]}}}}"#,
        long_dword.join(","),
        cond(2, "dword", r#"{"masked_eq": 4}"#, 4)
    ));
    let mut compared = 0;
    for (arch, target) in TARGETS {
        for name in ["vmm", "api", "vcpu"] {
            compared += usize::from(compare(&example, name, arch, target).unwrap_or_else(|e| {
                panic!("examples/firecracker-like.json#{name} on {arch}: {e}")
            }));
        }
        for text in &cases {
            compared += usize::from(
                compare(text, "main", arch, target)
                    .unwrap_or_else(|e| panic!("{arch}: {text}\n{e}")),
            );
        }
    }
    assert_eq!(compared, 3 * (3 + cases.len()), "every case is accepted");
}

/// Which names seccompiler knows on each architecture, and their numbers, match the
/// table syscage uses for seccompiler files.
#[test]
fn syscall_names_match_seccompilers_tables() {
    for (arch, target) in TARGETS {
        let mut names: Vec<&str> = syscalls::all(arch).map(|(_, n)| n).collect();
        names.extend(["newfstatat", "fstatat", "open", "nosuch"]);
        for name in names {
            let text = format!(
                r#"{{"f": {{"mismatch_action": "allow", "match_action": "trap", "filter": [{{"syscall": "{name}"}}]}}}}"#
            );
            let theirs = seccompiler_programs(&text, target)
                .ok()
                .map(|m| m["f"].program().insns()[4].k);
            let ours = policy::seccompiler::number(arch, name);
            assert_eq!(ours, theirs, "{arch} {name}");
            assert_eq!(
                syscage_policy(&text, "f", arch).is_ok(),
                theirs.is_some(),
                "{arch} {name}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    /// For every generated file and every target: both accept or both refuse, and on
    /// every boundary event the reference, seccompiler's program and syscage's compiled
    /// filter return the same value.
    #[test]
    fn generated_filters_agree(text in gen::seccompiler_file(), t in 0usize..3) {
        let (arch, target) = TARGETS[t];
        if let Err(e) = compare(&text, "main", arch, target) {
            prop_assert!(false, "{arch}: {text}\n{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Large rules: up to 40 rules of up to 64 conditions (every operator, both widths,
    /// masks). Whatever seccompiler compiles, syscage compiles too, within 1.5x of its
    /// length, and the programs agree with the reference (no expansion of two-way
    /// 64-bit conditions anywhere).
    #[test]
    fn large_generated_filters_agree(text in gen::seccompiler_file_sized(40, 64), t in 0usize..3) {
        let (arch, target) = TARGETS[t];
        if let Err(e) = compare(&text, "main", arch, target) {
            prop_assert!(false, "{arch}: {text}\n{e}");
        }
    }
}

/// The rule that used to be refused: 20 qword `ne` conditions (2^20 expanded tests).
#[test]
fn twenty_qword_ne_conditions_compile_small() {
    let conds: Vec<String> = (0..20u8)
        .map(|i| cond(i % 6, "qword", "\"ne\"", 0x1_0000_0000 * u64::from(i) + 7))
        .collect();
    let text = format!(
        r#"{{"main": {{"mismatch_action": "allow", "match_action": {{"errno": 1}}, "filter": [{{"syscall": "read", "args": [{}]}}]}}}}"#,
        conds.join(",")
    );
    for (arch, target) in TARGETS {
        assert_eq!(compare(&text, "main", arch, target), Ok(true), "{arch}");
        let policy = syscage_policy(&text, "main", arch).unwrap();
        let n = compile(&policy).unwrap().len();
        assert!(n < 200, "{arch}: {n} instructions");
    }
    // And in the kernel: seccompiler's program and syscage's, installed, answer alike.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if syscage_tests::kernel_oracle_usable() {
        use syscage_enforcer::oracle::KernelOracle;
        let policy = syscage_policy(&text, "main", Arch::X86_64).unwrap();
        let theirs = seccompiler_programs(&text, TargetArch::x86_64).unwrap()["main"]
            .program()
            .clone();
        let mine = compile(&policy).unwrap();
        let mut k_theirs = KernelOracle::new(&[theirs]).unwrap();
        let mut k_mine = KernelOracle::new(&[mine]).unwrap();
        let evs = events(&policy, Arch::X86_64);
        for d in &evs {
            assert_eq!(
                k_mine.observe(d).unwrap(),
                k_theirs.observe(d).unwrap(),
                "{d:x?}"
            );
        }
        assert!(evs.len() > 100, "{}", evs.len());
    }
}
