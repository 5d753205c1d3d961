//! The loop a user runs to make a profile, on real programs: `syscage record` ->
//! `syscage generate` -> `syscage enforce`. Each program runs under the profile
//! generated from its own recording with the default action KILL_PROCESS, so any call
//! the profile missed would end it: it must exit 0 with the output it had while
//! recorded. A helper that tries `unshare(CLONE_NEWUSER)`, `ptrace` and `mount` is
//! denied all three under the profile generated from its harmless run. And a busybox
//! container started by the real runc, with the profile generated (for runc) from the
//! same program recorded on the host, starts and runs it.
//!
//! Needs python3, curl, git and a C compiler (and root, runc and busybox for the
//! container); outside CI a missing piece skips with the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use syscage_core::profile::Runtime;
use syscage_tests::{containers, repo_root, skip_unless_ci, syscage_bin};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-loop-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn syscage(args: &[&str], cwd: &Path) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn missing(tools: &[&str]) -> Option<String> {
    tools
        .iter()
        .find(|t| Command::new(t).arg("--version").output().is_err())
        .map(|t| format!("{t} is not installed"))
}

/// record -> generate (KILL_PROCESS default, no runtime) -> enforce; returns the
/// generated profile's path.
fn round_trip(name: &str, cmd: &[&str], cwd: &Path, gen_args: &[&str]) -> PathBuf {
    // Next to the working directory, not in it: `git status` would see them.
    let out = cwd.parent().unwrap().join(format!("{name}-files"));
    std::fs::create_dir_all(&out).unwrap();
    let trace = out.join(format!("{name}.jsonl"));
    let trace = trace.to_str().unwrap();
    let mut args = vec!["record", "-f", "-o", trace, "--"];
    args.extend(cmd);
    let recorded = syscage(&args, cwd);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{name}: record: {}",
        text(&recorded.stderr)
    );
    let profile = out.join(format!("{name}.json"));
    let profile_s = profile.to_str().unwrap();
    let mut args = vec![
        "generate",
        "--no-runtime",
        "--default-action",
        "kill-process",
        trace,
        "-o",
        profile_s,
    ];
    args.extend(gen_args);
    let generated = syscage(&args, cwd);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{name}: generate: {}",
        text(&generated.stderr)
    );
    let mut args = vec!["enforce", "-p", profile_s, "--"];
    args.extend(cmd);
    let enforced = syscage(&args, cwd);
    assert_eq!(
        enforced.status.code(),
        Some(0),
        "{name}: enforce: {}{}",
        text(&enforced.stdout),
        text(&enforced.stderr)
    );
    assert_eq!(
        text(&enforced.stdout),
        text(&recorded.stdout),
        "{name}: the output under the profile differs from the recorded run's"
    );
    profile
}

#[test]
fn recorded_programs_run_under_their_generated_profiles() {
    if let Some(why) = missing(&["python3", "curl", "git", "sh"]) {
        skip_unless_ci("the record/generate/enforce loop", &why);
        return;
    }
    let d = dir("programs");
    let repo = d.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for args in [
        &["init", "-q"][..],
        &["config", "user.email", "t@example.com"][..],
    ] {
        assert!(Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", &d)
            .status()
            .unwrap()
            .success());
    }
    std::fs::write(repo.join("file.txt"), "hello\n").unwrap();
    let cases: [(&str, &[&str], &Path); 4] = [
        (
            "python3",
            &[
                "python3",
                "-c",
                "import json; print(json.dumps({'a': [1, 2, 3]}))",
            ],
            &d,
        ),
        ("curl", &["curl", "--version"], &d),
        ("git", &["git", "status", "--porcelain"], &repo),
        ("sh", &["sh", "-c", "ls / | wc -l"], &d),
    ];
    for args in [&[][..], &["--args", "observed"][..]] {
        for (name, cmd, cwd) in cases {
            round_trip(name, cmd, cwd, args);
        }
    }
}

#[test]
fn generated_profiles_deny_user_namespaces_ptrace_and_mount() {
    if let Some(why) = missing(&["cc"]) {
        skip_unless_ci("the escape test", &why);
        return;
    }
    let d = dir("escape");
    let bin = d.join("escape");
    let cc = Command::new("cc")
        .arg("-O")
        .arg("-o")
        .arg(&bin)
        .arg(repo_root().join("tests/data/loop/escape.c"))
        .output()
        .unwrap();
    assert!(cc.status.success(), "cc: {}", text(&cc.stderr));
    let bin = bin.to_str().unwrap();
    let mnt = d.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    // Without a profile the calls go ahead (as root): the denials below are the profile's.
    let free = Command::new(bin)
        .args(["escape", mnt.to_str().unwrap()])
        .output()
        .unwrap();
    let free_out = text(&free.stdout);
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if root {
        assert_eq!(free_out.matches(": allowed").count(), 3, "{free_out}");
    }
    let profile = round_trip("escape", &[bin], &d, &[]);
    // ERRNO for the escape attempts, so the program can say what it got.
    let trace = profile.with_extension("jsonl");
    let errno_profile = d.join("escape-errno.json");
    let g = syscage(
        &[
            "generate",
            "--no-runtime",
            trace.to_str().unwrap(),
            "-o",
            errno_profile.to_str().unwrap(),
        ],
        &d,
    );
    assert!(g.status.success(), "{}", text(&g.stderr));
    let run = syscage(
        &[
            "enforce",
            "-p",
            errno_profile.to_str().unwrap(),
            "--",
            bin,
            "escape",
            mnt.to_str().unwrap(),
        ],
        &d,
    );
    let out = text(&run.stdout);
    for call in [
        "unshare(CLONE_NEWUSER)",
        "ptrace(PTRACE_TRACEME)",
        "mount(tmpfs)",
    ] {
        assert!(
            out.contains(&format!("{call}: Operation not permitted")),
            "{call} under the generated profile: {out}{}\n(without a profile: {})",
            text(&run.stderr),
            free_out
        );
    }
    // And the KILL_PROCESS profile ends the program at the first of them.
    let killed = syscage(
        &[
            "enforce",
            "-p",
            profile.to_str().unwrap(),
            "--",
            bin,
            "escape",
            mnt.to_str().unwrap(),
        ],
        &d,
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        killed.status.signal(),
        Some(31),
        "SIGSYS: {:?}",
        killed.status
    );
}

#[test]
fn a_runc_container_starts_under_the_profile_generated_for_it() {
    if let Some(why) = containers::unavailable() {
        skip_unless_ci("the container loop", &why);
        return;
    }
    let script = "echo hello | wc -c; ls /bin >/dev/null";
    for nnp in [true, false] {
        let d = dir(&format!("runc-{nnp}"));
        // Recorded on the host: the same static busybox the container runs.
        let trace = d.join("busybox.jsonl");
        let rec = syscage(
            &[
                "record",
                "-f",
                "-o",
                trace.to_str().unwrap(),
                "--",
                "/bin/busybox",
                "sh",
                "-c",
                script,
            ],
            &d,
        );
        assert!(rec.status.success(), "{}", text(&rec.stderr));
        let profile = d.join("busybox.json");
        let mut args = vec![
            "generate",
            "--runtime",
            "runc",
            "--default-action",
            "kill-process",
            trace.to_str().unwrap(),
            "-o",
            profile.to_str().unwrap(),
        ];
        if nnp {
            args.push("--no-new-privs");
        }
        let g = syscage(&args, &d);
        assert!(g.status.success(), "{}", text(&g.stderr));
        let p: Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
        let bundle = containers::busybox_bundle(&d, &p, &["/bin/sh", "-c", script], nnp);
        let state = d.join("state");
        let id = format!("loop-{nnp}-{}", std::process::id());
        let argv = containers::run_argv(Runtime::Runc, &state, &bundle, &id);
        let run = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
        containers::delete(Runtime::Runc, &state, &id);
        assert!(
            run.status.success(),
            "nnp={nnp}: runc run under the generated profile: {:?} {}{}",
            run.status,
            text(&run.stdout),
            text(&run.stderr)
        );
        assert_eq!(
            text(&run.stdout).trim(),
            text(&rec.stdout).trim(),
            "nnp={nnp}"
        );
        assert_eq!(text(&run.stdout).trim(), "6");
    }
}
