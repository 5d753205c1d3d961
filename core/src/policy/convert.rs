//! Steps 1 and 2 of resolution: moby's profile filtering, then the OCI runtime's
//! conversion of `syscalls` entries into single-syscall libseccomp rules.
//!
//! Sources: moby `profiles/seccomp/seccomp_linux.go` (`setupSeccomp`), runc
//! `libcontainer/seccomp/seccomp_linux.go` (`InitSeccomp`, `matchCall`), crun
//! `src/libcrun/seccomp.c`. What this module does not do: name resolution per
//! architecture and rule combination, which are libseccomp's ([`super::combine`]).

use crate::action::{Action, ActionKind, EPERM};
use crate::arch::Arch;
use crate::profile::{ArgCond, Conditions, Format, Profile, SyscallRule};
use crate::syscalls;

use super::{Diagnostic, ResolveError, Target};

/// One libseccomp rule as the runtime adds it: one syscall name, one action, and
/// conditions that are all ANDed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciRule {
    pub name: String,
    pub action: Action,
    pub conds: Vec<ArgCond>,
    /// JSON pointer of the profile rule.
    pub pointer: String,
}

/// The runtime's view of a profile: filter architectures, default action, rules.
pub(super) struct OciFilter {
    pub arches: Vec<Arch>,
    /// The architectures the runtime's config lists (the profile's `architectures`, or
    /// what moby makes of `archMap`), without the native one libseccomp always adds:
    /// runc's ENOSYS stub is built for these.
    pub listed: Vec<Arch>,
    pub default: Action,
    pub rules: Vec<OciRule>,
    /// Every syscall name of the rules the runtime saw that its libseccomp resolves,
    /// skipped ones included (runc's ENOSYS stub counts them).
    pub all_names: Vec<String>,
    /// Per rule (its pointer), the names its libseccomp does not resolve: skipped.
    pub unresolved: Vec<(String, Vec<String>)>,
    pub warnings: Vec<Diagnostic>,
}

/// The action a runtime installs for `kind` with optional `errnoRet`: ERRNO and TRACE
/// take the errno (EPERM when absent), libseccomp keeps its low 16 bits; other actions
/// carry no data.
pub(super) fn runtime_action(kind: ActionKind, errno_ret: Option<u32>) -> Action {
    let data = if kind.takes_data() {
        errno_ret.map_or(EPERM, |e| e as u16)
    } else {
        0
    };
    Action::new(kind, data)
}

/// Whether moby keeps a rule for this target (all `includes` met, no `excludes` met).
fn moby_keeps(rule: &SyscallRule, target: &Target) -> bool {
    let goarch = target.arch.goarch();
    let ex: &Conditions = &rule.excludes;
    if ex.arches.iter().any(|a| a == goarch)
        || ex.caps.iter().any(|c| target.caps.contains(c))
        || ex.min_kernel.is_some_and(|k| target.kernel >= k)
    {
        return false;
    }
    let inc: &Conditions = &rule.includes;
    (inc.arches.is_empty() || inc.arches.iter().any(|a| a == goarch))
        && inc.caps.iter().all(|c| target.caps.contains(c))
        && inc.min_kernel.is_none_or(|k| target.kernel >= k)
}

pub(super) fn to_oci_filter(profile: &Profile, target: &Target) -> Result<OciFilter, ResolveError> {
    let warnings = profile.warnings.clone();
    let mut arches = vec![target.arch];
    let listed: Vec<Arch> = if profile.format == Format::Docker && !profile.arch_map.is_empty() {
        profile
            .arch_map
            .iter()
            .filter(|e| e.arch == target.arch)
            .flat_map(|e| std::iter::once(e.arch).chain(e.sub_arches.iter().copied()))
            .collect()
    } else {
        profile.architectures.clone()
    };
    for &a in &listed {
        if !arches.contains(&a) {
            arches.push(a);
        }
    }
    let runtime = target.runtime_release();
    if runtime.refuses_flags() && !profile.flags.is_empty() {
        return Err(ResolveError::RuntimeRefuses {
            profile: profile.source.clone(),
            pointer: "/flags".into(),
            runtime,
            reason: "runc 1.1 supports no seccomp flags (\"seccomp flags are not yet \
                     supported by runc\"); runc 1.2.0 is the first to accept them"
                .into(),
        });
    }
    let default = runtime_action(profile.default_action, profile.default_errno_ret);
    let mut rules = Vec::new();
    let mut all_names = Vec::new();
    let mut unresolved = Vec::new();
    for rule in &profile.syscalls {
        if profile.format == Format::Docker && !moby_keeps(rule, target) {
            continue;
        }
        // Names the runtime's libseccomp does not resolve are skipped by runc and crun
        // alike, and runc's stub does not count them.
        let unknown: Vec<String> = rule
            .names
            .iter()
            .filter(|n| syscalls::known_anywhere(n) && !target.libseccomp.knows(n))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            unresolved.push((rule.pointer.clone(), unknown));
        }
        all_names.extend(
            rule.names
                .iter()
                .filter(|n| target.libseccomp.knows(n))
                .cloned(),
        );
        let action = runtime_action(rule.action, rule.errno_ret);
        // runc (matchCall) and crun both skip a rule whose action, data included, is the
        // default action; libseccomp would refuse it.
        if action == default {
            continue;
        }
        // runc splits when an index repeats: each condition becomes its own rule (OR).
        let mut seen = [false; 6];
        let repeats = rule.args.iter().any(|c| {
            let i = c.index as usize;
            std::mem::replace(&mut seen[i], true)
        });
        let cond_sets: Vec<Vec<ArgCond>> = if repeats {
            rule.args.iter().map(|c| vec![*c]).collect()
        } else {
            vec![rule.args.clone()]
        };
        for name in &rule.names {
            if !syscalls::known_anywhere(name) || !target.libseccomp.knows(name) {
                continue; // warned: by the profile parser, with the place, or above
            }
            for conds in &cond_sets {
                rules.push(OciRule {
                    name: name.clone(),
                    action,
                    conds: conds.clone(),
                    pointer: rule.pointer.clone(),
                });
            }
        }
    }
    Ok(OciFilter {
        arches,
        listed,
        default,
        rules,
        all_names,
        unresolved,
        warnings,
    })
}
