use super::*;
use crate::action::ActionKind;
use crate::arch::Arch;
use crate::eval::Evaluator;
use crate::event::SeccompData;
use crate::policy::{self, Origin, Target};
use crate::profile::{parse_any, AnyProfile, KernelVersion, Runtime};

fn parse_sc(text: &str, choice: Option<&str>) -> Result<SeccompilerProfile, String> {
    match parse_any("fc.json", text, Runtime::Runc, choice) {
        Ok(AnyProfile::Seccompiler(p)) => Ok(p),
        Ok(AnyProfile::Oci(p)) => panic!("read as OCI: {p:?}"),
        Err(e) => Err(e.to_string()),
    }
}

fn ok(text: &str) -> SeccompilerProfile {
    parse_sc(text, None).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    match parse_sc(text, None) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e,
    }
}

/// A one-filter file around `rules` (JSON array text).
fn file(rules: &str) -> String {
    format!(
        "{{\n  \"f\": {{\n    \"mismatch_action\": {{\"errno\": 1}},\n    \"match_action\": \"allow\",\n    \"filter\": {rules}\n  }}\n}}"
    )
}

fn target(arch: Arch) -> Target {
    Target::new(arch, KernelVersion { major: 6, minor: 1 })
}

#[test]
fn parses_filters_rules_and_conditions_faithfully() {
    let p = ok(&file(
        r#"[
        {"syscall": "read", "comment": "plain"},
        {"syscall": "ioctl", "args": [
            {"index": 1, "type": "dword", "op": "eq", "val": 44672, "comment": "KVM_RUN"},
            {"index": 2, "type": "qword", "op": {"masked_eq": 255}, "val": 7}
        ]}
    ]"#,
    ));
    let f = p.filter();
    assert_eq!(f.name, "f");
    assert_eq!(f.pointer, "/f");
    assert_eq!(f.mismatch_pointer, "/f/mismatch_action");
    assert_eq!(
        f.mismatch_action,
        ScAction {
            kind: ActionKind::Errno,
            data: 1
        }
    );
    assert_eq!(f.match_action.kind, ActionKind::Allow);
    assert_eq!(f.rules.len(), 2);
    assert_eq!(f.rules[0].args, None);
    assert_eq!(f.rules[0].comment.as_deref(), Some("plain"));
    let args = f.rules[1].args.as_ref().unwrap();
    assert_eq!(args[0].pointer, "/f/filter/1/args/0");
    assert_eq!(
        (args[0].index, args[0].width, args[0].op, args[0].val),
        (1, Width::Dword, Op::Eq, 44672)
    );
    assert_eq!(
        (args[1].width, args[1].op, args[1].val),
        (Width::Qword, Op::MaskedEq(255), 7)
    );
    // The location of a rule's syscall name is kept for resolution errors.
    assert_eq!(f.rules[1].syscall_at.line, 7);
}

#[test]
fn every_action_spelling() {
    let cases: &[(&str, ActionKind, u32)] = &[
        (r#""allow""#, ActionKind::Allow, 0),
        (r#"{"errno": 38}"#, ActionKind::Errno, 38),
        (r#""kill_thread""#, ActionKind::KillThread, 0),
        (r#""kill_process""#, ActionKind::KillProcess, 0),
        (r#""log""#, ActionKind::Log, 0),
        (r#"{"trace": 7}"#, ActionKind::Trace, 7),
        (r#""trap""#, ActionKind::Trap, 0),
        // serde_json takes a unit variant written as a one-member map with null.
        (r#"{"kill_process": null}"#, ActionKind::KillProcess, 0),
    ];
    for (text, kind, data) in cases {
        let p = ok(&format!(
            r#"{{"f": {{"mismatch_action": {text}, "match_action": {{"errno": 9999}}, "filter": []}}}}"#
        ));
        assert_eq!(
            p.filter().mismatch_action,
            ScAction {
                kind: *kind,
                data: *data
            },
            "{text}"
        );
    }
    // Data keeps its low 16 bits in the program; 70000 -> 4464, with warnings.
    let p = ok(
        r#"{"f": {"mismatch_action": {"errno": 70000}, "match_action": "allow", "filter": []}}"#,
    );
    assert_eq!(p.filter().mismatch_action.action().data, 4464);
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    // Aliases.
    let p = ok(r#"{"f": {"default_action": "trap", "filter_action": "allow", "filter": []}}"#);
    assert_eq!(p.filter().mismatch_pointer, "/f/default_action");
    assert_eq!(p.filter().match_action.kind, ActionKind::Allow);
}

#[test]
fn every_operator_and_type() {
    let ops: &[(&str, Op)] = &[
        (r#""eq""#, Op::Eq),
        (r#""ne""#, Op::Ne),
        (r#""lt""#, Op::Lt),
        (r#""le""#, Op::Le),
        (r#""gt""#, Op::Gt),
        (r#""ge""#, Op::Ge),
        (r#"{"masked_eq": 4096}"#, Op::MaskedEq(4096)),
        (r#"{"ne": null}"#, Op::Ne),
    ];
    let p = ok(&file(
        r#"[{"syscall": "read", "args": [{"index": 0, "type": {"qword": null}, "op": "eq", "val": 1}]}]"#,
    ));
    assert_eq!(
        p.filter().rules[0].args.as_ref().unwrap()[0].width,
        Width::Qword
    );
    for (text, op) in ops {
        for (ty, width) in [("dword", Width::Dword), ("qword", Width::Qword)] {
            let p = ok(&file(&format!(
                r#"[{{"syscall": "read", "args": [{{"index": 5, "type": "{ty}", "op": {text}, "val": 3}}]}}]"#
            )));
            let c = &p.filter().rules[0].args.as_ref().unwrap()[0];
            assert_eq!((c.op, c.width, c.index), (*op, width, 5), "{text} {ty}");
        }
    }
}

#[test]
fn errors_name_file_line_column_and_pointer() {
    let cases: &[(&str, &str)] = &[
        (
            r#"[{"syscall": "read", "args": [{"index": 6, "type": "dword", "op": "eq", "val": 1}]}]"#,
            "fc.json:5:55: /f/filter/0/args/0/index: argument index 6 is out of range",
        ),
        (
            r#"[{"syscall": "read", "args": [{"index": 0, "type": "word", "op": "eq", "val": 1}]}]"#,
            "fc.json:5:66: /f/filter/0/args/0/type: unknown argument type: expected \"dword\" or \"qword\", found the string \"word\"",
        ),
        (
            r#"[{"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "equal", "val": 1}]}]"#,
            "/f/filter/0/args/0/op: unknown operator \"equal\"",
        ),
        (
            r#"[{"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq", "val": -1}]}]"#,
            "/f/filter/0/args/0/val: expected an unsigned 64-bit integer, found the number -1",
        ),
        (
            r#"[{"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq"}]}]"#,
            "/f/filter/0/args/0: missing field \"val\"",
        ),
        (
            r#"[{"syscall": "read", "args": []}]"#,
            "fc.json:5:44: /f/filter/0/args: a rule's \"args\" cannot be empty",
        ),
        (
            r#"[{"syscall": "read", "action": "allow"}]"#,
            "/f/filter/0/action: unknown field \"action\"",
        ),
        (
            r#"[{"syscall": "read", "comment": 5}]"#,
            "/f/filter/0/comment: a comment must be a string",
        ),
        (r#"[{"names": ["read"]}]"#, "/f/filter/0/names: unknown field"),
        (
            r#"[{"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "masked_eq", "val": 1}]}]"#,
            "\"masked_eq\" takes a mask",
        ),
    ];
    for (rules, want) in cases {
        let e = err(&file(rules));
        assert!(e.contains(want), "{rules}\n got: {e}\nwant: {want}");
    }
    let filter_errors: &[(&str, &str)] = &[
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "allow", "filter": []}}"#,
            "fc.json:1:52: /f/match_action: match_action and mismatch_action are equal",
        ),
        (
            r#"{"f": {"mismatch_action": "errno", "match_action": "allow", "filter": []}}"#,
            "/f/mismatch_action: \"errno\" takes a number",
        ),
        (
            r#"{"f": {"mismatch_action": "Allow", "match_action": "trap", "filter": []}}"#,
            "/f/mismatch_action: unknown action \"Allow\"",
        ),
        (
            r#"{"f": {"mismatch_action": {"errno": 1, "trace": 2}, "match_action": "trap", "filter": []}}"#,
            "/f/mismatch_action: expected an action",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "trap"}}"#,
            "fc.json:1:7: /f: missing field \"filter\"",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "trap", "filter": null}}"#,
            "/f/filter: expected an array, found null",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "default_action": "log", "match_action": "trap", "filter": []}}"#,
            "/f/default_action: duplicate field",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "trap", "filter": []},
 "f": {"mismatch_action": "allow", "match_action": "trap", "filter": []}}"#,
            "fc.json:2:4: /f: duplicate key \"f\"",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "trap", "filter": [{"syscall": "read", "syscall": "write"}]}}"#,
            "/f/filter/0/syscall: duplicate key \"syscall\"",
        ),
        (
            r#"{"f": {"mismatch_action": "allow", "match_action": "trap", "filter": [], "x": 1}}"#,
            "/f/x: unknown field \"x\"",
        ),
    ];
    for (text, want) in filter_errors {
        let e = err(text);
        assert!(e.contains(want), "{text}\n got: {e}\nwant: {want}");
    }
}

#[test]
fn choosing_a_filter() {
    let two = r#"{"a": {"mismatch_action": "allow", "match_action": "trap", "filter": []},
                  "b": {"mismatch_action": "trap", "match_action": "allow", "filter": []}}"#;
    let e = parse_sc(two, None).unwrap_err();
    assert!(e.contains("has 2 filters (a, b)"), "{e}");
    assert_eq!(parse_sc(two, Some("b")).unwrap().filter().name, "b");
    assert_eq!(parse_sc(two, Some("b")).unwrap().label(), "fc.json#b");
    let e = parse_sc(two, Some("c")).unwrap_err();
    assert!(e.contains("no filter named \"c\""), "{e}");
    // A filter name on an OCI profile is an error, and OCI's parse refuses seccompiler.
    let e = parse_any(
        "p.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#,
        Runtime::Runc,
        Some("x"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("only applies to a seccompiler JSON file"), "{e}");
    let e = crate::profile::parse("fc.json", two, Runtime::Runc)
        .unwrap_err()
        .to_string();
    assert!(e.contains("seccompiler JSON file"), "{e}");
}

fn resolve(text: &str, arch: Arch) -> Result<policy::Policy, String> {
    let p = parse_any("fc.json", text, Runtime::Runc, None).map_err(|e| e.to_string())?;
    policy::resolve_any(&p, &target(arch)).map_err(|e| e.to_string())
}

fn verdict(p: &policy::Policy, arch: Arch, nr: u32, args: [u64; 6]) -> (u32, Origin) {
    let v = Evaluator::new(p).verdict(&SeccompData {
        nr,
        arch: arch.audit_arch(),
        instruction_pointer: 0,
        args,
    });
    (v.ret, v.origin)
}

const ALLOW: u32 = 0x7fff_0000;
const EPERM: u32 = 0x0005_0001;

#[test]
fn each_operator_and_width_decides_as_seccompiler_does() {
    let vals = [
        0u64,
        1,
        0x7fff_ffff,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
        0xffff_ffff_0000_0000,
        u64::MAX,
    ];
    let ops = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::MaskedEq(0xff),
        Op::MaskedEq(0xffff_0000_0000_ffff),
        Op::MaskedEq(0),
    ];
    for width in [Width::Dword, Width::Qword] {
        for op in ops {
            for val in vals {
                let ty = if width == Width::Dword {
                    "dword"
                } else {
                    "qword"
                };
                let op_json = match op {
                    Op::MaskedEq(m) => format!("{{\"masked_eq\": {m}}}"),
                    o => format!("\"{}\"", o.name()),
                };
                let p = resolve(
                    &file(&format!(
                        r#"[{{"syscall": "read", "args": [{{"index": 2, "type": "{ty}", "op": {op_json}, "val": {val}}}]}}]"#
                    )),
                    Arch::X86_64,
                )
                .unwrap();
                let cond = Condition {
                    pointer: String::new(),
                    index: 2,
                    width,
                    op,
                    val,
                };
                for arg in vals
                    .iter()
                    .chain(&[val.wrapping_sub(1), val.wrapping_add(1)])
                {
                    let (ret, _) = verdict(&p, Arch::X86_64, 0, [0, 0, *arg, 0, 0, 0]);
                    let want = if cond.matches(*arg) { ALLOW } else { EPERM };
                    assert_eq!(ret, want, "{cond} on {arg:#x}");
                }
            }
        }
    }
    // dword compares the low words only: val's high bits are dropped.
    let dword = Condition {
        pointer: String::new(),
        index: 0,
        width: Width::Dword,
        op: Op::Eq,
        val: 0x1_0000_0005,
    };
    assert!(dword.matches(5) && dword.matches(0xabcd_0000_0005));
}

#[test]
fn first_match_names_the_rule_and_unconditional_rules_vanish_beside_conditional_ones() {
    let p = resolve(
        &file(
            r#"[
        {"syscall": "write"},
        {"syscall": "read"},
        {"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "ge", "val": 3}]},
        {"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 5}]},
        {"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}]},
        {"syscall": "write"}
    ]"#,
        ),
        Arch::X86_64,
    )
    .unwrap();
    let rule = |i: usize, name: &str| Origin::Rule {
        pointer: format!("/f/filter/{i}").into(),
        name: name.into(),
    };
    // write: unconditional, named by its first rule.
    assert_eq!(
        verdict(&p, Arch::X86_64, 1, [0; 6]),
        (ALLOW, rule(0, "write"))
    );
    // read: the bare rule /f/filter/1 counts for nothing; first match in file order.
    assert_eq!(
        verdict(&p, Arch::X86_64, 0, [5, 0, 0, 0, 0, 0]),
        (ALLOW, rule(2, "read"))
    );
    assert_eq!(
        verdict(&p, Arch::X86_64, 0, [1, 0, 0, 0, 0, 0]),
        (ALLOW, rule(4, "read"))
    );
    let default = Origin::Default {
        pointer: "/f/mismatch_action".into(),
    };
    assert_eq!(
        verdict(&p, Arch::X86_64, 0, [2, 0, 0, 0, 0, 0]),
        (EPERM, default.clone())
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.location.pointer == "/f/filter/1/syscall"));
    // Other numbers: mismatch action; x32 numbers too (no x32 check); i386: KILL_PROCESS.
    assert_eq!(
        verdict(&p, Arch::X86_64, 2, [0; 6]),
        (EPERM, default.clone())
    );
    assert_eq!(
        verdict(&p, Arch::X32, 0x4000_0000, [0; 6]),
        (EPERM, default)
    );
    assert_eq!(verdict(&p, Arch::X86, 3, [0; 6]).0, 0x8000_0000);
}

#[test]
fn arches_and_names_follow_seccompiler() {
    let text = file(r#"[{"syscall": "newfstatat"}]"#);
    let p = resolve(&text, Arch::Aarch64).unwrap();
    assert_eq!(verdict(&p, Arch::Aarch64, 79, [0; 6]).0, ALLOW);
    assert_eq!(verdict(&p, Arch::X86_64, 262, [0; 6]).0, 0x8000_0000);
    resolve(&text, Arch::Riscv64).unwrap();
    let e = resolve(&text, Arch::X86).unwrap_err();
    assert!(
        e.contains(
            "fc.json:2:8: /f: seccompiler generates filters for x86_64, aarch64 and riscv64 only"
        ),
        "{e}"
    );
    let e = resolve(&file(r#"[{"syscall": "open"}]"#), Arch::Aarch64).unwrap_err();
    assert!(
        e.contains("fc.json:5:28: /f/filter/0/syscall: unknown syscall \"open\" for aarch64"),
        "{e}"
    );
    // A name unknown in another filter of the file fails it too (seccompiler compiles all).
    let two = r#"{"a": {"mismatch_action": "allow", "match_action": "trap", "filter": []},
                  "b": {"mismatch_action": "trap", "match_action": "allow", "filter": [{"syscall": "nosuch"}]}}"#;
    let p = parse_any("fc.json", two, Runtime::Runc, Some("a")).unwrap();
    let e = policy::resolve_any(&p, &target(Arch::X86_64))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/b/filter/0/syscall: unknown syscall \"nosuch\""),
        "{e}"
    );
}

#[test]
fn oversized_programs_are_refused_and_two_way_conditions_stay_linear() {
    // One `read` rule with `n` conditions `args[0] != i` of width `ty`.
    let rule = |n: u64, ty: &str| {
        let conds: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"index": 0, "type": "{ty}", "op": "ne", "val": {i}}}"#))
            .collect();
        resolve(
            &file(&format!(
                r#"[{{"syscall": "read", "args": [{}]}}]"#,
                conds.join(",")
            )),
            Arch::X86_64,
        )
    };
    // 2100 dword conditions take 4200 instructions, over seccompiler's limit of 4096.
    let e = rule(2100, "dword").unwrap_err();
    assert!(e.contains("FilterTooLarge"), "{e}");
    // 600 two-way qword conditions (once 2^600 tests): each is tested once.
    let p = rule(600, "qword").unwrap();
    let nodes = p.arches[0].syscalls[0].nodes().len();
    assert_eq!(
        nodes,
        2 + 2 * 600,
        "two nodes a condition, two for the rule"
    );
    // seccompiler's own program takes 4 instructions a condition (plus a jump every
    // ~60 of them); syscage's stays within 1.25x of that.
    let prog = crate::bpf::compile::compile(&p).unwrap();
    assert!(prog.len() <= 5 * 600, "{}", prog.len());
}

#[test]
fn an_empty_object_is_a_seccompiler_file_without_filters() {
    let e = crate::profile::parse_any("f.json", "{}", Runtime::Runc, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("this seccompiler file has no filters"), "{e}");
}
