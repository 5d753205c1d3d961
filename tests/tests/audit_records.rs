//! The kernel's own SECCOMP audit records as the oracle for the audit-trace reader
//! (`syscage_core::trace::audit`): `syscage enforce` runs busybox under a profile that
//! LOGs some calls and ERRNOs others with auditing of them on; the kernel writes one
//! `type=1326` record per logged call to its log (read with `dmesg`). Each record for
//! that run must read back as the event that happened (arch, number, pid), and the
//! action the kernel logged (`code=`) must be what syscage's reference gives that event.
//!
//! Needs root (dmesg, seccomp). Skips outside CI, saying why; fails under CI.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::process::Command;

use syscage_core::arch::Arch;
use syscage_core::eval::Evaluator;
use syscage_core::policy::{resolve, Target};
use syscage_core::profile::{parse, Runtime};
use syscage_core::trace::audit;
use syscage_tests::{skip_unless_ci, syscage_bin};

const PROFILE: &str = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["getpid", "uname"], "action": "SCMP_ACT_LOG"},
    {"names": ["getppid"], "action": "SCMP_ACT_LOG"}]}"#;

#[test]
fn kernel_records_read_back_as_syscage_decides() {
    let dmesg = Command::new("dmesg").output();
    if !dmesg.as_ref().is_ok_and(|o| o.status.success()) {
        skip_unless_ci(
            "the audit-record test",
            "dmesg cannot read the kernel log here",
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("syscage-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("log.json");
    std::fs::write(&profile, PROFILE).unwrap();
    // busybox's sh prints its pid: the shell's own getpid/getppid and uname are logged.
    let out = Command::new(syscage_bin())
        .args(["enforce", "-p"])
        .arg(&profile)
        .args([
            "--",
            "busybox",
            "sh",
            "-c",
            "uname >/dev/null; echo $$ $PPID",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The records reach the log asynchronously; wait for them a little.
    let mut records = Vec::new();
    for _ in 0..50 {
        let log =
            String::from_utf8_lossy(&Command::new("dmesg").output().unwrap().stdout).into_owned();
        records = log
            .lines()
            .enumerate()
            .filter_map(|(i, l)| audit::parse_record(l, i + 1).unwrap())
            .filter(|r| r.event.pid == Some(pid))
            .collect();
        if !records.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if records.is_empty() {
        skip_unless_ci(
            "the audit-record test",
            "no SECCOMP records reached the kernel log (auditd may hold them, or \
             kernel.seccomp.actions_logged excludes log)",
        );
        return;
    }
    let kernel: syscage_core::profile::KernelVersion =
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    let policy = resolve(
        &parse("log.json", PROFILE, Runtime::Runc).unwrap(),
        &Target::new(Arch::X86_64, kernel),
    )
    .unwrap();
    let reference = Evaluator::new(&policy);
    let mut names = Vec::new();
    for r in &records {
        let d = r.event.data_with(0);
        let (want, _) = reference.decide(&d);
        assert_eq!(
            r.code,
            Some(want),
            "line {}: the kernel logged {:?}, syscage says {}",
            r.event.line,
            r.code.map(syscage_core::action::describe_ret),
            syscage_core::action::describe_ret(want)
        );
        names.push(r.event.sys.name().unwrap_or("?").to_string());
    }
    assert!(
        names.iter().any(|n| n == "uname" || n == "getpid"),
        "{names:?}"
    );
    eprintln!(
        "{} audit records for pid {pid} read back: {names:?}",
        records.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
