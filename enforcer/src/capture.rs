//! The filter a program installs, caught as it installs it: the real runc or crun is run
//! under ptrace, and the moment one of its threads returns successfully from installing
//! a seccomp filter, every filter on that thread is read with
//! `PTRACE_SECCOMP_GET_FILTER` and the whole traced tree is killed.
//!
//! Waiting for the container to come up would not do: many profiles kill or cripple the
//! runtime's own init between the install and `execve`. Catching the install also tells
//! *how* the runtime installed it (`prctl(PR_SET_SECCOMP)` or `seccomp()` and its flags).
//!
//! Every thread and child of the command is traced (`PTRACE_O_TRACEFORK`, `...CLONE`,
//! `...VFORK`, `...EXEC`), stopping at each syscall. An install is recognised at its
//! syscall-exit stop: `seccomp(SECCOMP_SET_MODE_FILTER, flags, ...)` returning 0 or a
//! listener fd, or `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ...)` returning 0 (at the
//! entry stop the kernel has `rax = -ENOSYS`, so a non-negative `rax` is an exit). x86_64
//! only. Waits are for this thread's tracees only (`__WNOTHREAD`), so captures on two
//! threads do not take each other's events. This module does not clean up what the runtime leaves (its state directory,
//! cgroups): the caller runs `runc delete -f`.

use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use syscage_core::bpf::Program;

use crate::dump::{read_filters, DumpError};

const SYS_PRCTL: u64 = 157;
const SYS_SECCOMP: u64 = 317;
const PR_SET_SECCOMP: u64 = 22;
const SECCOMP_MODE_FILTER: u64 = 2;
const SECCOMP_SET_MODE_FILTER: u64 = 1;

/// How the filter was installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Install {
    /// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`: no flags.
    Prctl,
    /// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`.
    Seccomp { flags: u64 },
}

/// The filters on the installing thread right after the install, oldest first.
#[derive(Debug)]
pub struct Captured {
    pub programs: Vec<Program>,
    pub install: Install,
    /// The thread that installed it.
    pub tid: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("ptrace failed: {0}")]
    Ptrace(Errno),
    #[error("{program} ended without installing a seccomp filter ({how})")]
    NoFilter { program: String, how: String },
    #[error("{program} did not install a seccomp filter within {0:?}", .timeout)]
    Timeout { program: String, timeout: Duration },
    #[error(transparent)]
    Read(#[from] DumpError),
}

/// Runs `cmd` under ptrace until a thread of it (or of its children) installs a seccomp
/// filter, reads the filters, and kills every traced thread. Must be called from the
/// thread that will do the tracing (ptrace is per-thread).
pub fn capture(mut cmd: Command, timeout: Duration) -> Result<Captured, CaptureError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    // SAFETY: between fork and exec the child only makes the async-signal-safe
    // ptrace(PTRACE_TRACEME) call; it then stops at its execve with SIGTRAP.
    unsafe {
        cmd.pre_exec(|| {
            ptrace::traceme().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| CaptureError::Spawn {
        program: program.clone(),
        source,
    })?;
    let root = Pid::from_raw(child.id() as i32);
    let mut tracer = Tracer {
        root,
        known: HashSet::from([root]),
    };
    let out = tracer.run(&program, timeout);
    tracer.kill_all();
    out
}

struct Tracer {
    root: Pid,
    known: HashSet<Pid>,
}

impl Tracer {
    fn run(&mut self, program: &str, timeout: Duration) -> Result<Captured, CaptureError> {
        // The exec stop of the root.
        match waitpid(self.root, Some(WaitPidFlag::__WALL)).map_err(CaptureError::Ptrace)? {
            WaitStatus::Stopped(..) => {}
            other => {
                return Err(CaptureError::NoFilter {
                    program: program.into(),
                    how: format!("{other:?} before its first instruction"),
                })
            }
        }
        ptrace::setoptions(
            self.root,
            Options::PTRACE_O_TRACESYSGOOD
                | Options::PTRACE_O_TRACEFORK
                | Options::PTRACE_O_TRACEVFORK
                | Options::PTRACE_O_TRACECLONE
                | Options::PTRACE_O_TRACEEXEC
                | Options::PTRACE_O_EXITKILL,
        )
        .map_err(CaptureError::Ptrace)?;
        ptrace::syscall(self.root, None).map_err(CaptureError::Ptrace)?;
        let deadline = Instant::now() + timeout;
        let mut root_status = None;
        loop {
            if Instant::now() > deadline {
                return Err(CaptureError::Timeout {
                    program: program.into(),
                    timeout,
                });
            }
            let status = match waitpid(
                None,
                Some(WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD | WaitPidFlag::WNOHANG),
            ) {
                Ok(WaitStatus::StillAlive) => {
                    std::thread::sleep(Duration::from_micros(200));
                    continue;
                }
                Ok(s) => s,
                Err(Errno::ECHILD) => {
                    return Err(CaptureError::NoFilter {
                        program: program.into(),
                        how: root_status.unwrap_or_else(|| "every thread exited".into()),
                    })
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(CaptureError::Ptrace(e)),
            };
            match status {
                WaitStatus::PtraceSyscall(pid) => {
                    self.known.insert(pid);
                    if let Some(install) = installed(pid) {
                        let programs = read_filters(pid.as_raw())?;
                        return Ok(Captured {
                            programs,
                            install,
                            tid: pid.as_raw(),
                        });
                    }
                    let _ = ptrace::syscall(pid, None);
                }
                WaitStatus::PtraceEvent(pid, _, _) => {
                    self.known.insert(pid);
                    if let Ok(new) = ptrace::getevent(pid) {
                        self.known.insert(Pid::from_raw(new as i32));
                    }
                    let _ = ptrace::syscall(pid, None);
                }
                WaitStatus::Stopped(pid, sig) => {
                    self.known.insert(pid);
                    // A new thread or child starts with SIGSTOP: not the program's own.
                    let deliver = (sig != Signal::SIGSTOP).then_some(sig);
                    let _ = ptrace::syscall(pid, deliver);
                }
                WaitStatus::Exited(pid, code) => {
                    self.known.remove(&pid);
                    if pid == self.root {
                        root_status = Some(format!("{program} exited with status {code}"));
                    }
                }
                WaitStatus::Signaled(pid, sig, _) => {
                    self.known.remove(&pid);
                    if pid == self.root {
                        root_status = Some(format!("{program} was killed by {sig}"));
                    }
                }
                _ => {}
            }
        }
    }

    /// SIGKILL to every traced thread, then reaps what can be reaped.
    fn kill_all(&mut self) {
        for pid in self.known.drain() {
            let _ = kill(pid, Signal::SIGKILL);
        }
        let _ = kill(self.root, Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match waitpid(
                None,
                Some(WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD | WaitPidFlag::WNOHANG),
            ) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(1)),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
    }
}

/// Whether `pid`, at a syscall stop, is returning successfully from a filter install.
fn installed(pid: Pid) -> Option<Install> {
    let regs = ptrace::getregs(pid).ok()?;
    let ret = regs.rax as i64;
    if ret < 0 {
        return None; // an entry stop (-ENOSYS) or a failure
    }
    match regs.orig_rax {
        SYS_SECCOMP if regs.rdi == SECCOMP_SET_MODE_FILTER => {
            Some(Install::Seccomp { flags: regs.rsi })
        }
        SYS_PRCTL if regs.rdi == PR_SET_SECCOMP && regs.rsi == SECCOMP_MODE_FILTER => {
            Some(Install::Prctl)
        }
        _ => None,
    }
}
