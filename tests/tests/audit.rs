//! `syscage audit` on this host, with processes started under different profiles by
//! `syscage enforce` and containers run by the real runc (one of them unconfined): it
//! groups them by stack, names the stacks after their profiles, attributes the
//! containers and flags the unconfined one. The stack digests are checked against
//! `sha256sum` over the filters `syscage dump` writes.
//!
//! Needs root (ptrace, CAP_SYS_ADMIN), runc and busybox; outside CI a missing piece
//! skips with the reason.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use syscage_core::profile::Runtime;
use syscage_tests::{containers, skip_unless_ci, syscage_bin};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runc containers of one test, deleted whatever happens.
struct Containers<'a> {
    state: &'a Path,
    ids: Vec<String>,
}
impl Drop for Containers<'_> {
    fn drop(&mut self) {
        for id in &self.ids {
            containers::delete(Runtime::Runc, self.state, id);
        }
    }
}

/// Waits until `pid` runs `sleep` in seccomp mode `mode` (after the runtime's exec).
fn wait_running(pid: u32, mode: char) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        let exe = exe.to_string_lossy();
        if s.lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with(mode))
            && (exe.contains("sleep") || exe.contains("busybox"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process {pid} never ran sleep in seccomp mode {mode}");
}

fn enforce(profiles: &[&str]) -> Killed {
    let mut c = Command::new(syscage_bin());
    c.args(["enforce", "-q"]);
    for p in profiles {
        c.args(["-p", p]);
    }
    let child = c
        .args(["--", "sleep", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_running(child.id(), '2');
    Killed(child)
}

/// Runs a detached busybox `sleep` container under runc; its init pid.
fn runc_container(dir: &Path, state: &Path, id: &str, profile: &Value) -> u32 {
    let sub = dir.join(id);
    std::fs::create_dir_all(&sub).unwrap();
    let bundle = containers::busybox_bundle(&sub, profile, &["/bin/sleep", "60"], true);
    let pid = containers::run_detached(state, &bundle, id);
    wait_running(pid, if profile.is_null() { '0' } else { '2' });
    pid
}

fn process(doc: &Value, pid: u32) -> &Value {
    doc["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == json!(pid))
        .unwrap_or_else(|| panic!("process {pid} is not in the audit"))
}

fn stack<'a>(doc: &'a Value, digest: &Value) -> &'a Value {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| &s["digest"] == digest)
        .unwrap_or_else(|| panic!("stack {digest} is not listed"))
}

/// sha256sum's digest of a file.
fn sha256sum(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

#[test]
fn audit_groups_matches_and_flags_processes_of_enforce_and_runc() {
    if let Some(why) = containers::unavailable() {
        skip_unless_ci("syscage audit", &why);
        return;
    }
    if let Err(why) = syscage_enforcer::oracle::available() {
        skip_unless_ci("syscage audit", &why);
        return;
    }
    let dir = std::env::temp_dir().join(format!("syscage-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state");

    // Two processes under the same builtin, one under a stack of two builtins.
    let e1 = enforce(&["runtime/default"]);
    let e2 = enforce(&["runtime/default"]);
    let e3 = enforce(&["runtime/default", "podman/default@4.3"]);

    // Two runc containers under one custom profile, and one without seccomp.
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mount", "kexec_load"], "action": "SCMP_ACT_ERRNO"}],
    });
    let pfile = dir.join("web.json");
    std::fs::write(&pfile, profile.to_string()).unwrap();
    let tag = std::process::id();
    let ids: Vec<String> = ["web-a", "web-b", "loose"]
        .iter()
        .map(|n| format!("{n}-{tag}"))
        .collect();
    let mut running = Containers {
        state: &state,
        ids: Vec::new(),
    };
    let mut pids = Vec::new();
    for (id, p) in ids.iter().zip([&profile, &profile, &Value::Null]) {
        running.ids.push(id.clone());
        pids.push(runc_container(&dir, &state, id, p));
    }

    let o = Command::new(syscage_bin())
        .args([
            "audit",
            "--format",
            "json",
            "--node",
            "test-node",
            "--runtime-root",
        ])
        .arg(&state)
        .arg("--match")
        .arg(&pfile)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    // An error finding (the unconfined container): exit 1.
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["kind"], "syscage.audit");
    assert_eq!(doc["node"], "test-node");

    // enforce: both runtime/default processes share a stack, named after it.
    let d1 = &process(&doc, e1.0.id())["stack"];
    assert!(d1.is_string(), "{}", process(&doc, e1.0.id()));
    assert_eq!(d1, &process(&doc, e2.0.id())["stack"]);
    let s1 = stack(&doc, d1);
    assert!(
        s1["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("runtime/default as runc")),
        "{s1}"
    );
    // The stack of two: no profile whole, each filter named.
    let d3 = &process(&doc, e3.0.id())["stack"];
    assert_ne!(d3, d1);
    let s3 = stack(&doc, d3);
    assert_eq!(s3["filters"].as_array().unwrap().len(), 2);
    assert_eq!(s3["matches"], json!([]));
    let layers = s3["layers"].as_array().expect("per-filter matches");
    assert!(layers[0].to_string().contains("runtime/default"), "{s3}");
    assert!(layers[1].to_string().contains("podman/default@4.3"), "{s3}");
    // The stack's first filter is the single-filter stack's filter.
    assert_eq!(s3["filters"][0], s1["filters"][0]);

    // runc: the two web containers share one stack, named after the profile file, and
    // each process is attributed to its container.
    let (a, b, loose) = (
        process(&doc, pids[0]),
        process(&doc, pids[1]),
        process(&doc, pids[2]),
    );
    assert_eq!(a["stack"], b["stack"]);
    assert!(a["stack"].is_string());
    let web = stack(&doc, &a["stack"]);
    assert!(
        web["matches"]
            .to_string()
            .contains(&format!("{} as runc", pfile.display())),
        "{web}"
    );
    for (p, id) in [(a, &ids[0]), (b, &ids[1]), (loose, &ids[2])] {
        assert_eq!(p["container"]["engine"], "runc", "{p}");
        assert_eq!(p["container"]["id"], json!(id), "{p}");
    }
    assert_eq!(loose["mode"], "disabled");
    assert!(loose["stack"].is_null());

    // Findings: the unconfined container, by pid; no unknown stack (every one named).
    let flags = doc["flags"].as_array().unwrap();
    // (Other tests of this file run containers at the same time: only ours count.)
    let ours = |f: &&Value| {
        f["pids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| pids.contains(&(p.as_u64().unwrap() as u32)))
    };
    let unconfined: Vec<&Value> = flags
        .iter()
        .filter(|f| f["kind"] == "unconfined-container")
        .filter(ours)
        .collect();
    assert_eq!(unconfined.len(), 1, "{flags:#?}");
    assert_eq!(unconfined[0]["pids"], json!([pids[2]]));
    assert_eq!(unconfined[0]["severity"], "error");
    for d in [d1, d3, &a["stack"]] {
        assert!(
            !flags
                .iter()
                .any(|f| f["kind"] == "unknown-filter" && &f["stack"] == d),
            "{d} flagged unknown: {flags:#?}"
        );
    }

    // Without --match the web profile is unknown, and said so.
    let o = Command::new(syscage_bin())
        .args(["audit", "--runtime-root"])
        .arg(&state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let short = &a["stack"].as_str().unwrap()[7..19];
    assert!(
        text.lines()
            .any(|l| l.contains("unknown-filter") && l.contains(short)),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("unconfined-container") && l.contains(&format!("runc {}", ids[2]))),
        "{text}"
    );

    // The digests, a second way: sha256sum over the filters `syscage dump` writes.
    let out = dir.join("dump");
    let d = Command::new(syscage_bin())
        .args(["dump", &e3.0.id().to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
    for i in 0..2 {
        assert_eq!(
            json!(sha256sum(&out.join(format!("filter-{i}.bpf")))),
            s3["filters"][i],
            "filter {i}"
        );
    }

    // Without privileges: every other process says what it could not read; the audit
    // goes on and finishes.
    let o = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(syscage_bin())
        .args(["audit", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = process(&doc, e1.0.id());
    let why = p["unreadable"].to_string();
    assert!(why.contains("CAP_SYS_PTRACE"), "{p}");
    assert!(p["stack"].is_null());
    assert_eq!(p["mode"], "filter");

    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real engine's containers: podman (daemonless) with its default profile and with
/// `seccomp=unconfined`. The audit finds them by podman's cgroup names, names the stack
/// `podman/default@4.3` and flags the unconfined one.
#[test]
fn audit_attributes_podman_containers_by_cgroup() {
    if let Some(why) = containers::unavailable() {
        skip_unless_ci("syscage audit of podman containers", &why);
        return;
    }
    if Command::new("podman").arg("--version").output().is_err() {
        skip_unless_ci(
            "syscage audit of podman containers",
            "podman is not installed",
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("syscage-audit-podman-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sleep")).unwrap();
    let tar = dir.join("rootfs.tar");
    assert!(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let podman = || containers::podman(&dir);
    let ok = |c: &mut Command| {
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    ok(podman().arg("import").arg(&tar).arg("syscage-audit-bb:1"));
    struct Removed<F: Fn()>(F);
    impl<F: Fn()> Drop for Removed<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }
    let tag = std::process::id();
    let names = [format!("confined-{tag}"), format!("loose-{tag}")];
    let _cleanup = Removed(|| {
        for n in &names {
            let _ = podman().args(["rm", "-f", "-t", "0", n]).output();
        }
    });
    let mut ids = Vec::new();
    for (name, extra) in names
        .iter()
        .zip([&[][..], &["--security-opt", "seccomp=unconfined"]])
    {
        let id = ok(podman()
            .args(["run", "-d", "--runtime", "runc", "--network", "none"])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .args(["--name", name])
            .args(extra)
            .args(["localhost/syscage-audit-bb:1", "/bin/sleep", "60"]));
        let pid: u32 = ok(podman().args(["inspect", "-f", "{{.State.Pid}}", name]))
            .parse()
            .unwrap();
        wait_running(pid, if extra.is_empty() { '2' } else { '0' });
        ids.push((id, pid));
    }
    let o = Command::new(syscage_bin())
        .args(["audit", "--format", "json", "--runtime", "runc"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    for (id, pid) in &ids {
        let p = process(&doc, *pid);
        assert_eq!(p["container"]["engine"], "podman", "{p}");
        assert_eq!(p["container"]["id"], json!(id), "{p}");
    }
    let confined = process(&doc, ids[0].1);
    let s = stack(&doc, &confined["stack"]);
    assert!(
        s["matches"]
            .to_string()
            .contains("podman/default@4.3 as runc"),
        "{s}"
    );
    // From a private cgroup namespace (as in a pod on cgroup v2), the same: the audit
    // enters the host's before reading cgroups.
    // The namespace is rooted in a cgroup of its own on the unified hierarchy, so
    // without entering the host's, every other process's path would start `/..`.
    let unified = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .find(|d| Path::new(d).join("cgroup.procs").exists())
        .expect("a cgroup v2 hierarchy");
    let sub = Path::new(unified).join(format!("syscage-audit-{}", std::process::id()));
    std::fs::create_dir_all(&sub).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(r#"echo $$ > "$1/cgroup.procs" && exec unshare --cgroup "$2" audit --format json --no-filters"#)
        .arg("sh")
        .arg(&sub)
        .arg(syscage_bin())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir(&sub);
    let private: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(private["warnings"].is_null(), "{}", private["warnings"]);
    for (id, pid) in &ids {
        let p = process(&private, *pid);
        assert_eq!(p["container"]["id"], json!(id));
        assert!(p["unreadable"].is_null(), "{p}");
    }
    let flags = doc["flags"].as_array().unwrap();
    assert!(
        flags.iter().any(|f| f["kind"] == "unconfined-container"
            && f["pids"] == json!([ids[1].1])
            && f["message"].as_str().unwrap().contains(&ids[1].0[..12])),
        "{flags:#?}"
    );
    drop(_cleanup);
    let _ = podman()
        .args(["rmi", "-f", "localhost/syscage-audit-bb:1"])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
}
