//! Recording what a program does, call by call, under ptrace: the syscalls of a command
//! it starts ([`record_command`]) or of a running process it attaches to
//! ([`record_pid`]), each as a [`Recorded`] with the `seccomp_data` the kernel's filter
//! would see (arch, number with the x32 bit, six arguments, instruction pointer), the
//! thread, and the return value; plus exec and exit records. This module owns starting
//! and attaching, the stop-by-stop loop ([`tracer`]), and ending cleanly; writing the
//! records (JSON Lines, strace text) is `syscage_core::trace`'s, and what a profile
//! makes of them is the evaluator's. x86_64 only.
//!
//! A launched command runs under a `SECCOMP_RET_TRACE` filter (by default one that
//! traces every call of every arch; [`RecordOptions::filters`] may trace fewer), so each
//! call costs one stop (`PTRACE_EVENT_SECCOMP`), two with return values (the call is
//! resumed with `PTRACE_SYSCALL` to its exit stop). The filter is inherited by every
//! child and cannot be removed, and a `RET_TRACE` with no tracer makes the call fail
//! with ENOSYS: so the whole tree is always traced (`follow` only decides what is
//! recorded), `PTRACE_O_EXITKILL` kills it if the recorder dies, and the recorder kills
//! it if it must stop early. Installing a filter needs CAP_SYS_ADMIN or no_new_privs:
//! with CAP_SYS_ADMIN in the recorder's effective set no_new_privs is left off, so
//! setuid programs keep working as they would; without it no_new_privs is set, so
//! setuid and file-capability bits do nothing for the recorded command. Fail closed:
//! if the filter cannot be installed the command does not run.
//!
//! A running process cannot be given a filter, so [`record_pid`] stops at every
//! syscall entry and exit (`PTRACE_SYSCALL`), and detaches from every thread when
//! SIGINT, SIGTERM, SIGHUP or SIGQUIT arrives, leaving the process running.
//!
//! Signals: while a launched command runs, SIGINT, SIGQUIT, SIGTERM and SIGHUP are
//! ignored by the recorder (Ctrl-C reaches the command through the terminal's process
//! group, and the recorder ends when the command does); the command gets the
//! dispositions the caller had, and SIGPIPE's default. [`record_pid`] blocks those
//! signals and SIGCHLD in the calling thread while it records; call it from a thread
//! of a program whose other threads block them too (the `syscage` CLI has one thread).
//!
//! What it does not do: read the traced program's memory (strings, structs: the
//! records hold the raw arguments, as a filter sees them); see calls that a filter the
//! program installs itself decides more strongly than RET_TRACE (ERRNO, TRAP, KILL: the
//! kernel takes the strongest action of all filters, so those calls never stop).

mod sys;
mod tracer;

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::errno::Errno;
use nix::sys::signal::{
    pthread_sigmask, sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal,
};
use syscage_core::action::ret;
use syscage_core::bpf::{self, Insn, Program};

pub use syscage_core::trace::record::{ExitKind, RecordKind, Recorded};

use tracer::{Stops, Tracer};

/// What to record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// Record the command's children too (forks, vforks, clones), and every thread.
    /// Without it only the process started or attached to is recorded (its threads
    /// too); a launched command's children are still traced, unrecorded (they inherit
    /// the filter), an attached process's are not.
    pub follow: bool,
    /// Also stop at each call's exit for its return value (two stops a call).
    pub returns: bool,
    /// The filters a launched command runs under, oldest first, installed in order
    /// (the kernel runs them all and takes the strongest action; on a tie between
    /// RET_TRACEs the newest one's data); empty:
    /// [`trace_all`]. Calls it does not RET_TRACE are not recorded.
    pub filters: Vec<Program>,
}

impl Default for RecordOptions {
    fn default() -> RecordOptions {
        RecordOptions {
            follow: false,
            returns: true,
            filters: Vec::new(),
        }
    }
}

/// How recording ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command (or attached process) exited with this status.
    Exited(i32),
    /// It was killed by `signal`.
    Signaled { signal: i32, core: bool },
    /// The recorder detached (a signal asked it to) and the process runs on.
    Detached,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no command to run")]
    NoCommand,
    #[error("argument {0:?} contains a NUL byte")]
    Nul(OsString),
    #[error("the recording filter is not loadable: {0}")]
    Filter(bpf::ValidateError),
    #[error("cannot start the command: {what}: {errno}")]
    Setup { what: &'static str, errno: Errno },
    #[error("cannot set no_new_privs in the command: {0}")]
    NoNewPrivs(Errno),
    #[error("cannot install the recording filter in the command: {0}")]
    Install(Errno),
    #[error("{cmd}: command not found")]
    NotFound { cmd: String },
    #[error("{cmd}: cannot execute: {errno}")]
    Exec { cmd: String, errno: Errno },
    #[error("no process {pid}")]
    NoSuchProcess { pid: u32 },
    #[error("cannot attach to {what}: {errno}")]
    Attach { what: String, errno: Errno },
    #[error("ptrace failed ({what}): {errno}")]
    Ptrace { what: &'static str, errno: Errno },
    /// The sink failed; recording stopped (a launched command was killed, an attached
    /// process detached).
    #[error("cannot write the trace: {0}")]
    Output(io::Error),
}

impl RecordError {
    /// The exit status a shell would use: 125 when the command did not run because
    /// the recorder failed, 126 when it could not be executed, 127 when it was not
    /// found, 2 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RecordError::NotFound { .. } => 127,
            RecordError::Exec { .. } => 126,
            RecordError::NoCommand
            | RecordError::Nul(_)
            | RecordError::Filter(_)
            | RecordError::Setup { .. }
            | RecordError::NoNewPrivs(_)
            | RecordError::Install(_) => 125,
            _ => 2,
        }
    }
}

/// The default filter: `SECCOMP_RET_TRACE` for every call of every arch.
pub fn trace_all() -> Program {
    Program::new(vec![Insn::stmt(bpf::BPF_RET | bpf::BPF_K, ret::TRACE)])
}

/// The signals a launched command's recorder ignores and an attached one detaches on.
const STOP_SIGNALS: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGHUP,
];

/// What the child reports through the pipe when it cannot go on: stage, errno.
const STAGE_NNP: u8 = 1;
const STAGE_FILTER: u8 = 2;
const STAGE_EXEC: u8 = 3;

/// Starts `argv` (`argv[0]` searched in `PATH`) under the recording filter and records
/// it (see the module documentation) until every traced process has ended. Returns how
/// the command itself ended. Must be called from the thread that will trace.
pub fn record_command(
    argv: &[OsString],
    opts: &RecordOptions,
    sink: &mut dyn FnMut(&Recorded) -> io::Result<()>,
) -> Result<Outcome, RecordError> {
    let launch = Launch::prepare(argv, opts)?;
    let ignored = Ignored::new();
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| RecordError::Setup {
            what: "pipe",
            errno,
        })?;
    // SAFETY: the child only makes async-signal-safe calls (sigaction, raise, prctl,
    // seccomp, execve, write, _exit) on memory prepared before the fork.
    let child = match unsafe { nix::unistd::fork() } {
        Err(errno) => {
            return Err(RecordError::Setup {
                what: "fork",
                errno,
            })
        }
        Ok(nix::unistd::ForkResult::Child) => {
            use std::os::fd::AsRawFd;
            launch.child(&ignored, write_end.as_raw_fd())
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => child.as_raw(),
    };
    drop(write_end);
    let outcome = trace_child(child, opts, sink);
    drop(ignored);
    // The child's report, if it wrote one before it ended (nothing if exec succeeded).
    let mut report = [0u8; 5];
    let got = nix::unistd::read(&read_end, &mut report).unwrap_or(0);
    if got == report.len() {
        let errno = Errno::from_raw(i32::from_le_bytes([
            report[1], report[2], report[3], report[4],
        ]));
        return Err(match report[0] {
            STAGE_NNP => RecordError::NoNewPrivs(errno),
            STAGE_FILTER => RecordError::Install(errno),
            _ if errno == Errno::ENOENT => RecordError::NotFound {
                cmd: launch.cmd.clone(),
            },
            _ => RecordError::Exec {
                cmd: launch.cmd.clone(),
                errno,
            },
        });
    }
    outcome
}

/// Waits for the child's self-stop, seizes it and runs the loop.
fn trace_child(
    child: i32,
    opts: &RecordOptions,
    sink: &mut dyn FnMut(&Recorded) -> io::Result<()>,
) -> Result<Outcome, RecordError> {
    let fail = |what, errno| {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child), Signal::SIGKILL);
        let _ = sys::wait_for(child, libc::__WALL);
        RecordError::Setup { what, errno }
    };
    match sys::wait_for(child, libc::WUNTRACED) {
        Ok(sys::Status::Stopped { .. }) => {}
        Ok(_) => {
            return Err(RecordError::Setup {
                what: "the command's process ended before it could be traced",
                errno: Errno::ECHILD,
            })
        }
        Err(errno) => return Err(fail("waitpid", errno)),
    }
    let options = sys::PTRACE_O_TRACESYSGOOD
        | sys::PTRACE_O_TRACESECCOMP
        | sys::PTRACE_O_TRACEFORK
        | sys::PTRACE_O_TRACEVFORK
        | sys::PTRACE_O_TRACECLONE
        | sys::PTRACE_O_TRACEEXEC
        | sys::PTRACE_O_EXITKILL;
    if let Err(errno) = sys::request(sys::PTRACE_SEIZE, child, options as usize) {
        return Err(fail("PTRACE_SEIZE", errno));
    }
    // As strace does: the child stopped itself; seized, it is continued.
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child), Signal::SIGCONT);
    let mut tracer = Tracer::new(Stops::Seccomp, child, sink);
    tracer.returns = opts.returns;
    tracer.follow = opts.follow;
    tracer.add(child);
    tracer.run()
}

/// Everything the child needs, made before the fork (the child allocates nothing).
struct Launch {
    cmd: String,
    /// The file to execute (`argv[0]` searched in `PATH`).
    path: CString,
    filters: Vec<Vec<libc::sock_filter>>,
    no_new_privs: bool,
    /// NULL-terminated arrays pointing into `_strings`.
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    _strings: Vec<CString>,
}

impl Launch {
    fn prepare(argv: &[OsString], opts: &RecordOptions) -> Result<Launch, RecordError> {
        let first = argv.first().ok_or(RecordError::NoCommand)?;
        let mut strings = Vec::with_capacity(argv.len());
        for a in argv {
            strings.push(CString::new(a.as_bytes()).map_err(|_| RecordError::Nul(a.clone()))?);
        }
        let nargs = strings.len();
        for (k, v) in std::env::vars_os() {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            if let Ok(c) = CString::new(kv) {
                strings.push(c);
            }
        }
        // A CString's bytes stay where they are when the CString moves.
        let ptrs = |s: &[CString]| {
            s.iter()
                .map(|c| c.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect::<Vec<_>>()
        };
        let default = [trace_all()];
        let programs = if opts.filters.is_empty() {
            &default[..]
        } else {
            &opts.filters[..]
        };
        let mut filters = Vec::with_capacity(programs.len());
        for program in programs {
            bpf::validate(program).map_err(RecordError::Filter)?;
            filters.push(
                program
                    .insns()
                    .iter()
                    .map(|i| libc::sock_filter {
                        code: i.code,
                        jt: i.jt,
                        jf: i.jf,
                        k: i.k,
                    })
                    .collect(),
            );
        }
        Ok(Launch {
            cmd: first.to_string_lossy().into_owned(),
            path: search_path(first)?,
            filters,
            no_new_privs: !sys::has_cap_sys_admin(),
            argv: ptrs(&strings[..nargs]),
            envp: ptrs(&strings[nargs..]),
            _strings: strings,
        })
    }

    /// In the child: wait to be seized, install the filter, execute. Never returns.
    fn child(&self, ignored: &Ignored, report_fd: i32) -> ! {
        let report = |stage: u8, errno: i32| -> ! {
            let e = errno.to_le_bytes();
            let msg = [stage, e[0], e[1], e[2], e[3]];
            // SAFETY: write(2) and _exit(2) are async-signal-safe; `msg` lives for the call.
            unsafe {
                libc::write(report_fd, msg.as_ptr().cast(), msg.len());
                libc::_exit(if stage == STAGE_EXEC { 127 } else { 125 })
            }
        };
        ignored.restore();
        // SAFETY: SIG_DFL runs no code in this process; raise(3) is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGSTOP);
        }
        // Seized and continued.
        if self.no_new_privs {
            // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1) takes no pointers.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                report(STAGE_NNP, Errno::last_raw());
            }
        }
        for filter in &self.filters {
            let fprog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: `fprog` points to `filter`, alive for the call; the kernel copies it.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &fprog as *const libc::sock_fprog,
                )
            };
            if r != 0 {
                // Some filters may be on: the command does not run, so none applies.
                report(STAGE_FILTER, Errno::last_raw());
            }
        }
        // From here on every call is the tracer's to see, this execve first.
        // SAFETY: `path` is NUL-terminated; `argv` and `envp` are NULL-terminated
        // arrays of NUL-terminated strings owned by `self`, alive for the call.
        unsafe { libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr()) };
        report(STAGE_EXEC, Errno::last_raw())
    }
}

/// The file `cmd` names: itself if it has a `/`, else the first regular, executable
/// file of that name in a `PATH` directory (an empty entry is the current directory;
/// no `PATH`: `/bin:/usr/bin`). Searched here, as strace does, so that the trace
/// starts with the one `execve` that runs the command.
fn search_path(cmd: &OsStr) -> Result<CString, RecordError> {
    use nix::unistd::{access, AccessFlags};
    let text = || cmd.to_string_lossy().into_owned();
    let bytes = cmd.as_bytes();
    if bytes.contains(&b'/') {
        return CString::new(bytes).map_err(|_| RecordError::Nul(cmd.to_os_string()));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    let mut denied = false;
    for dir in path.as_bytes().split(|b| *b == b':') {
        if bytes.is_empty() {
            break;
        }
        let mut p = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        p.push(b'/');
        p.extend_from_slice(bytes);
        let file = std::path::Path::new(OsStr::from_bytes(&p));
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        if access(file, AccessFlags::X_OK).is_err() {
            denied = true;
            continue;
        }
        return CString::new(p).map_err(|_| RecordError::Nul(cmd.to_os_string()));
    }
    Err(if denied {
        RecordError::Exec {
            cmd: text(),
            errno: Errno::EACCES,
        }
    } else {
        RecordError::NotFound { cmd: text() }
    })
}

/// SIGINT, SIGQUIT, SIGTERM and SIGHUP ignored while a launched command runs; the
/// dispositions the caller had come back when it is dropped (and in the child).
struct Ignored {
    saved: Vec<(Signal, SigAction)>,
}

impl Ignored {
    fn new() -> Ignored {
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let saved = STOP_SIGNALS
            .iter()
            // SAFETY: SIG_IGN runs no code in this process.
            .filter_map(|s| unsafe { sigaction(*s, &ignore) }.ok().map(|old| (*s, old)))
            .collect();
        Ignored { saved }
    }

    /// Puts the caller's dispositions back (async-signal-safe: the child calls it).
    fn restore(&self) {
        for (s, old) in &self.saved {
            // SAFETY: reinstalls what the caller had installed.
            let _ = unsafe { sigaction(*s, old) };
        }
    }
}

impl Drop for Ignored {
    fn drop(&mut self) {
        self.restore();
    }
}

/// SIGCHLD and the stop signals blocked in this thread while an attached process is
/// recorded; the mask comes back when dropped, after taking any stop signal still
/// pending (it was already acted on: the recorder detached).
struct Blocked {
    set: SigSet,
    old: SigSet,
}

impl Blocked {
    fn new() -> Result<Blocked, RecordError> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGCHLD);
        for s in STOP_SIGNALS {
            set.add(s);
        }
        let mut old = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).map_err(|errno| {
            RecordError::Ptrace {
                what: "blocking signals",
                errno,
            }
        })?;
        Ok(Blocked { set, old })
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let mut stops = SigSet::empty();
        for s in STOP_SIGNALS {
            stops.add(s);
        }
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: sigtimedwait reads the set and the timeout, both alive for the call,
        // and writes no siginfo (NULL).
        while unsafe { libc::sigtimedwait(stops.as_ref(), std::ptr::null_mut(), &zero) } > 0 {}
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.old), None);
    }
}

/// Attaches to every thread of process `pid` (`PTRACE_SEIZE`) and records it until it
/// ends or SIGINT, SIGTERM, SIGHUP or SIGQUIT asks the recorder to detach (see the
/// module documentation). `opts.filters` is not used: a running process cannot be
/// given one. Must be called from the thread that will trace.
pub fn record_pid(
    pid: u32,
    opts: &RecordOptions,
    sink: &mut dyn FnMut(&Recorded) -> io::Result<()>,
) -> Result<Outcome, RecordError> {
    let no_such = RecordError::NoSuchProcess { pid };
    let Ok(id) = i32::try_from(pid) else {
        return Err(no_such);
    };
    let Some(tgid) = (id > 0).then(|| sys::tgid_of(id)).flatten() else {
        return Err(no_such);
    };
    if tgid == std::process::id() as i32 {
        return Err(RecordError::Attach {
            what: format!("process {tgid} (the recorder itself)"),
            errno: Errno::EPERM,
        });
    }
    let mut options =
        sys::PTRACE_O_TRACESYSGOOD | sys::PTRACE_O_TRACEEXEC | sys::PTRACE_O_TRACECLONE;
    if opts.follow {
        options |= sys::PTRACE_O_TRACEFORK | sys::PTRACE_O_TRACEVFORK;
    }
    let blocked = Blocked::new()?;
    let mut tracer = Tracer::new(Stops::Syscall, tgid, sink);
    tracer.returns = opts.returns;
    tracer.follow = opts.follow;
    tracer.launched = false;
    tracer.signals = Some(blocked.set);
    // Threads may start while the others are being attached: list again until no new
    // one shows up (the attached ones' new threads are attached by TRACECLONE).
    let mut attached: Vec<i32> = Vec::new();
    loop {
        let mut new = 0;
        for tid in threads(tgid) {
            if attached.contains(&tid) {
                continue;
            }
            match sys::request(sys::PTRACE_SEIZE, tid, options as usize) {
                Ok(()) => {
                    attached.push(tid);
                    new += 1;
                }
                Err(Errno::ESRCH) if tid != tgid => {} // ended meanwhile
                Err(errno) => {
                    for t in &attached {
                        let _ = sys::request(sys::PTRACE_DETACH, *t, 0);
                    }
                    return Err(RecordError::Attach {
                        what: if tid == tgid {
                            format!("process {tgid}")
                        } else {
                            format!("thread {tid} of process {tgid}")
                        },
                        errno,
                    });
                }
            }
        }
        if new == 0 {
            break;
        }
    }
    if attached.is_empty() {
        return Err(no_such);
    }
    for tid in &attached {
        tracer.add(*tid);
        // Into a stop, from which the loop resumes it with PTRACE_SYSCALL.
        let _ = sys::request(sys::PTRACE_INTERRUPT, *tid, 0);
    }
    let out = tracer.run();
    drop(blocked);
    out
}

/// The thread ids of process `tgid` (`/proc/TGID/task`).
fn threads(tgid: i32) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{tgid}/task"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Ends the calling process by `signal`, as a recorded program ended: default
/// disposition, no core dump (RLIMIT_CORE 0), unblocked, raised. Returns only if the
/// signal did not end the process (the caller then exits 128 + signal).
pub fn reraise(signal: i32) {
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
    // SAFETY: SIG_DFL runs no code in this process.
    unsafe { libc::signal(signal, libc::SIG_DFL) };
    // SAFETY: `set` is initialised by sigemptyset before use, and lives for the calls.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
}
