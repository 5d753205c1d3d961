//! What a syscall recorder produces, and its strace text form.
//!
//! This module owns [`Recorded`] (one syscall, exec or exit as a recorder saw it, with
//! the `seccomp_data` fields the kernel gave it) and [`StraceWriter`], which writes
//! records as strace would with `-f -i -X raw`: `PID  [IP] name(0x.., ...) = RET`,
//! `[ Process PID=N runs in 32 bit mode. ]` before a call in another personality, and
//! `+++ exited with N +++`. [`super::jsonl::write_record`] writes the JSON Lines form.
//! Both forms read back ([`super::parse`]) to the event [`Recorded::event`] gives, so a
//! recorded trace is checked exactly as recorded. Pure formatting: the recording itself
//! (ptrace, seccomp) is syscage-enforcer's `record` module.
//!
//! Choices, for the record:
//! * Every call is written with all six arguments, as the filter sees them in
//!   `seccomp_data` (`getpid(0x.., ...)` too): a filter may test any of them.
//! * The strace form's PID column is the thread id, as strace writes it; the JSON
//!   Lines form has `pid` (the process) and `tid`. Exec records have no strace line
//!   (the `execve` call shows it).
//! * A call is named only when the name numbers back to the same call on its arch
//!   (x32's 64-bit-numbered calls are not): otherwise `syscall_0x..` / `nr` alone.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::decode::signal_name;
use crate::action::errno_name;
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::event::Event;
use crate::syscalls::{self, SyscallNr};

/// One thing a recorder saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The process (thread-group id).
    pub pid: u32,
    /// The thread.
    pub tid: u32,
    /// X86_64, X86 (i386 calls, `int $0x80` from a 64-bit program too), X32 when the
    /// number carries [`X32_SYSCALL_BIT`].
    pub arch: Arch,
    /// As `seccomp_data.nr` holds it (the x32 bit kept).
    pub nr: u32,
    pub args: [u64; 6],
    /// The instruction pointer (after the syscall instruction), as `seccomp_data` has it.
    pub ip: u64,
    /// The return value, when the recorder also stopped at the call's exit; `None`
    /// otherwise and for calls that never returned (`exit_group`, a thread killed
    /// inside a call).
    pub ret: Option<i64>,
    /// `SECCOMP_RET_DATA` of the `SECCOMP_RET_TRACE` that stopped the call (0 when no
    /// filter stopped it).
    pub trace_data: u16,
    pub kind: RecordKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A syscall.
    Syscall,
    /// Process `pid` now runs `path` (`/proc/PID/exe` after the exec). The call fields
    /// are those of the `execve` that did it, when the recorder saw it.
    Exec { path: String },
    /// Process `pid` ended (every thread of it). The call fields are zero.
    Exit { status: ExitKind },
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    Code(i32),
    Signal { signal: i32, core: bool },
}

impl Recorded {
    /// A syscall record.
    pub fn syscall(pid: u32, tid: u32, sys: SyscallNr, args: [u64; 6], ip: u64) -> Recorded {
        Recorded {
            pid,
            tid,
            arch: sys.arch,
            nr: sys.nr,
            args,
            ip,
            ret: None,
            trace_data: 0,
            kind: RecordKind::Syscall,
        }
    }

    /// An exit record for process `pid`.
    pub fn exit(pid: u32, status: ExitKind) -> Recorded {
        Recorded {
            kind: RecordKind::Exit { status },
            ..Recorded::syscall(
                pid,
                pid,
                SyscallNr {
                    arch: Arch::X86_64,
                    nr: 0,
                },
                [0; 6],
                0,
            )
        }
    }

    pub fn sys(&self) -> SyscallNr {
        SyscallNr {
            arch: self.arch,
            nr: self.nr,
        }
    }

    /// The name both writers give the call: the table's, if it numbers back to `nr`.
    pub fn name(&self) -> Option<&'static str> {
        syscalls::name_of(self.arch, self.nr)
            .filter(|n| syscalls::number_of(self.arch, n).map(|s| s.nr) == Some(self.nr))
    }

    /// The event a trace reader makes of this record's JSON Lines line (`pid` is the
    /// process; the strace form's is the thread); `None` for exec and exit records.
    pub fn event(&self) -> Option<Event> {
        if self.kind != RecordKind::Syscall {
            return None;
        }
        Some(Event {
            sys: self.sys(),
            args: self.args.map(Some),
            instruction_pointer: self.ip,
            pid: Some(self.pid),
            name: None,
            line: 0,
        })
    }
}

/// `SIGKILL`, or `SIG34` for a signal without a name.
pub fn signal_text(signal: i32) -> String {
    match signal_name(signal) {
        Some(n) => n.to_string(),
        None => format!("SIG{signal}"),
    }
}

/// strace's word for the personality of `arch` (`[ Process PID=N runs in 32 bit mode. ]`).
fn mode_name(arch: Arch) -> Option<&'static str> {
    use Arch::*;
    match arch {
        X86_64 | Aarch64 | Ppc64le | Ppc64 | S390x => Some("64 bit"),
        X86 | Arm | Ppc | S390 => Some("32 bit"),
        X32 => Some("x32"),
        _ => None,
    }
}

/// Writes records as strace text (see the module documentation). It remembers the
/// personality each PID column was last said to run in, as the strace reader does.
pub struct StraceWriter {
    default_arch: Arch,
    modes: HashMap<u32, Arch>,
}

impl StraceWriter {
    /// A writer for a trace read back with `default_arch` (the host's).
    pub fn new(default_arch: Arch) -> StraceWriter {
        StraceWriter {
            default_arch,
            modes: HashMap::new(),
        }
    }

    /// Appends the lines for `r` (none for an exec record).
    pub fn write(&mut self, out: &mut String, r: &Recorded) {
        match &r.kind {
            RecordKind::Exec { .. } => {}
            RecordKind::Exit { status } => {
                let _ = match status {
                    ExitKind::Code(c) => writeln!(out, "{:<5} +++ exited with {c} +++", r.pid),
                    ExitKind::Signal { signal, core } => writeln!(
                        out,
                        "{:<5} +++ killed by {}{} +++",
                        r.pid,
                        signal_text(*signal),
                        if *core { " (core dumped)" } else { "" }
                    ),
                };
            }
            RecordKind::Syscall => self.call(out, r),
        }
    }

    fn call(&mut self, out: &mut String, r: &Recorded) {
        let current = self.modes.get(&r.tid).copied().unwrap_or(self.default_arch);
        if current != r.arch {
            if let Some(mode) = mode_name(r.arch) {
                let _ = writeln!(out, "[ Process PID={} runs in {mode} mode. ]", r.tid);
                if r.arch == self.default_arch {
                    self.modes.remove(&r.tid);
                } else {
                    self.modes.insert(r.tid, r.arch);
                }
            }
        }
        let _ = write!(out, "{:<5} [{:016x}] ", r.tid, r.ip);
        match r.name() {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "syscall_{:#x}", r.nr & !X32_SYSCALL_BIT);
            }
        }
        out.push('(');
        for (i, a) in r.args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = if *a == 0 {
                write!(out, "0")
            } else {
                write!(out, "{a:#x}")
            };
        }
        out.push_str(") = ");
        let _ = match r.ret {
            None => writeln!(out, "?"),
            Some(v) if (-4095..0).contains(&v) => {
                let e = u16::try_from(-v).unwrap_or(0);
                match errno_name(e) {
                    Some(n) => writeln!(out, "-1 {n} (errno {e})"),
                    None => writeln!(out, "-1 (errno {e})"),
                }
            }
            Some(v) if (0..1 << 32).contains(&v) => writeln!(out, "{v}"),
            Some(v) => writeln!(out, "{:#x}", v as u64),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{jsonl, parse};

    fn call(pid: u32, tid: u32, arch: Arch, nr: u32, ret: Option<i64>) -> Recorded {
        Recorded {
            ret,
            ..Recorded::syscall(
                pid,
                tid,
                SyscallNr { arch, nr },
                [0xffff_ff9c, 0x7ffd_0000_1000, 0x80000, 0, u64::MAX, 7],
                0x7f00_0000_1234,
            )
        }
    }

    /// Records of every kind: 64-bit, i386, x32 (named and not), unknown numbers, exits.
    fn sample() -> Vec<Recorded> {
        let exec = Recorded {
            kind: RecordKind::Exec {
                path: "/bin/\"odd\"\n".into(),
            },
            ..call(10, 11, Arch::X86_64, 59, Some(0))
        };
        vec![
            call(10, 10, Arch::X86_64, 257, Some(3)),
            call(10, 11, Arch::X86_64, 59, Some(0)),
            exec,
            call(10, 10, Arch::X86, 20, Some(10)),
            call(10, 10, Arch::X86, 4, Some(-14)),
            call(10, 10, Arch::X32, X32_SYSCALL_BIT | 39, Some(-38)),
            // x32 with a 64-bit number: ioctl is 514 there, so 16 has no name that
            // numbers back.
            call(10, 10, Arch::X32, X32_SYSCALL_BIT | 16, None),
            call(10, 12, Arch::X86_64, 9, Some(0x7f00_0000_0000)),
            call(10, 12, Arch::X86_64, 4000, Some(-4096)),
            call(12, 12, Arch::X86_64, 231, None),
            Recorded::exit(12, ExitKind::Code(0)),
            Recorded::exit(
                10,
                ExitKind::Signal {
                    signal: 9,
                    core: false,
                },
            ),
        ]
    }

    #[test]
    fn both_forms_read_back_as_the_records() {
        let records = sample();
        let want: Vec<Event> = records.iter().filter_map(Recorded::event).collect();
        let mut jl = String::new();
        let mut st = String::new();
        let mut w = StraceWriter::new(Arch::X86_64);
        for r in &records {
            jsonl::write_record(&mut jl, r);
            w.write(&mut st, r);
        }
        let strip = |t: crate::trace::Trace| -> Vec<Event> {
            assert!(t.warnings.is_empty(), "{:?}", t.warnings);
            t.events
                .into_iter()
                .map(|e| Event { line: 0, ..e })
                .collect()
        };
        let from_json = strip(parse(&jl, Arch::X86_64).unwrap());
        assert_eq!(from_json, want, "{jl}");
        // The strace form's PID column is the thread.
        let want_tids: Vec<Event> = records
            .iter()
            .filter_map(|r| {
                r.event().map(|e| Event {
                    pid: Some(r.tid),
                    ..e
                })
            })
            .collect();
        // The strace reader keeps the trace's own `syscall_0x..` spelling as the name.
        let from_strace: Vec<Event> = strip(parse(&st, Arch::X86_64).unwrap())
            .into_iter()
            .map(|e| Event { name: None, ..e })
            .collect();
        assert_eq!(from_strace, want_tids, "{st}");
    }

    #[test]
    fn strace_lines_look_like_strace() {
        let mut out = String::new();
        let mut w = StraceWriter::new(Arch::X86_64);
        for r in sample() {
            w.write(&mut out, &r);
        }
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "10    [00007f0000001234] openat(0xffffff9c, 0x7ffd00001000, 0x80000, 0, \
             0xffffffffffffffff, 0x7) = 3"
        );
        assert_eq!(lines[2], "[ Process PID=10 runs in 32 bit mode. ]");
        assert!(lines[3].starts_with("10    [00007f0000001234] getpid("));
        assert!(
            lines[4].ends_with(") = -1 EFAULT (errno 14)"),
            "{}",
            lines[4]
        );
        assert_eq!(lines[5], "[ Process PID=10 runs in x32 mode. ]");
        assert!(lines[6].ends_with(") = -1 ENOSYS (errno 38)"));
        assert!(lines[7].contains("] syscall_0x10("), "{}", lines[7]);
        assert!(lines[7].ends_with(") = ?"));
        assert!(lines[8].ends_with(") = 0x7f0000000000"), "{}", lines[8]);
        assert!(lines[9].contains("syscall_0xfa0("));
        assert!(lines[9].ends_with(") = 0xfffffffffffff000"), "{}", lines[9]);
        assert_eq!(lines[11], "12    +++ exited with 0 +++");
        assert_eq!(lines[12], "10    +++ killed by SIGKILL +++");
    }
}
