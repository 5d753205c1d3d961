//! Step 3 and 4 of resolution: what libseccomp makes of the runtime's rules, per
//! architecture, and runc's ENOSYS stub in front of it.
//!
//! Sources: libseccomp 2.5.4 `src/db.c` (rule database, `_db_tree_add`), `src/arch-x86.c`
//! (socketcall/ipc multiplexing), `src/gen_bpf.c` (check order); runc
//! `libcontainer/seccomp/patchbpf/enosys_linux.go`. See SEMANTICS.md for the measured
//! behaviour these functions reproduce.

use std::collections::BTreeMap;

use crate::action::{Action, ActionKind};
use crate::arch::Arch;
use crate::profile::{ArgCond, CmpOp, Profile, Runtime};
use crate::syscalls;

use super::convert::{OciFilter, OciRule};
use super::{ArchPolicy, Cond, Origin, Policy, Rule, SyscallPolicy, Target, Width};

/// Syscalls the kernel runs without consulting seccomp: (arch, name, first kernel).
/// kernel/seccomp.c `seccomp_uprobe_exception` (uretprobe since 6.14, uprobe since 6.18).
const BYPASS: &[(Arch, &str, (u32, u32))] = &[
    (Arch::X86_64, "uretprobe", (6, 14)),
    (Arch::X86_64, "uprobe", (6, 18)),
];

fn cond(c: &ArgCond, arch: Arch) -> Cond {
    let (width, trunc) = if arch.is_64bit() {
        (Width::W64, u64::MAX)
    } else {
        (Width::W32, 0xffff_ffff)
    };
    let (mask, datum) = match c.op {
        CmpOp::MaskedEq => (c.value & trunc, c.value_two & trunc),
        _ => (trunc, c.value & trunc),
    };
    Cond {
        arg: c.index as u8,
        op: c.op,
        mask,
        datum,
        width,
    }
}

/// The rules one architecture gets from the runtime's rule list, grouped by number in
/// the order they were added.
fn per_arch_rules(arch: Arch, rules: &[OciRule]) -> BTreeMap<u32, (String, Vec<Rule>)> {
    let mut by_nr: BTreeMap<u32, (String, Vec<Rule>)> = BTreeMap::new();
    for r in rules {
        let origin = Origin::Rule {
            pointer: r.pointer.clone(),
            name: r.name.clone(),
        };
        let conds: Vec<Cond> = r.conds.iter().map(|c| cond(c, arch)).collect();
        if let Some(sys) = syscalls::number_of(arch, &r.name) {
            by_nr
                .entry(sys.nr)
                .or_insert_with(|| (r.name.clone(), Vec::new()))
                .1
                .push(Rule {
                    conds: conds.clone(),
                    action: r.action,
                    origin: origin.clone(),
                });
        }
        // i386: libseccomp also adds the rule to the multiplexer, with `arg0 == call`
        // and the rule's own conditions unchanged (same argument indices).
        if let Some(m) = syscalls::multiplexed(arch, &r.name) {
            if let Some(via) = syscalls::number_of(arch, m.via) {
                let mut mconds = vec![Cond {
                    arg: 0,
                    op: CmpOp::Eq,
                    mask: 0xffff_ffff,
                    datum: u64::from(m.call),
                    width: Width::W32,
                }];
                mconds.extend(conds);
                by_nr
                    .entry(via.nr)
                    .or_insert_with(|| (m.via.to_string(), Vec::new()))
                    .1
                    .push(Rule {
                        conds: mconds,
                        action: r.action,
                        origin,
                    });
            }
        }
    }
    by_nr
}

/// libseccomp's combination of the rules of one syscall into the order its filter
/// checks them: an unconditional rule decides alone; otherwise conditional rules are
/// checked in the order they were added.
fn combine(mut rules: Vec<Rule>) -> Vec<Rule> {
    if let Some(i) = rules.iter().position(|r| r.conds.is_empty()) {
        return vec![rules.swap_remove(i)];
    }
    rules
}

pub(super) fn build(profile: &Profile, target: &Target, oci: OciFilter) -> Policy {
    let unconfined = profile.is_unconfined();
    let stub = target.runtime == Runtime::Runc
        && !matches!(
            oci.default.kind,
            ActionKind::Allow | ActionKind::Log | ActionKind::Trace
        );
    let arches = oci
        .arches
        .iter()
        .map(|&arch| {
            let by_nr = per_arch_rules(arch, &oci.rules);
            let enosys_above = if stub {
                by_nr.keys().next_back().copied()
            } else {
                None
            };
            let bypass = BYPASS
                .iter()
                .filter(|(a, _, (maj, min))| {
                    *a == arch && (target.kernel.major, target.kernel.minor) >= (*maj, *min)
                })
                .filter_map(|(a, name, _)| syscalls::number_of(*a, name).map(|s| s.nr))
                .collect();
            ArchPolicy {
                arch,
                syscalls: by_nr
                    .into_iter()
                    .map(|(nr, (name, rules))| SyscallPolicy {
                        nr,
                        name,
                        rules: combine(rules),
                    })
                    .collect(),
                enosys_above,
                bypass,
            }
        })
        .collect();
    Policy {
        source: profile.source.clone(),
        default: oci.default,
        default_origin: super::Origin::Default {
            pointer: default_pointer(profile),
        },
        bad_arch: Action::KILL_THREAD,
        arches,
        target: target.clone(),
        unconfined,
        warnings: oci.warnings,
    }
}

fn default_pointer(profile: &Profile) -> String {
    match profile.format {
        crate::profile::Format::OciBundle => "/linux/seccomp/defaultAction".into(),
        _ => "/defaultAction".into(),
    }
}
