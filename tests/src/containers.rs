//! Real containers for the tests: a busybox-static bundle, and the command line that
//! runs it under runc or crun on this kind of machine (crun 1.8.1 on hybrid cgroups
//! needs its own mount namespace without the unified hierarchy, and no cgroup manager).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use syscage_core::profile::Runtime;

/// Why this machine cannot run containers under both runtimes, if it cannot.
pub fn unavailable() -> Option<String> {
    // The effective uid is the second field of `Uid:` in /proc/self/status.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_string));
    if euid.as_deref() != Some("0") {
        return Some("needs root (containers, ptrace of the runtime)".into());
    }
    for tool in ["runc", "crun", "busybox", "unshare"] {
        if Command::new(tool).arg("--help").output().is_err() {
            return Some(format!(
                "{tool} is not on PATH (Debian: runc, crun, busybox-static)"
            ));
        }
    }
    None
}

/// A bundle in `dir/bundle` with a busybox rootfs (the applets `sh`, `true`, `sleep`,
/// `echo`, `wc`, `ls`, `cat`), running `args`, with `profile` as `linux.seccomp`
/// (`Value::Null`: none) and `process.noNewPrivileges` as given.
pub fn busybox_bundle(dir: &Path, profile: &Value, args: &[&str], no_new_privs: bool) -> PathBuf {
    let b = dir.join("bundle");
    let bin = b.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    for applet in ["sh", "true", "sleep", "echo", "wc", "ls", "cat"] {
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    for d in ["proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(b.join("rootfs").join(d)).unwrap();
    }
    let status = Command::new("runc")
        .arg("spec")
        .current_dir(&b)
        .status()
        .unwrap();
    assert!(status.success(), "runc spec");
    let path = b.join("config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = json!(false);
    config["process"]["args"] = json!(args);
    config["process"]["noNewPrivileges"] = json!(no_new_privs);
    if profile.is_null() {
        config["linux"]
            .as_object_mut()
            .expect("runc spec writes linux")
            .remove("seccomp");
    } else {
        config["linux"]["seccomp"] = profile.clone();
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    b
}

/// The command line (program, arguments) that runs container `id` from `bundle` under
/// `runtime`, its state under `state`.
pub fn run_argv(runtime: Runtime, state: &Path, bundle: &Path, id: &str) -> Vec<String> {
    match runtime {
        Runtime::Runc => vec![
            "runc".into(),
            "--root".into(),
            state.display().to_string(),
            "run".into(),
            "--bundle".into(),
            bundle.display().to_string(),
            id.into(),
        ],
        Runtime::Crun => vec![
            "unshare".into(),
            "-m".into(),
            "sh".into(),
            "-c".into(),
            format!(
                "umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=disabled --root '{}' run --bundle '{}' '{id}'",
                state.display(),
                bundle.display()
            ),
        ],
    }
}

/// Removes what `runtime` left of container `id` (whatever happened to it).
pub fn delete(runtime: Runtime, state: &Path, id: &str) {
    let _ = Command::new(runtime.to_string())
        .arg("--root")
        .arg(state)
        .args(["delete", "-f", id])
        .output();
}

/// Starts container `id` from `bundle` under runc, detached, with no stdio to hold;
/// its init's pid.
pub fn run_detached(state: &Path, bundle: &Path, id: &str) -> u32 {
    let mut argv = run_argv(Runtime::Runc, state, bundle, id);
    argv.insert(4, "--detach".into());
    let run = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(run.success(), "runc run --detach {id}: {run:?}");
    let st = Command::new("runc")
        .arg("--root")
        .arg(state)
        .args(["state", id])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&st.stdout).unwrap()["pid"]
        .as_u64()
        .unwrap() as u32
}

/// `podman` with its storage under `dir` (`root`, `runroot`) and the flags this kind
/// of machine needs (cgroupfs, file events: no systemd session here).
pub fn podman(dir: &Path) -> Command {
    let mut c = Command::new("podman");
    c.arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .args(["--cgroup-manager=cgroupfs", "--events-backend=file"]);
    c
}
