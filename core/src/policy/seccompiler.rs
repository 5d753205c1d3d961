//! A seccompiler filter as the policy its generated BPF implements
//! (`seccompiler` 0.5, `backend/filter.rs`, `rule.rs`, `condition.rs`, `bpf.rs`).
//!
//! * The program checks `seccomp_data.arch` against the one target architecture and
//!   returns `KILL_PROCESS` for any other (`build_arch_validation_sequence`). There is no
//!   x32 check: on x86_64, x32 numbers (bit 30) match no rule and get the
//!   `mismatch_action` — modelled as an empty x32 part of the policy.
//! * Rules are grouped by syscall number in file order. A syscall whose rules all lack
//!   `args` matches unconditionally; otherwise **only the rules with `args` count**
//!   (an unconditional rule adds nothing to a non-empty chain: `make_seccomp_filter`).
//! * A rule matches when all its conditions hold (AND); the rules of a syscall are tried
//!   in file order and the first match returns `match_action` (OR); no match, or an
//!   unlisted number, returns `mismatch_action`. Since every rule has the same action,
//!   the order only decides which rule a verdict names.
//! * `dword` compares the low 32 bits of the argument with the low 32 bits of `val`
//!   (the high word is never loaded); `qword` compares the high word, then the low word.
//!
//! First match over ordered rules is encoded in the policy's decision tree: each rule is
//! one top-level node whose sub-level tests the conditions in turn — one that holds
//! goes on to the next, one that does not fails the rule ([`Branch::Fail`]: on to the
//! next rule) — and ends in the rule's action. A 64-bit comparison becomes a high-word
//! test and, where the high words are equal, a low-word test; comparisons with two ways
//! to hold (`ne`, `lt`, `le`, `gt`, `ge` on a `qword`) reach the next condition by
//! either, so every condition is tested once and the tree is linear in the rule.

use std::collections::BTreeMap;

use super::{
    bypass_for, ArchPolicy, Branch, Builder, Decision, Node, Origin, Policy, ResolveError,
    SyscallPolicy, Target, WordOp,
};
use crate::action::{Action, ActionKind};
use crate::arch::Arch;
use crate::profile::seccompiler::{Condition, Filter, Op, Rule, SeccompilerProfile, Width};
use crate::profile::Diagnostic;
use crate::syscalls;

/// The architectures seccompiler 0.5 generates filters for (`TargetArch`).
pub const ARCHES: [Arch; 3] = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64];

/// The most tree nodes one filter may have (never reached by a filter seccompiler
/// accepts: its program is shorter than 4,096 instructions, and each node costs at
/// least one).
pub const MAX_NODES: u64 = 1 << 18;

/// The kernel's (and seccompiler's) limit on a program's length.
const BPF_MAX_LEN: u64 = 4096;

/// The number of `name` in seccompiler 0.5's own table for `arch` (generated from Linux
/// 6.12). syscage's tables are newer and spell one aarch64 entry differently, so the
/// differences are listed here; `tests/tests/seccompiler_json.rs` checks every name of
/// syscage's tables against the real crate.
pub fn number(arch: Arch, name: &str) -> Option<u32> {
    const NEWER_THAN_6_12: &[&str] = &[
        "file_getattr",
        "file_setattr",
        "getxattrat",
        "listxattrat",
        "open_tree_attr",
        "removexattrat",
        "setxattrat",
        "uprobe",
    ];
    if NEWER_THAN_6_12.contains(&name) {
        return None;
    }
    if arch == Arch::Aarch64 {
        // seccompiler's aarch64 table has the asm-generic names only: `newfstatat` (79),
        // not `fstatat`, and none of the 32-bit `*_time64` calls.
        if name == "newfstatat" {
            return Some(79);
        }
        if name == "fstatat" || name.ends_with("_time64") || name.ends_with("time64") {
            return None;
        }
    }
    syscalls::number_of(arch, name).map(|s| s.nr)
}

/// seccompiler's program length for `filter` (`BpfProgram::try_from(SeccompFilter)`),
/// given its rules grouped by number.
fn program_len(groups: &BTreeMap<u32, Vec<&Rule>>) -> u64 {
    let mut len = 3; // arch check
    if groups.is_empty() {
        return len + 1;
    }
    len += 1; // LD nr
    for rules in groups.values() {
        len += 1; // JEQ nr
        let chain: Vec<&Vec<Condition>> = rules.iter().filter_map(|r| r.args.as_ref()).collect();
        if chain.is_empty() {
            len += 3;
        }
        for conds in chain {
            let mut offset: u32 = 1;
            len += 2 + 1; // two jumps in, RET match
            for c in conds {
                if offset + 7 > 255 {
                    len += 3;
                    offset = 1;
                }
                let n = condition_len(c);
                len += u64::from(n);
                offset += n;
            }
        }
        len += 1; // RET mismatch
    }
    len + 1
}

fn condition_len(c: &Condition) -> u32 {
    let base = match c.op {
        Op::Eq | Op::Ne => 2,
        Op::Ge | Op::Gt | Op::Le | Op::Lt => 2,
        Op::MaskedEq(_) => 3,
    };
    let high = match (c.width, c.op) {
        (Width::Dword, _) => 0,
        (Width::Qword, Op::Eq | Op::Ne) => 2,
        (Width::Qword, Op::MaskedEq(_)) => 3,
        (Width::Qword, _) => 3,
    };
    base + high
}

/// The policy seccompiler's program for the chosen filter implements, on `target.arch`.
///
/// Like `compile_from_json`, every filter of the file is checked (an unknown syscall
/// name or an oversized program in any filter fails the whole file).
pub fn resolve(profile: &SeccompilerProfile, target: &Target) -> Result<Policy, ResolveError> {
    let chosen = profile.filter();
    let arch = target.arch;
    if !ARCHES.contains(&arch) {
        return Err(ResolveError::Invalid(Diagnostic {
            location: chosen.location.clone(),
            message: format!(
                "seccompiler generates filters for x86_64, aarch64 and riscv64 only, not {arch} \
                 (choose the target with --arch)"
            ),
        }));
    }
    let mut built = None;
    for (i, f) in profile.filters.iter().enumerate() {
        let groups = group(f, arch)?;
        let len = program_len(&groups);
        if len >= BPF_MAX_LEN {
            return Err(ResolveError::Invalid(Diagnostic {
                location: f.location.clone(),
                message: format!(
                    "seccompiler's program for filter {:?} would have {len} instructions, \
                     at or above its limit of {BPF_MAX_LEN} (FilterTooLarge)",
                    f.name
                ),
            }));
        }
        if i == profile.chosen {
            built = Some(groups);
        }
    }
    let groups = built.expect("the chosen filter is one of the filters");
    let mut warnings = profile.warnings.clone();
    let match_action = chosen.match_action.action();
    let mut syscalls = Vec::new();
    let mut budget = MAX_NODES;
    for (nr, rules) in groups {
        let name = rules[0].syscall.clone();
        let conditional: Vec<&Rule> = rules.iter().copied().filter(|r| r.args.is_some()).collect();
        let decision = if conditional.is_empty() {
            Decision::Always(match_action, origin(rules[0]))
        } else {
            for r in rules.iter().filter(|r| r.args.is_none()) {
                warnings.push(Diagnostic {
                    location: r.syscall_at.clone(),
                    message: format!(
                        "seccompiler ignores this rule: {name} also has rules with \"args\", \
                         and then only those match (the syscall is not allowed whatever its \
                         arguments)"
                    ),
                });
            }
            let mut top = Vec::new();
            for r in conditional {
                let conds = r.args.as_deref().expect("conditional");
                // Linear in the conditions; seccompiler's own length limit (checked
                // above) keeps this far below the budget.
                let size = rule_size(conds);
                if size > budget {
                    return Err(ResolveError::Invalid(Diagnostic {
                        location: r.syscall_at.clone(),
                        message: format!("this filter's rules make more than {MAX_NODES} tests"),
                    }));
                }
                budget -= size;
                let leaf = Branch::Decide(match_action, origin(r));
                top.push(rule(conds, leaf));
            }
            Decision::Tree(top)
        };
        syscalls.push(SyscallPolicy {
            nr,
            name,
            decision,
            libseccomp_codegen_may_differ: false,
        });
    }
    let mut arches = vec![ArchPolicy {
        arch,
        syscalls,
        enosys_above: None,
        bypass: bypass_for(arch, target.kernel),
    }];
    if arch == Arch::X86_64 {
        // No x32 check in seccompiler's program: x32 numbers reach the number
        // comparisons, match none, and get the mismatch action.
        arches.push(ArchPolicy {
            arch: Arch::X32,
            syscalls: Vec::new(),
            enosys_above: None,
            bypass: Vec::new(),
        });
    }
    Ok(Policy {
        source: profile.label(),
        builder: Builder::Seccompiler,
        default: chosen.mismatch_action.action(),
        default_origin: Origin::Default {
            pointer: chosen.mismatch_pointer.as_str().into(),
        },
        bad_arch: Action::new(ActionKind::KillProcess, 0),
        arches,
        target: target.clone(),
        unconfined: false,
        warnings,
    })
}

fn origin(r: &Rule) -> Origin {
    Origin::Rule {
        pointer: r.pointer.as_str().into(),
        name: r.syscall.as_str().into(),
    }
}

/// The filter's rules grouped by syscall number (ascending), file order within.
fn group(f: &Filter, arch: Arch) -> Result<BTreeMap<u32, Vec<&Rule>>, ResolveError> {
    let mut groups: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
    for r in &f.rules {
        let nr = number(arch, &r.syscall).ok_or_else(|| {
            ResolveError::Invalid(Diagnostic {
                location: r.syscall_at.clone(),
                message: format!(
                    "unknown syscall {:?} for {arch} in seccompiler 0.5's table (Linux 6.12): \
                     seccompiler refuses the file",
                    r.syscall
                ),
            })
        })?;
        groups.entry(nr).or_default().push(r);
    }
    Ok(groups)
}

/// How many nodes [`rule`] builds for a condition.
fn condition_nodes(c: &Condition) -> u64 {
    let lo = c.val as u32;
    match (c.width, c.op) {
        (Width::Dword, _) => 1,
        (Width::Qword, Op::Gt | Op::Le) if lo == u32::MAX => 1,
        (Width::Qword, Op::Ge | Op::Lt) if lo == 0 => 1,
        (Width::Qword, Op::Eq | Op::MaskedEq(_) | Op::Ne) => 2,
        (Width::Qword, _) => 3,
    }
}

/// The number of nodes [`rule`] builds for `conds`: linear in their number.
fn rule_size(conds: &[Condition]) -> u64 {
    2 + conds.iter().map(condition_nodes).sum::<u64>()
}

fn node(arg: u8, hi: bool, op: WordOp, mask: u32, datum: u32, t: Branch, f: Branch) -> Node {
    Node {
        arg,
        hi,
        op,
        mask,
        datum,
        on_true: t,
        on_false: f,
    }
}

/// A test that always holds (a zero mask): it emits no code.
fn always(then: Branch, otherwise: Branch) -> Node {
    node(0, false, WordOp::MaskedEq, 0, 0, then, otherwise)
}

/// One rule as one top-level node: an always-true node whose sub-level tests each
/// condition in turn — a condition that holds goes on to the next ([`Branch::Next`]),
/// one that does not abandons the rule for the next top-level node ([`Branch::Fail`]) —
/// and ends in a node that decides `leaf`. Each condition is tested once, so the rule
/// is linear in its conditions, as the program seccompiler generates.
fn rule(conds: &[Condition], leaf: Branch) -> Node {
    let mut level: Vec<Node> = conds.iter().map(condition).collect();
    level.push(always(leaf, Branch::Fail));
    always(Branch::Sub(level), Branch::Next)
}

/// One condition as a node that goes on (`Next`) when it holds and fails the rule
/// (`Fail`) when it does not.
fn condition(c: &Condition) -> Node {
    use Branch::{Fail, Next, Sub};
    use WordOp::{Eq, Ge, Gt, MaskedEq};
    const ALL: u32 = u32::MAX;
    let a = c.index;
    let (h, l) = ((c.val >> 32) as u32, c.val as u32);
    match (c.width, c.op) {
        (Width::Dword, Op::Eq) => node(a, false, Eq, ALL, l, Next, Fail),
        (Width::Dword, Op::Ne) => node(a, false, Eq, ALL, l, Fail, Next),
        (Width::Dword, Op::Gt) => node(a, false, Gt, ALL, l, Next, Fail),
        (Width::Dword, Op::Ge) => node(a, false, Ge, ALL, l, Next, Fail),
        (Width::Dword, Op::Lt) => node(a, false, Ge, ALL, l, Fail, Next),
        (Width::Dword, Op::Le) => node(a, false, Gt, ALL, l, Fail, Next),
        (Width::Dword, Op::MaskedEq(m)) => {
            let m = m as u32;
            node(a, false, MaskedEq, m, l & m, Next, Fail)
        }
        (Width::Qword, Op::Eq) => node(
            a,
            true,
            Eq,
            ALL,
            h,
            Sub(vec![node(a, false, Eq, ALL, l, Next, Fail)]),
            Fail,
        ),
        (Width::Qword, Op::MaskedEq(m)) => {
            let (mh, ml) = ((m >> 32) as u32, m as u32);
            node(
                a,
                true,
                MaskedEq,
                mh,
                h & mh,
                Sub(vec![node(a, false, MaskedEq, ml, l & ml, Next, Fail)]),
                Fail,
            )
        }
        // hi != H, or hi == H and lo != L.
        (Width::Qword, Op::Ne) => node(
            a,
            true,
            Eq,
            ALL,
            h,
            Sub(vec![node(a, false, Eq, ALL, l, Fail, Next)]),
            Next,
        ),
        // hi > H, or hi == H and lo > L (lo >= L for ge).
        (Width::Qword, Op::Gt) if l == ALL => node(a, true, Gt, ALL, h, Next, Fail),
        (Width::Qword, Op::Ge) if l == 0 => node(a, true, Ge, ALL, h, Next, Fail),
        (Width::Qword, op @ (Op::Gt | Op::Ge)) => {
            let low = if op == Op::Gt { Gt } else { Ge };
            node(
                a,
                true,
                Gt,
                ALL,
                h,
                Next,
                Sub(vec![node(
                    a,
                    true,
                    Eq,
                    ALL,
                    h,
                    Sub(vec![node(a, false, low, ALL, l, Next, Fail)]),
                    Fail,
                )]),
            )
        }
        // hi < H, or hi == H and lo < L (lo <= L for le).
        (Width::Qword, Op::Lt) if l == 0 => node(a, true, Ge, ALL, h, Fail, Next),
        (Width::Qword, Op::Le) if l == ALL => node(a, true, Gt, ALL, h, Fail, Next),
        (Width::Qword, op @ (Op::Lt | Op::Le)) => {
            // lo < L is !(lo >= L); lo <= L is !(lo > L).
            let low = if op == Op::Lt { Ge } else { Gt };
            node(
                a,
                true,
                Ge,
                ALL,
                h,
                Sub(vec![node(
                    a,
                    true,
                    Eq,
                    ALL,
                    h,
                    Sub(vec![node(a, false, low, ALL, l, Fail, Next)]),
                    Fail,
                )]),
                Next,
            )
        }
    }
}
