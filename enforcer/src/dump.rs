//! Reading the filters installed on a live process with `PTRACE_SECCOMP_GET_FILTER`
//! (needs CAP_SYS_ADMIN and a kernel built with CONFIG_CHECKPOINT_RESTORE).
//!
//! The process is attached with `PTRACE_SEIZE`, stopped with `PTRACE_INTERRUPT` for the
//! duration of the read, and detached; it does not see a signal. The kernel numbers
//! filters from the oldest (index 0, measured on 6.18: `get_nth_filter` counts back from
//! the newest), so [`dump`] returns them in that order — the order in which they were
//! installed and in which `syscage check` stacks them.

use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use syscage_core::bpf::{Insn, Program};

const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("cannot attach to process {pid}: {errno}{hint}")]
    Attach {
        pid: i32,
        errno: Errno,
        hint: &'static str,
    },
    #[error("process {pid}: PTRACE_SECCOMP_GET_FILTER failed: {errno}{hint}")]
    Read {
        pid: i32,
        errno: Errno,
        hint: &'static str,
    },
    #[error("process {pid} has no seccomp filter (mode is not `filter`)")]
    NotFiltered { pid: i32 },
    #[error("process {pid}: the kernel returned a filter of {len} instructions")]
    Bad { pid: i32, len: i64 },
}

fn hint(e: Errno) -> &'static str {
    match e {
        Errno::EPERM | Errno::EACCES => " (reading filters needs CAP_SYS_ADMIN and ptrace access)",
        Errno::EIO | Errno::EINVAL => {
            " (the kernel may lack CONFIG_CHECKPOINT_RESTORE, or the filter is not a classic BPF one)"
        }
        Errno::ESRCH => " (no such process)",
        _ => "",
    }
}

/// Detaches on drop, handing back the signal the process was stopped for, if any.
struct Attached(Pid, Option<nix::sys::signal::Signal>);

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = ptrace::detach(self.0, self.1);
    }
}

/// Every filter installed on thread `pid`, oldest first.
pub fn dump(pid: i32) -> Result<Vec<Program>, DumpError> {
    let p = Pid::from_raw(pid);
    let attach = |errno| DumpError::Attach {
        pid,
        errno,
        hint: hint(errno),
    };
    ptrace::seize(p, ptrace::Options::empty()).map_err(attach)?;
    let mut guard = Attached(p, None);
    ptrace::interrupt(p).map_err(attach)?;
    loop {
        match waitpid(p, Some(WaitPidFlag::__WALL)).map_err(attach)? {
            // The interrupt's stop (or a group-stop, which a seized tracee reports the
            // same way).
            WaitStatus::PtraceEvent(..) => break,
            // A signal arrived first: this is its delivery stop. The filters can be read
            // here too; the signal goes back with the detach, so the process still gets
            // it (and the interrupt, still pending, is dropped by the detach).
            WaitStatus::Stopped(_, sig) => {
                guard.1 = Some(sig);
                break;
            }
            WaitStatus::Exited(..) | WaitStatus::Signaled(..) => {
                return Err(attach(Errno::ESRCH));
            }
            _ => {}
        }
    }
    let out = read_filters(pid)?;
    drop(guard);
    Ok(out)
}

/// Every filter of thread `pid`, which this thread traces and which is stopped, oldest
/// first.
pub(crate) fn read_filters(pid: i32) -> Result<Vec<Program>, DumpError> {
    let mut out = Vec::new();
    for index in 0.. {
        // SAFETY: with a null buffer the kernel only returns the filter's length.
        let len = unsafe {
            libc::ptrace(
                PTRACE_SECCOMP_GET_FILTER as _,
                pid,
                index as *mut libc::c_void,
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
        if len < 0 {
            match Errno::last() {
                Errno::ENOENT => break,
                Errno::EINVAL if index == 0 => return Err(DumpError::NotFiltered { pid }),
                errno => {
                    return Err(DumpError::Read {
                        pid,
                        errno,
                        hint: hint(errno),
                    })
                }
            }
        }
        if len == 0 || len > 4096 {
            return Err(DumpError::Bad { pid, len });
        }
        let mut buf = vec![Insn::default(); len as usize];
        // SAFETY: `buf` has room for `len` sock_filters (Insn has their layout).
        let got = unsafe {
            libc::ptrace(
                PTRACE_SECCOMP_GET_FILTER as _,
                pid,
                index as *mut libc::c_void,
                buf.as_mut_ptr() as *mut libc::c_void,
            )
        };
        if got != len {
            let errno = Errno::last();
            return Err(DumpError::Read {
                pid,
                errno,
                hint: hint(errno),
            });
        }
        out.push(Program::new(buf));
    }
    if out.is_empty() {
        return Err(DumpError::NotFiltered { pid });
    }
    Ok(out)
}
