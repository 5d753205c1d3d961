//! What a tracer can see of a filter's return value, and how an engine's 32-bit
//! `SECCOMP_RET_*` value maps onto it.
//!
//! The kernel oracle sees the *effect* of a verdict, not the value itself: ALLOW and LOG
//! both let the syscall through (a tracer cannot tell them apart — the blind spot),
//! ERRNO data is capped at 4095 by the kernel, the data of KILL and NOTIFY never reaches
//! user space, and a return value no action names acts as KILL_PROCESS. Comparing an
//! engine with the kernel therefore compares [`expected`] of the engine's value with
//! the [`Observed`] one. Pure computation: available on every OS.

use std::fmt;

use syscage_core::action::{self, ret, Action, ActionKind};

/// One kernel-observed verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Observed {
    /// The syscall would have gone ahead: ALLOW or LOG (a tracer cannot tell which).
    AllowOrLog,
    /// Any other action, as a return value with the data the kernel acts on: ERRNO data
    /// capped at 4095, TRAP data (siginfo `si_errno`), TRACE data (the ptrace event
    /// message); KILL_PROCESS, KILL_THREAD and NOTIFY without data.
    Ret(u32),
    /// The kernel runs this syscall without consulting seccomp (x86_64 `uretprobe`,
    /// `uprobe`): never issued, because it would really execute.
    Bypass,
    /// The event's architecture cannot be issued from this machine (only x86_64, x32
    /// numbers and i386 via `int $0x80` can).
    Unobservable,
}

impl Observed {
    pub fn describe(&self) -> String {
        match self {
            Observed::AllowOrLog => "ALLOW or LOG".into(),
            Observed::Ret(r) => action::describe_ret(*r),
            Observed::Bypass => "ALLOW (bypasses seccomp; not issued)".into(),
            Observed::Unobservable => "not observable here".into(),
        }
    }

    /// Whether the kernel actually answered (not a bypass nor an unissuable arch).
    pub fn is_observed(&self) -> bool {
        matches!(self, Observed::AllowOrLog | Observed::Ret(_))
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What the kernel oracle would observe for a filter stack returning `r`.
pub fn expected(r: u32) -> Observed {
    let Some(a) = Action::from_ret(r) else {
        return Observed::Ret(ret::KILL_PROCESS);
    };
    Observed::Ret(match a.kind {
        ActionKind::Allow | ActionKind::Log => return Observed::AllowOrLog,
        ActionKind::Errno => Action::errno(a.data.min(action::MAX_ERRNO)).to_ret(),
        ActionKind::KillProcess | ActionKind::KillThread | ActionKind::Notify => {
            Action::new(a.kind, 0).to_ret()
        }
        ActionKind::Trap | ActionKind::Trace => r,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        assert_eq!(expected(ret::ALLOW), Observed::AllowOrLog);
        assert_eq!(expected(ret::LOG | 5), Observed::AllowOrLog);
        assert_eq!(
            expected(ret::ERRNO | 65000),
            Observed::Ret(ret::ERRNO | 4095)
        );
        assert_eq!(
            expected(ret::ERRNO | 4095),
            Observed::Ret(ret::ERRNO | 4095)
        );
        assert_eq!(expected(ret::ERRNO), Observed::Ret(ret::ERRNO));
        assert_eq!(expected(ret::TRAP | 7), Observed::Ret(ret::TRAP | 7));
        assert_eq!(
            expected(ret::USER_NOTIF | 3),
            Observed::Ret(ret::USER_NOTIF)
        );
        assert_eq!(expected(ret::KILL_THREAD | 9), Observed::Ret(0));
        assert_eq!(expected(0x0001_0000), Observed::Ret(ret::KILL_PROCESS));
        assert_eq!(expected(0x7ffd_0000), Observed::Ret(ret::KILL_PROCESS));
    }
}
