//! Running a command under filters: install, then `execvp` — the command replaces this
//! process, so its exit status and signals are its own.
//!
//! Fail closed: every step that can fail runs before the command, and any failure
//! returns an [`ExecError`] instead of running it. Exit codes follow the shells':
//! 125 when syscage itself failed (nothing ran), 126 when the command was found but
//! could not be executed (including an execve the filter denies), 127 when it was not
//! found. A filter that kills on execve kills syscage: the command never runs either.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::{signal, SigHandler, Signal};

use crate::install::{self, Filter, InstallError, InstallOptions};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("no command to run")]
    NoCommand,
    #[error("argument {0:?} contains a NUL byte")]
    Nul(OsString),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error("{cmd}: command not found")]
    NotFound { cmd: String },
    #[error("{cmd}: cannot execute: {errno}")]
    Exec { cmd: String, errno: Errno },
}

impl ExecError {
    /// The exit status a shell would use for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExecError::NotFound { .. } => 127,
            ExecError::Exec { .. } => 126,
            _ => 125,
        }
    }
}

/// Installs `filters` and executes `argv` (`argv[0]` searched in `PATH`). Returns only
/// on failure.
pub fn run(filters: &[Filter], opts: InstallOptions, argv: &[OsString]) -> ExecError {
    let Some(first) = argv.first() else {
        return ExecError::NoCommand;
    };
    let mut args = Vec::with_capacity(argv.len());
    for a in argv {
        match CString::new(a.as_bytes()) {
            Ok(c) => args.push(c),
            Err(_) => return ExecError::Nul(a.clone()),
        }
    }
    let cmd = first.to_string_lossy().into_owned();
    // A Rust program starts with SIGPIPE ignored, and an ignored signal stays ignored
    // across execve: give the command the default, as std's `Command` does, so that
    // `syscage enforce ... -- yes | head -1` ends `yes` by SIGPIPE as it would end
    // without syscage. Before the filters, which may deny rt_sigaction. It cannot fail
    // for SIGPIPE; if it did, the command would only see EPIPE instead.
    // SAFETY: SIG_DFL runs no code in this process.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    if let Err(e) = install::install(filters, opts) {
        return e.into();
    }
    let errno = match nix::unistd::execvp(&args[0], &args) {
        Err(e) => e,
        Ok(never) => match never {},
    };
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => ExecError::NotFound { cmd },
        errno => ExecError::Exec { cmd, errno },
    }
}
