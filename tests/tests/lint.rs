//! `syscage lint` as a user runs it: the findings on Docker's default profile (each
//! explained in the session's closing note), exit statuses, raw filters, JSON, and
//! SARIF validated by Microsoft's SARIF Multitool (`validate`: the SARIF 2.1.0 JSON
//! schema and the SARIF rules), which the end-to-end npm packages install.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use serde_json::Value;
use syscage_tests::{repo_root, skip_unless_ci, syscage_bin};

fn syscage(args: &[&str]) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .args([
            "--kernel",
            "6.18",
            "--libseccomp",
            "2.5.4",
            "--runtime",
            "runc",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap()
}

fn ids(o: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn docker_s_default_profile_findings() {
    let o = syscage(&["lint", "--format", "json", "runtime/default"]);
    assert_eq!(o.status.code(), Some(1));
    // ptrace and process_vm_* allowed outright (moby allows them on kernels >= 4.8),
    // socket rules with conditions next to i386, names libseccomp 2.5.4 does not know,
    // names 2.5.0 does not know.
    assert_eq!(ids(&o), ["SC101", "SC104", "SC106", "SC111"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sc101: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "SC101")
        .map(|f| f["message"].as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(sc101, ["process_vm_readv", "process_vm_writev", "ptrace"]);
    assert!(
        v[0]["line"].as_u64().unwrap() > 0
            && v[0]["pointer"].as_str().unwrap().starts_with("/syscalls/")
    );
}

#[test]
fn clean_input_exits_zero_and_raw_filters_are_checked() {
    let dir = std::env::temp_dir().join(format!("syscage-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let clean = dir.join("clean.json");
    std::fs::write(
        &clean,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let o = syscage(&["lint", clean.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Its compiled filter is clean too; a filter without an arch check is not.
    let bpf = dir.join("clean.bpf");
    let c = syscage(&[
        "compile",
        "-p",
        clean.to_str().unwrap(),
        "-o",
        bpf.to_str().unwrap(),
    ]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let o = syscage(&["lint", "--bpf", bpf.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let bad = dir.join("no-arch.bpf");
    // ld [0]; ret ALLOW
    let mut raw = Vec::new();
    for (code, k) in [(0x20u16, 0u32), (0x06, 0x7fff_0000)] {
        raw.extend(code.to_le_bytes());
        raw.extend([0u8, 0]);
        raw.extend(k.to_le_bytes());
    }
    std::fs::write(&bad, raw).unwrap();
    let o = syscage(&["lint", "--format", "json", "--bpf", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(ids(&o), ["SC201"]);
    let o = syscage(&["lint", "/nonexistent.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sarif_output_validates() {
    let tool =
        repo_root().join("tests/e2e/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !tool.exists() {
        skip_unless_ci(
            "SARIF validation",
            "tests/e2e/node_modules/@microsoft/sarif-multitool-linux is missing (npm ci in tests/e2e)",
        );
        return;
    }
    // npm does not keep the executable bit of a non-bin file.
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = std::env::temp_dir().join(format!("syscage-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = syscage(&[
        "lint",
        "--format",
        "sarif",
        "runtime/default",
        "examples/firecracker-like.json",
    ]);
    // The seccompiler file is refused (exit 2); lint the profile alone.
    assert_eq!(o.status.code(), Some(2));
    let o = syscage(&["lint", "--format", "sarif", "runtime/default"]);
    assert_eq!(o.status.code(), Some(1));
    let log = dir.join("lint.sarif");
    std::fs::write(&log, &o.stdout).unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["runs"][0]["results"].as_array().unwrap().len() > 3);
    let validate = |sarif: &std::path::Path, name: &str| -> Vec<Value> {
        let out = dir.join(name);
        let _ = std::fs::remove_file(&out);
        let check = Command::new(&tool)
            .arg("validate")
            .arg("--json-schema")
            .arg(tool.with_file_name("sarif-2.1.0.json"))
            .arg("--output")
            .arg(&out)
            .arg(sarif)
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "Sarif.Multitool validate: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        // The validator's own log: the errors it found (JSON schema, SARIF rules).
        let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        report["runs"][0]["results"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter(|x| x["level"] == "error")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let errors = validate(&log, "validation.sarif");
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does find errors: the same log with a location made a string.
    let mut broken = v.clone();
    broken["runs"][0]["results"][0]["locations"] = Value::from("here");
    let bad = dir.join("broken.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    assert!(!validate(&bad, "broken-validation.sarif").is_empty());
}
