//! A profile resolved for one target into the normalized policy every engine consumes.
//!
//! Resolution does what the platforms do before the kernel sees anything:
//!
//! 1. **moby** (Docker-format profiles only): pick the architectures from `archMap` for the
//!    native arch; drop rules whose `includes` are not all met or whose `excludes` are met
//!    (capabilities, native `GOARCH`, `minKernel`).
//! 2. **runc / crun** ([`convert`]): each name becomes its own rule; rules whose action
//!    equals the default are skipped; unknown names are skipped with a warning; a rule that
//!    names an argument index twice becomes one single-condition rule per condition (OR).
//! 3. **libseccomp** ([`combine`]): per architecture, resolve names to numbers, copy i386
//!    socket/ipc rules onto the multiplexers, truncate datums on 32-bit ABIs, and combine
//!    the rules of one syscall in the order libseccomp's generated filter checks them.
//! 4. **runc's ENOSYS stub**: numbers above the highest one the profile names return
//!    `ERRNO(ENOSYS)`.
//!
//! The result, [`Policy`], is a pure decision structure: for each architecture, for each
//! syscall number, an ordered list of rules (first match wins) and a fallback. Every rule
//! keeps its [`Origin`], the JSON pointer of the profile rule it came from. Evaluating a
//! policy is [`crate::eval`]'s job; compiling it, [`crate::bpf`]'s.

mod combine;
mod convert;

use std::collections::BTreeSet;
use std::fmt;

use crate::action::Action;
use crate::arch::Arch;
use crate::profile::{CmpOp, Diagnostic, KernelVersion, Profile, Runtime};

pub use convert::OciRule;

/// The capabilities Docker grants a container by default (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// What a profile is resolved for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The native architecture (the host the container runs on).
    pub arch: Arch,
    /// The container's bounding capabilities, `CAP_*` spelling.
    pub caps: BTreeSet<String>,
    pub kernel: KernelVersion,
    pub runtime: Runtime,
}

impl Target {
    /// A target with Docker's default capabilities and runc.
    pub fn new(arch: Arch, kernel: KernelVersion) -> Target {
        Target {
            arch,
            caps: DOCKER_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect(),
            kernel,
            runtime: Runtime::Runc,
        }
    }
}

/// Where a decision came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A profile rule: its JSON pointer and the syscall name that produced this copy.
    Rule { pointer: String, name: String },
    /// The profile's `defaultAction`.
    Default { pointer: String },
    /// The architecture is not in the filter (libseccomp's bad-arch action).
    BadArch,
    /// runc's stub: the number is above every number the profile names.
    EnosysStub,
    /// The kernel runs this syscall without consulting seccomp.
    Bypass,
    /// A raw BPF program decided (no profile to point into).
    Program,
}

impl Origin {
    /// The JSON pointer, or a short phrase for decisions no rule made.
    pub fn label(&self) -> String {
        match self {
            Origin::Rule { pointer, .. } => pointer.clone(),
            Origin::Default { pointer } => pointer.clone(),
            Origin::BadArch => "bad-arch".into(),
            Origin::EnosysStub => "runc-enosys-stub".into(),
            Origin::Bypass => "seccomp-bypass".into(),
            Origin::Program => "bpf".into(),
        }
    }

    /// A longer explanation for people.
    pub fn explain(&self) -> String {
        match self {
            Origin::Rule { pointer, name } => format!("{pointer} ({name})"),
            Origin::Default { pointer } => format!("{pointer} (default action)"),
            Origin::BadArch => "architecture not in the filter (bad-arch action)".into(),
            Origin::EnosysStub => {
                "runc's ENOSYS stub (number above every syscall the profile names)".into()
            }
            Origin::Bypass => "never reaches seccomp on this kernel".into(),
            Origin::Program => "the BPF program".into(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Whether an argument is compared as 64 bits or as its low 32 bits (32-bit ABIs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    W32,
    W64,
}

/// One argument comparison, normalized: `MASKED_EQ` keeps its mask in `mask`; for every
/// other operator `mask` is all ones. On 32-bit ABIs `datum` and `mask` are already
/// truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    pub arg: u8,
    pub op: CmpOp,
    pub mask: u64,
    pub datum: u64,
    pub width: Width,
}

impl Cond {
    /// Whether the condition holds for argument value `v`.
    #[inline]
    pub fn holds(&self, v: u64) -> bool {
        let v = match self.width {
            Width::W64 => v,
            Width::W32 => v & 0xffff_ffff,
        };
        match self.op {
            CmpOp::Ne => v != self.datum,
            CmpOp::Lt => v < self.datum,
            CmpOp::Le => v <= self.datum,
            CmpOp::Eq => v == self.datum,
            CmpOp::Ge => v >= self.datum,
            CmpOp::Gt => v > self.datum,
            CmpOp::MaskedEq => v & self.mask == self.datum & self.mask,
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            CmpOp::MaskedEq => write!(
                f,
                "(args[{}] & {:#x}) == {:#x}",
                self.arg,
                self.mask,
                self.datum & self.mask
            ),
            op => write!(f, "args[{}] {} {:#x}", self.arg, op.symbol(), self.datum),
        }
    }
}

/// A rule of one syscall: all conditions must hold (an empty list always holds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub conds: Vec<Cond>,
    pub action: Action,
    pub origin: Origin,
}

/// Everything the filter decides for one syscall number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallPolicy {
    /// As `seccomp_data.nr` carries it (x32 numbers include the x32 bit).
    pub nr: u32,
    pub name: String,
    /// In the order the filter checks them; the first that holds decides. When none
    /// holds, the policy's default decides.
    pub rules: Vec<Rule>,
}

/// The part of a filter for one architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchPolicy {
    pub arch: Arch,
    /// Sorted by number, at most one entry a number.
    pub syscalls: Vec<SyscallPolicy>,
    /// runc's stub: numbers strictly above this return `ERRNO(ENOSYS)`.
    pub enosys_above: Option<u32>,
    /// Syscalls the kernel runs without consulting seccomp at all, on this target.
    pub bypass: Vec<u32>,
}

impl ArchPolicy {
    pub fn syscall(&self, nr: u32) -> Option<&SyscallPolicy> {
        self.syscalls
            .binary_search_by_key(&nr, |s| s.nr)
            .ok()
            .map(|i| &self.syscalls[i])
    }
}

/// A resolved policy: what one installed filter decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Where the profile came from (a path or `builtin:...`).
    pub source: String,
    pub default: Action,
    pub default_origin: Origin,
    /// For architectures the filter does not cover.
    pub bad_arch: Action,
    /// The covered architectures, native first.
    pub arches: Vec<ArchPolicy>,
    pub target: Target,
    /// `true` when the profile installs no filter (every event is allowed, no filter in
    /// a stack).
    pub unconfined: bool,
    pub warnings: Vec<Diagnostic>,
}

impl Policy {
    /// The action for `nr` on `arch` when it does not depend on arguments (`None` when
    /// rules test arguments, or the kernel bypasses the filter).
    pub fn fixed_action(&self, arch: Arch, nr: u32) -> Option<Action> {
        if self.unconfined {
            return Some(Action::ALLOW);
        }
        let Some(part) = self.arches.iter().find(|a| a.arch == arch) else {
            return Some(self.bad_arch);
        };
        if part.bypass.contains(&nr) {
            return None;
        }
        match part.syscall(nr).map(|s| s.rules.as_slice()) {
            Some([first, ..]) if first.conds.is_empty() => Some(first.action),
            Some([_, ..]) => None,
            _ => Some(match part.enosys_above {
                Some(max) if nr > max => Action::errno(crate::action::ENOSYS),
                _ => self.default,
            }),
        }
    }

    /// The part of the filter for the architecture of `(audit_arch, nr)`, if covered.
    pub fn arch_policy(&self, audit_arch: u32, nr: u32) -> Option<&ArchPolicy> {
        let arch = Arch::from_audit(audit_arch, nr)?;
        self.arches.iter().find(|a| a.arch == arch)
    }
}

/// A profile that cannot be resolved for the target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Invalid(Diagnostic),
}

/// Resolves `profile` for `target`.
pub fn resolve(profile: &Profile, target: &Target) -> Result<Policy, ResolveError> {
    let oci = convert::to_oci_filter(profile, target)?;
    Ok(combine::build(profile, target, oci))
}
