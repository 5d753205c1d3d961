//! The real libseccomp as an oracle for the reference evaluator.
//!
//! Each profile is turned into libseccomp rules the way runc does (here, independently
//! of syscage's own conversion for the random OCI profiles), compiled and exported by
//! libseccomp (in a child process, with a timeout: some rule sets make libseccomp 2.5.4
//! spin), and the exported program is run by syscage's interpreter against boundary
//! events. Verdicts must equal the reference evaluator's — except on syscalls whose
//! libseccomp tree has the shape that triggers 2.5.4's stale-accumulator code
//! generation bug (SEMANTICS.md), where disagreements are counted and reported.
//! Profiles libseccomp refuses (EEXIST) must be exactly those syscage reports as
//! conflicts.
//!
//! Skips, saying why, when libseccomp cannot be used on this machine.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{json, Value};
use syscage_core::action::describe_ret;
use syscage_core::arch::Arch;
use syscage_core::bpf::{self, Program};
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;
use syscage_core::policy::{resolve, runtime_rules, Policy, ResolveError, Target};
use syscage_core::profile::{parse, KernelVersion, Profile, Runtime};
use syscage_tests::{boundary_events, gen, sample_events, shared_profile};

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

enum Export {
    Program(Program),
    Refused(String),
    /// libseccomp did not finish in time (2.5.4 loops forever on some rule sets).
    Timeout,
    Unavailable(String),
}

/// Runs the `scmp-export` helper with a time limit.
fn export(input: &Value) -> Export {
    export_within(input, Duration::from_secs(20))
}

fn export_within(input: &Value, limit: Duration) -> Export {
    let exe = env!("CARGO_BIN_EXE_scmp-export");
    let mut child = match Command::new(exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Export::Unavailable(format!("cannot run {exe}: {e}")),
    };
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes());
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Export::Timeout;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Export::Unavailable(e.to_string()),
        }
    }
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => match Program::from_raw(&out.stdout) {
            Ok(p) => Export::Program(p),
            Err(e) => Export::Unavailable(format!("libseccomp exported garbage: {e}")),
        },
        Some(3) => Export::Refused(String::from_utf8_lossy(&out.stderr).into_owned()),
        _ => Export::Unavailable(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

fn oracle_input(arches: &[Arch], default: u32, rules: &[(String, u32, Vec<Value>)]) -> Value {
    json!({
        "default": default,
        "arches": arches.iter().skip(1).map(|a| a.scmp_name()).collect::<Vec<_>>(),
        "rules": rules.iter().map(|(n, a, c)| json!({"name": n, "action": a, "conds": c})).collect::<Vec<_>>(),
    })
}

/// runc's conversion, written again from the profile (not syscage's `convert`): each
/// name its own rule; skip rules equal to the default; split when an index repeats.
fn runc_rules(p: &Profile) -> (u32, Vec<(String, u32, Vec<Value>)>) {
    let act = |kind: syscage_core::action::ActionKind, errno: Option<u32>| {
        let data = if kind.takes_data() {
            errno.unwrap_or(1) & 0xffff
        } else {
            0
        };
        syscage_core::action::Action::new(kind, data as u16).to_ret()
    };
    let default = act(p.default_action, p.default_errno_ret);
    let mut out = Vec::new();
    for r in &p.syscalls {
        let a = act(r.action, r.errno_ret);
        if a == default {
            continue;
        }
        let conds: Vec<Value> = r
            .args
            .iter()
            .map(|c| json!([c.index, c.op.oci_name(), c.value, c.value_two]))
            .collect();
        let mut idx: Vec<u32> = r.args.iter().map(|c| c.index).collect();
        idx.sort_unstable();
        let repeats = idx.windows(2).any(|w| w[0] == w[1]);
        for name in &r.names {
            if repeats {
                for c in &conds {
                    out.push((name.clone(), a, vec![c.clone()]));
                }
            } else {
                out.push((name.clone(), a, conds.clone()));
            }
        }
    }
    (default, out)
}

/// Compares on `events`; returns (events compared, tolerated codegen-bug mismatches).
fn compare(
    policy: &Policy,
    prog: &Program,
    events: &[SeccompData],
) -> Result<(usize, usize), String> {
    syscage_tests::filter_agrees_with_reference(policy, prog, events)
}

/// Syscalls libseccomp 2.5.4 knows (its table stops at Linux 5.17): the generator's
/// names all are.
fn check_random(text: &str, args: [u64; 6]) -> Result<(), TestCaseError> {
    check_random_with(text, args, false)
}

/// [`check_random`], and with `compile`: wherever libseccomp's program fits the kernel's
/// 4,096 instructions, syscage's compiler must also produce one that fits, and it must
/// give the reference's verdicts on the same events.
fn check_random_with(text: &str, args: [u64; 6], compile: bool) -> Result<(), TestCaseError> {
    let profile = parse("random.json", text, Runtime::Crun).unwrap();
    let mut target = Target::new(Arch::X86_64, K);
    target.runtime = Runtime::Crun; // no ENOSYS stub: libseccomp's program alone
    let resolved = resolve(&profile, &target);
    let (default, rules) = runc_rules(&profile);
    let mut arches = vec![Arch::X86_64];
    arches.extend(
        profile
            .architectures
            .iter()
            .copied()
            .filter(|a| *a != Arch::X86_64),
    );
    // Where syscage predicts a hang, a few seconds of libseccomp spinning confirm it.
    let limit = match resolved {
        Err(ResolveError::LibseccompHang { .. }) => Duration::from_secs(3),
        _ => Duration::from_secs(20),
    };
    let exported = export_within(&oracle_input(&arches, default, &rules), limit);
    match (exported, resolved) {
        (Export::Timeout, Err(ResolveError::LibseccompHang { .. })) => Ok(()),
        (Export::Timeout, resolved) => Err(TestCaseError::fail(format!(
            "libseccomp hangs but syscage resolved the profile ({resolved:?}):\n{text}"
        ))),
        (Export::Program(_), Err(ResolveError::LibseccompHang { .. })) => Err(TestCaseError::fail(
            format!("syscage predicted a libseccomp hang, but libseccomp finished:\n{text}"),
        )),
        (Export::Unavailable(why), _) => {
            eprintln!("SKIP one case: {why}");
            Ok(())
        }
        (Export::Refused(_), Err(ResolveError::Conflict { .. })) => Ok(()),
        (Export::Refused(why), Err(e)) => Err(TestCaseError::fail(format!(
            "libseccomp refused rule {why}, syscage for another reason: {e}:\n{text}"
        ))),
        (Export::Refused(why), Ok(_)) => Err(TestCaseError::fail(format!(
            "libseccomp refused rule {why} but syscage accepted the profile:\n{text}"
        ))),
        (Export::Program(_), Err(e)) => Err(TestCaseError::fail(format!(
            "syscage refused ({e}) a profile libseccomp accepts:\n{text}"
        ))),
        (Export::Program(prog), Ok(policy)) => {
            if policy.unconfined {
                return Ok(());
            }
            let events = sample_events(&[&policy], args);
            compare(&policy, &prog, &events)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            if compile && prog.len() <= bpf::MAX_INSNS {
                let ours = bpf::compile::compile(&policy).map_err(|e| {
                    TestCaseError::fail(format!(
                        "libseccomp's program has {} instructions, syscage refuses: {e}\n{text}",
                        prog.len()
                    ))
                })?;
                let valid = bpf::validate(&ours)
                    .map_err(|e| TestCaseError::fail(format!("ours does not validate: {e}")))?;
                let reference = Evaluator::new(&policy);
                for d in &events {
                    let want = reference.decide(d).0;
                    let got = bpf::run(&valid, d).ret;
                    prop_assert_eq!(got, want, "{:?}\n{}", d, text);
                }
            }
            Ok(())
        }
    }
}

fn libseccomp_usable() -> bool {
    let probe = json!({"default": 0x7fff_0000u32, "arches": [], "rules": []});
    match export(&probe) {
        Export::Program(_) => true,
        Export::Refused(why) | Export::Unavailable(why) => {
            syscage_tests::skip_unless_ci("the libseccomp oracle tests", why.trim());
            false
        }
        Export::Timeout => {
            syscage_tests::skip_unless_ci(
                "the libseccomp oracle tests",
                "libseccomp did not answer a trivial request",
            );
            false
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn reference_agrees_with_libseccomp_on_random_profiles(
        text in gen::profile(gen::Shape { actions: gen::ACTIONS, arches: &["SCMP_ARCH_X86", "SCMP_ARCH_X32"], max_rules: 8, max_conds: 3 }),
        args in proptest::array::uniform6(gen::value()),
    ) {
        if libseccomp_usable() {
            check_random(&text, args)?;
        }
    }
}

proptest! {
    // A fixed seed, so that CI runs the same 24 large rule sets every time (they take
    // libseccomp's merging through millions of steps); PROPTEST_RNG_SEED=<n> explores
    // others.
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        rng_seed: std::env::var("PROPTEST_RNG_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(proptest::test_runner::RngSeed::Fixed(0x5ec_c0de), proptest::test_runner::RngSeed::Fixed),
        ..ProptestConfig::default()
    })]

    /// Large rules (issue "Any rule set"): up to 40 rules of up to 64 conditions each
    /// (runc splits a rule whose conditions repeat an argument into one rule per
    /// condition). No cross products: wherever libseccomp's program fits the kernel,
    /// syscage's does, and reference, syscage's program and libseccomp's agree.
    #[test]
    fn large_random_profiles_compile_where_libseccomp_does(
        // Two actions, so that rules for one syscall rarely conflict (EEXIST): the
        // point here is size, the other test covers the mix of actions.
        text in gen::profile(gen::Shape { actions: &["SCMP_ACT_ALLOW", "SCMP_ACT_KILL_PROCESS"], arches: &["SCMP_ARCH_X86", "SCMP_ARCH_X32"], max_rules: 40, max_conds: 64 }),
        args in proptest::array::uniform6(gen::value()),
    ) {
        if libseccomp_usable() {
            check_random_with(&text, args, true)?;
        }
    }
}

/// Hand-made profiles for the rules SEMANTICS.md lists, plus Docker's default profile
/// (through syscage's own runtime conversion, which other tests pin down).
/// The rule set libseccomp 2.5.4 loops on: syscage reports it, libseccomp spins.
#[test]
fn libseccomp_hangs_where_syscage_says_it_does() {
    if !libseccomp_usable() {
        return;
    }
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["connect"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_LE"}, {"index": 1, "value": 0, "op": "SCMP_CMP_LT"}]},
        {"names": ["connect"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_LE"}, {"index": 1, "value": 0, "op": "SCMP_CMP_NE"}]}]}"#;
    let p = parse("hang.json", text, Runtime::Crun).unwrap();
    let mut target = Target::new(Arch::X86_64, K);
    target.runtime = Runtime::Crun;
    let e = resolve(&p, &target).unwrap_err();
    assert!(matches!(e, ResolveError::LibseccompHang { .. }), "{e}");
    let (default, rules) = runc_rules(&p);
    assert!(matches!(
        export_within(
            &oracle_input(&[Arch::X86_64], default, &rules),
            Duration::from_secs(3)
        ),
        Export::Timeout
    ));
}

#[test]
fn reference_agrees_with_libseccomp_on_hand_made_profiles() {
    if !libseccomp_usable() {
        return;
    }
    // (profile, whether libseccomp refuses it with EEXIST)
    let cases = [
        (
            // Overlapping rules on different arguments: arg1 is tried first.
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2, "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]}"#,
            false,
        ),
        (
            // LT before GT, 64-bit datums, i386 and x32 in the filter.
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [
            {"names": ["mmap", "kill"], "action": "SCMP_ACT_TRAP", "args": [{"index": 0, "value": 4294967301, "op": "SCMP_CMP_GT"}]},
            {"names": ["mmap", "kill"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 4294967303, "op": "SCMP_CMP_LT"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
            false,
        ),
        (
            // i386: both rules land on socketcall as `arg0 == SYS_SOCKET` with different
            // actions: libseccomp refuses the second (and runc the container).
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_TRAP", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_GT"}]},
            {"names": ["socket"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_LT"}]}]}"#,
            true,
        ),
    ];
    let mut total = 0;
    for (text, refused) in cases {
        let p = parse("hand.json", text, Runtime::Crun).unwrap();
        let mut target = Target::new(Arch::X86_64, K);
        target.runtime = Runtime::Crun;
        let resolved = resolve(&p, &target);
        let (default, rules) = runc_rules(&p);
        let mut arches = vec![Arch::X86_64];
        arches.extend(p.architectures.iter().copied());
        let exported = export(&oracle_input(&arches, default, &rules));
        if refused {
            assert!(
                matches!(exported, Export::Refused(_)),
                "libseccomp accepted:\n{text}"
            );
            assert!(
                matches!(resolved, Err(ResolveError::Conflict { .. })),
                "{resolved:?}"
            );
            continue;
        }
        let policy = resolved.unwrap();
        let Export::Program(prog) = exported else {
            panic!("libseccomp refused a hand-made profile:\n{text}");
        };
        let (n, tolerated) = compare(&policy, &prog, &boundary_events(&[&policy])).unwrap();
        assert_eq!(tolerated, 0);
        total += n;
    }
    if let Some(path) = shared_profile("docker-default.json") {
        let text = std::fs::read_to_string(&path).unwrap();
        let p = parse("docker-default.json", &text, Runtime::Crun).unwrap();
        let mut target = Target::new(Arch::X86_64, K);
        target.runtime = Runtime::Crun;
        let policy = resolve(&p, &target).unwrap();
        let (arches, default, rules) = runtime_rules(&p, &target).unwrap();
        let rules: Vec<(String, u32, Vec<Value>)> = rules
            .iter()
            // libseccomp 2.5.4's table stops at Linux 5.17; newer names it skips (runc
            // too), syscage knows. Compare on what both know: leave the rule out and
            // the events on those numbers out.
            .map(|r| {
                let conds = r
                    .conds
                    .iter()
                    .map(|c| json!([c.index, c.op.oci_name(), c.value, c.value_two]))
                    .collect();
                (r.name.clone(), r.action.to_ret(), conds)
            })
            .collect();
        let Export::Program(prog) = export(&oracle_input(&arches, default.to_ret(), &rules)) else {
            panic!("libseccomp refused Docker's default profile");
        };
        let valid = bpf::validate(&prog).unwrap();
        let reference = Evaluator::new(&policy);
        let mut unknown_to_libseccomp = 0;
        let mut n = 0;
        for d in boundary_events(&[&policy]) {
            let (want, origin) = reference.decide(&d);
            let got = bpf::run(&valid, &d).ret;
            n += 1;
            if want != got {
                // Only syscalls newer than libseccomp 2.5.4 may differ (allowed by the
                // profile, unknown to that libseccomp, so the default there).
                let arch = Arch::from_audit(d.arch, d.nr).unwrap();
                let name = syscage_core::syscalls::name_of(arch, d.nr).unwrap_or("?");
                assert!(
                    [
                        "cachestat",
                        "fchmodat2",
                        "map_shadow_stack",
                        "futex_wait",
                        "futex_wake",
                        "futex_waitv",
                        "futex_requeue",
                        "memfd_secret",
                        "process_mrelease",
                        "set_mempolicy_home_node",
                        "listmount",
                        "statmount",
                        "lsm_get_self_attr",
                        "lsm_set_self_attr",
                        "lsm_list_modules",
                        "mseal",
                        "setxattrat",
                        "getxattrat",
                        "listxattrat",
                        "removexattrat",
                        "open_tree_attr",
                        "file_getattr",
                        "file_setattr",
                        "uretprobe",
                        "uprobe"
                    ]
                    .contains(&name),
                    "{d:?} ({arch} {name}): reference {} (by {origin}), libseccomp {}",
                    describe_ret(want),
                    describe_ret(got)
                );
                unknown_to_libseccomp += 1;
            }
        }
        eprintln!("docker-default: {n} events, {unknown_to_libseccomp} on syscalls newer than libseccomp 2.5.4");
        total += n;
    }
    eprintln!("compared {total} events with libseccomp");
}

/// Found by `large_random_profiles_compile_where_libseccomp_does`: 35 one-condition
/// rules and a two-condition rule on `ioctl` cost libseccomp's merging 2.1 million steps
/// in syscage's port, past the old hang budget, while the real library finishes in
/// milliseconds. It is long, not a loop: syscage must resolve it, and agree.
#[test]
fn a_long_merge_is_not_a_hang() {
    if !libseccomp_usable() {
        return;
    }
    let text = include_str!("../data/libseccomp-long-merge.json");
    check_random_with(
        text,
        [0xffff_ffff, 1 << 32, 0xffff_fffe, 0x1_0000_0003, 3, 6],
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
