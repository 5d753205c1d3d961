//! Steps 3 and 4 of resolution: what libseccomp makes of the runtime's rules, per
//! architecture, and runc's ENOSYS stub in front of it.
//!
//! Sources: libseccomp 2.5.4 `src/db.c` (rule database, see [`super::tree`]),
//! `src/arch-x86.c` (socketcall/ipc multiplexing); runc
//! `libcontainer/seccomp/patchbpf/enosys_linux.go` (the stub). SEMANTICS.md has the
//! measurements these reproduce.

use std::collections::BTreeMap;

use crate::action::{Action, ActionKind};
use crate::arch::Arch;
use crate::profile::{CmpOp, Diagnostic, Location, Profile, Runtime};
use crate::syscalls;

use super::convert::{OciFilter, OciRule};
use super::tree::{self, ArgCmp, Tree};
use super::{
    ArchPolicy, Branch, Builder, Decision, Node, Origin, Policy, ResolveError, SyscallPolicy,
    Target,
};

/// Syscalls the kernel runs without consulting seccomp: (arch, name, first kernel).
/// kernel/seccomp.c `seccomp_uprobe_exception` (uretprobe since 6.14, uprobe since 6.18).
const BYPASS: &[(Arch, &str, (u32, u32))] = &[
    (Arch::X86_64, "uretprobe", (6, 14)),
    (Arch::X86_64, "uprobe", (6, 18)),
];

fn arg_cmps(rule: &OciRule) -> Vec<ArgCmp> {
    rule.conds
        .iter()
        .map(|c| ArgCmp {
            arg: c.index as u8,
            op: c.op,
            a: c.value,
            b: c.value_two,
        })
        .collect()
}

/// The trees of one architecture, by number, built from the runtime's rules in order.
fn per_arch_trees(
    arch: Arch,
    rules: &[OciRule],
    profile: &Profile,
) -> Result<BTreeMap<u32, (String, Tree)>, ResolveError> {
    let mut trees: BTreeMap<u32, (String, Tree)> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        let act = tree::Act {
            ret: r.action.to_ret(),
            rule: i,
        };
        let conds = arg_cmps(r);
        let mut targets: Vec<(u32, String, Vec<ArgCmp>)> = Vec::new();
        if let Some(sys) = syscalls::number_of(arch, &r.name) {
            targets.push((sys.nr, r.name.clone(), conds.clone()));
        }
        // i386: the rule also goes onto the multiplexer, with `arg0 == SYS_xxx` in place
        // of the rule's own arg0 condition; conditions on arg1..arg5 stay, unshifted.
        if let Some(m) = syscalls::multiplexed(arch, &r.name) {
            if let Some(via) = syscalls::number_of(arch, m.via) {
                let mut mconds: Vec<ArgCmp> =
                    conds.iter().filter(|c| c.arg != 0).copied().collect();
                mconds.push(ArgCmp {
                    arg: 0,
                    op: CmpOp::Eq,
                    a: u64::from(m.call),
                    b: 0,
                });
                targets.push((via.nr, m.via.to_string(), mconds));
            }
        }
        for (nr, name, conds) in targets {
            let (_, t) = trees
                .entry(nr)
                .or_insert_with(|| (name, Tree::new(arch.is_64bit())));
            let added = t.add(act, &conds);
            if let Err(tree::AddError::TooLong { nodes }) = added {
                return Err(ResolveError::TooLong {
                    profile: profile.source.clone(),
                    pointer: r.pointer.clone(),
                    name: syscalls::name_of(arch, nr)
                        .map_or_else(|| r.name.clone(), str::to_string),
                    arch,
                    nodes,
                });
            }
            if added == Err(tree::AddError::Hang) {
                return Err(ResolveError::LibseccompHang {
                    profile: profile.source.clone(),
                    pointer: r.pointer.clone(),
                    name: r.name.clone(),
                    arch,
                });
            }
            if added.is_err() {
                let other = rules
                    .iter()
                    .take(i)
                    .rev()
                    .find(|o| o.name == r.name && o.action != r.action)
                    .map_or_else(|| "an earlier rule".to_string(), |o| o.pointer.clone());
                return Err(ResolveError::Conflict {
                    profile: profile.source.clone(),
                    pointer: r.pointer.clone(),
                    name: r.name.clone(),
                    arch,
                    other,
                });
            }
        }
    }
    Ok(trees)
}

fn origin(rules: &[OciRule], i: usize) -> Origin {
    Origin::Rule {
        pointer: rules[i].pointer.as_str().into(),
        name: rules[i].name.as_str().into(),
    }
}

/// The live part of a libseccomp tree as an owned [`Decision`].
fn decision(t: &Tree, rules: &[OciRule]) -> Decision {
    let action = |a: tree::Act| {
        (
            Action::from_ret(a.ret).expect("rules carry valid actions"),
            origin(rules, a.rule),
        )
    };
    if let Some(a) = t.unconditional() {
        let (act, o) = action(a);
        return Decision::Always(act, o);
    }
    fn level(
        t: &Tree,
        first: Option<usize>,
        conv: &dyn Fn(tree::Act) -> (Action, Origin),
    ) -> Vec<Node> {
        let mut out = Vec::new();
        let mut cur = first;
        while let Some(id) = cur {
            let n = t.node(id);
            let branch = |sub: Option<usize>, act: Option<tree::Act>| match (sub, act) {
                (Some(s), _) => Branch::Sub(level(t, Some(s), conv)),
                (None, Some(a)) => {
                    let (act, o) = conv(a);
                    Branch::Decide(act, o)
                }
                (None, None) => Branch::Next,
            };
            out.push(Node {
                arg: n.arg,
                hi: n.hi,
                op: n.op,
                mask: n.mask,
                datum: n.datum,
                on_true: branch(n.nxt_t, n.act_t),
                on_false: branch(n.nxt_f, n.act_f),
            });
            cur = n.lvl_nxt;
        }
        out
    }
    Decision::Tree(level(t, t.first(), &action))
}

/// runc's stub maximum for `arch`: the highest number libseccomp gives any name the
/// profile's (moby-filtered) rules mention, skipped rules included
/// (`patchbpf.findLastSyscalls`). On i386 libseccomp 2.5 resolves the socket and IPC
/// calls (`socket`, `connect`, `shmget`, ...) to negative pseudo-numbers, so they do not
/// count, and their direct numbers (359, 362, 395, ...) end up above the maximum unless
/// the profile names a higher number (measured with the real runc; the test
/// `real_runtimes.rs` keeps it so). A maximum of 0 (only `read` on x86_64) makes no
/// stub: runc drops the architecture.
fn stub_max(arch: Arch, names: &[String]) -> Option<u32> {
    names
        .iter()
        .filter(|n| syscalls::multiplexed(arch, n).is_none())
        .filter_map(|n| syscalls::number_of(arch, n))
        .map(|s| s.nr)
        .max()
        .filter(|&max| max != 0)
}

pub(super) fn build(
    profile: &Profile,
    target: &Target,
    oci: OciFilter,
) -> Result<Policy, ResolveError> {
    let unconfined = profile.is_unconfined();
    // runc prepends its stub unless the default action lets calls through
    // (`patchbpf.generatePatch`; its `defaultErrnoRet == ENOSYS` exception compares 38
    // with the whole return value 0x50026, so it never applies).
    let runtime = target.runtime_release();
    let stub = runtime.runtime == Runtime::Runc
        && !matches!(
            oci.default.kind,
            ActionKind::Allow | ActionKind::Log | ActionKind::Trace
        );
    let mut arches = Vec::new();
    for &arch in &oci.arches {
        let trees = per_arch_trees(arch, &oci.rules, profile)?;
        let stubbed =
            oci.listed.contains(&arch) || (arch == target.arch && runtime.stub_covers_native());
        let enosys_above = if stub && stubbed {
            stub_max(arch, &oci.all_names)
        } else {
            None
        };
        let bypass = bypass_for(arch, target.kernel);
        arches.push(ArchPolicy {
            arch,
            syscalls: trees
                .into_iter()
                .map(|(nr, (name, t))| SyscallPolicy {
                    nr,
                    name,
                    decision: decision(&t, &oci.rules),
                    libseccomp_codegen_may_differ: t.codegen_may_differ(),
                })
                .collect(),
            enosys_above,
            bypass,
        });
    }
    let mut warnings = oci.warnings;
    warnings.extend(unresolved_warnings(
        profile,
        target,
        &oci.unresolved,
        &arches,
        oci.default,
    ));
    Ok(Policy {
        source: profile.source.clone(),
        builder: Builder::Runtime,
        default: oci.default,
        default_origin: Origin::Default {
            pointer: match profile.format {
                crate::profile::Format::OciBundle => "/linux/seccomp/defaultAction".into(),
                _ => "/defaultAction".into(),
            },
        },
        bad_arch: Action::KILL_THREAD,
        arches,
        target: target.clone(),
        unconfined,
        warnings,
    })
}

/// One warning per rule naming syscalls the runtime's libseccomp does not resolve:
/// which, and what the call gets instead on the native architecture (the default, or
/// runc's ENOSYS above the stub's maximum).
fn unresolved_warnings(
    profile: &Profile,
    target: &Target,
    unresolved: &[(String, Vec<String>)],
    arches: &[ArchPolicy],
    default: Action,
) -> Vec<Diagnostic> {
    let native = arches.iter().find(|a| a.arch == target.arch);
    unresolved
        .iter()
        .map(|(pointer, names)| {
            let gets: Vec<String> = names
                .iter()
                .map(|n| {
                    let Some(nr) = syscalls::number_of(target.arch, n).map(|s| s.nr) else {
                        return format!("{n} (not a {} syscall)", target.arch);
                    };
                    if native.is_some_and(|a| a.bypass.contains(&nr)) {
                        return format!("{n} (never reaches seccomp on this kernel)");
                    }
                    let enosys = native
                        .and_then(|a| a.enosys_above)
                        .is_some_and(|max| nr > max);
                    let ret = if enosys {
                        Action::errno(crate::action::ENOSYS).to_ret()
                    } else {
                        default.to_ret()
                    };
                    format!("{n} ({})", crate::action::describe_ret(ret))
                })
                .collect();
            Diagnostic {
                location: Location {
                    source: profile.source.clone(),
                    line: 0,
                    column: 0,
                    pointer: pointer.clone(),
                },
                message: format!(
                    "{} does not know {}; {} skips {}, so on {} the call{} get{} what the filter \
                     gives a syscall it does not name: {}",
                    target.libseccomp,
                    names.join(", "),
                    target.runtime_release().describe(),
                    if names.len() == 1 { "it" } else { "them" },
                    target.arch,
                    if names.len() == 1 { "" } else { "s" },
                    if names.len() == 1 { "s" } else { "" },
                    gets.join(", ")
                ),
            }
        })
        .collect()
}

/// The syscalls of `arch` that never reach seccomp on `kernel`.
pub(crate) fn bypass_for(arch: Arch, kernel: crate::profile::KernelVersion) -> Vec<u32> {
    BYPASS
        .iter()
        .filter(|(a, _, (maj, min))| *a == arch && (kernel.major, kernel.minor) >= (*maj, *min))
        .filter_map(|(a, name, _)| syscalls::number_of(*a, name).map(|s| s.nr))
        .collect()
}
