//! Seccomp actions: the OCI/libseccomp tokens a profile names, and the 32-bit
//! `SECCOMP_RET_*` values a filter returns, with the kernel's precedence between them.
//!
//! This module knows what an action *is*; which rule produces it is [`crate::policy`]'s
//! business and how a stack combines verdicts is [`crate::eval`]'s.

use std::fmt;
use std::str::FromStr;

/// `SECCOMP_RET_*` action values (include/uapi/linux/seccomp.h).
pub mod ret {
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    pub const KILL_THREAD: u32 = 0x0000_0000;
    pub const TRAP: u32 = 0x0003_0000;
    pub const ERRNO: u32 = 0x0005_0000;
    pub const USER_NOTIF: u32 = 0x7fc0_0000;
    pub const TRACE: u32 = 0x7ff0_0000;
    pub const LOG: u32 = 0x7ffc_0000;
    pub const ALLOW: u32 = 0x7fff_0000;
    /// `SECCOMP_RET_ACTION_FULL`: the bits that pick the action.
    pub const ACTION_FULL: u32 = 0xffff_0000;
    /// `SECCOMP_RET_DATA`: the bits carried to the action (errno, trace message, ...).
    pub const DATA: u32 = 0x0000_ffff;
}

/// `EPERM`, the data OCI runtimes give ERRNO and TRACE when a profile names none.
pub const EPERM: u16 = 1;
/// `ENOSYS`, what runc's stub returns for syscalls newer than the profile.
pub const ENOSYS: u16 = 38;
/// The largest errno the kernel passes through; larger ERRNO data is clamped to it.
pub const MAX_ERRNO: u16 = 4095;

/// The kind of an action, without data: what a profile's `action` token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    KillProcess,
    KillThread,
    Trap,
    Errno,
    Notify,
    Trace,
    Log,
    Allow,
}

impl ActionKind {
    /// Every kind, in the kernel's precedence order (strongest first).
    pub const ALL: [ActionKind; 8] = [
        ActionKind::KillProcess,
        ActionKind::KillThread,
        ActionKind::Trap,
        ActionKind::Errno,
        ActionKind::Notify,
        ActionKind::Trace,
        ActionKind::Log,
        ActionKind::Allow,
    ];

    /// The OCI runtime-spec token, e.g. `SCMP_ACT_ERRNO`.
    pub const fn oci_name(self) -> &'static str {
        match self {
            ActionKind::KillProcess => "SCMP_ACT_KILL_PROCESS",
            ActionKind::KillThread => "SCMP_ACT_KILL_THREAD",
            ActionKind::Trap => "SCMP_ACT_TRAP",
            ActionKind::Errno => "SCMP_ACT_ERRNO",
            ActionKind::Notify => "SCMP_ACT_NOTIFY",
            ActionKind::Trace => "SCMP_ACT_TRACE",
            ActionKind::Log => "SCMP_ACT_LOG",
            ActionKind::Allow => "SCMP_ACT_ALLOW",
        }
    }

    /// The short name syscage prints (`ERRNO`, `KILL_PROCESS`, ...).
    pub const fn short_name(self) -> &'static str {
        match self {
            ActionKind::KillProcess => "KILL_PROCESS",
            ActionKind::KillThread => "KILL_THREAD",
            ActionKind::Trap => "TRAP",
            ActionKind::Errno => "ERRNO",
            ActionKind::Notify => "NOTIFY",
            ActionKind::Trace => "TRACE",
            ActionKind::Log => "LOG",
            ActionKind::Allow => "ALLOW",
        }
    }

    /// Whether the action carries data from the profile (`errnoRet`).
    pub const fn takes_data(self) -> bool {
        matches!(self, ActionKind::Errno | ActionKind::Trace)
    }

    const fn base(self) -> u32 {
        match self {
            ActionKind::KillProcess => ret::KILL_PROCESS,
            ActionKind::KillThread => ret::KILL_THREAD,
            ActionKind::Trap => ret::TRAP,
            ActionKind::Errno => ret::ERRNO,
            ActionKind::Notify => ret::USER_NOTIF,
            ActionKind::Trace => ret::TRACE,
            ActionKind::Log => ret::LOG,
            ActionKind::Allow => ret::ALLOW,
        }
    }
}

/// A token in a profile's `action`/`defaultAction` that no runtime accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0:?} (expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)")]
pub struct UnknownAction(pub String);

impl FromStr for ActionKind {
    type Err = UnknownAction;

    /// Parses the OCI tokens; `SCMP_ACT_KILL` is KILL_THREAD, as in libseccomp.
    fn from_str(s: &str) -> Result<ActionKind, UnknownAction> {
        Ok(match s {
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => ActionKind::KillThread,
            "SCMP_ACT_KILL_PROCESS" => ActionKind::KillProcess,
            "SCMP_ACT_TRAP" => ActionKind::Trap,
            "SCMP_ACT_ERRNO" => ActionKind::Errno,
            "SCMP_ACT_NOTIFY" => ActionKind::Notify,
            "SCMP_ACT_TRACE" => ActionKind::Trace,
            "SCMP_ACT_LOG" => ActionKind::Log,
            "SCMP_ACT_ALLOW" => ActionKind::Allow,
            _ => return Err(UnknownAction(s.to_string())),
        })
    }
}

/// A resolved action: a kind and its 16 bits of data, i.e. one `SECCOMP_RET_*` value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action {
    pub kind: ActionKind,
    pub data: u16,
}

impl Action {
    pub const ALLOW: Action = Action::new(ActionKind::Allow, 0);
    pub const KILL_THREAD: Action = Action::new(ActionKind::KillThread, 0);
    pub const KILL_PROCESS: Action = Action::new(ActionKind::KillProcess, 0);
    pub const LOG: Action = Action::new(ActionKind::Log, 0);

    pub const fn new(kind: ActionKind, data: u16) -> Action {
        Action { kind, data }
    }

    pub const fn errno(errno: u16) -> Action {
        Action::new(ActionKind::Errno, errno)
    }

    /// The 32-bit value a filter returns for this action.
    pub const fn to_ret(self) -> u32 {
        self.kind.base() | self.data as u32
    }

    /// What the kernel does with a filter's return value. Unknown action values act as
    /// KILL_PROCESS (kernel/seccomp.c, `__seccomp_filter`), which `None` reports so a
    /// caller can say so.
    pub const fn from_ret(ret: u32) -> Option<Action> {
        let data = (ret & ret::DATA) as u16;
        let kind = match ret & ret::ACTION_FULL {
            ret::KILL_PROCESS => ActionKind::KillProcess,
            ret::KILL_THREAD => ActionKind::KillThread,
            ret::TRAP => ActionKind::Trap,
            ret::ERRNO => ActionKind::Errno,
            ret::USER_NOTIF => ActionKind::Notify,
            ret::TRACE => ActionKind::Trace,
            ret::LOG => ActionKind::Log,
            ret::ALLOW => ActionKind::Allow,
            _ => return None,
        };
        Some(Action { kind, data })
    }

    /// Whether the syscall goes ahead (ALLOW or LOG).
    pub const fn permits(self) -> bool {
        matches!(self.kind, ActionKind::Allow | ActionKind::Log)
    }
}

/// The kernel's ordering of two filter results: the lower `(s32)(ret & ACTION_FULL)` is
/// the stronger action (kernel/seccomp.c, `seccomp_run_filters`).
pub const fn precedence(ret: u32) -> i32 {
    (ret & ret::ACTION_FULL) as i32
}

/// Linux errno names by number (`include/uapi/asm-generic/errno-base.h` and
/// `errno.h`, which x86, arm, riscv, s390 and powerpc share; 41 and 58 are unused).
const ERRNO_NAMES: [&str; 134] = [
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// The name of errno `e` (`EPERM`), for printing ERRNO data.
pub fn errno_name(e: u16) -> Option<&'static str> {
    ERRNO_NAMES
        .get(usize::from(e))
        .copied()
        .filter(|n| !n.is_empty())
}

/// The number of errno `name` (`EPERM`, and the aliases `EWOULDBLOCK`, `EDEADLOCK`,
/// `ENOTSUP`), as containers/common's `errno` fields take it.
pub fn errno_number(name: &str) -> Option<u16> {
    match name {
        "EWOULDBLOCK" => Some(11),
        "EDEADLOCK" => Some(35),
        "ENOTSUP" => Some(95),
        "" => None,
        _ => ERRNO_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| i as u16),
    }
}

impl fmt::Display for Action {
    /// `ALLOW`, `ERRNO(EPERM)`, `ERRNO(4095)`, `TRACE(7)`, `KILL_PROCESS`: the value
    /// as the filter returns it (the listing syntax `syscage asm` reads back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.kind.short_name();
        match self.kind {
            ActionKind::Errno => match errno_name(self.data) {
                Some(e) => write!(f, "{name}({e})"),
                None => write!(f, "{name}({})", self.data),
            },
            ActionKind::Trace | ActionKind::Trap if self.data != 0 => {
                write!(f, "{name}({})", self.data)
            }
            _ => f.write_str(name),
        }
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} ({:#010x})", self.to_ret())
    }
}

/// Formats any filter return value, including ones no action names.
/// [`describe_ret`], plus what the calling program sees where that differs from the
/// filter's value: the kernel caps ERRNO data at MAX_ERRNO, 4095 (kernel/seccomp.c,
/// `__seccomp_filter`). For reports; listings use [`describe_ret`].
pub fn describe_outcome(ret: u32) -> String {
    match Action::from_ret(ret) {
        Some(a) if a.kind == ActionKind::Errno && a.data > 4095 => {
            format!("ERRNO({}; the caller gets 4095)", a.data)
        }
        _ => describe_ret(ret),
    }
}

pub fn describe_ret(ret: u32) -> String {
    match Action::from_ret(ret) {
        Some(a) => a.to_string(),
        None => format!("UNKNOWN({ret:#010x}, acts as KILL_PROCESS)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_kill_means_kill_thread() {
        assert_eq!("SCMP_ACT_KILL".parse(), Ok(ActionKind::KillThread));
        for k in ActionKind::ALL {
            assert_eq!(k.oci_name().parse(), Ok(k));
        }
        assert!("SCMP_ACT_DENY".parse::<ActionKind>().is_err());
    }

    #[test]
    fn errno_above_max_errno_says_what_the_caller_gets() {
        assert_eq!(
            describe_outcome(Action::errno(4095).to_ret()),
            "ERRNO(4095)"
        );
        assert_eq!(
            describe_outcome(Action::errno(4096).to_ret()),
            "ERRNO(4096; the caller gets 4095)"
        );
        assert_eq!(describe_outcome(Action::ALLOW.to_ret()), "ALLOW");
    }

    #[test]
    fn ret_values_round_trip() {
        for k in ActionKind::ALL {
            let a = Action::new(k, if k == ActionKind::KillProcess { 0 } else { 7 });
            assert_eq!(Action::from_ret(a.to_ret()), Some(a));
        }
        assert_eq!(Action::errno(1).to_ret(), 0x0005_0001);
        assert_eq!(Action::from_ret(0x0001_0000), None);
    }

    #[test]
    fn kernel_precedence_orders_kill_process_first_allow_last() {
        let order: Vec<i32> = ActionKind::ALL
            .iter()
            .map(|k| precedence(Action::new(*k, 0).to_ret()))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn display() {
        assert_eq!(Action::errno(1).to_string(), "ERRNO(EPERM)");
        assert_eq!(Action::errno(4095).to_string(), "ERRNO(4095)");
        assert_eq!(Action::new(ActionKind::Trace, 3).to_string(), "TRACE(3)");
        assert_eq!(
            describe_ret(0x0001_0000),
            "UNKNOWN(0x00010000, acts as KILL_PROCESS)"
        );
    }
}
