//! Installing compiled filters on the calling thread (or, with TSYNC, on every thread of
//! the process), oldest first, after setting no_new_privs.
//!
//! Installation goes through seccompiler (`apply_filter`, `apply_filter_all_threads`);
//! the raw `seccomp()` call is used only for what seccompiler cannot ask for:
//! `SECCOMP_FILTER_FLAG_LOG` (`--log`). Everything that can be checked before the first
//! filter is installed is checked first ([`check`]): each program validates, the stack
//! fits the kernel's limit, and no filter returns NOTIFY — a NOTIFY needs a supervisor
//! holding the listener fd, which a command exec'd by syscage would not have (the
//! kernel would answer ENOSYS), so syscage refuses rather than install a filter that
//! does something else than the profile says.

use syscage_core::action::ret;
use syscage_core::bpf::{self, Program, MAX_INSNS_PER_PATH};

/// One filter to install, with where it came from (for messages).
#[derive(Clone, Debug)]
pub struct Filter {
    pub source: String,
    pub program: Program,
}

/// How to install.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstallOptions {
    /// `SECCOMP_FILTER_FLAG_TSYNC`: every thread of the process gets the filters.
    pub tsync: bool,
    /// `SECCOMP_FILTER_FLAG_LOG`: the kernel logs every action but ALLOW.
    pub log: bool,
    /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: no speculative-store-bypass mitigation forced
    /// on the process (crun installs so; runc 1.1 does not).
    pub spec_allow: bool,
}

impl InstallOptions {
    /// The `seccomp()` flags; none means `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)`,
    /// as runc 1.1 installs.
    pub fn flags(&self) -> libc::c_ulong {
        let mut flags = 0;
        if self.tsync {
            flags |= libc::SECCOMP_FILTER_FLAG_TSYNC;
        }
        if self.log {
            flags |= libc::SECCOMP_FILTER_FLAG_LOG;
        }
        if self.spec_allow {
            flags |= libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        }
        flags
    }

    /// How the filters are installed, for people.
    pub fn describe(&self) -> String {
        let flags = self.flags();
        if flags == 0 {
            return "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), no flags".into();
        }
        let names: Vec<&str> = [
            (self.tsync, "SECCOMP_FILTER_FLAG_TSYNC"),
            (self.log, "SECCOMP_FILTER_FLAG_LOG"),
            (self.spec_allow, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        format!("seccomp(SECCOMP_SET_MODE_FILTER, {})", names.join(" | "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "{origin}: the profile uses SCMP_ACT_NOTIFY, which needs a supervisor process holding \
         the notification fd; `syscage enforce` has none (the kernel would answer ENOSYS), so \
         it refuses to run the command rather than enforce something else"
    )]
    Notify { origin: String },
    #[error("{origin}: the compiled filter is not loadable: {error}")]
    Invalid {
        origin: String,
        error: bpf::ValidateError,
    },
    #[error("the stack of filters is {total} instructions counting the kernel's 4 per filter; the kernel allows {MAX_INSNS_PER_PATH}")]
    TooLong { total: usize },
    #[error("cannot set no_new_privs: {0}")]
    NoNewPrivs(std::io::Error),
    #[error("installing {origin} failed: {detail}")]
    Seccomp { origin: String, detail: String },
}

/// Whether `program` can return NOTIFY (a constant `RET`; compiled filters have no other).
pub fn uses_notify(program: &Program) -> bool {
    program
        .insns()
        .iter()
        .any(|i| i.is_ret() && i.k & ret::ACTION_FULL == ret::USER_NOTIF)
}

/// Everything that can go wrong before the first filter is installed.
pub fn check(filters: &[Filter]) -> Result<(), InstallError> {
    for f in filters {
        bpf::validate(&f.program).map_err(|error| InstallError::Invalid {
            origin: f.source.clone(),
            error,
        })?;
        if uses_notify(&f.program) {
            return Err(InstallError::Notify {
                origin: f.source.clone(),
            });
        }
    }
    let total: usize = filters.iter().map(|f| f.program.len() + 4).sum();
    if total > MAX_INSNS_PER_PATH {
        return Err(InstallError::TooLong { total });
    }
    Ok(())
}

fn to_seccompiler(p: &Program) -> Vec<seccompiler::sock_filter> {
    p.insns()
        .iter()
        .map(|i| seccompiler::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

/// Sets no_new_privs and installs `filters` in order. Each filter is installed whole or
/// not at all (the kernel's guarantee); on an error the caller must not go on to run
/// anything that was promised the whole stack.
pub fn install(filters: &[Filter], opts: InstallOptions) -> Result<(), InstallError> {
    check(filters)?;
    let programs: Vec<Vec<seccompiler::sock_filter>> =
        filters.iter().map(|f| to_seccompiler(&f.program)).collect();
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1) takes no pointers.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(InstallError::NoNewPrivs(std::io::Error::last_os_error()));
    }
    let flags = opts.flags();
    for (f, prog) in filters.iter().zip(&programs) {
        let failed = |detail: String| InstallError::Seccomp {
            origin: f.source.clone(),
            detail,
        };
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        let r = if flags == 0 {
            // SAFETY: `fprog` points to `prog`, alive for the call; the kernel copies it.
            unsafe {
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &fprog as *const libc::sock_fprog,
                ) as libc::c_long
            }
        } else {
            // SAFETY: as above.
            unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    flags,
                    &fprog as *const libc::sock_fprog,
                )
            }
        };
        if r < 0 {
            return Err(failed(std::io::Error::last_os_error().to_string()));
        }
        if r > 0 {
            return Err(failed(format!("thread {r} cannot be synchronized (TSYNC)")));
        }
    }
    Ok(())
}
