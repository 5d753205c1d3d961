//! `syscage status PID --match`: which profile a live process runs, for a process
//! started by `syscage enforce` and for a container started by the real runc (its
//! filter as runc and the host's libseccomp built it).
//!
//! Needs ptrace of other processes and CAP_SYS_ADMIN (to read filters), and for the
//! container root, runc and busybox; outside CI a missing piece skips with the reason.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use syscage_core::profile::Runtime;
use syscage_tests::{containers, skip_unless_ci, syscage_bin};

fn status(pid: u32, extra: &[&str]) -> String {
    let o = Command::new(syscage_bin())
        .arg("status")
        .arg(pid.to_string())
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits until `pid` runs under at least one filter (the exec has happened).
fn wait_filtered(pid: u32) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if s.lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with('2'))
            && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| {
                p.to_string_lossy().contains("sleep") || p.to_string_lossy().contains("busybox")
            })
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process {pid} never ran under a filter");
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn usable() -> bool {
    if let Err(why) = syscage_enforcer::oracle::available() {
        skip_unless_ci("status --match", &why);
        return false;
    }
    true
}

#[test]
fn a_process_started_by_enforce_is_identified() {
    if !usable() {
        return;
    }
    for (profile, runtime) in [
        ("podman/default@4.3", "runc"),
        ("docker/default@20.10", "crun"),
    ] {
        let child = Killed(
            Command::new(syscage_bin())
                .args([
                    "enforce",
                    "-q",
                    "-p",
                    profile,
                    "--runtime",
                    runtime,
                    "--",
                    "sleep",
                    "30",
                ])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let pid = child.0.id();
        wait_filtered(pid);
        let out = status(pid, &["--match"]);
        let matches: Vec<&str> = out.lines().filter(|l| l.contains("match:")).collect();
        assert!(
            matches
                .iter()
                .any(|l| l.contains(&format!("match: {profile} as {runtime}"))),
            "{profile} under {runtime}: {out}"
        );
        // No other engine's default matches.
        for l in &matches {
            assert!(l.contains(profile), "{profile}: also {l}");
        }
        let out = status(pid, &["--match", "runtime/default"]);
        assert!(out.contains("match: none of 1 candidate"), "{out}");
        // dump --match says the same after the listing.
        let d = Command::new(syscage_bin())
            .args(["dump", &pid.to_string(), "--match", profile])
            .output()
            .unwrap();
        let dumped = String::from_utf8_lossy(&d.stdout);
        assert!(dumped.contains("# filter 0 of 1"), "{dumped}");
        assert!(
            dumped.contains(&format!("match: {profile} as {runtime}")),
            "{dumped}"
        );
    }
}

#[test]
fn a_runc_container_s_filter_is_identified() {
    if let Some(why) = containers::unavailable() {
        skip_unless_ci("status --match on a runc container", &why);
        return;
    }
    if !usable() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("syscage-status-match-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let deny = |names: &[&str]| {
        json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO"}],
        })
    };
    // Allow everything but a few calls, so busybox sleep runs.
    let mut profile = deny(&["ptrace", "mount", "kexec_load"]);
    profile["defaultAction"] = json!("SCMP_ACT_ALLOW");
    let mut other = deny(&["ptrace", "mount"]);
    other["defaultAction"] = json!("SCMP_ACT_ALLOW");
    let pfile = dir.join("running.json");
    let ofile = dir.join("other.json");
    std::fs::write(&pfile, profile.to_string()).unwrap();
    std::fs::write(&ofile, other.to_string()).unwrap();
    let bundle = containers::busybox_bundle(&dir, &profile, &["/bin/sleep", "30"], true);
    let state = dir.join("state");
    let id = format!("match-{}", std::process::id());
    let pid = containers::run_detached(&state, &bundle, &id);
    wait_filtered(pid);
    let out = status(
        pid,
        &[
            "--runtime",
            "runc",
            "--match",
            pfile.to_str().unwrap(),
            ofile.to_str().unwrap(),
        ],
    );
    containers::delete(Runtime::Runc, &state, &id);
    assert!(
        out.contains(&format!("match: {} as runc", pfile.display())),
        "{out}"
    );
    assert!(!out.contains(&ofile.display().to_string()), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
