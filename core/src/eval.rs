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
use crate::policy::{ArchPolicy, Branch, Decision, Node, Origin, Policy};

mod runs;

use runs::Runs;

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

    /// For reports: the filter's value, and what the caller gets where that differs.
    pub fn describe(&self) -> String {
        action::describe_outcome(self.ret)
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
    /// The equality runs of long levels, looked up instead of walked.
    runs: Runs,
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
        Evaluator {
            policy,
            tables,
            runs: Runs::new(policy),
        }
    }

    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// The table whose rules libseccomp checks `nr` against. x86_64 and x32 share an
    /// `arch` value: with both in the filter, numbers with bit 30 are x32's and the
    /// others x86_64's; with one alone, libseccomp first sends the other's numbers to
    /// the bad-arch action by `JGE 0x40000000` (x86_64 alone: from 0x40000000 up but
    /// -1, see [`Self::before_rules`]; x32 alone: below 0x40000000), so an x32-only
    /// filter takes 0x80000000..0xbfffffff too (`src/gen_bpf.c`, `_gen_bpf_arch`).
    fn table(&self, audit: u32, nr: u32) -> Option<&ArchTable<'p>> {
        let find = |arch: Option<Arch>| {
            self.tables
                .iter()
                .find(|t| t.audit == audit && arch.is_none_or(|a| t.arch == a))
        };
        if audit != Arch::X86_64.audit_arch() {
            return find(None);
        }
        let (x86_64, x32) = (find(Some(Arch::X86_64)), find(Some(Arch::X32)));
        if nr & X32_SYSCALL_BIT != 0 {
            // libseccomp sends nr -1 (the "skipped syscall" number) on to the x86_64
            // checks even when x32 is not in the filter.
            x32.or(if nr == u32::MAX { x86_64 } else { None })
        } else if nr < X32_SYSCALL_BIT {
            x86_64
        } else {
            x86_64.or(x32)
        }
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
        let slot = t
            .slots
            .get(slot_index(t.arch, data.nr))
            .copied()
            .unwrap_or(Slot::Default);
        if matches!(slot, Slot::Bypass) {
            // Never reaches seccomp: no filter runs, the stub included.
            return (Action::ALLOW.to_ret(), &BYPASS);
        }
        if let Some(before) = self.before_rules(t, data.nr) {
            return before;
        }
        match slot {
            Slot::Rules(s) => match &t.part.syscalls[s as usize].decision {
                Decision::Always(action, origin) => (action.to_ret(), origin),
                Decision::Tree(level) => match first_match(level, &data.args, &self.runs) {
                    Some((action, origin)) => (action.to_ret(), origin),
                    None => self.fallback(),
                },
            },
            Slot::Default => self.fallback(),
            Slot::Bypass => (Action::ALLOW.to_ret(), &BYPASS),
        }
    }

    /// What decides `nr` before its rules are looked at: runc's ENOSYS stub, which runs
    /// in front of libseccomp's filter (`patchbpf.enosysPatchFilter` prepends it), and
    /// libseccomp's own x86_64 number check.
    #[inline]
    fn before_rules(&self, t: &ArchTable<'p>, nr: u32) -> Option<(u32, &Origin)> {
        // The stub's x86_64 section skips numbers with the x32 bit (`JSET 1<<30`), its
        // x32 section those without (which an x32-only filter's table also takes).
        let stub_applies = match t.arch {
            Arch::X86_64 => nr & X32_SYSCALL_BIT == 0,
            Arch::X32 => nr & X32_SYSCALL_BIT != 0,
            _ => true,
        };
        if let Some(max) = t.part.enosys_above {
            if nr > max && stub_applies {
                return Some((Action::errno(ENOSYS).to_ret(), &ENOSYS_STUB));
            }
        }
        // libseccomp's x86_64 filter without x32 sends every number from 0x40000000 up
        // to the bad-arch action (`JGE 0x40000000`), except -1, not just those with the
        // x32 bit: 0x80000000 too (src/gen_bpf.c, `_gen_bpf_arch`).
        if t.arch == Arch::X86_64
            && nr >= X32_SYSCALL_BIT
            && nr != u32::MAX
            && !self.tables.iter().any(|o| o.arch == Arch::X32)
        {
            return Some((self.policy.bad_arch.to_ret(), &BAD_ARCH));
        }
        None
    }

    /// The default action: what no rule decided.
    #[inline]
    fn fallback(&self) -> (u32, &Origin) {
        (self.policy.default.to_ret(), &self.policy.default_origin)
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
        let tree = self.table(data.arch, data.nr).and_then(|t| {
            match t.slots.get(slot_index(t.arch, data.nr)) {
                Some(Slot::Rules(s)) => match &t.part.syscalls[*s as usize].decision {
                    Decision::Tree(level) => Some((t, level)),
                    Decision::Always(..) => None,
                },
                _ => None,
            }
        });
        let Some((t, level)) = tree.filter(|_| !self.policy.unconfined) else {
            return Outcome::Known(self.verdict(&data));
        };
        if self.before_rules(t, data.nr).is_some() {
            return Outcome::Known(self.verdict(&data));
        }
        let mut on = Vec::new();
        let mut possible: Vec<Verdict> = Vec::new();
        let (fret, forigin) = self.fallback();
        for end in possible_matches(level, event, &mut on) {
            possible.push(match end {
                Some((action, origin)) => Verdict {
                    ret: action.to_ret(),
                    origin: origin.clone(),
                    filter: None,
                },
                None => Verdict {
                    ret: fret,
                    origin: forigin.clone(),
                    filter: None,
                },
            });
        }
        settle(possible, on)
    }
}

/// The first action reached in tree order (libseccomp's `_gen_bpf_chain` semantics):
/// a node's outcome leads on to the next sibling, to an action, or into a sub-level,
/// falling off which continues with the next sibling; [`Branch::Fail`] abandons the
/// current top-level node for the next one. Equality runs ([`runs`]) are looked up.
#[inline]
fn first_match<'a>(
    level: &'a [Node],
    args: &[u64; 6],
    runs: &Runs,
) -> Option<(Action, &'a Origin)> {
    match walk_level(level, args, runs, true) {
        Walked::Hit(a, o) => Some((a, o)),
        Walked::Off | Walked::Failed => None,
    }
}

/// How a walk from one node ends.
enum Walked<'a> {
    Hit(Action, &'a Origin),
    /// Fell off (on to the node's next sibling).
    Off,
    /// [`Branch::Fail`]: on to the next top-level node.
    Failed,
}

/// Walks the siblings of `level` in order until one decides. At the top level a
/// [`Walked::Failed`] node is passed like one that fell off; below, it ends the level.
#[inline]
fn walk_level<'a>(level: &'a [Node], args: &[u64; 6], runs: &Runs, top: bool) -> Walked<'a> {
    let mut here = runs.of(level).iter().peekable();
    let mut i = 0;
    while i < level.len() {
        // The node to walk: in a run, the one its value selects (the others pass on).
        let (n, next) = match here.next_if(|r| r.start == i) {
            Some(run) => match run.pick(level, args) {
                Some(j) => (j, run.end),
                None => {
                    i = run.end;
                    continue;
                }
            },
            None => (i, i + 1),
        };
        match walk(&level[n], args, runs) {
            Walked::Off => {}
            Walked::Failed if top => {}
            other => return other,
        }
        i = next;
    }
    Walked::Off
}

#[inline]
fn walk<'a>(n: &'a Node, args: &[u64; 6], runs: &Runs) -> Walked<'a> {
    let b = if n.test(args) {
        &n.on_true
    } else {
        &n.on_false
    };
    match b {
        Branch::Next => Walked::Off,
        Branch::Fail => Walked::Failed,
        Branch::Decide(a, o) => Walked::Hit(*a, o),
        Branch::Sub(sub) => walk_level(sub, args, runs, false),
    }
}

type End<'a> = Option<(Action, &'a Origin)>;

/// Every way [`first_match`] can end when some arguments are unknown (a node on an
/// unknown argument may go either way); `None` is "fell off the tree". `on` collects the
/// unknown arguments that were consulted.
fn possible_matches<'a>(level: &'a [Node], event: &Event, on: &mut Vec<u8>) -> Vec<End<'a>> {
    struct Walk<'e> {
        event: &'e Event,
        budget: usize,
    }
    impl Walk<'_> {
        fn go<'a>(
            &mut self,
            level: &'a [Node],
            i: usize,
            on: &mut Vec<u8>,
            out: &mut Vec<Ended<'a>>,
            top: bool,
        ) {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let Some(n) = level.get(i) else {
                out.push(Ended::Off);
                return;
            };
            let branches: Vec<&Branch> = match self.event.args[n.arg as usize] {
                Some(v) => {
                    let mut args = [0u64; 6];
                    args[n.arg as usize] = v;
                    vec![if n.test(&args) {
                        &n.on_true
                    } else {
                        &n.on_false
                    }]
                }
                None => {
                    on.push(n.arg);
                    vec![&n.on_true, &n.on_false]
                }
            };
            for b in branches {
                match b {
                    Branch::Next => self.go(level, i + 1, on, out, top),
                    Branch::Fail if top => self.go(level, i + 1, on, out, top),
                    Branch::Fail => out.push(Ended::Failed),
                    Branch::Decide(a, o) => out.push(Ended::Hit(*a, o)),
                    Branch::Sub(sub) => {
                        let mut inner = Vec::new();
                        self.go(sub, 0, on, &mut inner, false);
                        for end in inner {
                            match end {
                                Ended::Hit(a, o) => out.push(Ended::Hit(a, o)),
                                Ended::Off => self.go(level, i + 1, on, out, top),
                                Ended::Failed if top => self.go(level, i + 1, on, out, top),
                                Ended::Failed => out.push(Ended::Failed),
                            }
                        }
                    }
                }
            }
        }
    }
    /// How a walk can end: an action, falling off, or failing the top-level node.
    #[derive(PartialEq)]
    enum Ended<'a> {
        Hit(Action, &'a Origin),
        Off,
        Failed,
    }
    let mut ended = Vec::new();
    // Trees are small; the budget only guards against pathological ones.
    Walk {
        event,
        budget: 100_000,
    }
    .go(level, 0, on, &mut ended, true);
    let mut out: Vec<End<'a>> = ended
        .into_iter()
        .map(|e| match e {
            Ended::Hit(a, o) => Some((a, o)),
            Ended::Off | Ended::Failed => None,
        })
        .collect();
    out.dedup();
    out
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
