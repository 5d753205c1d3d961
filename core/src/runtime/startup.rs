//! What the runtime itself calls after it installed the container's filter and before
//! the program's first instruction: those calls are judged by the container's own
//! profile, so a profile generated from the program's trace alone would stop the
//! container from starting (the failure users most often report: `runc create failed:
//! ... operation not permitted` or a container that dies with SIGSYS before its
//! entrypoint runs).
//!
//! The lists were read from the runtimes' code and measured: the runtime run under
//! `strace -f` (and `syscage record`), every call of the installing thread, and of the
//! threads it starts, from the install to the program's `execve`
//! (`tests/tests/runtime_startup.rs` repeats the measurement against the real runc and
//! crun). Both runtimes install at one of two points, chosen by the spec's
//! `process.noNewPrivileges`:
//!
//! * runc 1.1 (`libcontainer/standard_init_linux.go`, `Init`): with no_new_privs, just
//!   before closing its sync pipe (after `exec.LookPath`): then the pipe and log fd
//!   closes, opening and writing the exec FIFO through `/proc/self/fd`, `execve`.
//!   Without, before `finalizeNamespace`: closing fds above the preserved ones
//!   (`/proc/self/fd`), dropping the bounding set and capabilities (`prctl`, `capget`,
//!   `capset`), `setgroups`, `setgid`, `setuid`, `chdir`, restoring the parent-death
//!   signal, `getppid`, `exec.LookPath` and runc's executable check, then the steps
//!   above. runc is a Go program: its scheduler, collector and asynchronous
//!   preemption can run on the init thread at any point, so the calls the Go runtime
//!   makes there are listed too.
//! * crun 1.8 (`src/libcrun/container.c`, `container_init_setup` and `container_init`):
//!   with no_new_privs, closing the fds it keeps open and `execve`; without, also
//!   `libcrun_set_caps` (`prctl`, `capset`), `setresgid`/`setresuid` and the signal mask
//!   reset before `execve`.
//!
//! Measured here (runc 1.1.5, crun 1.8.1, Linux 6.18; `/bin/true` in a busybox bundle):
//! runc with no_new_privs made `close epoll_ctl execve fstatfs futex getdents64 getpid
//! openat write` under the filter, without it also `capget capset chdir faccessat2
//! fcntl fstat getcwd getppid newfstatat prctl read setgid setgroups setuid`; crun
//! `close execve`, without no_new_privs also `capset prctl rt_sigaction rt_sigprocmask
//! setresgid setresuid write`. The lists below are those plus what the code can reach
//! on other paths (`faccessat` on kernels without `faccessat2`; the Go runtime's calls,
//! which depend on timing: some runs show `rt_sigreturn` after an asynchronous preemption
//! signal, or more `futex` calls).
//!
//! This module lists the calls; what a profile does with them is the caller's business.

use super::{Runtime, RuntimeRelease};

/// One call the runtime makes under the container's filter, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartupCall {
    pub name: &'static str,
    pub why: &'static str,
}

const EXEC: &str = "the runtime executes the program";
const GO: &str = "Go runtime on runc's init thread (scheduler, GC, preemption)";

const RUNC_NNP: &[StartupCall] = &[
    c(
        "close",
        "runc closes its sync pipe, log fd and exec FIFO fd",
    ),
    c("openat", "runc opens the exec FIFO through /proc/self/fd"),
    c("write", "runc writes to the exec FIFO"),
    c("epoll_ctl", "Go registers each opened fd with its poller"),
    c("fstatfs", "Go's os.Open checks the file system of /proc"),
    c("getdents64", "runc reads /proc/self/fd"),
    c("getpid", "runc records its pid in the container state"),
    c("execve", EXEC),
    c("futex", GO),
    c("nanosleep", GO),
    c("sched_yield", GO),
    c("rt_sigreturn", GO),
    c("mmap", GO),
    c("munmap", GO),
    c("madvise", GO),
];

const RUNC_PRIVILEGED_INSTALL: &[StartupCall] = &[
    c("fcntl", "runc marks fds close-on-exec"),
    c("fstat", "Go's os.Open"),
    c("read", "runc reads /proc/self/status"),
    c("capget", "runc reads its capabilities"),
    c("capset", "runc sets the container's capabilities"),
    c(
        "prctl",
        "runc drops the bounding set, keeps caps, restores PDEATHSIG",
    ),
    c("setgroups", "runc sets the supplementary groups"),
    c("setgid", "runc switches to the container's group"),
    c("setuid", "runc switches to the container's user"),
    c("chdir", "runc enters process.cwd"),
    c("getcwd", "Go's os.Getwd"),
    c("getppid", "runc checks its parent is still alive"),
    c("newfstatat", "exec.LookPath stats the program"),
    c(
        "faccessat2",
        "runc checks the program is executable (Eaccess)",
    ),
    c("faccessat", "runc's Eaccess on kernels without faccessat2"),
];

const CRUN_NNP: &[StartupCall] = &[
    c("close", "crun closes the fds it keeps until exec"),
    c("execve", EXEC),
];

const CRUN_PRIVILEGED_INSTALL: &[StartupCall] = &[
    c("prctl", "crun drops the bounding set and sets keep-caps"),
    c("capset", "crun sets the container's capabilities"),
    c("setresgid", "crun switches to the container's group"),
    c("setresuid", "crun switches to the container's user"),
    c("rt_sigaction", "crun resets signal handlers"),
    c("rt_sigprocmask", "crun unblocks signals"),
    c("write", "crun reports to its parent"),
];

const fn c(name: &'static str, why: &'static str) -> StartupCall {
    StartupCall { name, why }
}

impl RuntimeRelease {
    /// The calls this runtime makes under the container's filter before the program
    /// runs: with `no_new_privs` (the spec's `process.noNewPrivileges`) the filter goes
    /// on as late as the runtime can; without it (Docker's and Kubernetes' default,
    /// `allowPrivilegeEscalation` unset) it goes on before the privileges are dropped,
    /// and more calls follow it. Names may repeat across the two groups; each is listed
    /// once.
    pub fn after_install(&self, no_new_privs: bool) -> Vec<StartupCall> {
        let (late, early) = match self.runtime {
            Runtime::Runc => (RUNC_NNP, RUNC_PRIVILEGED_INSTALL),
            Runtime::Crun => (CRUN_NNP, CRUN_PRIVILEGED_INSTALL),
        };
        let mut calls: Vec<StartupCall> = late.to_vec();
        if !no_new_privs {
            for call in early {
                if !calls.iter().any(|c| c.name == call.name) {
                    calls.push(*call);
                }
            }
        }
        calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::syscalls;

    #[test]
    fn every_listed_call_exists_on_x86_64_and_privileged_installs_need_more() {
        for rt in [Runtime::Runc, Runtime::Crun] {
            let rr = RuntimeRelease::from(rt);
            let late = rr.after_install(true);
            let early = rr.after_install(false);
            assert!(early.len() > late.len(), "{rt}");
            assert!(late.iter().all(|c| early.contains(c)), "{rt}");
            for call in &early {
                assert!(
                    syscalls::number_of(Arch::X86_64, call.name).is_some(),
                    "{rt}: {}",
                    call.name
                );
            }
            let mut names: Vec<_> = early.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), early.len(), "{rt}: a name listed twice");
            assert!(late.iter().any(|c| c.name == "execve"), "{rt}");
        }
    }
}
