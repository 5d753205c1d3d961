use super::*;
use crate::arch::Arch;
use crate::bpf::{
    self, Insn, Program, BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
};
use crate::policy::Target;
use crate::profile::{parse, KernelVersion, Runtime};

fn target() -> Target {
    Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    )
}

fn ids(text: &str) -> Vec<&'static str> {
    let p = parse("p.json", text, Runtime::Runc).unwrap();
    let mut v: Vec<&str> = profile(&p, text, &target())
        .iter()
        .map(|f| f.rule.id)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn wrap(rules: &str) -> String {
    format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{rules}]}}"#
    )
}

/// Each profile check: a profile that triggers it, and a near one that does not.
#[test]
fn each_profile_check_fires_and_holds_its_fire() {
    let cases: [(&str, String, String); 9] = [
        (
            "SC101",
            wrap(r#"{"names":["read","ptrace"],"action":"SCMP_ACT_ALLOW"}"#),
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_PTRACE"]}}]}"#.into(),
        ),
        (
            "SC102",
            wrap(r#"{"names":["io_uring_setup"],"action":"SCMP_ACT_ALLOW"}"#),
            wrap(r#"{"names":["io_uring_setup"],"action":"SCMP_ACT_ERRNO","errnoRet":38}"#),
        ),
        (
            "SC103",
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_ERRNO"}"#),
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":38}"#),
        ),
        (
            "SC104",
            wrap(r#"{"names":["reed"],"action":"SCMP_ACT_ALLOW"}"#),
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#),
        ),
        (
            "SC105",
            wrap(r#"{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},{"names":["clone3"],"action":"SCMP_ACT_ALLOW"}"#),
            wrap(r#"{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}"#),
        ),
        (
            "SC106",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#.into(),
            wrap(r#"{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}"#),
        ),
        (
            "SC107",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":4294967296,"op":"SCMP_CMP_LT"}]}]}"#.into(),
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":4294967296,"op":"SCMP_CMP_LT"}]}"#),
        ),
        (
            "SC108",
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_TRACE"}"#),
            wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#),
        ),
        (
            "SC109",
            wrap(r#"{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},{"names":["personality"],"action":"SCMP_ACT_KILL_PROCESS"}"#),
            wrap(r#"{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}"#),
        ),
    ];
    for (id, fires, holds) in &cases {
        assert!(
            ids(fires).contains(id),
            "{id} should fire on {fires}: {:?}",
            ids(fires)
        );
        assert!(
            !ids(holds).contains(id),
            "{id} should not fire on {holds}: {:?}",
            ids(holds)
        );
    }
    // SC111: a name libseccomp 2.5.0 does not know (but the target's does).
    assert!(ids(&wrap(
        r#"{"names":["close_range"],"action":"SCMP_ACT_ALLOW"}"#
    ))
    .contains(&"SC111"));
    assert!(!ids(&wrap(r#"{"names":["close"],"action":"SCMP_ACT_ALLOW"}"#)).contains(&"SC111"));
    // SC110: errnoRet on ALLOW (crun refuses it).
    let fires = wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}"#);
    assert!(ids(&fires).contains(&"SC110"));
    assert!(!ids(&wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#)).contains(&"SC110"));
}

#[test]
fn findings_name_the_line_and_pointer() {
    let text = "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [\n  {\"names\": [\"read\", \"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
    let p = parse("p.json", text, Runtime::Runc).unwrap();
    let f = profile(&p, text, &target());
    let sc101 = f.iter().find(|f| f.rule.id == "SC101").unwrap();
    match &sc101.place {
        Place::Profile(l) => {
            assert_eq!((l.line, l.pointer.as_str()), (3, "/syscalls/0/names/1"));
        }
        other => panic!("{other:?}"),
    }
    assert!(sc101.render().contains("p.json:3:"), "{}", sc101.render());
}

const ARCH: u32 = 0xc000_003e;

fn raw(insns: Vec<Insn>) -> bpf::ValidProgram {
    bpf::validate(&Program::new(insns)).unwrap()
}

fn raw_ids(p: &bpf::ValidProgram) -> Vec<&'static str> {
    program(p, "f.bpf", Arch::X86_64)
        .iter()
        .map(|f| f.rule.id)
        .collect()
}

const LD: u16 = BPF_LD | BPF_W | BPF_ABS;
const RET: u16 = BPF_RET | BPF_K;
const ALLOW: u32 = 0x7fff_0000;
const KILL: u32 = 0x8000_0000;

#[test]
fn each_raw_check_fires_and_holds_its_fire() {
    // Good: arch check, x32 check, allow.
    let good = raw(vec![
        Insn::stmt(LD, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        Insn::stmt(RET, KILL),
        Insn::stmt(LD, 0),
        Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 0, 1),
        Insn::stmt(RET, KILL),
        Insn::stmt(RET, ALLOW),
    ]);
    assert_eq!(raw_ids(&good), Vec::<&str>::new());
    // SC201 (and nothing can be probed).
    let no_arch = raw(vec![Insn::stmt(LD, 0), Insn::stmt(RET, ALLOW)]);
    assert!(raw_ids(&no_arch).contains(&"SC201"));
    // SC202: number first.
    let nr_first = raw(vec![
        Insn::stmt(LD, 0),
        Insn::stmt(LD, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        Insn::stmt(RET, KILL),
        Insn::stmt(RET, ALLOW),
    ]);
    assert!(raw_ids(&nr_first).contains(&"SC202"));
    // SC203: arch checked, x32 not.
    let x32 = raw(vec![
        Insn::stmt(LD, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        Insn::stmt(RET, KILL),
        Insn::stmt(RET, ALLOW),
    ]);
    assert_eq!(raw_ids(&x32), ["SC203"]);
    // SC204: the arch test lets everything but aarch64 through.
    let i386 = raw(vec![
        Insn::stmt(LD, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_00b7, 0, 1),
        Insn::stmt(RET, KILL),
        Insn::stmt(LD, 0),
        Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 0, 1),
        Insn::stmt(RET, KILL),
        Insn::stmt(RET, ALLOW),
    ]);
    assert_eq!(raw_ids(&i386), ["SC204"]);
    // SC205: the instruction pointer.
    let ip = raw(vec![
        Insn::stmt(LD, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        Insn::stmt(RET, KILL),
        Insn::stmt(LD, 0),
        Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 0, 1),
        Insn::stmt(RET, KILL),
        Insn::stmt(LD, 8),
        Insn::stmt(RET, ALLOW),
    ]);
    assert_eq!(raw_ids(&ip), ["SC205"]);
}

/// syscage's own compiler passes the raw checks for the engine defaults, but for
/// SC203: they list x32 (moby's archMap), so their filters let x32 calls through on
/// purpose. Without x32 in the profile, not even that.
#[test]
fn compiled_defaults_pass_the_raw_checks() {
    for name in [
        "docker/default",
        "podman/default@4.3",
        "containerd/default@1.6",
    ] {
        let p = crate::builtin::lookup(name, Runtime::Runc)
            .unwrap()
            .unwrap();
        let policy = crate::policy::resolve(&p, &target()).unwrap();
        let prog = bpf::validate(&crate::bpf::compile::compile(&policy).unwrap()).unwrap();
        assert_eq!(raw_ids(&prog), ["SC203"], "{name}");
    }
    let text = wrap(r#"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#);
    let p = parse("p.json", &text, Runtime::Runc).unwrap();
    let policy = crate::policy::resolve(&p, &target()).unwrap();
    let prog = bpf::validate(&crate::bpf::compile::compile(&policy).unwrap()).unwrap();
    assert_eq!(raw_ids(&prog), Vec::<&str>::new());
}

#[test]
fn every_rule_id_is_unique_and_sarif_lists_them() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    let text = wrap(r#"{"names":["ptrace"],"action":"SCMP_ACT_ALLOW"}"#);
    let p = parse("p.json", &text, Runtime::Runc).unwrap();
    let log = sarif::log(&profile(&p, &text, &target()), "0.1.0", &|s| s.to_string());
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        RULES.len()
    );
    let r = &log["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "SC101");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}
