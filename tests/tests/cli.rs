//! The `syscage` command as a user runs it: exit statuses, output shapes, and errors
//! that name the place, for good and bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use syscage_tests::{repo_root, syscage_bin};

fn syscage(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(syscage_bin())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn tmp(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("syscage-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

#[test]
fn exit_status_says_whether_everything_was_allowed() {
    let all = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "examples/curl-version.strace",
        ],
        None,
    );
    assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
    assert!(text(&all.stdout).contains("every event is allowed"));
    let some = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "examples/denied.jsonl",
        ],
        None,
    );
    assert_eq!(some.status.code(), Some(1));
    let out = text(&some.stdout);
    assert!(
        out.contains("unshare(0x10020000) -> ERRNO(EPERM) by /defaultAction (default action)"),
        "{out}"
    );
    assert!(
        out.contains("KILL_THREAD by architecture not in the filter"),
        "{out}"
    );
}

#[test]
fn json_lines_carry_the_event_and_the_verdict() {
    let o = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "--format",
            "json",
            "-",
        ],
        Some("{\"syscall\":\"ptrace\",\"args\":[0]}\n{\"syscall\":\"read\"}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["syscall"], "ptrace");
    assert_eq!(lines[0]["action"], "SCMP_ACT_ALLOW");
    assert_eq!(lines[0]["ret"], 0x7fff_0000u32);
    assert_eq!(lines[1]["line"], 2);
    for key in [
        "line", "arch", "nr", "args", "ret", "action", "data", "rule",
    ] {
        assert!(lines[1].get(key).is_some(), "{key} missing: {}", lines[1]);
    }
}

#[test]
fn engines_agree_on_every_bundled_trace() {
    let examples = std::fs::read_dir(repo_root().join("examples")).unwrap();
    for e in examples {
        let path = e.unwrap().path();
        if !path.is_file() || path.extension().is_some_and(|x| x == "json") {
            continue; // a profile (or examples/platform/), not a trace
        }
        let path = path.display().to_string();
        let run = |engine: &str| {
            let o = syscage(
                &[
                    "check",
                    "-p",
                    "runtime/default",
                    "--engine",
                    engine,
                    "--format",
                    "json",
                    "-q",
                    &path,
                ],
                None,
            );
            assert!(
                o.status.code().unwrap() < 2,
                "{engine} {path}: {}",
                text(&o.stderr)
            );
            text(&o.stdout)
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (v["line"].clone(), v["ret"].clone())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run("reference"), run("bpf"), "{path}");
    }
}

#[test]
fn bad_profiles_are_errors_that_name_the_place() {
    let cases = [
        ("{\n  \"defaultAction\": \"SCMP_ACT_NOPE\"\n}", ":2:20: /defaultAction: unknown action \"SCMP_ACT_NOPE\""),
        ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [,]}", ":1:50: invalid JSON: expected value"),
        ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 9, \"op\": \"SCMP_CMP_EQ\"}]}]}", "/syscalls/0/args/0/index: argument index 9 is out of range"),
    ];
    for (profile, want) in cases {
        let p = tmp("bad.json", profile);
        let o = syscage(&["check", "-p", &p, "-"], Some(""));
        assert_eq!(o.status.code(), Some(2), "{profile}");
        let err = text(&o.stderr);
        assert!(err.contains(want) && err.contains("bad.json"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = syscage(&["check", "-p", "no/such/profile.json", "-"], Some(""));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not a file, nor a builtin: runtime/default, docker/default@20.10, docker/default@29.7, containerd/default@1.6"), "{}", text(&o.stderr));
}

#[test]
fn bad_traces_are_errors_that_name_the_line() {
    let o = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "-",
        ],
        Some("{\"syscall\":\"read\"}\n{\"syscall\":\"no_such_call\"}\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("line 2"), "{}", text(&o.stderr));
    let o = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "-",
        ],
        Some("read(0, \"\", 1) = 0\n\u{0}\u{ff}garbage(\n"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

#[test]
fn compile_disasm_asm_round_trip() {
    let bpf = std::env::temp_dir().join(format!("syscage-rt-{}.bpf", std::process::id()));
    let bpf = bpf.display().to_string();
    let o = syscage(
        &["compile", "-p", "runtime/default", "-o", &bpf, "--stats"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("cacheable"), "{}", text(&o.stderr));
    let listing = syscage(&["disasm", &bpf], None);
    assert_eq!(listing.status.code(), Some(0));
    let l = text(&listing.stdout);
    assert!(l.contains("A = arch") && l.contains("return ALLOW"), "{l}");
    let lst = tmp("filter.lst", &l);
    let back = format!("{bpf}.back");
    let o = syscage(&["asm", &lst, "-o", &back], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&bpf).unwrap(), std::fs::read(&back).unwrap());
    // A raw filter checks like the profile it came from.
    let a = syscage(
        &[
            "check",
            "--bpf",
            &bpf,
            "--format",
            "json",
            "examples/denied.jsonl",
        ],
        None,
    );
    let b = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            "--format",
            "json",
            "examples/denied.jsonl",
        ],
        None,
    );
    let rets = |o: &Output| {
        text(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["ret"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(rets(&a), rets(&b));
    // Garbage is not a filter.
    let junk = tmp("junk.bpf", "not eight bytes");
    let o = syscage(&["disasm", &junk], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("junk.bpf"), "{}", text(&o.stderr));
}

#[test]
fn stacked_profiles_and_targets() {
    let deny_read = tmp(
        "deny-read.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]}"#,
    );
    let o = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "-p",
            &deny_read,
            "--engine",
            "reference",
            "--format",
            "json",
            "-",
        ],
        Some("{\"syscall\":\"read\"}\n"),
    );
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(
        (
            v["action"].as_str(),
            v["data"].as_u64(),
            v["filter"].as_u64()
        ),
        (Some("SCMP_ACT_ERRNO"), Some(5), Some(1))
    );
    // CAP_SYS_ADMIN unlocks mount in runtime/default.
    let o = syscage(
        &[
            "check",
            "-p",
            "runtime/default",
            "--caps",
            "CAP_SYS_ADMIN",
            "--engine",
            "reference",
            "-",
        ],
        Some("{\"syscall\":\"mount\"}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = syscage(
        &["check", "-p", "runtime/default", "--caps", "not a cap", "-"],
        Some(""),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn seccompiler_files_pick_a_filter_by_name() {
    // `check` of the bundled trace against the `vmm` filter, in `format`.
    let check_vmm = |engine: &str, format: &str| {
        syscage(
            &[
                "check",
                "-p",
                "examples/firecracker-like.json#vmm",
                "--arch",
                "x86_64",
                "--kernel",
                "6.1",
                "--engine",
                engine,
                "--format",
                format,
                "examples/vmm.jsonl",
            ],
            None,
        )
    };
    let run = |engine: &str| {
        let o = check_vmm(engine, "json");
        assert_eq!(o.status.code(), Some(1), "{engine}: {}", text(&o.stderr));
        text(&o.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["line"].clone(), v["ret"].clone(), v["rule"].clone())
            })
            .collect::<Vec<_>>()
    };
    let reference = run("reference");
    assert_eq!(reference, run("wasm"));
    let bpf: Vec<_> = run("bpf").into_iter().map(|(l, r, _)| (l, r)).collect();
    let rets: Vec<_> = reference
        .iter()
        .map(|(l, r, _)| (l.clone(), r.clone()))
        .collect();
    assert_eq!(rets, bpf);
    // The rule that decided is named: a futex rule, the default, the arch check.
    assert_eq!(reference[1].2, "/vmm/filter/8");
    assert_eq!(reference[2].2, "/vmm/mismatch_action");
    assert_eq!(reference[10].2, "bad-arch");
    // The text header names seccompiler, not a runtime's capabilities it ignores, and
    // says the same for both engines.
    for engine in ["reference", "wasm"] {
        let o = check_vmm(engine, "text");
        let first = text(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            first,
            format!(
                "examples/firecracker-like.json#vmm on x86_64/x32 (kernel 6.1, seccompiler; \
                 {engine} engine)"
            ),
            "{}",
            text(&o.stderr)
        );
    }
    let o = syscage(
        &[
            "compile",
            "-p",
            "examples/firecracker-like.json#vcpu",
            "--arch",
            "aarch64",
            "--format",
            "disasm",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("AUDIT_ARCH_AARCH64"),
        "{}",
        text(&o.stdout)
    );
    // Several filters and none chosen; an unknown name; an arch seccompiler lacks.
    for (spec, arch, want) in [
        (
            "examples/firecracker-like.json",
            "x86_64",
            "firecracker-like.json:1:1: this seccompiler file has 3 filters (vmm, api, vcpu)",
        ),
        (
            "examples/firecracker-like.json#nope",
            "x86_64",
            "no filter named \"nope\"",
        ),
        (
            "examples/firecracker-like.json#api",
            "x86",
            "/api: seccompiler generates filters for x86_64, aarch64 and riscv64 only, not x86",
        ),
        ("runtime/default#vmm", "x86_64", "not a file, nor a builtin"),
    ] {
        let o = syscage(
            &["check", "-p", spec, "--arch", arch, "examples/vmm.jsonl"],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{spec}");
        assert!(
            text(&o.stderr).contains(want),
            "{spec}: {}",
            text(&o.stderr)
        );
    }
}

/// `enforce` promises 125 for anything that fails before the command starts, usage
/// errors included; the other commands' usage errors stay 2, and help and version 0.
#[cfg(target_os = "linux")]
#[test]
fn enforce_usage_errors_exit_125() {
    for args in [
        &["enforce", "--", "true"][..],
        &["enforce", "-p", "runtime/default"],
        &[
            "enforce",
            "--no-such-flag",
            "-p",
            "runtime/default",
            "--",
            "true",
        ],
        &[
            "enforce",
            "-p",
            "runtime/default",
            "--arch",
            "nosuch",
            "--",
            "true",
        ],
        &["--max-input", "1M", "enforce", "--", "true"],
        &["--allow-special-files", "enforce"],
    ] {
        let o = syscage(args, None);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {o:?}");
        assert!(text(&o.stderr).contains("error:"), "{args:?}: {o:?}");
        assert!(o.stdout.is_empty(), "{args:?}: {o:?}");
    }
    for args in [
        &["check", "--no-such-flag"][..],
        &["compile"],
        &["no-such-command"],
        &["--max-input", "1M", "status"],
    ] {
        let o = syscage(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
    }
    for args in [
        &["enforce", "--help"][..],
        &["enforce", "--version"],
        &["--help"],
    ] {
        let o = syscage(args, None);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        assert!(!o.stdout.is_empty(), "{args:?}: {o:?}");
    }
}
