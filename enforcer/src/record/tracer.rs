//! The event loop: every stop of every tracee, in the order `waitpid` reports them,
//! turned into records and a resumption.
//!
//! Per thread it keeps which process it belongs to, whether it is recorded, and the
//! call it is inside when the recorder waits for that call's exit stop. How a stop is
//! resumed: `PTRACE_SYSCALL` while a call's exit stop is wanted or in
//! [`Stops::Syscall`] mode, else `PTRACE_CONT`; a signal-delivery stop re-injects its
//! signal; a group-stop is `PTRACE_LISTEN`ed (the thread stays stopped, as it would
//! untraced, and its later stops are still reported); new tracees (auto-attached by
//! the fork/clone options) are adopted at whichever of their stops comes first, which
//! may come before their parent's event. Ending early: every tracee is killed (a
//! launched command) or detached, each at its next stop after `PTRACE_INTERRUPT`.

use std::collections::HashMap;
use std::io;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};

use super::sys::{self, Status, SyscallInfo};
use super::{ExitKind, Outcome, RecordError, RecordKind, Recorded};
use syscage_core::arch::Arch;
use syscage_core::syscalls::SyscallNr;

/// Which stops show the calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stops {
    /// `PTRACE_EVENT_SECCOMP`: the tracees run under a `SECCOMP_RET_TRACE` filter.
    Seccomp,
    /// Syscall-entry stops (`PTRACE_SYSCALL` everywhere): an attached process.
    Syscall,
}

struct Tracee {
    tgid: i32,
    recorded: bool,
    /// The call whose exit stop is wanted, and whether it was already emitted (an
    /// `execve` is emitted at its exec event).
    pending: Option<(Recorded, bool)>,
}

pub struct Tracer<'s> {
    pub stops: Stops,
    pub returns: bool,
    pub follow: bool,
    /// The recorder started the command: ending early kills rather than detaches.
    pub launched: bool,
    /// The process recorded (its threads are recorded without `follow`).
    pub root: i32,
    /// With `Some`, waits are `WNOHANG` + `sigwait` on this set (SIGCHLD and the
    /// signals that ask to detach, all blocked in this thread); with `None`, blocking.
    pub signals: Option<SigSet>,
    pub sink: &'s mut dyn FnMut(&Recorded) -> io::Result<()>,
    tracees: HashMap<i32, Tracee>,
    outcome: Option<Outcome>,
    /// Ending early: stops are met with a detach (or a kill). Calls held for their
    /// exit stop are emitted without a return value as their threads are let go.
    ending: bool,
    failed: Option<io::Error>,
}

const WAIT_FLAGS: i32 = libc::__WALL | libc::__WNOTHREAD;

fn group_stop_signal(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

impl<'s> Tracer<'s> {
    pub fn new(
        stops: Stops,
        root: i32,
        sink: &'s mut dyn FnMut(&Recorded) -> io::Result<()>,
    ) -> Tracer<'s> {
        Tracer {
            stops,
            returns: true,
            follow: true,
            launched: true,
            root,
            signals: None,
            sink,
            tracees: HashMap::new(),
            outcome: None,
            ending: false,
            failed: None,
        }
    }

    /// Registers threads attached before the loop runs.
    pub fn add(&mut self, tid: i32) {
        self.adopt(tid);
    }

    /// Runs until no tracee is left; returns the root's outcome.
    pub fn run(mut self) -> Result<Outcome, RecordError> {
        loop {
            if !self.launched && self.tracees.is_empty() {
                break;
            }
            let Some((tid, status)) = self.next()? else {
                break;
            };
            self.handle(tid, status);
        }
        if let Some(e) = self.failed.take() {
            return Err(RecordError::Output(e));
        }
        Ok(self.outcome.unwrap_or(Outcome::Detached))
    }

    /// The next status of a tracee; `None` when none is left.
    fn next(&mut self) -> Result<Option<(i32, Status)>, RecordError> {
        loop {
            let Some(set) = self.signals else {
                match sys::wait(WAIT_FLAGS) {
                    Ok(s) => return Ok(s),
                    Err(Errno::ECHILD) => return Ok(None),
                    Err(Errno::EINTR) => continue,
                    Err(errno) => {
                        return Err(RecordError::Ptrace {
                            what: "waitpid",
                            errno,
                        })
                    }
                }
            };
            match sys::wait(WAIT_FLAGS | libc::WNOHANG) {
                Ok(Some(s)) => return Ok(Some(s)),
                Ok(None) => {}
                Err(Errno::ECHILD) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(RecordError::Ptrace {
                        what: "waitpid",
                        errno,
                    })
                }
            }
            // Nothing ready: SIGCHLD (blocked, so it stays pending) says when something is.
            match set.wait() {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(_) => self.end(),
            }
        }
    }

    fn handle(&mut self, tid: i32, status: Status) {
        match status {
            Status::Exited(code) => self.gone(tid, ExitKind::Code(code)),
            Status::Signaled { signal, core } => self.gone(tid, ExitKind::Signal { signal, core }),
            Status::SyscallStop => {
                self.adopt(tid);
                self.syscall_stop(tid);
            }
            Status::Stopped { signal, event } => {
                self.adopt(tid);
                match event {
                    0 => self.resume(tid, signal),
                    sys::PTRACE_EVENT_SECCOMP => self.seccomp_stop(tid),
                    sys::PTRACE_EVENT_FORK | sys::PTRACE_EVENT_VFORK | sys::PTRACE_EVENT_CLONE => {
                        if let Ok(new) = sys::event_msg(tid) {
                            if let Ok(new) = i32::try_from(new) {
                                self.adopt(new);
                            }
                        }
                        self.resume(tid, 0);
                    }
                    sys::PTRACE_EVENT_EXEC => self.exec_stop(tid),
                    sys::PTRACE_EVENT_STOP if group_stop_signal(signal) => self.group_stop(tid),
                    _ => self.resume(tid, 0),
                }
            }
            Status::Other => {}
        }
    }

    /// A thread seen for the first time: which process, and whether it is recorded.
    fn adopt(&mut self, tid: i32) {
        if self.tracees.contains_key(&tid) {
            return;
        }
        let tgid = sys::tgid_of(tid).unwrap_or(tid);
        let recorded = self.follow || tgid == self.root;
        self.tracees.insert(
            tid,
            Tracee {
                tgid,
                recorded,
                pending: None,
            },
        );
        if self.ending && self.launched {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(tid), Signal::SIGKILL);
        }
    }

    /// Resumes a stopped thread, delivering `signal` (0: none).
    fn resume(&mut self, tid: i32, signal: i32) {
        let Some(t) = self.tracees.get(&tid) else {
            return;
        };
        let detach = !self.launched && (self.ending || !t.recorded);
        if detach {
            self.flush(tid);
            let _ = sys::request(sys::PTRACE_DETACH, tid, signal as usize);
            self.tracees.remove(&tid);
            return;
        }
        let req = if self.stops == Stops::Syscall || t.pending.is_some() {
            sys::PTRACE_SYSCALL
        } else {
            sys::PTRACE_CONT
        };
        let _ = sys::request(req, tid, signal as usize);
    }

    fn group_stop(&mut self, tid: i32) {
        let recorded = self.tracees.get(&tid).is_some_and(|t| t.recorded);
        if !self.launched && (self.ending || !recorded) {
            // Detached where it stands: it stays stopped, as it was.
            self.resume(tid, 0);
        } else {
            let _ = sys::request(sys::PTRACE_LISTEN, tid, 0);
        }
    }

    /// The record for the call `info` describes, stopped in thread `tid`.
    fn record(&self, tid: i32, info: &SyscallInfo) -> Recorded {
        let tgid = self.tracees.get(&tid).map_or(tid, |t| t.tgid);
        let nr = info.nr() as u32;
        let arch = Arch::from_audit(info.arch, nr).unwrap_or(Arch::X86_64);
        Recorded {
            trace_data: info.ret_data() as u16,
            ..Recorded::syscall(
                tgid as u32,
                tid as u32,
                SyscallNr { arch, nr },
                info.args(),
                info.instruction_pointer,
            )
        }
    }

    fn seccomp_stop(&mut self, tid: i32) {
        if let Ok(info) = sys::syscall_info(tid) {
            if info.op == sys::OP_SECCOMP {
                let rec = self.record(tid, &info);
                self.entered(tid, rec);
            }
        }
        self.resume(tid, 0);
    }

    fn syscall_stop(&mut self, tid: i32) {
        match sys::syscall_info(tid) {
            Ok(info) if info.op == sys::OP_ENTRY && self.stops == Stops::Syscall => {
                let mut rec = self.record(tid, &info);
                rec.trace_data = 0;
                self.entered(tid, rec);
            }
            Ok(info) if info.op == sys::OP_EXIT => {
                // An exit stop without its entry (attached mid-call, a new child's
                // return from fork) has no call to complete.
                if let Some((mut rec, emitted)) =
                    self.tracees.get_mut(&tid).and_then(|t| t.pending.take())
                {
                    if !emitted {
                        rec.ret = Some(info.rval());
                        self.emit(&rec);
                    }
                }
            }
            _ => {}
        }
        self.resume(tid, 0);
    }

    /// A call begins: emitted now, or held for its exit stop.
    fn entered(&mut self, tid: i32, rec: Recorded) {
        self.flush(tid);
        let Some(t) = self.tracees.get_mut(&tid) else {
            return;
        };
        if !t.recorded {
            return;
        }
        if self.returns {
            t.pending = Some((rec, false));
        } else {
            self.emit(&rec);
        }
    }

    /// A held call that will not return (the thread died or left it): emitted as is.
    fn flush(&mut self, tid: i32) {
        if let Some((rec, emitted)) = self.tracees.get_mut(&tid).and_then(|t| t.pending.take()) {
            if !emitted {
                self.emit(&rec);
            }
        }
    }

    fn exec_stop(&mut self, tid: i32) {
        // The thread that called execve had `former` as its tid; it is now the leader.
        let former = sys::event_msg(tid)
            .ok()
            .and_then(|f| i32::try_from(f).ok())
            .unwrap_or(tid);
        if former != tid {
            self.flush(tid); // the old leader, gone inside whatever call it was in
            if let Some(t) = self.tracees.remove(&former) {
                self.tracees.insert(tid, t);
            }
        }
        self.adopt(tid);
        let mut exec = None;
        if let Some(t) = self.tracees.get_mut(&tid) {
            t.tgid = tid;
            if t.recorded {
                let path = std::fs::read_link(format!("/proc/{tid}/exe"))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let call = match &mut t.pending {
                    Some((rec, emitted)) => {
                        // It succeeded: the exit stop, if one comes, returns 0.
                        rec.ret = Some(0);
                        let first = !*emitted;
                        *emitted = true;
                        Some((rec.clone(), first))
                    }
                    None => None,
                };
                exec = Some((call, path));
            }
        }
        if let Some((call, path)) = exec {
            let mut rec = match call {
                Some((rec, first)) => {
                    if first {
                        self.emit(&rec);
                    }
                    rec
                }
                None => Recorded::exit(tid as u32, ExitKind::Code(0)),
            };
            rec.pid = tid as u32;
            rec.tid = former as u32;
            rec.kind = RecordKind::Exec { path };
            self.emit(&rec);
        }
        self.resume(tid, 0);
    }

    fn gone(&mut self, tid: i32, status: ExitKind) {
        self.flush(tid);
        if let Some(t) = self.tracees.remove(&tid) {
            if t.recorded && t.tgid == tid {
                self.emit(&Recorded::exit(tid as u32, status));
            }
        }
        if tid == self.root {
            self.outcome = Some(match status {
                ExitKind::Code(c) => Outcome::Exited(c),
                ExitKind::Signal { signal, core } => Outcome::Signaled { signal, core },
            });
        }
    }

    /// Hands `rec` to the sink; after the sink failed, nothing more.
    fn emit(&mut self, rec: &Recorded) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = (self.sink)(rec) {
            self.failed = Some(e);
            self.end();
        }
    }

    /// Stops recording: a launched command is killed, an attached one detached.
    fn end(&mut self) {
        if self.ending {
            return;
        }
        self.ending = true;
        let tids: Vec<i32> = self.tracees.keys().copied().collect();
        for tid in tids {
            if self.launched {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(tid), Signal::SIGKILL);
            } else if sys::request(sys::PTRACE_INTERRUPT, tid, 0) == Err(Errno::ESRCH) {
                // Gone, or a zombie leader waiting for its threads: it reports no stop.
                self.tracees.remove(&tid);
            }
        }
        if self.launched {
            // The outcome is the kill's, not the command's own.
            self.outcome = None;
        }
    }
}
