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
//! seccompiler JSON files skip all of that: [`seccompiler`] builds the policy straight
//! from the chosen filter, with seccompiler's first-match semantics.
//!
//! The result, [`Policy`], is a pure decision structure: for each architecture, for each
//! syscall number, either an unconditional action or libseccomp's tree of argument-word
//! tests ([`tree`]), and a fallback. Every action keeps its [`Origin`], the JSON pointer
//! of the profile rule it came from. Evaluating a
//! policy is [`crate::eval`]'s job; compiling it, [`crate::bpf`]'s.

mod combine;
pub mod seccompiler;
mod tree;

use combine::bypass_for;

pub use tree::WordOp;
mod convert;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use crate::action::Action;
use crate::arch::Arch;
use crate::libseccomp::Libseccomp;
use crate::profile::{AnyProfile, Diagnostic, KernelVersion, Profile, Runtime};
use crate::runtime::{Release, RuntimeRelease};

pub use convert::OciRule;

/// The capabilities Docker grants a container by default ([`crate::caps::DOCKER_DEFAULT`]).
pub const DOCKER_DEFAULT_CAPS: &[&str] = crate::caps::DOCKER_DEFAULT;

/// What a profile is resolved for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The native architecture (the host the container runs on).
    pub arch: Arch,
    /// The container's bounding capabilities, `CAP_*` spelling.
    pub caps: BTreeSet<String>,
    pub kernel: KernelVersion,
    pub runtime: Runtime,
    /// The runtime's release, where behaviour changed between releases
    /// ([`crate::runtime`]); `None` is the newest behaviour modelled.
    pub release: Option<Release>,
    /// The syscall names the runtime's libseccomp resolves (default: the newest
    /// tabulated release; the CLI asks the host's library).
    pub libseccomp: Libseccomp,
}

impl Target {
    /// A target with Docker's default capabilities and runc.
    pub fn new(arch: Arch, kernel: KernelVersion) -> Target {
        Target {
            arch,
            caps: DOCKER_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect(),
            kernel,
            runtime: Runtime::Runc,
            release: None,
            libseccomp: Libseccomp::latest(),
        }
    }

    /// The runtime and its release, whose behaviours [`crate::runtime`] models.
    pub fn runtime_release(&self) -> RuntimeRelease {
        RuntimeRelease {
            runtime: self.runtime,
            release: self.release,
        }
    }
}

/// Where a decision came from.
///
/// Every verdict carries one, so its strings are shared (`Arc<str>`): a clone per
/// evaluated event is a reference count, not two allocations.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A profile rule: its JSON pointer and the syscall name that produced this copy.
    Rule { pointer: Arc<str>, name: Arc<str> },
    /// The profile's `defaultAction`.
    Default { pointer: Arc<str> },
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
            Origin::Rule { pointer, .. } => pointer.to_string(),
            Origin::Default { pointer } => pointer.to_string(),
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

/// One node of a syscall's decision tree: a test on one 32-bit word of an argument,
/// `(word & mask) OP datum`, and what each outcome leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub arg: u8,
    /// The high word of the argument (64-bit ABIs); otherwise the low word.
    pub hi: bool,
    pub op: WordOp,
    pub mask: u32,
    pub datum: u32,
    pub on_true: Branch,
    pub on_false: Branch,
}

impl Node {
    /// `seccomp_data` offset of the word this node tests.
    pub fn offset(&self) -> u32 {
        16 + 8 * u32::from(self.arg) + if self.hi { 4 } else { 0 }
    }

    #[inline]
    pub fn word(&self, args: &[u64; 6]) -> u32 {
        let v = args[self.arg as usize];
        if self.hi {
            (v >> 32) as u32
        } else {
            v as u32
        }
    }

    #[inline]
    pub fn test(&self, args: &[u64; 6]) -> bool {
        let w = self.word(args) & self.mask;
        match self.op {
            WordOp::Eq | WordOp::MaskedEq => w == self.datum,
            WordOp::Gt => w > self.datum,
            WordOp::Ge => w >= self.datum,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let half = if self.hi { "high" } else { "low" };
        let op = match self.op {
            WordOp::Eq | WordOp::MaskedEq => "==",
            WordOp::Gt => ">",
            WordOp::Ge => ">=",
        };
        if self.mask == u32::MAX {
            write!(f, "args[{}].{half} {op} {:#x}", self.arg, self.datum)
        } else {
            write!(
                f,
                "(args[{}].{half} & {:#x}) {op} {:#x}",
                self.arg, self.mask, self.datum
            )
        }
    }
}

/// Where an outcome of a node leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Branch {
    /// On to the next node of the same level (or, past the last, back up a level).
    Next,
    /// The rule's action: the decision is made.
    Decide(Action, Origin),
    /// Into a deeper level.
    Sub(Vec<Node>),
    /// The top-level entry this node belongs to fails: on to the next node of the
    /// syscall's top level, whatever the depth. libseccomp's trees never have it;
    /// seccompiler's rules use it so that a condition with two ways to hold (a 64-bit
    /// `ne`, `lt`, ...) is tested once instead of repeating the rest of the rule.
    Fail,
}

/// How a syscall is decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An unconditional rule: arguments do not matter.
    Always(Action, Origin),
    /// libseccomp's rule tree: the first action reached in tree order decides; when
    /// none is, the policy's fallback does.
    Tree(Vec<Node>),
}

/// Everything the filter decides for one syscall number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallPolicy {
    /// As `seccomp_data.nr` carries it (x32 numbers include the x32 bit).
    pub nr: u32,
    pub name: String,
    pub decision: Decision,
    /// libseccomp 2.5.4's code generator may test a stale accumulator for this tree,
    /// so its exported filter can disagree with the tree (SEMANTICS.md).
    pub libseccomp_codegen_may_differ: bool,
}

impl SyscallPolicy {
    /// Every node of the tree, depth first.
    pub fn nodes(&self) -> Vec<&Node> {
        fn walk<'a>(level: &'a [Node], out: &mut Vec<&'a Node>) {
            for n in level {
                out.push(n);
                for b in [&n.on_true, &n.on_false] {
                    if let Branch::Sub(l) = b {
                        walk(l, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        if let Decision::Tree(level) = &self.decision {
            walk(level, &mut out);
        }
        out
    }
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

/// Who turns a profile into the installed filter, which decides what of the [`Target`]
/// the policy depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builder {
    /// An OCI runtime (runc or crun) with libseccomp: the runtime, the capabilities
    /// (moby's `includes`/`excludes`) and the kernel all matter.
    Runtime,
    /// seccompiler: only the architecture, and the kernel's seccomp bypasses.
    Seccompiler,
}

impl Builder {
    /// `runtime` or `seccompiler`, as the simulator's answers spell it.
    pub fn name(self) -> &'static str {
        match self {
            Builder::Runtime => "runtime",
            Builder::Seccompiler => "seccompiler",
        }
    }
}

/// A resolved policy: what one installed filter decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Where the profile came from (a path or `builtin:...`).
    pub source: String,
    /// Who builds the filter.
    pub builder: Builder,
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
        // runc's stub comes before the rules (numbers are this ABI's own: x86_64's
        // without the x32 bit).
        if part.enosys_above.is_some_and(|max| nr > max) {
            return Some(Action::errno(crate::action::ENOSYS));
        }
        match part.syscall(nr).map(|s| &s.decision) {
            Some(Decision::Always(action, _)) => Some(*action),
            Some(Decision::Tree(_)) => None,
            None => Some(self.default),
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
    /// libseccomp refuses a rule (EEXIST), so the runtime refuses the container.
    #[error(
        "{profile}: {pointer}: libseccomp refuses this rule for {name} on {arch} (EEXIST): it \
         conflicts with the rule at {other}, which tests the same arguments with another \
         action; the runtime would fail to start the container"
    )]
    Conflict {
        profile: String,
        pointer: String,
        name: String,
        arch: Arch,
        other: String,
    },
    /// libseccomp 2.5.4 loops forever adding a rule, so the runtime hangs.
    #[error(
        "{profile}: {pointer}: libseccomp 2.5.4 never finishes adding this rule for {name} on \
         {arch} (its rule database links into a loop): the runtime would hang starting the \
         container; reorder or merge the rules for {name}"
    )]
    LibseccompHang {
        profile: String,
        pointer: String,
        name: String,
        arch: Arch,
    },
    /// The rules for one syscall make more tests than a filter may have instructions.
    #[error(
        "{profile}: {pointer}: with this rule, {name} on {arch} needs {nodes} tests in \
         libseccomp's rule tree, and libseccomp emits at least one BPF instruction per \
         test: the filter would be longer than the kernel's 4096 instructions, so the \
         runtime could not install it; merge the rules for {name} (e.g. one MASKED_EQ or \
         range test instead of many values)"
    )]
    TooLong {
        profile: String,
        pointer: String,
        name: String,
        arch: Arch,
        nodes: usize,
    },
    /// The runtime (at this release) refuses the profile before installing anything.
    #[error("{profile}: {pointer}: {} refuses this profile: {reason}", runtime.describe())]
    RuntimeRefuses {
        profile: String,
        pointer: String,
        runtime: RuntimeRelease,
        reason: String,
    },
}

/// What the runtime hands libseccomp for `profile` on `target`: the filter's
/// architectures (native first), its default action, and one rule per syscall name in
/// order (after moby's filtering, runc's skipping and splitting). Oracles that build the
/// same filter with libseccomp start from here.
pub fn runtime_rules(
    profile: &Profile,
    target: &Target,
) -> Result<(Vec<Arch>, Action, Vec<OciRule>), ResolveError> {
    let oci = convert::to_oci_filter(profile, target)?;
    Ok((oci.arches, oci.default, oci.rules))
}

/// Resolves `profile` for `target`.
pub fn resolve(profile: &Profile, target: &Target) -> Result<Policy, ResolveError> {
    let oci = convert::to_oci_filter(profile, target)?;
    combine::build(profile, target, oci)
}

/// Resolves a profile of any format for `target`: OCI/Docker profiles as runc or crun
/// and libseccomp would ([`resolve`]), seccompiler filters as seccompiler's generated
/// program does ([`seccompiler::resolve`]: first match over ordered rules, no runtime).
pub fn resolve_any(profile: &AnyProfile, target: &Target) -> Result<Policy, ResolveError> {
    match profile {
        AnyProfile::Oci(p) => resolve(p, target),
        AnyProfile::Seccompiler(p) => seccompiler::resolve(p, target),
    }
}
