//! The raw calls the recorder makes: ptrace requests with signal numbers as the kernel
//! takes them (real-time ones too, which nix's `Signal` cannot hold), `waitpid` with
//! its status decoded here for the same reason, and `PTRACE_GET_SYSCALL_INFO`, which
//! nix does not wrap with the buffer size the kernel wants.

use std::ffi::c_void;

use nix::errno::Errno;

pub const PTRACE_CONT: u32 = 7;
pub const PTRACE_SYSCALL: u32 = 24;
pub const PTRACE_DETACH: u32 = 17;
pub const PTRACE_GETEVENTMSG: u32 = 0x4201;
pub const PTRACE_SEIZE: u32 = 0x4206;
pub const PTRACE_INTERRUPT: u32 = 0x4207;
pub const PTRACE_LISTEN: u32 = 0x4208;
pub const PTRACE_GET_SYSCALL_INFO: u32 = 0x420e;

pub const PTRACE_EVENT_FORK: i32 = 1;
pub const PTRACE_EVENT_VFORK: i32 = 2;
pub const PTRACE_EVENT_CLONE: i32 = 3;
pub const PTRACE_EVENT_EXEC: i32 = 4;
pub const PTRACE_EVENT_SECCOMP: i32 = 7;
pub const PTRACE_EVENT_STOP: i32 = 128;

pub const PTRACE_O_TRACESYSGOOD: i32 = 0x1;
pub const PTRACE_O_TRACEFORK: i32 = 0x2;
pub const PTRACE_O_TRACEVFORK: i32 = 0x4;
pub const PTRACE_O_TRACECLONE: i32 = 0x8;
pub const PTRACE_O_TRACEEXEC: i32 = 0x10;
pub const PTRACE_O_TRACESECCOMP: i32 = 0x80;
pub const PTRACE_O_EXITKILL: i32 = 0x10_0000;

pub const OP_ENTRY: u8 = 1;
pub const OP_EXIT: u8 = 2;
pub const OP_SECCOMP: u8 = 3;

/// `struct ptrace_syscall_info` (linux/ptrace.h, 88 bytes): `data` is the union —
/// `entry`/`seccomp`: `nr`, `args[6]`, then (`seccomp`) `ret_data` in the low half of
/// `data[7]`; `exit`: `rval`, then `is_error` in the low byte of `data[1]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SyscallInfo {
    pub op: u8,
    pub reserved: u8,
    pub flags: u16,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    pub data: [u64; 8],
}

impl SyscallInfo {
    pub fn nr(&self) -> u64 {
        self.data[0]
    }
    pub fn args(&self) -> [u64; 6] {
        [
            self.data[1],
            self.data[2],
            self.data[3],
            self.data[4],
            self.data[5],
            self.data[6],
        ]
    }
    pub fn ret_data(&self) -> u32 {
        self.data[7] as u32
    }
    pub fn rval(&self) -> i64 {
        self.data[0] as i64
    }
}

/// One ptrace request that takes a tid and a number (`data`: the signal to deliver, the
/// options) and returns nothing.
pub fn request(req: u32, tid: i32, data: usize) -> Result<(), Errno> {
    // SAFETY: CONT, SYSCALL, DETACH, LISTEN, INTERRUPT, SEIZE and SETOPTIONS read no
    // memory of this process: `addr` is unused (0) and `data` is a number.
    let r = unsafe { libc::ptrace(req as _, tid, std::ptr::null_mut::<c_void>(), data) };
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// `PTRACE_GETEVENTMSG`.
pub fn event_msg(tid: i32) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    // SAFETY: the kernel writes one unsigned long to `msg`, which lives for the call.
    let r = unsafe {
        libc::ptrace(
            PTRACE_GETEVENTMSG as _,
            tid,
            std::ptr::null_mut::<c_void>(),
            &mut msg as *mut libc::c_ulong,
        )
    };
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(msg)
    }
}

/// `PTRACE_GET_SYSCALL_INFO` at a syscall or seccomp stop.
pub fn syscall_info(tid: i32) -> Result<SyscallInfo, Errno> {
    let mut info = SyscallInfo::default();
    // SAFETY: `addr` is the size of `info`, and the kernel writes at most that many
    // bytes to it; `info` lives for the call.
    let r = unsafe {
        libc::ptrace(
            PTRACE_GET_SYSCALL_INFO as _,
            tid,
            std::mem::size_of::<SyscallInfo>(),
            &mut info as *mut SyscallInfo,
        )
    };
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(info)
    }
}

/// What `waitpid` reported for a tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signaled {
        signal: i32,
        core: bool,
    },
    /// A syscall-entry or -exit stop (`SIGTRAP | 0x80`, with `PTRACE_O_TRACESYSGOOD`).
    SyscallStop,
    /// Any other stop: `event` 0 is a signal-delivery stop of `signal`; otherwise a
    /// `PTRACE_EVENT_*` stop.
    Stopped {
        signal: i32,
        event: i32,
    },
    /// Nothing this loop acts on (`WIFCONTINUED`).
    Other,
}

/// `waitpid(-1, status, flags)`: `Ok(None)` when `WNOHANG` found nothing ready.
pub fn wait(flags: i32) -> Result<Option<(i32, Status)>, Errno> {
    let mut raw: libc::c_int = 0;
    // SAFETY: the kernel writes one int to `raw`, which lives for the call.
    let pid = unsafe { libc::waitpid(-1, &mut raw, flags) };
    if pid == -1 {
        return Err(Errno::last());
    }
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some((pid, decode(raw))))
}

/// `waitpid(pid, status, flags)` for one process.
pub fn wait_for(pid: i32, flags: i32) -> Result<Status, Errno> {
    let mut raw: libc::c_int = 0;
    loop {
        // SAFETY: as in `wait`.
        let r = unsafe { libc::waitpid(pid, &mut raw, flags) };
        match r {
            -1 if Errno::last() == Errno::EINTR => continue,
            -1 => return Err(Errno::last()),
            _ => return Ok(decode(raw)),
        }
    }
}

fn decode(raw: i32) -> Status {
    if libc::WIFEXITED(raw) {
        Status::Exited(libc::WEXITSTATUS(raw))
    } else if libc::WIFSIGNALED(raw) {
        Status::Signaled {
            signal: libc::WTERMSIG(raw),
            core: libc::WCOREDUMP(raw),
        }
    } else if libc::WIFSTOPPED(raw) {
        let signal = libc::WSTOPSIG(raw);
        if signal == libc::SIGTRAP | 0x80 {
            Status::SyscallStop
        } else {
            Status::Stopped {
                signal,
                event: (raw >> 16) & 0xffff,
            }
        }
    } else {
        Status::Other
    }
}

/// The thread-group id of thread `tid` (`Tgid:` in `/proc/TID/status`).
pub fn tgid_of(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Whether this process has CAP_SYS_ADMIN in its effective set (`CapEff:`), which
/// lets it install a filter without no_new_privs.
pub fn has_cap_sys_admin() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
}
