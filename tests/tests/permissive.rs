//! `syscage enforce --permissive` (complain mode) against `check`: on one real run, the
//! calls the kernel stopped (the profiles' own compiled filters, made permissive) are
//! exactly the calls `check` denies in the whole trace of that same run (written with
//! --record-all), line for line; the would-be denials written with --record widen the
//! profile through `generate --base`, and the program then runs under the widened
//! profile with a KILL_PROCESS default.
//!
//! Needs ptrace and seccomp (root or a kernel that allows them); outside CI a machine
//! without them skips with the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use syscage_tests::{skip_unless_ci, syscage_bin};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-permissive-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn syscage(args: &[&str], cwd: &Path) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .current_dir(cwd)
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SCRIPT: &str = "ls / | wc -l; cat /etc/hostname >/dev/null; id -u; echo done";

/// A narrow profile: what `sh -c true` needs, with the given default action.
fn narrow(d: &Path, default: &str) -> String {
    let trace = d.join("true.jsonl");
    let r = syscage(
        &[
            "record",
            "-f",
            "-o",
            trace.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "true",
        ],
        d,
    );
    assert!(r.status.success(), "{}", text(&r.stderr));
    let p = d.join(format!("narrow-{default}.json"));
    let g = syscage(
        &[
            "generate",
            "--no-runtime",
            "--default-action",
            default,
            trace.to_str().unwrap(),
            "-o",
            p.to_str().unwrap(),
        ],
        d,
    );
    assert!(g.status.success(), "{}", text(&g.stderr));
    p.display().to_string()
}

fn usable() -> bool {
    if let Err(why) = syscage_enforcer::oracle::available() {
        skip_unless_ci("complain mode", &why);
        return false;
    }
    true
}

#[test]
fn complain_mode_reports_exactly_what_check_denies_in_the_same_run() {
    if !usable() {
        return;
    }
    let d = dir();
    let errno = narrow(&d, "errno");
    let kill = narrow(&d, "kill-process");
    let stacks: Vec<Vec<String>> = vec![
        vec![errno.clone()],
        vec![kill.clone()],
        vec!["runtime/default".into()],
        vec!["runtime/default".into(), errno.clone()],
    ];
    for (i, stack) in stacks.iter().enumerate() {
        let denied = d.join(format!("denied-{i}.jsonl"));
        let all = d.join(format!("all-{i}.jsonl"));
        let mut args = vec!["enforce", "--permissive", "-q"];
        for p in stack {
            args.extend(["-p", p.as_str()]);
        }
        args.extend([
            "--record",
            denied.to_str().unwrap(),
            "--record-all",
            all.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            SCRIPT,
        ]);
        let run = syscage(&args, &d);
        let err = text(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{stack:?}: {err}");
        // Nothing was denied for real: the script ran to its end.
        assert!(
            text(&run.stdout).ends_with("done\n"),
            "{stack:?}: {}",
            text(&run.stdout)
        );
        assert!(!err.contains("BUG"), "{stack:?}: {err}");
        let all_lines: Vec<String> = std::fs::read_to_string(&all)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let reported: Vec<String> = std::fs::read_to_string(&denied)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        // check on the whole trace of the same run, with the same stack.
        let mut args = vec!["check", "--format", "json", "-q"];
        for p in stack {
            args.extend(["-p", p.as_str()]);
        }
        args.push(all.to_str().unwrap());
        let c = syscage(&args, &d);
        let predicted: Vec<String> = text(&c.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| {
                !matches!(
                    v["action"].as_str(),
                    Some("SCMP_ACT_ALLOW" | "SCMP_ACT_LOG")
                )
            })
            .map(|v| all_lines[v["line"].as_u64().unwrap() as usize - 1].clone())
            .collect();
        assert!(
            !reported.is_empty() || i == 2,
            "{stack:?}: nothing would be denied?"
        );
        assert_eq!(reported, predicted, "{stack:?}");
        let summary = format!("{} call", reported.len());
        assert!(err.contains(&summary), "{stack:?}: {err}");
    }
}

#[test]
fn would_be_denials_widen_the_profile_until_the_program_runs() {
    if !usable() {
        return;
    }
    let d = dir().join("widen");
    std::fs::create_dir_all(&d).unwrap();
    let kill = narrow(&d, "kill-process");
    // Under the narrow profile the script dies.
    let strict = syscage(&["enforce", "-p", &kill, "--", "sh", "-c", SCRIPT], &d);
    assert!(!strict.status.success());
    let denied = d.join("denied.jsonl");
    let run = syscage(
        &[
            "enforce",
            "--permissive",
            "-p",
            &kill,
            "--record",
            denied.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            SCRIPT,
        ],
        &d,
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let widened = d.join("widened.json");
    let g = syscage(
        &[
            "generate",
            "--no-runtime",
            "--base",
            &kill,
            denied.to_str().unwrap(),
            "-o",
            widened.to_str().unwrap(),
        ],
        &d,
    );
    assert!(g.status.success(), "{}", text(&g.stderr));
    let ok = syscage(
        &[
            "enforce",
            "-p",
            widened.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            SCRIPT,
        ],
        &d,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), text(&run.stdout));
}

#[test]
fn complain_mode_mirrors_the_exit_status_and_refuses_what_it_cannot_do() {
    if !usable() {
        return;
    }
    let d = dir();
    let o = syscage(
        &[
            "enforce",
            "--permissive",
            "-q",
            "-p",
            "runtime/default",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(7));
    use std::os::unix::process::ExitStatusExt;
    let o = syscage(
        &[
            "enforce",
            "--permissive",
            "-q",
            "-p",
            "runtime/default",
            "--",
            "sh",
            "-c",
            "kill -TERM $$",
        ],
        &d,
    );
    assert_eq!(o.status.signal(), Some(15), "{:?}", o.status);
    let o = syscage(
        &[
            "enforce",
            "--record",
            "x.jsonl",
            "-p",
            "runtime/default",
            "--",
            "true",
        ],
        &d,
    );
    assert_eq!(
        o.status.code(),
        Some(125),
        "--record needs --permissive: {}",
        text(&o.stderr)
    );
    let o = syscage(
        &[
            "enforce",
            "--permissive",
            "--record",
            "/nonexistent/dir/x.jsonl",
            "-p",
            "runtime/default",
            "--",
            "sh",
            "-c",
            "echo ran",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "the command must not run");
    assert!(text(&o.stderr).contains("the command was not run"));
}
