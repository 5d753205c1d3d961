//! The kernel's seccomp audit records as a trace: what users have when production
//! blocked a call. The kernel writes one `SECCOMP` record (type 1326,
//! `kernel/auditsc.c` `audit_seccomp`) for each call a filter answers with LOG, or
//! with an action the audit configuration logs (kill, and with auditd other denials):
//!
//! ```text
//! [24164.416157] audit: type=1326 audit(1796669263.491:944687): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3775 comm="busybox" exe="/usr/bin/busybox" sig=0 arch=c000003e syscall=39 compat=0 ip=0x462127 code=0x7ffc0000
//! type=SECCOMP msg=audit(1796669263.491:944687): auid=4294967295 uid=0 ... arch=c000003e syscall=39 compat=0 ip=0x462127 code=0x7ffc0000
//! ```
//!
//! (`dmesg` and `journalctl -k` print the first form, `/var/log/audit/audit.log` and
//! `ausearch -m SECCOMP` the second.) A record names the audit arch, the syscall number,
//! the pid and the instruction pointer, but no arguments: every argument of the event is
//! unknown. Lines that are not SECCOMP records (other audit types, other kernel
//! messages, `ausearch`'s `----` and `time->` lines) are skipped; a SECCOMP record that
//! lacks `arch` or `syscall`, or whose values do not parse, is an error naming the line.

use super::TraceError;
use crate::arch::Arch;
use crate::event::Event;
use crate::syscalls::SyscallNr;

/// Whether `line` is a SECCOMP audit record.
pub fn is_record(line: &str) -> bool {
    line.contains("type=1326 ") || line.contains("type=SECCOMP ")
}

/// Whether the first content line of a trace says it is audit output: a SECCOMP record,
/// or `ausearch`'s `----` / `time->` lines.
pub fn looks_like(first: &str) -> bool {
    first.starts_with("----") || first.starts_with("time->") || is_record(first)
}

/// The value of `key=` in a record (the text up to the next space; quotes kept off).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = line[from..].find(key) {
        let start = from + at;
        let before_ok = start == 0 || line.as_bytes()[start - 1] == b' ';
        let value = &line[start + key.len()..];
        if before_ok && value.starts_with('=') {
            let value = &value[1..];
            let end = value.find(' ').unwrap_or(value.len());
            return Some(value[..end].trim_matches('"'));
        }
        from = start + key.len();
    }
    None
}

/// One line of audit output: `Some(event)` for a SECCOMP record, `None` for any other
/// line.
pub fn parse_line(text: &str, line: usize) -> Result<Option<Event>, TraceError> {
    Ok(parse_record(text, line)?.map(|r| r.event))
}

/// A SECCOMP record: the event, and the filter's answer the kernel logged (`code=`, a
/// `SECCOMP_RET_*` value), when the record has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub event: Event,
    pub code: Option<u32>,
}

/// [`parse_line`], keeping the logged `code`.
pub fn parse_record(text: &str, line: usize) -> Result<Option<Record>, TraceError> {
    if !is_record(text) {
        return Ok(None);
    }
    let bad = |field: &str, message: String| TraceError::Field {
        line,
        field: field.to_string(),
        message,
    };
    let arch_hex =
        field(text, "arch").ok_or_else(|| bad("arch", "a SECCOMP record without arch=".into()))?;
    let audit_arch = u32::from_str_radix(arch_hex, 16).map_err(|_| {
        bad(
            "arch",
            format!("{arch_hex:?} is not a hexadecimal audit arch"),
        )
    })?;
    let nr_text = field(text, "syscall")
        .ok_or_else(|| bad("syscall", "a SECCOMP record without syscall=".into()))?;
    let nr: u32 = nr_text
        .parse::<i64>()
        .ok()
        .and_then(|n| {
            u32::try_from(n)
                .ok()
                .or_else(|| i32::try_from(n).ok().map(|n| n as u32))
        })
        .ok_or_else(|| bad("syscall", format!("{nr_text:?} is not a syscall number")))?;
    let arch = Arch::from_audit(audit_arch, nr).ok_or_else(|| {
        bad(
            "arch",
            format!("audit arch {audit_arch:#x} is not one syscage knows"),
        )
    })?;
    let pid = match field(text, "pid") {
        Some(p) => Some(
            p.parse::<u32>()
                .map_err(|_| bad("pid", format!("{p:?} is not a pid")))?,
        ),
        None => None,
    };
    let ip = match field(text, "ip") {
        Some(v) => u64::from_str_radix(v.trim_start_matches("0x"), 16)
            .map_err(|_| bad("ip", format!("{v:?} is not a hexadecimal address")))?,
        None => 0,
    };
    let code = match field(text, "code") {
        Some(v) => Some(
            u32::from_str_radix(v.trim_start_matches("0x"), 16)
                .map_err(|_| bad("code", format!("{v:?} is not a hexadecimal action")))?,
        ),
        None => None,
    };
    Ok(Some(Record {
        event: Event {
            sys: SyscallNr { arch, nr },
            args: [None; 6],
            instruction_pointer: ip,
            pid,
            name: None,
            line,
        },
        code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines copied from this machine's `dmesg` after `syscage enforce` ran busybox under
    /// a profile that LOGs getpid and uname, and from a KILL (an i386 call).
    const DMESG: &str = r#"[24164.416157] audit: type=1326 audit(1796669263.491:944687): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3775 comm="busybox" exe="/usr/bin/busybox" sig=0 arch=c000003e syscall=39 compat=0 ip=0x462127 code=0x7ffc0000
[24164.416202] audit: type=1326 audit(1796669263.491:944688): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3775 comm="busybox" exe="/usr/bin/busybox" sig=0 arch=c000003e syscall=63 compat=0 ip=0x460997 code=0x7ffc0000
[24046.765146] audit: type=1326 audit(1796669145.839:944679): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3612 comm="twenty_qword_ne" exe="/tmp/t" sig=31 arch=40000003 syscall=79 compat=1 ip=0x560ad964f1ba code=0x80000000"#;

    #[test]
    fn dmesg_records_become_events_with_unknown_arguments() {
        let events: Vec<Event> = DMESG
            .lines()
            .enumerate()
            .filter_map(|(i, l)| parse_line(l, i + 1).unwrap())
            .collect();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].sys.name(), Some("getpid"));
        assert_eq!(events[0].pid, Some(3775));
        assert_eq!(events[0].instruction_pointer, 0x462127);
        assert_eq!(events[0].args, [None; 6]);
        assert_eq!(events[1].sys.name(), Some("uname"));
        assert_eq!(events[2].sys.arch, Arch::X86);
        assert_eq!(events[2].sys.nr, 79);
        assert_eq!(events[2].line, 3);
        let r = parse_record(DMESG.lines().next().unwrap(), 1)
            .unwrap()
            .unwrap();
        assert_eq!(r.code, Some(crate::action::Action::LOG.to_ret()));
    }

    #[test]
    fn audit_log_form_and_other_lines() {
        let log = "type=SECCOMP msg=audit(1796669263.491:944687): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=3775 comm=\"busybox\" exe=\"/usr/bin/busybox\" sig=0 arch=c000003e syscall=1073741863 compat=0 ip=0x462127 code=0x7ffc0000";
        let e = parse_line(log, 1).unwrap().unwrap();
        assert_eq!(e.sys.arch, Arch::X32, "the x32 bit in the number");
        assert!(
            parse_line("type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=39", 1)
                .unwrap()
                .is_none()
        );
        assert!(parse_line("----", 1).unwrap().is_none());
        assert!(looks_like("----"));
        assert!(looks_like("time->Mon Dec  7 18:33:39 2026"));
        assert!(looks_like(log));
        assert!(!looks_like("1234  read(3, \"\", 1) = 0"));
    }

    #[test]
    fn malformed_records_name_their_line_and_field() {
        let cases = [
            ("type=SECCOMP msg=audit(1:2): pid=1 syscall=39", "arch"),
            ("type=SECCOMP msg=audit(1:2): arch=zz syscall=39", "arch"),
            ("type=SECCOMP msg=audit(1:2): arch=c000003e", "syscall"),
            (
                "type=SECCOMP msg=audit(1:2): arch=c000003e syscall=x",
                "syscall",
            ),
            ("type=SECCOMP msg=audit(1:2): arch=1234 syscall=1", "arch"),
            (
                "type=SECCOMP msg=audit(1:2): arch=c000003e syscall=1 pid=-",
                "pid",
            ),
        ];
        for (text, want) in cases {
            match parse_line(text, 7) {
                Err(TraceError::Field { line, field, .. }) => {
                    assert_eq!((line, field.as_str()), (7, want), "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
