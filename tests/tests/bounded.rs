//! Every input bounded, as a careless user or an attacker would feed them: files without
//! end, FIFOs, oversized files, invalid UTF-8, traces cut off, a sandbox that must stop
//! in time and run under an address-space limit. Each command must end promptly with a
//! clear, located error (exit 2) — never hang, swell or panic.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use syscage_tests::{repo_root, syscage_bin};

/// Runs syscage with no stdin; kills it (and fails) past `limit`.
fn run_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(syscage_bin())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "syscage {args:?} still running after {limit:?}; stderr: {}",
                text(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> Output {
    run_within(args, Duration::from_secs(60))
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("syscage-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file(name: &str, content: &[u8]) -> String {
    let p = scratch().join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

fn fifo(name: &str) -> String {
    let p = scratch().join(name);
    let _ = std::fs::remove_file(&p);
    let ok = Command::new("mkfifo").arg(&p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
    p.display().to_string()
}

fn zero_link(name: &str) -> String {
    let p = scratch().join(name);
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    p.display().to_string()
}

/// Exit 2, the message contains each of `want`, no panic.
fn refused(o: &Output, want: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn files_without_end_and_fifos_are_refused_before_they_are_opened() {
    let z = zero_link("zero");
    let f = fifo("fifo");
    let t = "examples/denied.jsonl";
    for args in [
        vec!["check", "-p", &z, t],
        vec!["check", "-p", &f, t],
        vec!["check", "-p", &z, "--engine", "reference", t],
        vec!["check", "-p", "runtime/default", "--bpf", &z, t],
        vec!["check", "-p", "runtime/default", "--bpf", &f, t],
        vec!["check", "-p", "runtime/default", &f],
        vec![
            "check",
            "-p",
            "runtime/default",
            "--engine",
            "reference",
            &z,
        ],
        vec!["compile", "-p", &z],
        vec!["disasm", &f],
        vec!["disasm", &z],
        vec!["asm", &f, "-o", "/dev/null"],
        vec!["platform", "kubernetes", &f],
        vec![
            "platform",
            "mesos",
            &z,
            "--profiles-dir",
            "examples/platform",
        ],
    ] {
        let o = run_within(&args, Duration::from_secs(20));
        let what = if args.contains(&f.as_str()) {
            "is a FIFO"
        } else {
            "is a character device"
        };
        refused(&o, &[what, "--allow-special-files"]);
    }
    // Asked for, a device is read within the limit.
    let o = run_within(
        &["--allow-special-files", "check", "-p", &z, t],
        Duration::from_secs(20),
    );
    refused(
        &o,
        &["over the limit of 64 MiB for profiles", "--max-input"],
    );
    // A directory.
    let dir = scratch().display().to_string();
    refused(&run(&["check", "-p", &dir, t]), &["is a directory"]);
}

#[test]
fn oversized_files_stop_at_their_limit() {
    // A raw filter the size of the one that took 3.6 GB: refused by its size.
    let big = file("big.bpf", &vec![0u8; 24 << 20]);
    for engine in ["wasm", "reference"] {
        let o = run(&[
            "check",
            "-p",
            "runtime/default",
            "--engine",
            engine,
            "--bpf",
            &big,
            "examples/denied.jsonl",
        ]);
        refused(
            &o,
            &["big.bpf: 24 MiB, over the limit of 1 MiB for raw filters"],
        );
    }
    // Within the limit but longer than the kernel takes: refused by its length.
    let long = file("long.bpf", &vec![0u8; 8 * 4097]);
    refused(
        &run(&[
            "check",
            "-p",
            "runtime/default",
            "--bpf",
            &long,
            "examples/denied.jsonl",
        ]),
        &["long.bpf: not a raw BPF filter"],
    );
    // A profile over 64 MiB; --max-input raises the limit (and then its content is
    // what is wrong).
    let mut huge = vec![b' '; 65 << 20];
    huge.extend_from_slice(b"{");
    let p = file("huge.json", &huge);
    refused(
        &run(&["check", "-p", &p, "examples/denied.jsonl"]),
        &["huge.json: 65 MiB, over the limit of 64 MiB for profiles"],
    );
    let o = run(&[
        "--max-input",
        "128M",
        "check",
        "--engine",
        "reference",
        "-p",
        &p,
        "examples/denied.jsonl",
    ]);
    refused(&o, &["huge.json:1:"]);
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let m = file("pod.yaml", b"kind: Pod\nmetadata:\n  name: caf\xc3\n");
    refused(
        &run(&["platform", "kubernetes", &m]),
        &["pod.yaml:3:12: the manifest is not valid UTF-8"],
    );
    let l = file("listing.txt", b"0000: ret ALLOW\n\xff\n");
    refused(
        &run(&["asm", &l, "-o", "/dev/null"]),
        &["listing.txt:2:1: the listing is not valid UTF-8"],
    );
    let t = file("bad.strace", b"1  getpid() = 1\n2  get\xffpid() = 2\n");
    refused(
        &run(&["check", "-p", "runtime/default", &t]),
        &["bad.strace: line 2: invalid UTF-8 at column 7"],
    );
}

#[test]
fn a_localhost_profile_that_is_not_a_regular_file_is_named_for_what_it_is() {
    let root = scratch().join("seccomp-root");
    std::fs::create_dir_all(root.join("profiles")).unwrap();
    let _ = std::fs::remove_file(root.join("profiles/app.json"));
    let ok = Command::new("mkfifo")
        .arg(root.join("profiles/app.json"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let o = run_within(
        &[
            "platform",
            "kubernetes",
            "examples/platform/pod.json",
            "--seccomp-root",
            root.to_str().unwrap(),
        ],
        Duration::from_secs(20),
    );
    refused(
        &o,
        &[
            "profiles/app.json is a FIFO, not a regular file",
            "CreateContainerError",
        ],
    );
}

#[test]
fn a_call_cut_off_at_the_end_of_the_trace_is_evaluated() {
    // The same call, cut off, and with <unfinished ...>: both are events, and the
    // verdict that depends on the missing argument says so.
    for tail in ["", " <unfinished ...>"] {
        let t = file(
            "cut.strace",
            format!("1  getpid() = 1\n1  clone(child_stack=NULL, flags=CLONE_NEWUSER|SIGCHLD, parent_tid{tail}").as_bytes(),
        );
        for engine in ["wasm", "reference", "bpf"] {
            let o = run(&[
                "check",
                "-p",
                "runtime/default",
                "--engine",
                engine,
                "--format",
                "json",
                &t,
            ]);
            let out = text(&o.stdout);
            assert_eq!(
                out.lines().count(),
                2,
                "{engine} {tail:?}: {out}{}",
                text(&o.stderr)
            );
            assert!(out.contains("\"syscall\":\"clone\""), "{out}");
            assert_eq!(o.status.code(), Some(1), "{engine}: {}", text(&o.stderr));
        }
    }
}

#[test]
fn the_sandbox_stops_at_its_deadline_with_a_clear_error() {
    // A trace that takes far longer than 50 ms to check.
    let mut t = Vec::new();
    for _ in 0..400_000 {
        t.extend_from_slice(b"{\"syscall\":\"read\",\"args\":[0]}\n");
    }
    let t = file("long.jsonl", &t);
    let started = Instant::now();
    let o = run(&["check", "-p", "runtime/default", "--timeout", "0.05", &t]);
    refused(&o, &["did not finish within 0.05 s", "--timeout"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_sandbox_runs_under_a_one_gigabyte_address_space_limit() {
    let o = under_1g(&["check", "-p", "runtime/default", "examples/denied.jsonl"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("13 events") && out.contains("wasm engine"),
        "{out}"
    );
    // Traces are streamed: a long one fits too.
    let o = under_1g(&[
        "check",
        "-p",
        "runtime/default",
        &file("many.strace", &many_calls()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("200000 events"),
        "{}",
        text(&o.stdout)
    );
    // A profile the guest cannot hold in this address space: a clean error, not a trap.
    let rules = vec![r#"{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}"#; 600_000].join(",");
    let p = file(
        "plain-rules.json",
        format!(r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{rules}]}}"#).as_bytes(),
    );
    let o = under_1g(&[
        "check",
        "--max-memory",
        "4G",
        "-p",
        &p,
        "examples/denied.jsonl",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("address-space limit"), "{err}");
    assert!(
        !err.contains("trapped") && !err.contains("panicked"),
        "{err}"
    );
}

/// syscage under `ulimit -v 1048576` (1 GiB of address space).
fn under_1g(args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| shell_quote(Path::new(a))).collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1048576 && exec {} {}",
            shell_quote(&syscage_bin()),
            quoted.join(" ")
        ))
        .current_dir(repo_root())
        .output()
        .unwrap()
}

/// 200,000 ordinary events.
fn many_calls() -> Vec<u8> {
    let mut t = Vec::new();
    for i in 0..200_000 {
        t.extend_from_slice(format!("{i}  openat(AT_FDCWD, \"/x\", O_RDONLY) = 3\n").as_bytes());
    }
    t
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}
