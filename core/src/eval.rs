//! The reference engine: what a [`Policy`] (or a stack of them) returns for an event.
//!
//! This is the specification the other engines are tested against, so it is written
//! for obviousness first. It is also fast: [`Evaluator`] turns each architecture's part
//! of the policy into a table indexed by syscall number, so an event costs an arch
//! match, one index and, only for syscalls with argument rules, a walk of their rules.
//!
//! Events may have *unknown* arguments (a trace could not decode them). A decision that
//! depends on an unknown argument is reported as [`Outcome::Depends`] with every verdict
//! it could have; this may include a verdict that no single value reaches when two
//! rules test the same unknown argument (an over-approximation, never a miss).

use crate::action::{self, Action, ENOSYS};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::event::{Event, SeccompData};
use crate::policy::{ArchPolicy, Origin, Policy, Rule};

/// One filter's (or a stack's) answer for one event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Verdict {
    /// The 32-bit value the filter returned.
    pub ret: u32,
    /// What decided it.
    pub origin: Origin,
    /// For stacks: the index (0 = oldest installed) of the filter whose result won.
    pub filter: Option<usize>,
}

impl Verdict {
    /// The action, or `None` for a return value no action names (acts as KILL_PROCESS).
    pub fn action(&self) -> Option<Action> {
        Action::from_ret(self.ret)
    }

    pub fn describe(&self) -> String {
        action::describe_ret(self.ret)
    }

    pub fn permits(&self) -> bool {
        self.action().is_some_and(Action::permits)
    }
}

/// The answer for an event whose arguments may be partly unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Known(Verdict),
    /// The verdict depends on the unknown arguments `on`; `possible` lists every
    /// verdict it could be (sorted, deduplicated).
    Depends {
        possible: Vec<Verdict>,
        on: Vec<u8>,
    },
}

impl Outcome {
    /// The verdict when known; the strongest possible one otherwise (worst case).
    pub fn worst(&self) -> &Verdict {
        match self {
            Outcome::Known(v) => v,
            Outcome::Depends { possible, .. } => possible
                .iter()
                .min_by_key(|v| action::precedence(v.ret))
                .expect("Depends always lists at least one verdict"),
        }
    }
}

#[derive(Clone, Copy)]
enum Slot {
    /// No rule for this number: default (or ENOSYS stub, decided by the number).
    Default,
    /// Rules exist: index into `ArchTable::policy.syscalls`.
    Rules(u32),
    /// Never reaches seccomp.
    Bypass,
}

struct ArchTable<'p> {
    arch: Arch,
    audit: u32,
    part: &'p ArchPolicy,
    /// Indexed by `nr` (x32: without the x32 bit).
    slots: Vec<Slot>,
}

/// A policy prepared for fast evaluation.
pub struct Evaluator<'p> {
    policy: &'p Policy,
    tables: Vec<ArchTable<'p>>,
}

/// Where `nr` sits in its architecture's table (x32 numbers without the x32 bit).
#[inline]
fn slot_index(arch: Arch, nr: u32) -> usize {
    if arch == Arch::X32 {
        (nr & !X32_SYSCALL_BIT) as usize
    } else {
        nr as usize
    }
}

const ENOSYS_STUB: Origin = Origin::EnosysStub;
const BYPASS: Origin = Origin::Bypass;
const BAD_ARCH: Origin = Origin::BadArch;

impl<'p> Evaluator<'p> {
    pub fn new(policy: &'p Policy) -> Evaluator<'p> {
        let tables = policy
            .arches
            .iter()
            .map(|part| {
                let index = |nr: u32| slot_index(part.arch, nr);
                let len = part
                    .syscalls
                    .iter()
                    .map(|s| index(s.nr))
                    .chain(part.bypass.iter().map(|&nr| index(nr)))
                    .filter(|&i| i < 1 << 16)
                    .max()
                    .map_or(0, |m| m + 1);
                let mut slots = vec![Slot::Default; len];
                for (i, s) in part.syscalls.iter().enumerate() {
                    if let Some(slot) = slots.get_mut(index(s.nr)) {
                        *slot = Slot::Rules(i as u32);
                    }
                }
                for &nr in &part.bypass {
                    if let Some(slot) = slots.get_mut(index(nr)) {
                        *slot = Slot::Bypass;
                    }
                }
                ArchTable {
                    arch: part.arch,
                    audit: part.arch.audit_arch(),
                    part,
                    slots,
                }
            })
            .collect();
        Evaluator { policy, tables }
    }

    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    fn table(&self, audit: u32, nr: u32) -> Option<&ArchTable<'p>> {
        self.tables.iter().find(|t| {
            t.audit == audit
                && match t.arch {
                    Arch::X86_64 => nr & X32_SYSCALL_BIT == 0,
                    Arch::X32 => nr & X32_SYSCALL_BIT != 0,
                    _ => true,
                }
        })
    }

    /// The return value and what decided it, for fully known data. The hot path.
    #[inline]
    pub fn decide(&self, data: &SeccompData) -> (u32, &Origin) {
        if self.policy.unconfined {
            return (Action::ALLOW.to_ret(), &self.policy.default_origin);
        }
        let Some(t) = self.table(data.arch, data.nr) else {
            return (self.policy.bad_arch.to_ret(), &BAD_ARCH);
        };
        match t
            .slots
            .get(slot_index(t.arch, data.nr))
            .copied()
            .unwrap_or(Slot::Default)
        {
            Slot::Rules(s) => {
                let rules = &t.part.syscalls[s as usize].rules;
                for r in rules {
                    if r.conds.iter().all(|c| c.holds(data.args[c.arg as usize])) {
                        return (r.action.to_ret(), &r.origin);
                    }
                }
                self.fallback(t, data.nr)
            }
            Slot::Default => self.fallback(t, data.nr),
            Slot::Bypass => (Action::ALLOW.to_ret(), &BYPASS),
        }
    }

    #[inline]
    fn fallback(&self, t: &ArchTable<'p>, nr: u32) -> (u32, &Origin) {
        match t.part.enosys_above {
            Some(max) if nr > max => (Action::errno(ENOSYS).to_ret(), &ENOSYS_STUB),
            _ => (self.policy.default.to_ret(), &self.policy.default_origin),
        }
    }

    /// The verdict for fully known data.
    pub fn verdict(&self, data: &SeccompData) -> Verdict {
        let (ret, origin) = self.decide(data);
        Verdict {
            ret,
            origin: origin.clone(),
            filter: None,
        }
    }

    /// The outcome for an event, listing possibilities when unknown arguments matter.
    pub fn evaluate(&self, event: &Event) -> Outcome {
        let data = event.data_with(0);
        if event.args.iter().all(Option::is_some) {
            return Outcome::Known(self.verdict(&data));
        }
        let rules = self.table(data.arch, data.nr).and_then(|t| {
            match t.slots.get((data.nr & !X32_SYSCALL_BIT) as usize) {
                Some(Slot::Rules(s)) => Some(&t.part.syscalls[*s as usize].rules),
                _ => None,
            }
        });
        let Some(rules) = rules.filter(|_| !self.policy.unconfined) else {
            return Outcome::Known(self.verdict(&data));
        };
        let mut possible = Vec::new();
        let mut on = Vec::new();
        for r in rules {
            match tri_state(r, event) {
                Some(true) => {
                    possible.push(self.rule_verdict(r));
                    return settle(possible, on);
                }
                Some(false) => {}
                None => {
                    on.extend(
                        r.conds
                            .iter()
                            .map(|c| c.arg)
                            .filter(|&a| event.args[a as usize].is_none()),
                    );
                    possible.push(self.rule_verdict(r));
                }
            }
        }
        let t = self
            .table(data.arch, data.nr)
            .expect("rules came from this table");
        let (ret, origin) = self.fallback(t, data.nr);
        possible.push(Verdict {
            ret,
            origin: origin.clone(),
            filter: None,
        });
        settle(possible, on)
    }

    fn rule_verdict(&self, r: &Rule) -> Verdict {
        Verdict {
            ret: r.action.to_ret(),
            origin: r.origin.clone(),
            filter: None,
        }
    }
}

/// Whether all of a rule's conditions hold: `None` when that depends on unknown args.
fn tri_state(r: &Rule, event: &Event) -> Option<bool> {
    let mut unknown = false;
    for c in &r.conds {
        match event.args[c.arg as usize] {
            Some(v) if !c.holds(v) => return Some(false),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

fn settle(mut possible: Vec<Verdict>, mut on: Vec<u8>) -> Outcome {
    possible.sort();
    possible.dedup();
    on.sort_unstable();
    on.dedup();
    if possible.len() == 1
        || possible
            .iter()
            .all(|v| v.ret == possible[0].ret && v.origin == possible[0].origin)
    {
        Outcome::Known(possible.swap_remove(0))
    } else {
        Outcome::Depends { possible, on }
    }
}

/// Combines the results of stacked filters as the kernel does: every filter runs; the
/// lowest `(s32)(ret & SECCOMP_RET_ACTION_FULL)` wins; on a tie the newest filter's
/// value (data included) wins. `results[0]` is the oldest filter's.
pub fn combine_stack(results: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    let mut best: Option<Verdict> = None;
    for (i, mut v) in results.into_iter().enumerate() {
        v.filter = Some(i);
        // Iterating oldest to newest, `<=` lets a newer filter win ties.
        if best
            .as_ref()
            .is_none_or(|b| action::precedence(v.ret) <= action::precedence(b.ret))
        {
            best = Some(v);
        }
    }
    best
}

/// A stack of installed filters, oldest first (the order they were installed).
pub struct Stack<'p> {
    layers: Vec<Evaluator<'p>>,
}

impl<'p> Stack<'p> {
    /// Filters that install nothing (unconfined) are left out, as they would be.
    pub fn new(policies: &'p [Policy]) -> Stack<'p> {
        Stack {
            layers: policies
                .iter()
                .filter(|p| !p.unconfined)
                .map(Evaluator::new)
                .collect(),
        }
    }

    pub fn evaluate(&self, event: &Event) -> Outcome {
        match self.layers.len() {
            0 => Outcome::Known(Verdict {
                ret: Action::ALLOW.to_ret(),
                origin: Origin::Default {
                    pointer: "unconfined".into(),
                },
                filter: None,
            }),
            1 => self.layers[0].evaluate(event),
            _ => {
                // Expand each layer's possibilities and combine every choice. Stacks are
                // short and possibilities few, so the product stays small.
                let mut combos: Vec<Vec<Verdict>> = vec![Vec::new()];
                let mut on = Vec::new();
                for layer in &self.layers {
                    let options = match layer.evaluate(event) {
                        Outcome::Known(v) => vec![v],
                        Outcome::Depends { possible, on: o } => {
                            on.extend(o);
                            possible
                        }
                    };
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            options.iter().map(move |o| {
                                let mut c = c.clone();
                                c.push(o.clone());
                                c
                            })
                        })
                        .collect();
                }
                let possible = combos.into_iter().filter_map(combine_stack).collect();
                settle(possible, on)
            }
        }
    }
}

#[cfg(test)]
mod tests;
