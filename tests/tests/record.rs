//! `syscage record` against the real thing: the same program recorded by strace and by
//! syscage gives the same calls with the same arguments; i386 and x32 calls are
//! recorded with their arch; forks, execs, threads, exit statuses and signals are
//! followed and mirrored; `--pid` detaches and leaves the process running; output
//! failures never run the command or leave it stuck; `check` reads what was recorded.
//!
//! Needs ptrace and seccomp (and strace, setarch, cc for some tests): skips, saying
//! why, where they are missing; fails instead under CI (`CI` set).

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
use syscage_core::event::Event;
use syscage_core::trace::{self, jsonl, record::StraceWriter};
use syscage_enforcer::record::{record_command, Outcome, RecordOptions};
use syscage_tests::{repo_root, skip_unless_ci, syscage_bin};

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("syscage-record-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn syscage<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Whether recording works here (ptrace and seccomp allowed); says why not.
fn recording_works() -> bool {
    static WORKS: OnceLock<Result<(), String>> = OnceLock::new();
    let r = WORKS.get_or_init(|| {
        let out = syscage(&["record", "-o", "/dev/null", "--", "true"]);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`syscage record -- true` failed here: {}",
                text(&out.stderr)
            ))
        }
    });
    match r {
        Ok(()) => true,
        Err(why) => {
            skip_unless_ci("the record test", why);
            false
        }
    }
}

/// `tests/data/record/calls.c`, compiled once.
fn calls() -> Option<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = BIN.get_or_init(|| {
        let src = repo_root().join("tests/data/record/calls.c");
        let bin = tmp_dir("calls").join("calls");
        let out = Command::new("cc")
            .args(["-O2", "-pthread", "-o"])
            .arg(&bin)
            .arg(&src)
            .output()
            .map_err(|e| format!("cannot run cc: {e}"))?;
        if !out.status.success() {
            return Err(format!("cc failed: {}", text(&out.stderr)));
        }
        Ok(bin)
    });
    match r {
        Ok(p) => Some(p.clone()),
        Err(why) => {
            skip_unless_ci("the record test with its helper program", why);
            None
        }
    }
}

fn have(tool: &str, args: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip_unless_ci(
            "the record test",
            &format!("{tool} is not installed or does not work here"),
        );
    }
    ok
}

fn events(path: &Path) -> Vec<Event> {
    let bytes = std::fs::read(path).unwrap();
    let t = trace::parse_bytes(&bytes, Arch::X86_64)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        t.warnings.is_empty(),
        "{}: {:?}",
        path.display(),
        t.warnings
    );
    t.events
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Events grouped by their pid, each group in trace order, groups in order of first
/// appearance.
fn by_process(events: &[Event]) -> Vec<(u32, Vec<Event>)> {
    let mut order: Vec<(u32, Vec<Event>)> = Vec::new();
    for e in events {
        let pid = e.pid.expect("every recorded event has a pid");
        match order.iter_mut().find(|(p, _)| *p == pid) {
            Some((_, v)) => v.push(e.clone()),
            None => order.push((pid, vec![e.clone()])),
        }
    }
    order
}

/// A process's calls without what depends on when signals land: `rt_sigreturn` and
/// `restart_syscall` dropped, a run of `wait4` calls kept as one.
fn timing_free(events: &[Event]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        let name = e.syscall_name();
        if name == "rt_sigreturn" || name == "restart_syscall" {
            continue;
        }
        if name == "wait4" && out.last().is_some_and(|l| l.syscall_name() == "wait4") {
            continue;
        }
        out.push(e.clone());
    }
    out
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn proc_field(pid: u32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().to_string())
}

/// strace (`-f -e raw=all`: every argument as the raw number) and syscage record the
/// same run of `sh -c 'ls / | wc -l'`, both with address randomization off (`setarch
/// -R`), so pointers are equal too. Each process strace saw must match one process
/// syscage recorded call for call — the same syscalls in the same order, once what
/// signal timing changes is set aside (`rt_sigreturn`, `restart_syscall`, repeated
/// `wait4`) — and every argument strace printed must equal syscage's, except the first
/// `execve`'s, which point into each tracer's own memory.
#[test]
fn agrees_with_strace_call_for_call() {
    if !recording_works() || !have("strace", &["-V"]) || !have("setarch", &["x86_64", "-R", "true"])
    {
        return;
    }
    let dir = tmp_dir("strace");
    let (s_out, r_out) = (dir.join("strace.txt"), dir.join("record.txt"));
    let cmd = ["sh", "-c", "ls / | wc -l"];
    let st = Command::new("setarch")
        .args(["x86_64", "-R", "strace", "-f", "-e", "raw=all", "-o"])
        .arg(&s_out)
        .args(cmd)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let rec = Command::new("setarch")
        .args(["x86_64", "-R"])
        .arg(syscage_bin())
        .args(["record", "-f", "--format", "strace", "-o"])
        .arg(&r_out)
        .arg("--")
        .args(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(rec.status.success(), "{}", text(&rec.stderr));
    let theirs = by_process(&events(&s_out));
    let ours = by_process(&events(&r_out));
    assert_eq!(theirs.len(), 3, "strace saw sh, ls and wc");
    assert_eq!(ours.len(), theirs.len(), "processes recorded");
    let mut taken = vec![false; ours.len()];
    let mut compared = 0;
    for (k, (pid, calls)) in theirs.iter().enumerate() {
        let want = timing_free(calls);
        let names = |v: &[Event]| v.iter().map(|e| e.sys).collect::<Vec<_>>();
        let Some(j) =
            (0..ours.len()).find(|&j| !taken[j] && names(&timing_free(&ours[j].1)) == names(&want))
        else {
            let all: Vec<String> = ours
                .iter()
                .map(|(p, v)| {
                    format!(
                        "{p}: {:?}",
                        timing_free(v)
                            .iter()
                            .map(Event::syscall_name)
                            .collect::<Vec<_>>()
                    )
                })
                .collect();
            panic!(
                "strace's process {pid} ({:?}) matches no recorded process:\n{}",
                want.iter().map(Event::syscall_name).collect::<Vec<_>>(),
                all.join("\n")
            );
        };
        taken[j] = true;
        let got = timing_free(&ours[j].1);
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            if k == 0 && i == 0 {
                assert_eq!(w.syscall_name(), "execve");
                continue;
            }
            for (a, (wa, ga)) in w.args.iter().zip(&g.args).enumerate() {
                if let Some(wa) = wa {
                    assert_eq!(
                        Some(*wa),
                        *ga,
                        "process {pid} call {i} ({}) argument {a}: strace line {}, syscage line {}",
                        w.syscall_name(),
                        w.line,
                        g.line
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 500, "only {compared} arguments compared");
    eprintln!(
        "record agrees with strace: {compared} arguments of {} processes",
        theirs.len()
    );
}

/// One recording written both ways at once reads back to the same events (the strace
/// form's pid is the thread): the i386 and x32 calls with their arch, every argument
/// known. The CLI's two formats of two runs agree too, with randomization off.
#[test]
fn strace_and_jsonl_forms_read_back_the_same() {
    if !recording_works() {
        return;
    }
    let Some(calls) = calls() else {
        return;
    };
    let (mut jl, mut st) = (String::new(), String::new());
    let mut w = StraceWriter::new(Arch::X86_64);
    let mut tids = Vec::new();
    let argv = [calls.clone().into_os_string(), "compat".into()];
    let opts = RecordOptions {
        follow: true,
        ..RecordOptions::default()
    };
    let outcome = record_command(&argv, &opts, &mut |r| {
        jsonl::write_record(&mut jl, r);
        w.write(&mut st, r);
        if let Some(e) = r.event() {
            tids.push((e, r.tid));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(outcome, Outcome::Exited(0), "the helper's own checks");
    let strip = |t: &str| -> Vec<Event> {
        let t = trace::parse(t, Arch::X86_64).unwrap();
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        t.events
            .into_iter()
            .map(|e| Event {
                line: 0,
                name: None,
                ..e
            })
            .collect()
    };
    let from_json = strip(&jl);
    let want: Vec<Event> = tids.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(from_json, want);
    let want_tid: Vec<Event> = tids
        .iter()
        .map(|(e, tid)| Event {
            pid: Some(*tid),
            ..e.clone()
        })
        .collect();
    assert_eq!(strip(&st), want_tid, "{st}");
    assert!(want.iter().any(|e| e.arch() == Arch::X86));
    assert!(want.iter().any(|e| e.arch() == Arch::X32));

    if !have("setarch", &["x86_64", "-R", "true"]) {
        return;
    }
    let dir = tmp_dir("forms");
    let run = |format: &str| -> Vec<Event> {
        let out = dir.join(format);
        let o = Command::new("setarch")
            .args(["x86_64", "-R"])
            .arg(syscage_bin())
            .args(["record", "--format", format, "-o"])
            .arg(&out)
            .arg("--")
            .arg(&calls)
            .arg("compat")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        events(&out)
    };
    let (j, s) = (run("jsonl"), run("strace"));
    assert_eq!(j.len(), s.len());
    for (i, (a, b)) in j.iter().zip(&s).enumerate() {
        assert_eq!(
            (a.sys, a.instruction_pointer),
            (b.sys, b.instruction_pointer),
            "call {i}"
        );
        // The first execve's arguments point into the recorder's own memory.
        if i > 0 {
            assert_eq!(a.args, b.args, "call {i} ({})", a.syscall_name());
        }
    }
}

/// `int $0x80` calls are recorded as x86 (getpid = 20 returning the pid, write = 4),
/// a call numbered with the x32 bit as x32 (ENOSYS on this kernel), and syscage's
/// trace reader reads them back so.
#[test]
fn i386_and_x32_calls_are_recorded_with_their_arch() {
    if !recording_works() {
        return;
    }
    let Some(calls) = calls() else {
        return;
    };
    let dir = tmp_dir("compat");
    let out = dir.join("compat.jsonl");
    let o = syscage(&[
        OsStr::new("record"),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--"),
        calls.as_os_str(),
        OsStr::new("compat"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines = json_lines(&out);
    let evs = events(&out);
    let calls_only: Vec<&Value> = lines.iter().filter(|l| l.get("event").is_none()).collect();
    assert_eq!(calls_only.len(), evs.len());
    let find = |arch: Arch, nr: u32| {
        let k = evs
            .iter()
            .position(|e| e.sys.arch == arch && e.sys.nr == nr)
            .unwrap_or_else(|| panic!("no {arch} call {nr:#x} in {lines:?}"));
        (&evs[k], calls_only[k])
    };
    let (getpid, line) = find(Arch::X86, 20);
    assert_eq!(line["arch"], "x86");
    assert_eq!(line["syscall"], "getpid");
    assert_eq!(line["ret"].as_u64(), getpid.pid.map(u64::from));
    let (write, line) = find(Arch::X86, 4);
    assert_eq!(write.args[2], Some(3));
    assert_eq!(line["ret"], 3);
    let (x32, line) = find(Arch::X32, X32_SYSCALL_BIT | 39);
    assert_eq!(x32.syscall_name(), "getpid");
    assert_eq!(line["arch"], "x32");
    assert_eq!(line["ret"], -38);
    // The strace form says so with its mode lines.
    let st = dir.join("compat.strace");
    let o = syscage(&[
        OsStr::new("record"),
        OsStr::new("--format"),
        OsStr::new("strace"),
        OsStr::new("-o"),
        st.as_os_str(),
        OsStr::new("--"),
        calls.as_os_str(),
        OsStr::new("compat"),
    ]);
    assert!(o.status.success());
    let t = std::fs::read_to_string(&st).unwrap();
    assert!(
        t.contains(" runs in 32 bit mode. ]") && t.contains(" runs in x32 mode. ]"),
        "{t}"
    );
    let evs = events(&st);
    assert!(evs
        .iter()
        .any(|e| e.sys.arch == Arch::X86 && e.sys.nr == 20));
    assert!(evs
        .iter()
        .any(|e| e.sys.arch == Arch::X32 && e.sys.nr == X32_SYSCALL_BIT | 39));
}

/// `-f` follows the shell's fork and the child's exec; without it only the shell is
/// recorded (threads always are).
#[test]
fn follows_forks_execs_and_threads() {
    if !recording_works() {
        return;
    }
    let dir = tmp_dir("follow");
    let run = |follow: bool, name: &str, cmd: &[&OsStr]| -> Vec<Value> {
        let out = dir.join(name);
        let mut args: Vec<&OsStr> = vec![OsStr::new("record"), OsStr::new("-o"), out.as_os_str()];
        if follow {
            args.push(OsStr::new("-f"));
        }
        args.push(OsStr::new("--"));
        args.extend_from_slice(cmd);
        let o = syscage(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        events(&out); // reads back cleanly
        json_lines(&out)
    };
    let sh: [&OsStr; 3] = ["sh".as_ref(), "-c".as_ref(), "true; /bin/true".as_ref()];
    let pids = |lines: &[Value], what: &str| -> Vec<u64> {
        let mut p: Vec<u64> = lines
            .iter()
            .filter(|l| match what {
                "call" => l.get("event").is_none(),
                e => l["event"] == e,
            })
            .filter_map(|l| l["pid"].as_u64())
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let all = run(true, "f.jsonl", &sh);
    let execs: Vec<&str> = all
        .iter()
        .filter(|l| l["event"] == "exec")
        .filter_map(|l| l["path"].as_str())
        .collect();
    assert_eq!(execs.len(), 2, "{execs:?}");
    assert!(execs[1].ends_with("/true"), "{execs:?}");
    assert_eq!(pids(&all, "call").len(), 2);
    assert_eq!(pids(&all, "exit").len(), 2);
    let child = all
        .iter()
        .find(|l| l["event"] == "exec" && l["path"].as_str().is_some_and(|p| p.ends_with("/true")))
        .unwrap();
    assert!(
        all.iter()
            .any(|l| l["pid"] == child["pid"] && l["syscall"] == "execve" && l["ret"] == 0),
        "the child's execve, returning 0"
    );
    let one = run(false, "nf.jsonl", &sh);
    assert_eq!(pids(&one, "call").len(), 1);
    assert_eq!(one.iter().filter(|l| l["event"] == "exec").count(), 1);

    let Some(calls) = calls() else {
        return;
    };
    let threads = run(
        false,
        "t.jsonl",
        &[calls.as_os_str(), OsStr::new("threads")],
    );
    let mut tids: Vec<u64> = threads.iter().filter_map(|l| l["tid"].as_u64()).collect();
    tids.sort_unstable();
    tids.dedup();
    assert_eq!(tids.len(), 3, "the main thread and two workers");
    assert_eq!(pids(&threads, "call").len(), 1);
    let getppid = threads.iter().filter(|l| l["syscall"] == "getppid").count();
    assert_eq!(getppid, 6);
}

/// syscage's exit status is the command's: exit 7 is 7, death by SIGTERM is death by
/// SIGTERM (which syscage ignored while the command ran), a missing command is 127
/// before anything runs.
#[test]
fn exit_status_and_signals_are_mirrored() {
    use std::os::unix::process::ExitStatusExt;
    if !recording_works() {
        return;
    }
    let dir = tmp_dir("status");
    let out = dir.join("t.jsonl");
    let o = syscage(&[
        OsStr::new("record"),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--"),
        OsStr::new("sh"),
        OsStr::new("-c"),
        OsStr::new("exit 7"),
    ]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("; sh exited 7"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(json_lines(&out).last().unwrap()["code"], 7);

    let o = syscage(&[
        OsStr::new("record"),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--"),
        OsStr::new("sh"),
        OsStr::new("-c"),
        OsStr::new("kill -TERM $$"),
    ]);
    assert_eq!(
        o.status.signal(),
        Some(15),
        "{:?} {}",
        o.status,
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("was killed by SIGTERM"));
    assert_eq!(json_lines(&out).last().unwrap()["signal"], "SIGTERM");

    let o = syscage(&["record", "-o", "/dev/null", "--", "no-such-command-syscage"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(text(&o.stderr).contains("no-such-command-syscage: command not found"));
    // Usage errors are syscage's own failure before the command: 125.
    let o = syscage(&["record", "--pid", "not-a-pid"]);
    assert_eq!(o.status.code(), Some(125));
}

/// `--pid` attaches to a running shell loop (and, with -f, the children it starts);
/// SIGINT detaches from all of them and the shell runs on, untraced, still starting
/// children; the trace shows what it did meanwhile.
#[test]
fn attach_then_detach_on_sigint_leaves_the_process_running() {
    if !recording_works() {
        return;
    }
    let dir = tmp_dir("pid");
    let out = dir.join("pid.jsonl");
    let mut target = Command::new("sh")
        .args(["-c", "while :; do /bin/sleep 0.02; done"])
        .spawn()
        .unwrap();
    let pid = target.id();
    let mut rec = Command::new(syscage_bin())
        .args(["record", "-f", "-o"])
        .arg(&out)
        .args(["--pid", &pid.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc_field(pid, "TracerPid:").as_deref() != Some(&rec.id().to_string()) {
        assert!(Instant::now() < deadline, "syscage did not attach to {pid}");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(400));
    let killed = Command::new("kill")
        .args(["-INT", &rec.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_timeout(&mut rec, Duration::from_secs(20));
    let mut err = String::new();
    std::io::Read::read_to_string(rec.stderr.as_mut().unwrap(), &mut err).unwrap();
    let alive = target.try_wait().unwrap().is_none();
    let tracer = proc_field(pid, "TracerPid:");
    let state = proc_field(pid, "State:");
    // Still starting children after the detach: its newest child changes.
    let child_of = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default()
    };
    let mut changed = false;
    let first = child_of(pid);
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(20));
        if child_of(pid) != first {
            changed = true;
            break;
        }
    }
    let _ = target.kill();
    let _ = target.wait();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{err}");
    assert!(err.contains("detached from process"), "{err}");
    assert!(alive, "the shell died");
    assert_eq!(tracer.as_deref(), Some("0"));
    assert!(
        !state.unwrap_or_default().starts_with('t'),
        "left in a tracing stop"
    );
    assert!(
        changed,
        "the shell stopped starting children after the detach"
    );
    let lines = json_lines(&out);
    events(&out);
    assert!(lines
        .iter()
        .any(|l| l["pid"] == pid && l["syscall"] == "wait4"));
    assert!(lines
        .iter()
        .any(|l| l["event"] == "exec" && l["path"].as_str().is_some_and(|p| p.ends_with("sleep"))));
}

/// An output that cannot be opened: the command does not run (125). An output that
/// fails while recording (/dev/full): syscage says so, exits 2, and the command is
/// killed, not left stuck. A closed pipe ends quietly (exit 0), killing it too.
#[test]
fn output_failures_never_leave_the_command_running() {
    if !recording_works() {
        return;
    }
    let dir = tmp_dir("output");
    let marker = dir.join("marker");
    let o = syscage(&[
        OsStr::new("record"),
        OsStr::new("-o"),
        OsStr::new("/nonexistent-dir/x.jsonl"),
        OsStr::new("--"),
        OsStr::new("touch"),
        marker.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("cannot open /nonexistent-dir/x.jsonl"),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("the command was not run"));
    assert!(!marker.exists());

    let endless = |pidfile: &Path| {
        format!(
            "echo $$ > {}; while :; do read x < /dev/null; done",
            pidfile.display()
        )
    };
    for (k, how) in ["-o /dev/full", "stdout /dev/full", "closed pipe"]
        .iter()
        .enumerate()
    {
        let pidfile = dir.join(format!("pid{k}"));
        let mut cmd = Command::new(syscage_bin());
        cmd.arg("record");
        match *how {
            "-o /dev/full" => {
                cmd.args(["-o", "/dev/full"]);
            }
            "stdout /dev/full" => {
                cmd.stdout(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open("/dev/full")
                        .unwrap(),
                );
            }
            _ => {
                let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
                let w = reader.stdin.take().unwrap();
                reader.wait().unwrap();
                cmd.stdout(Stdio::from(w));
            }
        }
        let mut child = cmd
            .args(["--", "sh", "-c", &endless(&pidfile)])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_timeout(&mut child, Duration::from_secs(30));
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        let want = if *how == "closed pipe" { 0 } else { 2 };
        assert_eq!(status.and_then(|s| s.code()), Some(want), "{how}: {err}");
        if want == 2 {
            assert!(err.contains("No space left on device"), "{how}: {err}");
            assert!(err.contains("(it was killed)"), "{how}: {err}");
        }
        let shell: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !Path::new(&format!("/proc/{shell}")).exists(),
            "{how}: the traced shell {shell} is still there"
        );
    }
}

/// What `record` writes, `check` reads: a pipeline recorded in both formats is
/// allowed throughout by Docker's default profile.
#[test]
fn check_reads_the_recording() {
    if !recording_works() {
        return;
    }
    let dir = tmp_dir("check");
    let mut counts = HashMap::new();
    for format in ["jsonl", "strace"] {
        let out = dir.join(format!("ls.{format}"));
        let o = syscage(&[
            OsStr::new("record"),
            OsStr::new("-f"),
            OsStr::new("--format"),
            OsStr::new(format),
            OsStr::new("-o"),
            out.as_os_str(),
            OsStr::new("--"),
            OsStr::new("sh"),
            OsStr::new("-c"),
            OsStr::new("ls / | wc -l"),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let c = syscage(&[
            OsStr::new("check"),
            OsStr::new("-p"),
            OsStr::new("runtime/default"),
            out.as_os_str(),
        ]);
        assert_eq!(
            c.status.code(),
            Some(0),
            "{}{}",
            text(&c.stdout),
            text(&c.stderr)
        );
        assert!(
            text(&c.stdout).contains("every event is allowed"),
            "{}",
            text(&c.stdout)
        );
        counts.insert(format, events(&out).len());
    }
    assert!(counts["jsonl"] > 100, "{counts:?}");
}
