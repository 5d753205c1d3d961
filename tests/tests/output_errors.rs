//! What every command does when its standard output fails: a closed pipe is the end of
//! the output (`syscage disasm big.bpf | head -1`: exit 0, nothing said), any other write
//! error is reported (`> /dev/full`: "cannot write to standard output: No space left on
//! device", exit 2). Never a panic.
//!
//! The closed pipe is closed before the command starts (its only reader, `true`, has
//! exited), so the first write fails whatever the output's size and timing.
//! Skips, saying why, where ptrace or seccomp is unavailable (`dump`); fails instead
//! under CI.
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use syscage_tests::{repo_root, syscage_bin};

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "syscage-output-errors-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn syscage_with_stdout(args: &[&str], stdout: Stdio) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// The write end of a pipe whose read end is already closed everywhere.
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true");
    let write_end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(write_end)
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

/// `args` writes its output, exits 0 and prints nothing on standard error.
fn assert_writes(args: &[&str]) {
    let o = syscage_with_stdout(args, Stdio::piped());
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
    assert!(!o.stdout.is_empty(), "{args:?} wrote nothing");
}

/// `args` with standard output on /dev/full exits 2 and says why; on a closed pipe it
/// exits 0 quietly. `names_stdout`: the message names standard output (not yet `check`,
/// which reports the bare error).
fn assert_output_errors(args: &[&str], names_stdout: bool) {
    assert_writes(args);

    let full = syscage_with_stdout(args, dev_full());
    let err = text(&full.stderr);
    assert!(!err.contains("panicked"), "{args:?} > /dev/full: {err}");
    assert_eq!(full.status.code(), Some(2), "{args:?} > /dev/full: {err}");
    assert!(
        err.contains("syscage: error: ") && err.contains("No space left on device"),
        "{args:?} > /dev/full: {err}"
    );
    if names_stdout {
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?} > /dev/full: {err}"
        );
    }

    let piped = syscage_with_stdout(args, closed_pipe());
    let err = text(&piped.stderr);
    assert!(!err.contains("panicked"), "{args:?} | (closed): {err}");
    assert_eq!(piped.status.code(), Some(0), "{args:?} | (closed): {err}");
    assert!(
        !err.contains("error"),
        "{args:?} | (closed): a closed pipe is not an error: {err}"
    );
}

#[test]
fn check() {
    for format in ["text", "json"] {
        assert_output_errors(
            &[
                "check",
                "-p",
                "runtime/default",
                "--engine",
                "reference",
                "--format",
                format,
                "examples/curl-version.strace",
            ],
            false,
        );
    }
}

#[test]
fn compile() {
    for format in ["raw", "disasm", "c"] {
        assert_output_errors(
            &["compile", "-p", "runtime/default", "--format", format],
            true,
        );
    }
}

/// A raw filter of 4096 instructions: 4095 loads of the syscall number and a RET ALLOW.
fn big_filter(dir: &std::path::Path) -> String {
    let mut raw = Vec::new();
    let insn = |code: u16, k: u32| {
        let mut b = code.to_le_bytes().to_vec();
        b.extend([0, 0]);
        b.extend(k.to_le_bytes());
        b
    };
    for _ in 0..4095 {
        raw.extend(insn(0x20, 0)); // ld [0]
    }
    raw.extend(insn(0x06, 0x7fff_0000)); // ret ALLOW
    let path = dir.join("big.bpf");
    std::fs::write(&path, raw).unwrap();
    path.display().to_string()
}

#[test]
fn disasm() {
    let dir = tmp_dir("disasm");
    let big = big_filter(&dir);
    let listing = syscage_with_stdout(&["disasm", &big], Stdio::piped());
    assert!(
        listing.stdout.len() > 1 << 16,
        "the listing should be larger than a pipe's buffer: {} bytes",
        listing.stdout.len()
    );
    assert_output_errors(&["disasm", &big], true);
    assert_output_errors(&["disasm", "--stats", &big], true);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `asm` writes only its `-o` file: a failure there is reported like any other.
#[test]
fn asm() {
    let dir = tmp_dir("asm");
    let listing = dir.join("f.txt");
    let out = dir.join("f.bpf");
    let l = syscage_with_stdout(
        &["compile", "-p", "runtime/default", "--format", "disasm"],
        Stdio::piped(),
    );
    assert!(l.status.success(), "{}", text(&l.stderr));
    std::fs::write(&listing, &l.stdout).unwrap();
    let listing = listing.to_string_lossy();
    let args = ["asm", &listing, "-o", "/dev/full"];
    let full = syscage_with_stdout(&args, Stdio::piped());
    let err = text(&full.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(full.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write /dev/full") && err.contains("No space left on device"),
        "{err}"
    );
    let out = out.to_string_lossy();
    for stdout in [dev_full(), closed_pipe()] {
        let o = syscage_with_stdout(&["asm", &listing, "-o", &out], stdout);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn platform() {
    let kube = [
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--seccomp-root",
        "examples/platform/seccomp",
    ];
    assert_output_errors(&kube, true);
    assert_output_errors(
        &[
            "platform",
            "openshift",
            "--scc",
            "examples/platform/scc-restricted-v2.json",
            "examples/platform/deployment.json",
        ],
        true,
    );
    assert_output_errors(
        &[
            "platform",
            "mesos",
            "examples/platform/marathon-app.json",
            "--profiles-dir",
            "examples/platform/seccomp",
        ],
        true,
    );
    assert_output_errors(
        &[
            "platform",
            "mesos",
            "examples/platform/marathon-app.json",
            "--profiles-dir",
            "examples/platform/seccomp",
            "--print-profile",
        ],
        true,
    );
}

#[test]
fn status() {
    assert_output_errors(&["status", "self"], true);
}

#[test]
fn enforce_dry_run() {
    assert_output_errors(&["enforce", "-p", "runtime/default", "--dry-run"], true);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn fuzz() {
    assert_output_errors(
        &[
            "fuzz",
            "--cases",
            "3",
            "--seed",
            "1",
            "--engines",
            "reference,bpf",
            "-q",
        ],
        true,
    );
}

/// `syscage enforce -p runtime/default -- sleep 30`, once sleep runs under the filter.
fn enforced_sleep() -> Option<Child> {
    let mut child = Command::new(syscage_bin())
        .args(["enforce", "-p", "runtime/default", "--", "sleep", "30"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    for _ in 0..500 {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sleep" {
            return Some(child);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    skip(&format!(
        "syscage enforce did not run sleep: {}",
        text(&out.stderr)
    ));
    None
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "seccomp/ptrace must work in CI: {why}"
    );
    eprintln!("SKIP: {why}");
}

#[test]
fn dump() {
    let Some(mut child) = enforced_sleep() else {
        return;
    };
    let pid = child.id().to_string();
    let probe = syscage_with_stdout(&["dump", &pid], Stdio::piped());
    if probe.status.success() {
        assert_output_errors(&["dump", &pid], true);
        let dir = tmp_dir("dump");
        let dir_s = dir.to_string_lossy();
        assert_output_errors(&["dump", &pid, "-o", &dir_s], true);
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        skip(&format!(
            "syscage dump cannot read filters here: {}",
            text(&probe.stderr)
        ));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The command `enforce` runs gets SIGPIPE's default disposition (syscage, a Rust
/// program, runs with it ignored, which execve would pass on): `yes` on a closed pipe
/// dies by SIGPIPE, as it does without syscage, instead of failing with EPIPE.
#[test]
fn enforce_leaves_sigpipe_to_the_command() {
    use std::os::unix::process::ExitStatusExt;
    if !Command::new("sh")
        .args(["-c", "command -v yes"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        skip("no `yes` command");
        return;
    }
    let Some(mut child) = enforced_sleep() else {
        return;
    };
    let _ = child.kill();
    let _ = child.wait();
    let o = syscage_with_stdout(
        &["enforce", "-p", "runtime/default", "--", "yes"],
        closed_pipe(),
    );
    assert_eq!(
        o.status.signal(),
        Some(13),
        "{:?}: {}",
        o.status,
        text(&o.stderr)
    );
}

#[test]
fn fuzz_json() {
    assert_output_errors(
        &[
            "fuzz",
            "--cases",
            "3",
            "--seed",
            "1",
            "--engines",
            "reference,bpf",
            "-q",
            "--format",
            "json",
            "--shard",
            "0/2",
        ],
        true,
    );
}

#[test]
fn report() {
    let dir = tmp_dir("report");
    let o = syscage_with_stdout(
        &[
            "fuzz",
            "--cases",
            "4",
            "--seed",
            "1",
            "--engines",
            "reference,bpf",
            "-q",
            "--format",
            "json",
        ],
        Stdio::piped(),
    );
    let file = dir.join("fuzz.log");
    std::fs::write(&file, &o.stdout).unwrap();
    let f = file.to_str().unwrap();
    assert_output_errors(&["report", f], true);
    assert_output_errors(&["report", "--format", "json", f], true);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `audit` exits 1 when the host has an unconfined container, so its output is checked
/// here without requiring exit 0 first.
#[test]
fn audit() {
    for args in [
        &["audit", "--no-filters"][..],
        &["audit", "--no-filters", "--format", "json"],
    ] {
        let o = syscage_with_stdout(args, Stdio::piped());
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(!o.stdout.is_empty());
        let full = syscage_with_stdout(args, dev_full());
        let err = text(&full.stderr);
        assert_eq!(full.status.code(), Some(2), "{args:?} > /dev/full: {err}");
        assert!(err.contains("cannot write to standard output"), "{err}");
        let piped = syscage_with_stdout(args, closed_pipe());
        assert_eq!(
            piped.status.code(),
            Some(0),
            "{args:?} | (closed): {}",
            text(&piped.stderr)
        );
    }
}
