//! One test per semantic rule of DESIGN.md's "Semantics to match"; each fails if the
//! rule is dropped from resolution or evaluation.

use super::*;
use crate::action::{ActionKind, ENOSYS, EPERM};
use crate::policy::{resolve, Target};
use crate::profile::{parse, KernelVersion, Runtime};
use crate::syscalls::number_of;

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

fn policy_for(text: &str, target: &Target) -> Policy {
    let p = parse("t.json", text, target.runtime).unwrap_or_else(|e| panic!("{e}"));
    resolve(&p, target).unwrap_or_else(|e| panic!("{e}"))
}

fn policy(text: &str) -> Policy {
    policy_for(text, &Target::new(Arch::X86_64, K))
}

fn ev(arch: Arch, name: &str, args: [u64; 6]) -> Event {
    Event::new(
        number_of(arch, name).unwrap_or_else(|| panic!("{name}")),
        args,
    )
}

fn run(p: &Policy, arch: Arch, name: &str, args: [u64; 6]) -> Verdict {
    match Evaluator::new(p).evaluate(&ev(arch, name, args)) {
        Outcome::Known(v) => v,
        o => panic!("not known: {o:?}"),
    }
}

fn act(v: &Verdict) -> Action {
    v.action().unwrap()
}

const Z: [u64; 6] = [0; 6];

#[test]
fn default_action_and_errno_ret() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(act(&run(&p, Arch::X86_64, "write", Z)), Action::ALLOW);
    let v = run(&p, Arch::X86_64, "read", Z);
    assert_eq!(
        act(&v),
        Action::errno(EPERM),
        "ERRNO without errnoRet is EPERM"
    );
    assert_eq!(v.origin.label(), "/defaultAction");
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    );
    assert_eq!(
        act(&run(&p, Arch::X86_64, "read", Z)),
        Action::new(ActionKind::Trace, 7)
    );
    assert_eq!(act(&run(&p, Arch::X86_64, "write", Z)), Action::errno(13));
}

#[test]
fn rule_equal_to_default_is_skipped() {
    // The rule's action equals the default, so the runtime skips it: the default
    // decides (and its name still counts for the ENOSYS stub's maximum).
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    let v = run(&p, Arch::X86_64, "write", Z);
    assert_eq!(
        v.origin,
        Origin::Default {
            pointer: "/defaultAction".into()
        },
        "runc's stub counts every name the profile mentions, skipped rules included"
    );
    // Same action with different data is not the default: it stays.
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]}"#,
    );
    assert_eq!(
        run(&p, Arch::X86_64, "write", Z).origin.label(),
        "/syscalls/0"
    );
}

#[test]
fn repeated_index_splits_into_alternatives() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(run(&p, Arch::X86_64, "personality", [1, 0, 0, 0, 0, 0]).permits());
    assert!(run(&p, Arch::X86_64, "personality", [2, 0, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "personality", [3, 0, 0, 0, 0, 0]).permits());
}

#[test]
fn distinct_indices_are_anded() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(run(&p, Arch::X86_64, "mmap", [1, 2, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "mmap", [1, 3, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "mmap", [0, 2, 0, 0, 0, 0]).permits());
}

#[test]
fn unknown_names_are_skipped_with_a_warning() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let prof = parse("t.json", text, Runtime::Runc).unwrap();
    assert_eq!(prof.warnings.len(), 1);
    assert!(prof.warnings[0]
        .to_string()
        .contains("/syscalls/0/names/1: unknown syscall \"no_such_call\""));
    let p = policy(text);
    assert!(run(&p, Arch::X86_64, "read", Z).permits());
}

#[test]
fn runc_enosys_stub_above_the_highest_named_number() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let p = policy(text);
    let openat = number_of(Arch::X86_64, "openat").unwrap().nr;
    let below = Event::new(
        SyscallNr {
            arch: Arch::X86_64,
            nr: openat - 1,
        },
        Z,
    );
    let above = Event::new(
        SyscallNr {
            arch: Arch::X86_64,
            nr: openat + 1,
        },
        Z,
    );
    let e = Evaluator::new(&p);
    assert_eq!(
        e.evaluate(&below).worst().action(),
        Some(Action::errno(EPERM))
    );
    let v = e.evaluate(&above).worst().clone();
    assert_eq!(v.action(), Some(Action::errno(ENOSYS)));
    assert_eq!(v.origin, Origin::EnosysStub);
    // crun has no stub.
    let mut t = Target::new(Arch::X86_64, K);
    t.runtime = Runtime::Crun;
    let p = policy_for(text, &t);
    assert_eq!(
        Evaluator::new(&p).evaluate(&above).worst().action(),
        Some(Action::errno(EPERM))
    );
    // Nor does runc when the default lets calls through.
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(
        Evaluator::new(&p).evaluate(&above).worst().action(),
        Some(Action::LOG)
    );
}

use crate::syscalls::SyscallNr;

#[test]
fn unconditional_rule_beats_conditional_ones() {
    for order in [0, 1] {
        let cond = r#"{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}"#;
        let uncond = r#"{"names": ["kill"], "action": "SCMP_ACT_ALLOW"}"#;
        let rules = if order == 0 {
            format!("{cond},{uncond}")
        } else {
            format!("{uncond},{cond}")
        };
        let p = policy(&format!(
            r#"{{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [{rules}]}}"#
        ));
        assert!(
            run(&p, Arch::X86_64, "kill", [1, 0, 0, 0, 0, 0]).permits(),
            "order {order}"
        );
    }
}

#[test]
fn sixty_four_bit_arches_compare_the_high_word() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{"names": ["dup"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#;
    let p = policy(text);
    assert!(run(&p, Arch::X86_64, "dup", [1, 0, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "dup", [0x1_0000_0001, 0, 0, 0, 0, 0]).permits());
    // i386 compares only the low word.
    assert!(run(&p, Arch::X86, "dup", [0x1_0000_0001, 0, 0, 0, 0, 0]).permits());
}

#[test]
fn thirty_two_bit_arches_truncate_datums() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{"names": ["dup"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 4294967297, "op": "SCMP_CMP_EQ"}]}]}"#;
    let p = policy(text);
    assert!(run(&p, Arch::X86, "dup", [1, 0, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "dup", [1, 0, 0, 0, 0, 0]).permits());
}

#[test]
fn masked_eq_masks_both_sides_and_mask_zero_matches_all() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 240, "valueTwo": 4095, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "valueTwo": 5, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    // (arg & 0xf0) == (0xfff & 0xf0) = 0xf0
    assert!(run(&p, Arch::X86_64, "clone", [0xf3, 0, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86_64, "clone", [0x73, 0, 0, 0, 0, 0]).permits());
    assert!(run(&p, Arch::X86_64, "dup", [12345, 0, 0, 0, 0, 0]).permits());
}

#[test]
fn bad_arch_and_the_x32_bit() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    // aarch64 is not in an x86_64 filter.
    let v = run(&p, Arch::Aarch64, "read", Z);
    assert_eq!(act(&v), Action::KILL_THREAD);
    assert_eq!(v.origin, Origin::BadArch);
    // An x32 number in a filter without x32 is a bad arch too.
    let v = run(&p, Arch::X32, "read", Z);
    assert_eq!(v.origin, Origin::BadArch);
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X32"], "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(act(&run(&p, Arch::X32, "read", Z)), Action::ALLOW);
    assert_eq!(act(&run(&p, Arch::X32, "ptrace", Z)), Action::errno(EPERM));
}

#[test]
fn i386_socket_rules_cover_socketcall() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
        {"names": ["connect"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    // socketcall(SYS_CONNECT = 3, ...) is allowed; socketcall(SYS_BIND = 2) is not.
    assert!(run(&p, Arch::X86, "socketcall", [3, 0, 0, 0, 0, 0]).permits());
    assert!(!run(&p, Arch::X86, "socketcall", [2, 0, 0, 0, 0, 0]).permits());
    // No i386 stub here: `connect` resolves to a pseudo-number for runc's count, the
    // maximum stays 0 and runc drops the architecture; the rule decides.
    assert!(run(&p, Arch::X86, "connect", Z).permits());
    // With `read` (3) named too, the direct call (362) is above the stub's maximum, and
    // the stub runs first.
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
        {"names": ["connect", "read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    let v = run(&p, Arch::X86, "connect", Z);
    assert_eq!(
        (act(&v), &v.origin),
        (Action::errno(ENOSYS), &Origin::EnosysStub)
    );
    // crun has no stub: the rule decides.
    let mut crun = Target::new(Arch::X86_64, K);
    crun.runtime = Runtime::Crun;
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
        {"names": ["connect", "read"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert!(run(&policy_for(text, &crun), Arch::X86, "connect", Z).permits());
    // x86_64 has no socketcall to add.
    assert!(run(&p, Arch::X86_64, "connect", Z).permits());
}

#[test]
fn docker_includes_and_excludes() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["arch_prctl", "getcwd"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
        {"names": ["unshare"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}"#;
    let base = Target::new(Arch::X86_64, K);
    let p = policy_for(text, &base);
    assert!(run(&p, Arch::X86_64, "ptrace", Z).permits());
    assert!(!run(&p, Arch::X86_64, "mount", Z).permits());
    assert!(run(&p, Arch::X86_64, "arch_prctl", Z).permits());
    assert!(run(&p, Arch::X86_64, "unshare", Z).permits());
    assert!(
        run(&p, Arch::X86, "ptrace", Z).permits(),
        "archMap brings in the x86 sub-arch"
    );
    assert_eq!(
        run(&p, Arch::Arm, "read", Z).origin,
        Origin::BadArch,
        "other archMap entries are not"
    );
    let mut old = base.clone();
    old.kernel = KernelVersion { major: 4, minor: 4 };
    assert!(!run(&policy_for(text, &old), Arch::X86_64, "ptrace", Z).permits());
    let mut admin = base.clone();
    admin.caps.insert("CAP_SYS_ADMIN".into());
    let p = policy_for(text, &admin);
    assert!(run(&p, Arch::X86_64, "mount", Z).permits());
    assert!(!run(&p, Arch::X86_64, "unshare", Z).permits());
    let arm = policy_for(text, &Target::new(Arch::Aarch64, K));
    assert!(run(&arm, Arch::Aarch64, "ptrace", Z).permits());
    assert!(
        !run(&arm, Arch::Aarch64, "getcwd", Z).permits(),
        "includes.arches is the native GOARCH"
    );
    assert_eq!(run(&arm, Arch::X86_64, "read", Z).origin, Origin::BadArch);
    assert!(run(&arm, Arch::Arm, "ptrace", Z).permits());
}

#[test]
fn unknown_arguments_list_the_possible_verdicts() {
    let p = policy(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]}, {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    let e = Evaluator::new(&p);
    let mut event = ev(Arch::X86_64, "socket", Z);
    event.args[0] = None;
    match e.evaluate(&event) {
        Outcome::Depends { possible, on } => {
            assert_eq!(on, vec![0]);
            let acts: Vec<_> = possible.iter().map(|v| v.action().unwrap()).collect();
            assert!(
                acts.contains(&Action::ALLOW) && acts.contains(&Action::errno(EPERM)),
                "{acts:?}"
            );
        }
        o => panic!("{o:?}"),
    }
    // An unknown argument no rule looks at does not matter.
    let mut event = ev(Arch::X86_64, "read", Z);
    event.args = [None; 6];
    assert!(matches!(e.evaluate(&event), Outcome::Known(_)));
    let mut event = ev(Arch::X86_64, "socket", Z);
    event.args[3] = None;
    assert!(matches!(e.evaluate(&event), Outcome::Known(_)));
}

#[test]
fn stacks_take_the_strongest_action_and_the_newest_data_on_ties() {
    let older = policy(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
        {"names": ["write"], "action": "SCMP_ACT_TRAP"}]}"#,
    );
    let newer = policy(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["close"], "action": "SCMP_ACT_LOG"}]}"#,
    );
    let stack = [older, newer];
    let s = Stack::new(&stack);
    let get = |name: &str| s.evaluate(&ev(Arch::X86_64, name, Z)).worst().clone();
    let read = get("read");
    assert_eq!(
        read.action(),
        Some(Action::errno(9)),
        "tie: newest filter's data"
    );
    assert_eq!(read.filter, Some(1));
    assert_eq!(
        get("write").action(),
        Some(Action::new(ActionKind::Trap, 0)),
        "TRAP beats ERRNO"
    );
    assert_eq!(get("close").action(), Some(Action::LOG), "LOG beats ALLOW");
    assert_eq!(get("open").action(), Some(Action::ALLOW));
}

#[test]
fn uretprobe_bypasses_seccomp_on_new_kernels() {
    let text = r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [{"names": ["read", "mseal"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let p = policy(text);
    let v = run(&p, Arch::X86_64, "uretprobe", Z);
    assert_eq!((act(&v), v.origin), (Action::ALLOW, Origin::Bypass));
    let old = policy_for(
        text,
        &Target::new(Arch::X86_64, KernelVersion { major: 6, minor: 8 }),
    );
    assert_eq!(
        act(&run(&old, Arch::X86_64, "uretprobe", Z)),
        Action::KILL_PROCESS
    );
    // Above runc's stub maximum too: the stub is part of the filter, which never runs.
    let stubbed = policy(
        r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    let v = run(&stubbed, Arch::X86_64, "uretprobe", Z);
    assert_eq!((act(&v), v.origin), (Action::ALLOW, Origin::Bypass));
}

#[test]
fn unconfined_allows_everything() {
    let p = crate::builtin::lookup("unconfined", Runtime::Runc)
        .unwrap()
        .unwrap();
    let p = resolve(&p, &Target::new(Arch::X86_64, K)).unwrap();
    assert!(p.unconfined);
    assert!(run(&p, Arch::Aarch64, "reboot", Z).permits());
}

/// The verdict for a raw number of `arch` from the reference engine and from the
/// compiled program, which must agree.
fn raw(p: &Policy, arch: Arch, nr: u32) -> Action {
    let data = SeccompData::new(SyscallNr { arch, nr }, Z);
    let (ret, _) = Evaluator::new(p).decide(&data);
    let prog = crate::bpf::compile::compile(p).expect("compiles");
    let valid = crate::bpf::validate(&prog).expect("validates");
    assert_eq!(
        crate::bpf::run(&valid, &data).ret,
        ret,
        "{arch} {nr:#x}: compiled program and reference differ"
    );
    Action::from_ret(ret).unwrap()
}

fn runc_at(release: &str) -> Target {
    let mut t = Target::new(Arch::X86_64, K);
    t.release = Some(release.parse().unwrap());
    t
}

#[test]
fn runc_stub_covers_listed_arches_and_native_from_1_1_15() {
    let none = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let x86 = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let high = 1000;
    // runc 1.1.5: the profile's `architectures` only.
    let old = runc_at("1.1.5");
    assert_eq!(
        raw(&policy_for(none, &old), Arch::X86_64, high),
        Action::errno(EPERM)
    );
    let p = policy_for(x86, &old);
    assert_eq!(raw(&p, Arch::X86_64, high), Action::errno(EPERM));
    assert_eq!(raw(&p, Arch::X86, high), Action::errno(ENOSYS));
    // runc 1.1.15 and later: the native architecture too.
    for t in [
        runc_at("1.1.15"),
        runc_at("1.2.0"),
        Target::new(Arch::X86_64, K),
    ] {
        assert_eq!(
            raw(&policy_for(none, &t), Arch::X86_64, high),
            Action::errno(ENOSYS)
        );
        assert_eq!(
            raw(&policy_for(x86, &t), Arch::X86_64, high),
            Action::errno(ENOSYS)
        );
    }
    // A maximum of 0 (only `read`, number 0 on x86_64) makes no stub.
    let only_read = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#;
    assert_eq!(
        raw(&policy(only_read), Arch::X86_64, high),
        Action::errno(EPERM)
    );
}

#[test]
fn runc_1_1_refuses_flags() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"], "syscalls": []}"#;
    let p = parse("t.json", text, Runtime::Runc).unwrap();
    let e = resolve(&p, &runc_at("1.1.5")).unwrap_err().to_string();
    assert!(
        e.contains("/flags") && e.contains("runc 1.1.5 refuses"),
        "{e}"
    );
    assert!(resolve(&p, &runc_at("1.2.0")).is_ok());
}

#[test]
fn x86_64_numbers_from_0x40000000_without_x32() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let mut crun = Target::new(Arch::X86_64, K);
    crun.runtime = Runtime::Crun;
    let runc = policy(text);
    let crun = policy_for(text, &crun);
    // libseccomp: JGE 0x40000000 is a bad architecture, whatever bit 30 says; -1 is not.
    for nr in [
        0x4000_0000,
        0x7fff_ffff,
        0x8000_0000,
        0xbfff_ffff,
        0xc000_0000,
        0xffff_fffe,
    ] {
        assert_eq!(raw(&crun, Arch::X86_64, nr), Action::KILL_THREAD, "{nr:#x}");
    }
    assert_eq!(raw(&crun, Arch::X86_64, u32::MAX), Action::errno(EPERM));
    assert_eq!(raw(&crun, Arch::X86_64, 0x3fff_ffff), Action::errno(EPERM));
    // runc's stub runs first and takes the numbers without the x32 bit.
    for nr in [0x3fff_ffff, 0x8000_0000, 0xbfff_ffff] {
        assert_eq!(
            raw(&runc, Arch::X86_64, nr),
            Action::errno(ENOSYS),
            "{nr:#x}"
        );
    }
    for nr in [0x4000_0000, 0xc000_0000, 0xffff_fffe] {
        assert_eq!(raw(&runc, Arch::X86_64, nr), Action::KILL_THREAD, "{nr:#x}");
    }
    assert_eq!(raw(&runc, Arch::X86_64, u32::MAX), Action::errno(EPERM));
    // With x32 in the filter, libseccomp has no such check: the rest is the default,
    // and runc's x32 section takes the numbers with the bit above its maximum.
    let with_x32 = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"], "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let mut t = Target::new(Arch::X86_64, K);
    t.runtime = Runtime::Crun;
    let crun = policy_for(with_x32, &t);
    for nr in [0x8000_0000, 0xc000_0000, u32::MAX] {
        assert_eq!(
            raw(&crun, Arch::X86_64, nr),
            Action::errno(EPERM),
            "{nr:#x}"
        );
    }
    let runc = policy(with_x32);
    for nr in [0x8000_0000, 0xc000_0000, u32::MAX] {
        assert_eq!(
            raw(&runc, Arch::X86_64, nr),
            Action::errno(ENOSYS),
            "{nr:#x}"
        );
    }
}

#[test]
fn an_allow_all_profile_is_still_a_filter() {
    let p = policy(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#);
    assert!(!p.unconfined);
    let getpid = |a| number_of(a, "getpid").unwrap().nr;
    assert_eq!(raw(&p, Arch::X86_64, getpid(Arch::X86_64)), Action::ALLOW);
    // Architectures the filter does not list are killed, x32 included.
    assert_eq!(raw(&p, Arch::X86, getpid(Arch::X86)), Action::KILL_THREAD);
    assert_eq!(raw(&p, Arch::X32, getpid(Arch::X32)), Action::KILL_THREAD);
    // Only no profile at all is no filter.
    let none = parse("t.json", r#"{"linux": {}}"#, Runtime::Runc).unwrap();
    assert!(
        resolve(&none, &Target::new(Arch::X86_64, K))
            .unwrap()
            .unconfined
    );
}
