//! `syscage diff` as a user runs it: Docker's newest default against the shared copy of
//! moby's profile (equal), against Podman 4.3's (containers/common 0.50.1) with the
//! differences read by hand from the two files, `--subset` as a CI gate, JSON.

use std::process::{Command, Output};

use serde_json::Value;
use syscage_tests::{repo_root, shared_profile, syscage_bin};

fn syscage(args: &[&str]) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .args([
            "--kernel",
            "6.18",
            "--libseccomp",
            "latest",
            "--runtime",
            "runc",
            "-q",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap()
}

#[test]
fn runtime_default_equals_moby_s_profile() {
    let Some(p) = shared_profile("docker-default.json") else {
        eprintln!("SKIP: ../shared/profiles/docker-default.json is absent");
        return;
    };
    let o = syscage(&["diff", "runtime/default", p.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("no difference"), "{out}");
}

#[test]
fn docker_and_podman_defaults_differ_where_their_files_say() {
    let o = syscage(&[
        "diff",
        "--format",
        "json",
        "docker/default@29.7",
        "podman/default@4.3",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    let find = |name: &str, arg_lo: Option<u64>| -> Vec<&Value> {
        changes
            .iter()
            .filter(|c| {
                c["arch"] == "x86_64"
                    && c["syscall"] == name
                    && arg_lo.is_none_or(|lo| {
                        c["lo"].as_u64().is_some_and(|l| l <= lo)
                            && c["hi"].as_u64().is_some_and(|h| lo <= h)
                    })
            })
            .collect()
    };
    // By hand, from core/src/builtin/docker-29.7.json and podman-4.3.json, with
    // Docker's default capabilities (no CAP_SYS_ADMIN):
    // mount: Docker allows it only with CAP_SYS_ADMIN; Podman allows it outright.
    let mount = find("mount", None);
    assert_eq!(mount.len(), 1);
    assert_eq!(mount[0]["a"]["verdict"], "ERRNO(EPERM)");
    assert_eq!(mount[0]["b"]["verdict"], "ALLOW");
    assert_eq!(mount[0]["widens"], true);
    // vmsplice: Docker allows it, Podman's first rule denies it with EPERM.
    let vmsplice = find("vmsplice", None);
    assert_eq!(vmsplice[0]["a"]["verdict"], "ALLOW");
    assert_eq!(vmsplice[0]["b"]["verdict"], "ERRNO(EPERM)");
    assert_eq!(vmsplice[0]["widens"], false);
    // personality: the same five values allowed in both; elsewhere the defaults
    // differ (EPERM against Podman's defaultErrnoRet 38, ENOSYS).
    assert!(find("personality", Some(8)).is_empty());
    let p1 = find("personality", Some(1));
    assert_eq!(p1.len(), 1);
    assert_eq!(p1[0]["b"]["verdict"], "ERRNO(ENOSYS)");
    // read: the same.
    assert!(find("read", None).is_empty());
    assert_eq!(v["subset"], false);
}

#[test]
fn subset_is_a_gate() {
    let narrow = std::env::temp_dir().join(format!("syscage-diff-{}.json", std::process::id()));
    std::fs::write(
        &narrow,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let n = narrow.to_str().unwrap();
    // Docker's default allows far more than read and write: not a subset.
    let o = syscage(&["diff", "--subset", n, "runtime/default"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("+ x86_64"));
    // The narrow profile opens nothing Docker's closes.
    let o = syscage(&["diff", "--subset", "runtime/default", n]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("B allows nothing A denies"));
    let o = syscage(&["diff", "runtime/default", "/nonexistent.json"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Raw filters and live processes as diff inputs: a profile equals its own compiled
/// filter and the filters of a process that `syscage enforce` started under it; a
/// stack joined with `+` is one side.
#[test]
fn raw_filters_live_processes_and_stacks() {
    let dir = std::env::temp_dir().join(format!("syscage-diff-raw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bpf = dir.join("podman.bpf");
    let c = Command::new(syscage_bin())
        .args([
            "compile",
            "-p",
            "podman/default@4.3",
            "-o",
            bpf.to_str().unwrap(),
        ])
        .args([
            "--kernel",
            "6.18",
            "--libseccomp",
            "latest",
            "--runtime",
            "runc",
        ])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let o = syscage(&["diff", "podman/default@4.3", bpf.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("sampled"),
        "a raw filter's regions are sampled: {out}"
    );
    let o = syscage(&[
        "diff",
        "--format",
        "json",
        "runtime/default",
        bpf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["syscall"] == "mount"));
    // A stack: runtime/default with a narrow profile on top stops what either stops.
    let narrow = dir.join("narrow.json");
    std::fs::write(
        &narrow,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount","read"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let stack = format!("runtime/default+{}", narrow.display());
    let o = syscage(&["diff", "--format", "json", "runtime/default", &stack]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["arch"] == "x86_64" && c["nr_first"].as_u64().unwrap() < 0x4000_0000)
        .map(|c| c["syscall"].as_str().unwrap_or("?"))
        .collect();
    // Only read changes among x86_64's numbers (mount was denied already); the narrow
    // profile lists no x32, so x32 numbers and the top of the nr space become bad-arch.
    assert_eq!(names, ["read"]);
    // A live process.
    if syscage_enforcer::oracle::available().is_err() {
        eprintln!("SKIP: reading a live process's filters needs ptrace and CAP_SYS_ADMIN");
        return;
    }
    let mut child = Command::new(syscage_bin())
        .args([
            "enforce",
            "-q",
            "-p",
            "podman/default@4.3",
            "--runtime",
            "runc",
            "--",
            "sleep",
            "30",
        ])
        .spawn()
        .unwrap();
    let pid = child.id();
    for _ in 0..500 {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if exe.to_string_lossy().contains("sleep") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let o = syscage(&["diff", "podman/default@4.3", &format!("pid:{pid}")]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
