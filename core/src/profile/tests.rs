use super::*;

fn ok(text: &str) -> Profile {
    parse("p.json", text, Runtime::Runc).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    err_with(text, Runtime::Runc)
}

fn err_with(text: &str, rt: Runtime) -> String {
    match parse("p.json", text, rt) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn oci_profile_parses_faithfully() {
    let p = ok(r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
        ]
    }"#);
    assert_eq!(p.format, Format::Oci);
    assert_eq!(p.default_action, ActionKind::Errno);
    assert_eq!(p.default_errno_ret, Some(38));
    assert_eq!(p.architectures, vec![Arch::X86_64, Arch::X86]);
    assert_eq!(p.syscalls[1].pointer, "/syscalls/1");
    assert_eq!(
        p.syscalls[1].args,
        vec![ArgCond {
            index: 0,
            value: 8,
            value_two: 0,
            op: CmpOp::Eq
        }]
    );
}

#[test]
fn docker_format_is_detected_with_its_conditions() {
    let p = ok(r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
            "includes": {"minKernel": "4.8", "caps": ["CAP_SYS_PTRACE"]},
            "excludes": {"arches": ["s390x"]}}]}"#);
    assert_eq!(p.format, Format::Docker);
    assert_eq!(p.arch_map[0].sub_arches, vec![Arch::X86]);
    let r = &p.syscalls[0];
    assert_eq!(
        r.includes.min_kernel,
        Some(KernelVersion { major: 4, minor: 8 })
    );
    assert_eq!(r.includes.caps, vec!["CAP_SYS_PTRACE"]);
    assert_eq!(r.excludes.arches, vec!["s390x"]);
}

#[test]
fn docker_deprecated_name_is_accepted() {
    let p = ok(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(p.format, Format::Docker);
    assert_eq!(p.syscalls[0].names, vec!["read"]);
    let e = err(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(
        e.contains("/syscalls/0/name: use either 'name' or 'names'"),
        "{e}"
    );
}

#[test]
fn bundle_config_takes_linux_seccomp() {
    let p = ok(r#"{"ociVersion": "1.0.2", "process": {},
        "linux": {"seccomp": {"defaultAction": "SCMP_ACT_KILL",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_BOGUS"}]}}}"#
        .replace("SCMP_ACT_BOGUS", "SCMP_ACT_ALLOW")
        .as_str());
    assert_eq!(p.format, Format::OciBundle);
    assert_eq!(p.default_action, ActionKind::KillThread);
    assert_eq!(p.syscalls[0].pointer, "/linux/seccomp/syscalls/0");
    let e = err(r#"{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_KILL",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_BOGUS"}]}}}"#);
    assert!(
        e.contains("/linux/seccomp/syscalls/0/action: unknown action"),
        "{e}"
    );
    let none = ok(r#"{"linux": {}}"#);
    assert!(none.is_unconfined());
}

#[test]
fn errors_name_file_line_column_and_pointer() {
    let text = "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n    {\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\",\n     \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQUAL\"}]}\n  ]\n}";
    let e = err(text);
    assert_eq!(
        e,
        "p.json:5:46: /syscalls/0/args/0/op: unknown operator \"SCMP_CMP_EQUAL\" (expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)"
    );
}

#[test]
fn syntax_errors_name_line_and_column() {
    let e = err("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [,]\n}");
    assert!(
        e.starts_with("p.json:3:16: invalid JSON: expected value"),
        "{e}"
    );
    let e = err("");
    assert!(e.contains("invalid JSON: EOF"), "{e}");
}

#[test]
fn each_runtime_rejection_has_its_message() {
    let cases = [
        (
            r#"{"defaultAction": "SCMP_ACT_DENY"}"#,
            "/defaultAction: unknown action \"SCMP_ACT_DENY\"",
        ),
        (r#"{"syscalls": []}"#, "missing \"defaultAction\""),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}"#,
            "/architectures/0: unknown architecture \"SCMP_ARCH_VAX\"",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
            "/syscalls/0/args/0/index: argument index 6 is out of range",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}"#,
            "/listenerMetadata: listenerMetadata is set but listenerPath is not",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}"#,
            "/syscalls/0/names: a rule must name at least one syscall",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}"#,
            "/flags/0: unknown seccomp flag",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}"#,
            "/syscalls/0/args/0/value: expected an unsigned 64-bit integer, found the number -1",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"names": ["read"]}}"#,
            "/syscalls: expected an array, found an object",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": []}"#,
            "/archMap: 'architectures' and 'archMap' cannot both be given",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "five"}}]}"#,
            "/syscalls/0/includes/minKernel: invalid kernel version \"five\"",
        ),
        ("[1, 2]", "a profile must be a JSON object"),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4095}"#,
            "/defaultErrnoRet: errno 4095 (low 16 bits: 4095) is above libseccomp's limit of 4094",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]}"#,
            "/syscalls/0/errnoRet: errno 70000 (low 16 bits: 4464)",
        ),
    ];
    for (text, want) in cases {
        let e = err(text);
        assert!(e.contains(want), "for {text}\n got: {e}\nwant: {want}");
        assert!(e.starts_with("p.json:"), "{e}");
    }
}

#[test]
fn refusals_that_differ_by_runtime() {
    let errno_on_allow = r#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 5}"#;
    let notify = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}"#;
    // crun refuses defaultErrnoRet on ALLOW; runc ignores it, with a warning.
    let e = parse("p.json", errno_on_allow, Runtime::Crun)
        .unwrap_err()
        .to_string();
    assert!(e.contains("/defaultErrnoRet: defaultErrnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"), "{e}");
    let p = parse("p.json", errno_on_allow, Runtime::Runc).unwrap();
    assert!(p.warnings[0]
        .to_string()
        .contains("runc ignores defaultErrnoRet"));
    // NOTIFY without listenerPath: runc fails the container, crun starts it.
    let e = parse("p.json", notify, Runtime::Runc)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("runc installs the filter and then fails the container"),
        "{e}"
    );
    let p = parse("p.json", notify, Runtime::Crun).unwrap();
    assert!(p.warnings[0]
        .to_string()
        .contains("crun starts the container"));
}

#[test]
fn errno_data_keeps_its_low_16_bits() {
    // 65537 & 0xffff == 1: accepted, as libseccomp does.
    let p = ok(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 65537}]}"#,
    );
    assert_eq!(p.syscalls[0].errno_ret, Some(65537));
    // TRACE has no such limit.
    ok(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 70000}]}"#,
    );
}

#[test]
fn errno_ret_on_other_actions_crun_rejects_runc_warns() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 5}]}"#;
    let e = err_with(text, Runtime::Crun);
    assert!(
        e.contains("/syscalls/0/errnoRet: errnoRet is only meaningful"),
        "{e}"
    );
    let p = ok(text);
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].message.contains("runc ignores it"));
}

#[test]
fn null_members_are_absent_as_in_go() {
    let p = ok(r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": null, "syscalls": null}"#);
    assert!(p.architectures.is_empty() && p.syscalls.is_empty());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = err(&text);
    assert!(e.contains("recursion limit"), "{e}");
}

#[test]
fn kernel_versions() {
    assert_eq!(
        "6.18.44-fc-v782".parse(),
        Ok(KernelVersion {
            major: 6,
            minor: 18
        })
    );
    assert!("6".parse::<KernelVersion>().is_err());
    assert!(
        KernelVersion { major: 4, minor: 8 }
            < KernelVersion {
                major: 4,
                minor: 10
            }
    );
}
