//! The kernel oracle: the running kernel's verdict for a syscall event, observed with
//! ptrace, without the syscall ever executing.
//!
//! A forked child process has two threads. The leader only waits (it keeps the thread
//! group alive, so that KILL_THREAD and KILL_PROCESS can be told apart). The worker is
//! attached with `PTRACE_SEIZE` (`TRACESECCOMP | TRACESYSGOOD | EXITKILL`), sets
//! no_new_privs and installs, on itself only, a one-instruction *guard* filter
//! `RET TRACE|magic` first and the filters under test after it. It then parks in a
//! three-instruction loop — `int3; syscall; jmp` and `int $0x80; jmp` — and the tracer
//! does everything else through registers: at each `int3` stop it writes the event's
//! number and six arguments into the registers (`rdi rsi rdx r10 r8 r9` for x86_64 and
//! x32 numbers, `rbx rcx rdx rsi rdi rbp` for i386) and points `rip` at `syscall` or at
//! `int $0x80`. The kernel runs every filter and keeps the lowest action (newest filter
//! on ties), so what the tracer sees next decides the verdict:
//!
//! * a seccomp stop carrying the magic: the filters under test returned ALLOW or LOG
//!   (the guard's TRACE beat them); the tracer sets `orig_rax = -1`, so the syscall is
//!   skipped. Every verdict that would run the syscall ends here: nothing executes.
//! * a seccomp stop with another message: TRACE(message) from a filter under test
//!   (newer than the guard, so its data wins the tie); skipped the same way.
//! * a SIGSYS signal-delivery stop with `si_code == SYS_SECCOMP`: TRAP(`si_errno`); the
//!   signal is suppressed.
//! * back at `int3` with no stop in between: ERRNO(-rax), or NOTIFY if the listener
//!   thread (the newest filter is installed with `SECCOMP_FILTER_FLAG_NEW_LISTENER`, and
//!   the tracer takes the listener with `pidfd_getfd`) received a notification, which it
//!   answers with `-ENOSYS`.
//! * the worker dies of SIGSYS: KILL. If the leader is dying too (a SIGKILL pending, or
//!   exiting), it was KILL_PROCESS; if the leader sleeps on untouched, KILL_THREAD.
//!   The child is then replaced by a fresh one for the next event.
//!
//! x86_64 `uretprobe` and `uprobe` never reach seccomp (they would really run): they are
//! answered [`Observed::Bypass`] without being issued. The remaining blind spots are in
//! [`crate::observe`] and SEMANTICS.md ("Kernel oracle"): LOG looks like ALLOW, ERRNO
//! data is what the kernel makes of it (capped at 4095), and `instruction_pointer` is the
//! worker's own, not the event's.
//!
//! A [`KernelOracle`] must be used from the thread that created it (ptrace is
//! per-thread): it is neither `Send` nor `Sync`.

use std::marker::PhantomData;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use nix::errno::Errno;
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, pipe2, ForkResult, Pid};
use syscage_core::action::{ret, Action, ActionKind};
use syscage_core::bpf::{self, Program, MAX_INSNS_PER_PATH};
use syscage_core::event::SeccompData;

use crate::observe::Observed;

/// `AUDIT_ARCH_X86_64`: what the `syscall` instruction reports (x32 numbers included).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`: what `int $0x80` reports.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// x86_64 numbers that bypass seccomp on recent kernels (uretprobe, uprobe).
const BYPASS_NRS: [u32; 2] = [335, 336];

/// Why the oracle cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("the kernel oracle: {what} failed: {errno}")]
    Os { what: &'static str, errno: Errno },
    #[error(
        "the kernel oracle's child could not install {what}: {errno} (a filter under test that \
         denies seccomp() or prctl() to the filters installed after it cannot be stacked \
         for observation)"
    )]
    Install { what: String, errno: Errno },
    #[error("the kernel oracle: filter {index} is not a loadable filter: {error}")]
    Invalid {
        index: usize,
        error: bpf::ValidateError,
    },
    #[error(
        "the kernel oracle: the stack is {total} instructions with the guard (the kernel \
         allows {MAX_INSNS_PER_PATH})"
    )]
    TooLong { total: usize },
    #[error("the kernel oracle's child did something unexpected: {0}")]
    Protocol(String),
}

fn os(what: &'static str) -> impl FnOnce(Errno) -> OracleError {
    move |errno| OracleError::Os { what, errno }
}

/// What the worker thread reads: prepared before `fork`, so the child has its own copy
/// at the same address.
#[repr(C)]
struct Setup {
    go_fd: i32,
    guard: libc::sock_fprog,
    progs: *const libc::sock_fprog,
    nprogs: usize,
    listener: bool,
}

/// A raw syscall from the worker: no libc (the worker shares the leader's TLS), no errno.
///
/// # Safety
/// The caller passes arguments valid for `nr`.
#[inline(always)]
unsafe fn raw_syscall(nr: i64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the `syscall` instruction with the kernel's x86_64 calling convention;
    // rcx and r11 are clobbered by the instruction.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// Parks the worker in the issuing loop. The first `int3` reports the setup's result
/// (`rax` status, `rdx` step, `rsi` listener fd); after that the tracer drives it.
///
/// # Safety
/// Only for the oracle's worker thread, which the tracer controls.
#[inline(never)]
unsafe fn park(status: i64, step: u64, listener: i64) -> ! {
    // SAFETY: an endless loop the tracer steers; it touches no memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "int3",
            "syscall",
            "jmp 2b",
            "int 0x80",
            "jmp 2b",
            in("rax") status, in("rdx") step, in("rsi") listener,
            options(noreturn)
        )
    }
}

/// The bytes `park` must have after its `int3`: `syscall; jmp short; int $0x80`.
fn loop_code_ok(word: u64) -> bool {
    let b = word.to_le_bytes();
    b[0] == 0x0f && b[1] == 0x05 && b[2] == 0xeb && b[4] == 0xcd && b[5] == 0x80
}

extern "C" fn worker(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the child's copy of the oracle's `Setup`, alive for the child's
    // whole life (the child never frees anything).
    let s = unsafe { &*(arg as *const Setup) };
    let mut byte = 0u8;
    // SAFETY: reads one byte into a local: waits until the tracer has attached.
    unsafe {
        raw_syscall(
            libc::SYS_read,
            [s.go_fd as u64, &mut byte as *mut u8 as u64, 1, 0, 0, 0],
        )
    };
    let mut step = 0u64;
    let mut listener = -1i64;
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1) takes no pointers.
    let mut status = unsafe {
        raw_syscall(
            libc::SYS_prctl,
            [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0],
        )
    };
    if status == 0 {
        step = 1;
        // SAFETY: the guard's sock_fprog points into the child's copy of the setup.
        status = unsafe {
            raw_syscall(
                libc::SYS_seccomp,
                [
                    u64::from(libc::SECCOMP_SET_MODE_FILTER),
                    0,
                    &s.guard as *const libc::sock_fprog as u64,
                    0,
                    0,
                    0,
                ],
            )
        };
    }
    let mut i = 0;
    while status >= 0 && i < s.nprogs {
        step = 2 + i as u64;
        let flags = if i + 1 == s.nprogs && s.listener {
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
        } else {
            0
        };
        // SAFETY: `progs` has `nprogs` sock_fprogs pointing into the child's memory.
        let r = unsafe {
            raw_syscall(
                libc::SYS_seccomp,
                [
                    u64::from(libc::SECCOMP_SET_MODE_FILTER),
                    flags,
                    s.progs.add(i) as u64,
                    0,
                    0,
                    0,
                ],
            )
        };
        if r >= 0 && flags != 0 {
            listener = r;
            status = 0;
        } else {
            status = r.min(0);
        }
        i += 1;
    }
    // SAFETY: this is the worker thread.
    unsafe { park(status, step, listener) }
}

/// Starts [`worker`] as a thread of this process on the stack ending at `stack_top`;
/// its tid, or -1.
///
/// # Safety
/// `stack_top` must end a stack that nothing else uses, and `arg` outlive the thread.
#[cfg(not(target_env = "musl"))]
unsafe fn spawn_thread(flags: libc::c_int, stack_top: usize, arg: *mut libc::c_void) -> i32 {
    // SAFETY: the caller's contract; glibc's clone runs `worker` on the new stack.
    unsafe { libc::clone(worker, stack_top as *mut libc::c_void, flags, arg) }
}

/// musl's `clone()` refuses CLONE_THREAD (musl 1.2.4+: "flags that produce an invalid
/// thread/TLS state are disallowed"), so the static image's binary makes the system
/// call itself: the new thread returns from it on its own stack and calls `worker`,
/// which never returns.
///
/// # Safety
/// As the glibc version.
#[cfg(target_env = "musl")]
unsafe fn spawn_thread(flags: libc::c_int, stack_top: usize, arg: *mut libc::c_void) -> i32 {
    let ret: i64;
    // SAFETY: clone(flags, stack, 0, 0, 0). In the parent it returns the tid. The child
    // starts on `stack_top` (64-byte aligned, so `call` leaves the ABI's alignment)
    // with every register but rax/rcx/r11 as the parent had them: r12 holds `worker`,
    // r13 its argument; `worker` parks and never returns (ud2 otherwise).
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r13",
            "call r12",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone => ret,
            in("rdi") i64::from(flags),
            in("rsi") stack_top,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") worker as *const () as usize,
            in("r13") arg,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    if ret < 0 {
        -1
    } else {
        ret as i32
    }
}

/// The forked child's leader: start the worker, report its tid, sleep.
fn child_main(setup: *mut Setup, stack_top: usize, tid_w: i32, parent: Pid) -> ! {
    // SAFETY: only async-signal-safe calls between fork and the end of this process;
    // the stack and setup were allocated before the fork.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent.as_raw() {
            libc::_exit(1);
        }
        // KILL_PROCESS would dump core into the working directory otherwise.
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        let flags = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM;
        let tid = spawn_thread(flags, stack_top, setup as *mut libc::c_void);
        libc::write(tid_w, &tid as *const i32 as *const libc::c_void, 4);
        loop {
            libc::pause();
        }
    }
}

/// One live child: its leader, its traced worker, and what the tracer learned.
struct Child {
    leader: Pid,
    worker: Pid,
    regs: libc::user_regs_struct,
    syscall_site: u64,
    notified: Option<Arc<AtomicU64>>,
}

impl Child {
    /// Kills and reaps the child (worker first: a traced thread is reaped by its tracer).
    fn finish(&mut self) {
        let _ = kill(self.leader, Signal::SIGKILL);
        loop {
            match waitpid(self.worker, Some(WaitPidFlag::__WALL)) {
                Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) | Err(_) => break,
                Ok(_) => {
                    let _ = ptrace::cont(self.worker, None);
                }
            }
        }
        let _ = waitpid(self.leader, Some(WaitPidFlag::__WALL));
    }
}

/// Runs filter stacks in the kernel and reports the kernel's verdicts. See the module
/// documentation for how.
pub struct KernelOracle {
    programs: Vec<Vec<libc::sock_filter>>,
    fprogs: Vec<libc::sock_fprog>,
    guard: Vec<libc::sock_filter>,
    setup: Box<Setup>,
    stack: Vec<u8>,
    magic: u16,
    child: Option<Child>,
    observed: u64,
    spawned: u64,
    _not_send: PhantomData<*const ()>,
}

/// Whether this machine can run the oracle; `Err` says why not.
pub fn available() -> Result<(), String> {
    let allow = Program::new(vec![bpf::Insn::stmt(bpf::BPF_RET | bpf::BPF_K, ret::ALLOW)]);
    let mut o = KernelOracle::new(&[allow]).map_err(|e| e.to_string())?;
    let getpid = SeccompData {
        nr: 39,
        arch: AUDIT_ARCH_X86_64,
        ..SeccompData::default()
    };
    match o.observe(&getpid) {
        Ok(Observed::AllowOrLog) => Ok(()),
        Ok(other) => Err(format!(
            "a filter that allows everything was observed as {other}"
        )),
        Err(e) => Err(e.to_string()),
    }
}

impl KernelOracle {
    /// An oracle for the stack `programs` (oldest first). Spawns the first child, so
    /// problems (no seccomp, no ptrace, a filter the kernel rejects) show up here.
    pub fn new(programs: &[Program]) -> Result<KernelOracle, OracleError> {
        for (index, p) in programs.iter().enumerate() {
            bpf::validate(p).map_err(|error| OracleError::Invalid { index, error })?;
        }
        let total: usize = 5 + programs.iter().map(|p| p.len() + 4).sum::<usize>();
        if total > MAX_INSNS_PER_PATH {
            return Err(OracleError::TooLong { total });
        }
        let rets: Vec<(u16, u32)> = programs
            .iter()
            .flat_map(|p| p.insns())
            .filter(|i| i.is_ret())
            .map(|i| (i.code, i.k))
            .collect();
        let ret_a = rets.iter().any(|(code, _)| bpf::src(*code) == bpf::BPF_A);
        let trace_data: Vec<u16> = rets
            .iter()
            .filter(|(_, k)| k & ret::ACTION_FULL == ret::TRACE)
            .map(|(_, k)| (k & ret::DATA) as u16)
            .collect();
        let magic = (0..=0xfeedu16)
            .rev()
            .find(|m| !trace_data.contains(m))
            .expect("fewer than 65k TRACE values");
        let listener = ret_a
            || programs.last().is_some_and(|p| {
                p.insns()
                    .iter()
                    .any(|i| i.is_ret() && i.k & ret::ACTION_FULL == ret::USER_NOTIF)
            });
        let to_sock = |p: &Program| -> Vec<libc::sock_filter> {
            p.insns()
                .iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect()
        };
        let guard = vec![libc::sock_filter {
            code: bpf::BPF_RET | bpf::BPF_K,
            jt: 0,
            jf: 0,
            k: Action::new(ActionKind::Trace, magic).to_ret(),
        }];
        let programs: Vec<Vec<libc::sock_filter>> = programs.iter().map(to_sock).collect();
        let fprogs: Vec<libc::sock_fprog> = programs
            .iter()
            .map(|p| libc::sock_fprog {
                len: p.len() as u16,
                filter: p.as_ptr() as *mut libc::sock_filter,
            })
            .collect();
        let setup = Box::new(Setup {
            go_fd: -1,
            guard: libc::sock_fprog {
                len: 1,
                filter: guard.as_ptr() as *mut libc::sock_filter,
            },
            progs: fprogs.as_ptr(),
            nprogs: fprogs.len(),
            listener,
        });
        let mut o = KernelOracle {
            programs,
            fprogs,
            guard,
            setup,
            stack: vec![0u8; 64 * 1024],
            magic,
            child: None,
            observed: 0,
            spawned: 0,
            _not_send: PhantomData,
        };
        let child = o.spawn()?;
        o.child = Some(child);
        Ok(o)
    }

    /// How many verdicts the kernel has been observed giving so far.
    pub fn observed(&self) -> u64 {
        self.observed
    }

    /// How many children were started (one, plus one after each KILL).
    pub fn children_spawned(&self) -> u64 {
        self.spawned
    }

    /// The TRACE data the guard filter uses (a value no filter under test returns with a
    /// constant `RET`).
    pub fn magic(&self) -> u16 {
        self.magic
    }

    /// The kernel's verdicts for `events`, in order.
    pub fn verdicts(&mut self, events: &[SeccompData]) -> Result<Vec<Observed>, OracleError> {
        events.iter().map(|e| self.observe(e)).collect()
    }

    fn spawn(&mut self) -> Result<Child, OracleError> {
        debug_assert_eq!(self.fprogs.len(), self.programs.len());
        debug_assert_eq!(self.guard.len(), 1);
        let (tid_r, tid_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("pipe2"))?;
        let (go_r, go_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("pipe2"))?;
        self.setup.go_fd = go_r.as_raw_fd();
        let top = (self.stack.as_mut_ptr() as usize + self.stack.len()) & !63;
        let setup: *mut Setup = &mut *self.setup;
        let parent = getpid();
        // SAFETY: the child only runs `child_main`, which makes async-signal-safe calls
        // and never returns.
        let leader = match unsafe { fork() }.map_err(os("fork"))? {
            ForkResult::Child => child_main(setup, top, tid_w.as_raw_fd(), parent),
            ForkResult::Parent { child } => child,
        };
        drop(tid_w);
        drop(go_r);
        self.spawned += 1;
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match nix::unistd::read(&tid_r, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(os("read")(e)),
            }
        }
        let tid = i32::from_le_bytes(buf);
        let mut child = Child {
            leader,
            worker: Pid::from_raw(tid),
            // SAFETY: user_regs_struct is plain integers; all-zero is a valid value.
            regs: unsafe { std::mem::zeroed() },
            syscall_site: 0,
            notified: None,
        };
        if got < 4 || tid <= 0 {
            let _ = kill(leader, Signal::SIGKILL);
            let _ = waitpid(leader, None);
            return Err(OracleError::Protocol(
                "the child could not start its worker thread".into(),
            ));
        }
        match self.attach(&mut child, go_w) {
            Ok(()) => Ok(child),
            Err(e) => {
                child.finish();
                Err(e)
            }
        }
    }

    fn attach(&mut self, child: &mut Child, go_w: OwnedFd) -> Result<(), OracleError> {
        let w = child.worker;
        ptrace::seize(
            w,
            Options::PTRACE_O_TRACESECCOMP
                | Options::PTRACE_O_TRACESYSGOOD
                | Options::PTRACE_O_EXITKILL,
        )
        .map_err(os("PTRACE_SEIZE"))?;
        nix::unistd::write(&go_w, &[1]).map_err(os("write"))?;
        drop(go_w);
        loop {
            match waitpid(w, Some(WaitPidFlag::__WALL)).map_err(os("waitpid"))? {
                // Installing a filter passes the guard (and earlier filters): let it run.
                WaitStatus::PtraceEvent(_, _, libc::PTRACE_EVENT_SECCOMP) => {
                    ptrace::cont(w, None).map_err(os("PTRACE_CONT"))?
                }
                WaitStatus::Stopped(_, Signal::SIGTRAP) => break,
                other => {
                    return Err(OracleError::Protocol(format!(
                        "while installing the filters: {other:?}"
                    )))
                }
            }
        }
        let regs = ptrace::getregs(w).map_err(os("PTRACE_GETREGS"))?;
        let status = regs.rax as i64;
        if status < 0 {
            let what = match regs.rdx {
                0 => "no_new_privs".to_string(),
                1 => "the guard filter".to_string(),
                n => format!("filter {} of the stack", n - 2),
            };
            return Err(OracleError::Install {
                what,
                errno: Errno::from_raw(-status as i32),
            });
        }
        let code =
            ptrace::read(w, regs.rip as ptrace::AddressType).map_err(os("PTRACE_PEEKTEXT"))?;
        if !loop_code_ok(code as u64) {
            return Err(OracleError::Protocol(format!(
                "the issuing loop does not have the expected code ({:#018x})",
                code as u64
            )));
        }
        child.regs = regs;
        child.syscall_site = regs.rip;
        let listener = regs.rsi as i64;
        if listener >= 0 {
            let fd = take_fd(child.leader, listener as i32)?;
            let count = Arc::new(AtomicU64::new(0));
            let c = Arc::clone(&count);
            std::thread::Builder::new()
                .name("syscage-oracle-notify".into())
                .spawn(move || answer_notifications(fd, &c))
                .map_err(|_| os("spawning the listener thread")(Errno::EAGAIN))?;
            child.notified = Some(count);
        }
        Ok(())
    }

    /// The kernel's verdict for one event.
    pub fn observe(&mut self, d: &SeccompData) -> Result<Observed, OracleError> {
        let int80 = match d.arch {
            AUDIT_ARCH_X86_64 if BYPASS_NRS.contains(&d.nr) => return Ok(Observed::Bypass),
            AUDIT_ARCH_X86_64 => false,
            AUDIT_ARCH_I386 => true,
            _ => return Ok(Observed::Unobservable),
        };
        if self.child.is_none() {
            let c = self.spawn()?;
            self.child = Some(c);
        }
        let magic = self.magic;
        let child = self.child.as_mut().expect("spawned above");
        let w = child.worker;
        let mut r = child.regs;
        r.rax = u64::from(d.nr);
        r.orig_rax = u64::MAX;
        let a = d.args;
        if int80 {
            (r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp) = (a[0], a[1], a[2], a[3], a[4], a[5]);
            r.rip = child.syscall_site + 4;
        } else {
            (r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9) = (a[0], a[1], a[2], a[3], a[4], a[5]);
            r.rip = child.syscall_site;
        }
        let before = child
            .notified
            .as_ref()
            .map_or(0, |n| n.load(Ordering::SeqCst));
        let result = (|| -> Result<Option<Observed>, OracleError> {
            ptrace::setregs(w, r).map_err(os("PTRACE_SETREGS"))?;
            ptrace::cont(w, None).map_err(os("PTRACE_CONT"))?;
            let mut seen = None;
            loop {
                match waitpid(w, Some(WaitPidFlag::__WALL)).map_err(os("waitpid"))? {
                    WaitStatus::PtraceEvent(_, _, libc::PTRACE_EVENT_SECCOMP) => {
                        let msg = (ptrace::getevent(w).map_err(os("PTRACE_GETEVENTMSG"))? as u32)
                            & ret::DATA;
                        seen = Some(if msg == u32::from(magic) {
                            Observed::AllowOrLog
                        } else {
                            Observed::Ret(ret::TRACE | msg)
                        });
                        let mut skip = ptrace::getregs(w).map_err(os("PTRACE_GETREGS"))?;
                        skip.orig_rax = u64::MAX;
                        ptrace::setregs(w, skip).map_err(os("PTRACE_SETREGS"))?;
                        ptrace::cont(w, None).map_err(os("PTRACE_CONT"))?;
                    }
                    WaitStatus::Stopped(_, Signal::SIGSYS) => {
                        let si = ptrace::getsiginfo(w).map_err(os("PTRACE_GETSIGINFO"))?;
                        if si.si_code != 1 {
                            return Err(OracleError::Protocol(format!(
                                "SIGSYS with si_code {}",
                                si.si_code
                            )));
                        }
                        seen = Some(Observed::Ret(ret::TRAP | (si.si_errno as u32 & ret::DATA)));
                        ptrace::cont(w, None).map_err(os("PTRACE_CONT"))?;
                    }
                    WaitStatus::Stopped(_, Signal::SIGTRAP) => {
                        if let Some(o) = seen {
                            return Ok(Some(o));
                        }
                        let now = child
                            .notified
                            .as_ref()
                            .map_or(0, |n| n.load(Ordering::SeqCst));
                        if now != before {
                            return Ok(Some(Observed::Ret(ret::USER_NOTIF)));
                        }
                        let rax = ptrace::getregs(w).map_err(os("PTRACE_GETREGS"))?.rax as i32;
                        if !(-4095..=0).contains(&rax) {
                            return Err(OracleError::Protocol(format!(
                                "the syscall returned {rax} without a seccomp stop"
                            )));
                        }
                        return Ok(Some(Observed::Ret(ret::ERRNO | (-rax) as u32)));
                    }
                    WaitStatus::Signaled(_, Signal::SIGSYS, _) if seen.is_none() => {
                        return Ok(None);
                    }
                    other => {
                        return Err(OracleError::Protocol(format!(
                            "after issuing {d:?}: {other:?}"
                        )))
                    }
                }
            }
        })();
        let out = match result {
            Ok(Some(o)) => o,
            Ok(None) => {
                // The worker was killed: was the whole process?
                let process = group_dying(child.leader)?;
                let mut dead = self.child.take().expect("child present");
                let _ = kill(dead.leader, Signal::SIGKILL);
                let _ = waitpid(dead.leader, Some(WaitPidFlag::__WALL));
                dead.leader = Pid::from_raw(-1);
                Observed::Ret(if process {
                    ret::KILL_PROCESS
                } else {
                    ret::KILL_THREAD
                })
            }
            Err(e) => {
                if let Some(mut c) = self.child.take() {
                    c.finish();
                }
                return Err(e);
            }
        };
        self.observed += 1;
        Ok(out)
    }
}

impl Drop for KernelOracle {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.finish();
        }
    }
}

/// After the worker died of SIGSYS: whether its whole thread group is going (KILL_PROCESS)
/// rather than only the worker (KILL_THREAD, the leader sleeps on untouched).
///
/// The kernel queues SIGKILL for the other threads before the dying thread exits, so by
/// the time the tracer sees the worker's death, a group exit shows as a pending SIGKILL,
/// a leader no longer sleeping, or a leader already gone.
fn group_dying(leader: Pid) -> Result<bool, OracleError> {
    for _ in 0..100_000 {
        match waitid(
            Id::Pid(leader),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
        ) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(_) => return Ok(true),
            Err(e) => return Err(os("waitid")(e)),
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{leader}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        let sigkill = |hex: String| u64::from_str_radix(&hex, 16).unwrap_or(0) & (1 << 8) != 0;
        let state = field("State:");
        if sigkill(field("SigPnd:")) || sigkill(field("ShdPnd:")) {
            return Ok(true);
        }
        match state.chars().next() {
            Some('Z' | 'X') => return Ok(true),
            Some('S') => return Ok(false),
            _ => std::thread::yield_now(),
        }
    }
    Err(OracleError::Protocol(
        "could not tell whether the child's leader was killed".into(),
    ))
}

/// Copies the child's listener fd into this process (`pidfd_getfd`).
fn take_fd(leader: Pid, fd: i32) -> Result<OwnedFd, OracleError> {
    // SAFETY: pidfd_open takes a pid and flags; the result is a new fd we own.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, leader.as_raw(), 0) };
    if pidfd < 0 {
        return Err(os("pidfd_open")(Errno::last()));
    }
    // SAFETY: pidfd is a fresh fd owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: pidfd_getfd takes two fds and flags; the result is a new fd we own.
    let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if got < 0 {
        return Err(os("pidfd_getfd")(Errno::last()));
    }
    // SAFETY: a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(got as i32) })
}

/// The listener thread: counts each notification and answers it `-ENOSYS` (the syscall
/// never runs). Ends when the filter has no users left (POLLHUP).
fn answer_notifications(fd: OwnedFd, count: &AtomicU64) {
    loop {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, -1) };
        if r < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            return;
        }
        if p.revents & libc::POLLIN == 0 {
            return;
        }
        // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
        let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: SECCOMP_IOCTL_NOTIF_RECV fills the seccomp_notif we pass.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) } != 0 {
            match Errno::last() {
                Errno::EINTR | Errno::ENOENT => continue,
                _ => return,
            }
        }
        count.fetch_add(1, Ordering::SeqCst);
        let mut resp = libc::seccomp_notif_resp {
            id: n.id,
            val: 0,
            error: -libc::ENOSYS,
            flags: 0,
        };
        // SAFETY: SECCOMP_IOCTL_NOTIF_SEND reads the response we pass.
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_core::bpf::{Insn, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};

    /// `(arch, nr) -> ret` cases, then `default`.
    pub(crate) fn switch(cases: &[(u32, u32, u32)], default: u32) -> Program {
        let mut v = Vec::new();
        for &(arch, nr, r) in cases {
            v.extend([
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 3),
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
                Insn::stmt(BPF_RET | BPF_K, r),
            ]);
        }
        v.push(Insn::stmt(BPF_RET | BPF_K, default));
        Program::new(v)
    }

    fn data(arch: u32, nr: u32) -> SeccompData {
        SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args: [0; 6],
        }
    }

    fn usable() -> bool {
        match available() {
            Ok(()) => true,
            Err(why) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "the kernel oracle must run in CI: {why}"
                );
                eprintln!("SKIP: the kernel oracle cannot run here: {why}");
                false
            }
        }
    }

    #[test]
    fn every_action_is_observed() {
        if !usable() {
            return;
        }
        const X: u32 = AUDIT_ARCH_X86_64;
        const I: u32 = AUDIT_ARCH_I386;
        let cases = [
            (X, 39, ret::ALLOW, Observed::AllowOrLog),
            (X, 0x4000_0027, ret::LOG, Observed::AllowOrLog),
            (X, 1, ret::ERRNO | 5, Observed::Ret(ret::ERRNO | 5)),
            (X, 2, ret::ERRNO, Observed::Ret(ret::ERRNO)),
            (X, 3, ret::TRAP | 7, Observed::Ret(ret::TRAP | 7)),
            (X, 4, ret::TRACE | 9, Observed::Ret(ret::TRACE | 9)),
            (X, 5, ret::KILL_THREAD, Observed::Ret(ret::KILL_THREAD)),
            (X, 6, ret::KILL_PROCESS, Observed::Ret(ret::KILL_PROCESS)),
            (X, 7, ret::USER_NOTIF, Observed::Ret(ret::USER_NOTIF)),
            (X, 8, 0x0001_0000, Observed::Ret(ret::KILL_PROCESS)),
            (X, 9, ret::ERRNO | 65000, Observed::Ret(ret::ERRNO | 4095)),
            (X, 10, ret::ERRNO | 38, Observed::Ret(ret::ERRNO | 38)),
            (I, 20, ret::ERRNO | 3, Observed::Ret(ret::ERRNO | 3)),
            (I, 1, ret::TRAP | 0xffff, Observed::Ret(ret::TRAP | 0xffff)),
            (I, 2, ret::KILL_PROCESS, Observed::Ret(ret::KILL_PROCESS)),
            (
                X,
                0xffff_ffff,
                ret::ERRNO | 11,
                Observed::Ret(ret::ERRNO | 11),
            ),
        ];
        let prog = switch(
            &cases.iter().map(|c| (c.0, c.1, c.2)).collect::<Vec<_>>(),
            ret::ALLOW,
        );
        let mut o = KernelOracle::new(&[prog]).unwrap();
        // Twice, so that children are reused and replaced after kills.
        for _ in 0..2 {
            for (arch, nr, _, want) in cases {
                assert_eq!(o.observe(&data(arch, nr)).unwrap(), want, "{arch:#x} {nr}");
            }
        }
        assert_eq!(o.observe(&data(X, 335)).unwrap(), Observed::Bypass);
        assert_eq!(
            o.observe(&data(0xc000_00b7, 1)).unwrap(),
            Observed::Unobservable
        );
        assert_eq!(o.observed(), 2 * cases.len() as u64);
        assert_eq!(o.children_spawned(), 1 + 2 * 4);
    }

    #[test]
    fn stacks_combine_as_the_kernel_does() {
        if !usable() {
            return;
        }
        const X: u32 = AUDIT_ARCH_X86_64;
        // Older: ERRNO(1) for 1, TRACE(5) for 2 and 3; newer: ERRNO(2) for 1, TRACE(6) for 3.
        let old = switch(
            &[
                (X, 1, ret::ERRNO | 1),
                (X, 2, ret::TRACE | 5),
                (X, 3, ret::TRACE | 5),
            ],
            ret::ALLOW,
        );
        let new = switch(&[(X, 1, ret::ERRNO | 2), (X, 3, ret::TRACE | 6)], ret::LOG);
        let mut o = KernelOracle::new(&[old, new]).unwrap();
        let got = o
            .verdicts(&[data(X, 1), data(X, 2), data(X, 3), data(X, 4)])
            .unwrap();
        assert_eq!(
            got,
            [
                Observed::Ret(ret::ERRNO | 2),
                Observed::Ret(ret::TRACE | 5),
                Observed::Ret(ret::TRACE | 6),
                Observed::AllowOrLog
            ]
        );
    }

    #[test]
    fn arguments_reach_the_filter_whole() {
        if !usable() {
            return;
        }
        use syscage_core::bpf::{BPF_A, BPF_ALU, BPF_AND, BPF_OR};
        // nr 100+i (200+i): ERRNO(low (high) word of args[i] & 0xfff), on both ABIs.
        let mut v = Vec::new();
        for i in 0..6u32 {
            for (base, off) in [(100, 16 + 8 * i), (200, 20 + 8 * i)] {
                v.extend([
                    Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                    Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, base + i, 0, 4),
                    Insn::stmt(BPF_LD | BPF_W | BPF_ABS, off),
                    Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xfff),
                    Insn::stmt(BPF_ALU | BPF_OR | BPF_K, ret::ERRNO),
                    Insn::stmt(BPF_RET | BPF_A, 0),
                ]);
            }
        }
        v.push(Insn::stmt(BPF_RET | BPF_K, ret::ALLOW));
        let mut o = KernelOracle::new(&[Program::new(v)]).unwrap();
        for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] {
            let args = [
                0x0000_0123_0000_0456,
                0x0000_0789_0000_0abc,
                0x0000_0def_0000_0001,
                0x0000_0002_0000_0003,
                0x0000_0004_0000_0005,
                0x0000_0006_0000_0007,
            ];
            for i in 0..6 {
                for (base, want) in [(100, args[i] & 0xfff), (200, (args[i] >> 32) & 0xfff)] {
                    let d = SeccompData {
                        nr: base + i as u32,
                        arch,
                        instruction_pointer: 0,
                        args,
                    };
                    assert_eq!(
                        o.observe(&d).unwrap(),
                        Observed::Ret(ret::ERRNO | want as u32),
                        "{arch:#x} args[{i}] base {base}"
                    );
                }
            }
        }
    }

    /// Kernel-observed verdicts per second on runtime/default (BENCHMARKS.md):
    /// `cargo test --release -p syscage-enforcer throughput -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn throughput() {
        if !usable() {
            return;
        }
        use syscage_core::policy::{resolve, Target};
        use syscage_core::profile::{KernelVersion, Runtime};
        let profile = syscage_core::builtin::lookup("runtime/default", Runtime::Runc)
            .unwrap()
            .unwrap();
        let k = KernelVersion {
            major: 6,
            minor: 18,
        };
        let policy = resolve(&profile, &Target::new(syscage_core::arch::Arch::X86_64, k)).unwrap();
        let prog = bpf::compile::compile(&policy).unwrap();
        let mut o = KernelOracle::new(&[prog]).unwrap();
        let events: Vec<SeccompData> = (0..460u32)
            .map(|nr| data(AUDIT_ARCH_X86_64, nr))
            .chain((0..460u32).map(|nr| data(AUDIT_ARCH_I386, nr)))
            .filter(|d| !(d.arch == AUDIT_ARCH_X86_64 && BYPASS_NRS.contains(&d.nr)))
            .collect();
        let start = std::time::Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < 3.0 {
            for d in &events {
                o.observe(d).unwrap();
                n += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "kernel oracle: {n} verdicts in {secs:.2}s = {:.0} verdicts/s ({} children)",
            n as f64 / secs,
            o.children_spawned()
        );
    }
}
