//! The compiler: a [`Policy`] to one classic-BPF seccomp filter.
//!
//! Shape of the output, per `seccomp_data.arch` value the policy covers (native first):
//!
//! ```text
//!        A = arch; if (A != ARCH_1) goto arch2
//!        A = nr
//!        search over ranges of numbers with the same decision (JGE K splits, JEQ K
//!        chains for single numbers), ending in
//!          return K                      (argument-free decision: cacheable by the kernel)
//!          argument checks, then return K (the syscall's rule tree, first match wins)
//! arch2: if (A != ARCH_2) goto ... ; return BAD_ARCH
//! ```
//!
//! Ideas borrowed, code not: Chromium's `bpf_dsl` policy compiler (the number space cut
//! into ranges of equal result), gVisor's `pkg/seccomp` (trampolines for long jumps) and
//! libseccomp's block hashing (identical code kept once). What keeps the executed path
//! short:
//!
//! * The search tree is an optimal alphabetic tree over the ranges for an expected
//!   frequency of each number: every syscall of the ABI's table, common syscalls more
//!   ([`HOT`]), x32 hardly (so native calls do not pay for the x32 split). An interval
//!   may end in a chain of `JEQ`s for the single numbers in it, one test each.
//! * Returns are pooled: jumps go straight to a shared `RET K` placed within reach, and
//!   leaves that just return cost no instruction of their own.
//! * Argument checks skip loads of the word A already holds and tests whose outcome is
//!   known from the tests before (the high-word `==` after a `>`, zero masks).
//! * Code of a non-native ABI that equals code laid out later (x32 and i386 argument
//!   checks are the same) is jumped to, not repeated; identical blocks are merged where
//!   the jumps stay in reach; unreachable code is dropped.
//!
//! x32 needs no check of its own: x32 numbers carry bit 30, so for `AUDIT_ARCH_X86_64`
//! the range tree covers x86_64 below 0x40000000 and x32 (or the bad-arch action) above
//! it. runc's ENOSYS stub is one more range: everything above the highest number the
//! profile names.
//!
//! Placing the code (dropping the unreachable, merging identical blocks, resolving
//! labels and trampolines) is [`assemble`]'s.
//!
//! Every argument-free decision is reached through `LD arch`, `LD nr`, `JA`, `JEQ/JGE
//! K` and `RET K` only, which the kernel's action cache can evaluate
//! (`seccomp_is_const_allow`), so every argument-free ALLOW is cached. Output is
//! deterministic.

use std::collections::BTreeMap;

use crate::action::{Action, ENOSYS};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::policy::{ArchPolicy, Branch, Decision, Node, Policy, WordOp};
use crate::syscalls;

use super::{Program, MAX_INSNS};
use super::{BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K};
use super::{BPF_LD, BPF_RET, BPF_W};

/// Why a policy could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error(
        "the compiled filter for {profile} has {len} instructions; the kernel accepts at most {max} \
         (the profile resolves to {rules} argument tests over {syscalls} syscalls: split it into stacked profiles \
         or merge rules)"
    )]
    TooLong {
        profile: String,
        len: usize,
        max: usize,
        rules: usize,
        syscalls: usize,
    },
    #[error("{profile} is unconfined: it installs no filter, so there is nothing to compile")]
    Unconfined { profile: String },
}

const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;

/// A jump target in the program being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Label(u32);

/// An instruction whose jump targets are still symbolic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Stmt(u16, u32),
    /// Conditional jump: code, k, then-label, else-label. `None` = the next instruction.
    Cond(u16, u32, Option<Label>, Option<Label>),
    Ja(Label),
    Bind(Label),
}

/// A decision for a range of syscall numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Leaf {
    Ret(u32),
    /// The rules of one syscall (index into its arch part), then the fallback return
    /// value. Adjacent numbers whose rules compile to the same code share one leaf.
    Rules(usize, u32),
}

/// Whether two decision trees compile to the same instructions (provenance aside).
fn same_code(a: &[Node], b: &[Node]) -> bool {
    fn same_branch(a: &Branch, b: &Branch) -> bool {
        match (a, b) {
            (Branch::Next, Branch::Next) | (Branch::Fail, Branch::Fail) => true,
            (Branch::Decide(x, _), Branch::Decide(y, _)) => x.to_ret() == y.to_ret(),
            (Branch::Sub(x), Branch::Sub(y)) => same_code(x, y),
            _ => false,
        }
    }
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.arg == y.arg
                && x.hi == y.hi
                && x.op == y.op
                && x.mask == y.mask
                && x.datum == y.datum
                && same_branch(&x.on_true, &y.on_true)
                && same_branch(&x.on_false, &y.on_false)
        })
}

/// The decisions of one `seccomp_data.arch` value, as sorted, merged ranges covering
/// every 32-bit number: `(first number, leaf)`; each range ends where the next begins.
///
/// x86_64's `arch` value carries two ABIs, told apart by the x32 bit (1 << 30), so its
/// number space is four quarters. libseccomp: without x32 in the filter every number
/// from 0x40000000 up but -1 is a bad architecture; with x32, x86_64's rules sit in the
/// first quarter, x32's in the second, and the rest is the default. runc's stub, in
/// front: its x86_64 section tests the quarters without the x32 bit (first and third),
/// its x32 section the others, each against its own maximum.
fn ranges(parts: &[&ArchPolicy], policy: &Policy) -> Vec<(u32, Leaf)> {
    let bad = policy.bad_arch.to_ret();
    let default = policy.default.to_ret();
    let enosys = Action::errno(ENOSYS).to_ret();
    let mut out: Vec<(u32, Leaf)> = Vec::new();
    let push = |start: u32, leaf: Leaf, out: &mut Vec<(u32, Leaf)>| {
        if out.last().is_some_and(|(_, l)| *l == leaf) {
            return;
        }
        out.push((start, leaf));
    };
    /// What libseccomp's filter holds for a stretch of numbers.
    #[derive(Clone, Copy)]
    enum Base<'a> {
        Rules(&'a ArchPolicy),
        Default,
        Bad,
        /// Bad, but -1 reaches the x86_64 checks (the default).
        BadButMinusOne,
    }
    let x86_64 = parts.iter().copied().find(|p| p.arch == Arch::X86_64);
    let x32 = parts.iter().copied().find(|p| p.arch == Arch::X32);
    let is_x86_64 = x86_64.is_some() || x32.is_some();
    const Q: u64 = X32_SYSCALL_BIT as u64;
    // (from, to, what libseccomp holds, the stub's maximum there)
    let quarters: Vec<(u64, u64, Base, Option<u32>)> = if is_x86_64 {
        let stub64 = x86_64.and_then(|p| p.enosys_above);
        let stub32 = x32.and_then(|p| p.enosys_above);
        let rest = if x32.is_some() {
            Base::Default
        } else {
            Base::Bad
        };
        vec![
            (0, Q, x86_64.map_or(Base::Bad, Base::Rules), stub64),
            (Q, 2 * Q, x32.map_or(Base::Bad, Base::Rules), stub32),
            (2 * Q, 3 * Q, rest, stub64),
            (
                3 * Q,
                4 * Q,
                if x32.is_some() {
                    Base::Default
                } else {
                    Base::BadButMinusOne
                },
                stub32,
            ),
        ]
    } else {
        let part = parts.first().copied().expect("a group has a part");
        vec![(0, 4 * Q, Base::Rules(part), part.enosys_above)]
    };
    for (lo, hi, base, stub) in quarters {
        // The stub takes every number above its maximum, rules or not.
        let stub_from = stub.map_or(hi, |m| (u64::from(m) + 1).clamp(lo, hi));
        let base_to = stub_from;
        match base {
            Base::Default => {
                if lo < base_to {
                    push(lo as u32, Leaf::Ret(default), &mut out);
                }
            }
            Base::Bad => {
                if lo < base_to {
                    push(lo as u32, Leaf::Ret(bad), &mut out);
                }
            }
            Base::BadButMinusOne => {
                if lo < base_to {
                    push(lo as u32, Leaf::Ret(bad), &mut out);
                    if base_to == hi {
                        push(u32::MAX, Leaf::Ret(default), &mut out);
                    }
                }
            }
            Base::Rules(part) => {
                let mut cursor = lo;
                for (i, s) in part.syscalls.iter().enumerate() {
                    let nr = u64::from(s.nr);
                    if nr < cursor || nr >= base_to {
                        continue;
                    }
                    if cursor < nr {
                        push(cursor as u32, Leaf::Ret(default), &mut out);
                    }
                    match &s.decision {
                        Decision::Always(action, _) => {
                            push(s.nr, Leaf::Ret(action.to_ret()), &mut out)
                        }
                        Decision::Tree(nodes) => {
                            // The previous number's rules, if they compile to the same
                            // code, extend to this one.
                            let extends = cursor == nr
                                && matches!(out.last(), Some((_, Leaf::Rules(j, f)))
                                    if *f == default && matches!(&part.syscalls[*j].decision,
                                        Decision::Tree(prev) if same_code(prev, nodes)));
                            if !extends {
                                out.push((s.nr, Leaf::Rules(i, default)));
                            }
                        }
                    }
                    cursor = nr + 1;
                }
                if cursor < base_to {
                    push(cursor as u32, Leaf::Ret(default), &mut out);
                }
            }
        }
        if stub_from < hi {
            push(stub_from as u32, Leaf::Ret(enosys), &mut out);
        }
    }
    out
}

/// Syscalls that dominate typical workloads (file and socket I/O, memory management,
/// waiting, signals, time), by name: the search over syscall numbers reaches them in
/// fewer steps. A static table, so output depends on the policy only.
const HOT: &[(&str, u64)] = &[
    ("read", 8),
    ("write", 8),
    ("close", 6),
    ("openat", 6),
    ("mmap", 6),
    ("futex", 6),
    ("fstat", 4),
    ("newfstatat", 4),
    ("statx", 4),
    ("lseek", 4),
    ("mprotect", 4),
    ("munmap", 4),
    ("brk", 4),
    ("rt_sigaction", 4),
    ("rt_sigprocmask", 4),
    ("ioctl", 4),
    ("fcntl", 4),
    ("poll", 3),
    ("ppoll", 3),
    ("epoll_wait", 3),
    ("epoll_pwait", 3),
    ("recvfrom", 3),
    ("sendto", 3),
    ("recvmsg", 3),
    ("sendmsg", 3),
    ("readv", 3),
    ("writev", 3),
    ("pread64", 3),
    ("pwrite64", 3),
    ("getdents64", 3),
    ("clock_gettime", 3),
    ("getpid", 2),
    ("gettid", 2),
    ("access", 2),
    ("faccessat", 2),
    ("readlink", 2),
    ("madvise", 2),
    ("nanosleep", 2),
    ("clock_nanosleep", 2),
    ("sched_yield", 2),
    ("getrandom", 2),
    ("select", 2),
    ("pselect6", 2),
];

/// Expected frequency of each range, in arbitrary units: every syscall of the ABI's
/// table counts [`BASE`] (times its [`HOT`] factor), an x32 syscall 1 (x32 shares
/// x86_64's `arch` value and is rare: native calls should not pay for telling it apart),
/// and every range 1 more (so numbers outside the table are not unreachable in cost).
fn weights(ranges: &[(u32, Leaf)], parts: &[&ArchPolicy]) -> Vec<u64> {
    const BASE: u64 = 16;
    let mut w = vec![1u64; ranges.len()];
    for part in parts {
        for (sys, name) in syscalls::all(part.arch) {
            let i = ranges.partition_point(|(start, _)| *start <= sys.nr) - 1;
            w[i] += if part.arch == Arch::X32 {
                1
            } else {
                BASE * HOT.iter().find(|(n, _)| *n == name).map_or(1, |h| h.1)
            };
        }
    }
    w
}

/// The shape of the search over ranges `lo..=hi`.
#[derive(Debug)]
enum Shape {
    Leaf(usize),
    /// `if (nr >= start(at))` right, else left; the heavier side falls through.
    Split {
        at: usize,
        left: Box<Shape>,
        right: Box<Shape>,
        right_heavier: bool,
    },
    /// `if (nr == start(eq))` for each single-number range in `eqs`, heaviest first,
    /// then the leaf of `other` for the rest of the interval.
    Chain {
        eqs: Vec<usize>,
        other: usize,
    },
}

/// At most this many single-number tests in a row (longer chains are never cheaper
/// than a tree for realistic weights, and the bound keeps the search quadratic).
const MAX_CHAIN: usize = 4;
/// Intervals of at most this many ranges are searched optimally (cubic time); above,
/// the interval is split at its weighted median first.
const MAX_OPTIMAL: usize = 512;

/// Builds the search tree minimising the expected number of comparisons: an optimal
/// alphabetic tree over the ranges, where an interval may also end in a chain of
/// equality tests for the single numbers in it that differ from the rest.
fn plan(ranges: &[(u32, Leaf)], w: &[u64]) -> Shape {
    let size = |i: usize| -> u64 {
        let end = ranges.get(i + 1).map_or(1 << 32, |r| u64::from(r.0));
        end - u64::from(ranges[i].0)
    };
    let mut prefix = vec![0u64; w.len() + 1];
    for (i, x) in w.iter().enumerate() {
        prefix[i + 1] = prefix[i] + x;
    }
    let weight = |i: usize, j: usize| prefix[j + 1] - prefix[i];
    // For `lo..=hi`: the chain's tests (heaviest first), its `other` range, its cost.
    let chain = |lo: usize, hi: usize| -> Option<(Vec<usize>, usize, u64)> {
        if hi - lo + 1 > 2 * MAX_CHAIN + 1 {
            return None;
        }
        let mut other = (lo..=hi).find(|&i| size(i) > 1);
        if other.is_none() {
            // Only single numbers: the heaviest is the one left untested.
            other = (lo..=hi).max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
        }
        let other = other?;
        let mut eqs = Vec::new();
        let mut rest = 0;
        for i in lo..=hi {
            if ranges[i].1 == ranges[other].1 {
                rest += w[i];
            } else if size(i) == 1 {
                eqs.push(i);
            } else {
                return None;
            }
        }
        if eqs.len() > MAX_CHAIN {
            return None;
        }
        eqs.sort_by_key(|&i| (std::cmp::Reverse(w[i]), i));
        let cost = eqs
            .iter()
            .enumerate()
            .map(|(p, &i)| w[i] * (p as u64 + 1))
            .sum::<u64>()
            + rest * eqs.len() as u64;
        Some((eqs, other, cost))
    };
    fn build(
        lo: usize,
        hi: usize,
        weight: &dyn Fn(usize, usize) -> u64,
        chain: &dyn Fn(usize, usize) -> Option<(Vec<usize>, usize, u64)>,
    ) -> Shape {
        if lo == hi {
            return Shape::Leaf(lo);
        }
        if hi - lo + 1 > MAX_OPTIMAL {
            // Weighted median: the first split point with at least half on the left.
            let half = weight(lo, hi) / 2;
            let at = (lo + 1..=hi)
                .find(|&k| weight(lo, k - 1) >= half)
                .unwrap_or(hi);
            return Shape::Split {
                at,
                left: Box::new(build(lo, at - 1, weight, chain)),
                right: Box::new(build(at, hi, weight, chain)),
                right_heavier: weight(at, hi) > weight(lo, at - 1),
            };
        }
        optimal(lo, hi, weight, chain)
    }
    fn optimal(
        lo: usize,
        hi: usize,
        weight: &dyn Fn(usize, usize) -> u64,
        chain: &dyn Fn(usize, usize) -> Option<(Vec<usize>, usize, u64)>,
    ) -> Shape {
        let n = hi - lo + 1;
        // cost[i][j] for the interval lo+i..=lo+j; choice: 0 = leaf or chain, else split.
        let mut cost = vec![0u64; n * n];
        let mut choice = vec![0usize; n * n];
        for len in 2..=n {
            for i in 0..=n - len {
                let j = i + len - 1;
                let mut best = chain(lo + i, lo + j).map_or(u64::MAX, |c| c.2);
                let mut pick = 0;
                let w = weight(lo + i, lo + j);
                for k in i + 1..=j {
                    let c = cost[i * n + k - 1] + cost[k * n + j] + w;
                    if c < best {
                        best = c;
                        pick = k;
                    }
                }
                cost[i * n + j] = best;
                choice[i * n + j] = pick;
            }
        }
        fn make(
            i: usize,
            j: usize,
            n: usize,
            lo: usize,
            choice: &[usize],
            weight: &dyn Fn(usize, usize) -> u64,
            chain: &dyn Fn(usize, usize) -> Option<(Vec<usize>, usize, u64)>,
        ) -> Shape {
            if i == j {
                return Shape::Leaf(lo + i);
            }
            match choice[i * n + j] {
                0 => {
                    let (eqs, other, _) = chain(lo + i, lo + j).expect("chosen chain exists");
                    Shape::Chain { eqs, other }
                }
                k => Shape::Split {
                    at: lo + k,
                    left: Box::new(make(i, k - 1, n, lo, choice, weight, chain)),
                    right: Box::new(make(k, j, n, lo, choice, weight, chain)),
                    right_heavier: weight(lo + k, lo + j) > weight(lo + i, lo + k - 1),
                },
            }
        }
        make(0, n - 1, n, lo, &choice, weight, chain)
    }
    build(0, ranges.len() - 1, &weight, &chain)
}

/// The filter part for one `seccomp_data.arch` value.
struct Group<'p> {
    audit: u32,
    /// The ABIs sharing that value (x86_64 and x32), native first.
    parts: Vec<&'p ArchPolicy>,
    ranges: Vec<(u32, Leaf)>,
    shape: Shape,
}

impl<'p> Group<'p> {
    /// The ABI a number of this group belongs to.
    fn part_for(&self, nr: u32) -> &'p ArchPolicy {
        let x32 = nr & X32_SYSCALL_BIT != 0;
        self.parts
            .iter()
            .copied()
            .find(|p| (p.arch == Arch::X32) == x32)
            .unwrap_or(self.parts[0])
    }

    /// The decision tree of a `Rules` range.
    fn tree(&self, i: usize) -> &'p [Node] {
        match (&self.ranges[i], self.part_for(self.ranges[i].0)) {
            ((start, Leaf::Rules(s, _)), part) => match &part.syscalls[*s].decision {
                Decision::Tree(level) => level,
                Decision::Always(..) => unreachable!("rules leaf {start} has a tree"),
            },
            _ => &[],
        }
    }
}

/// How a `Rules` range's code is emitted.
#[derive(Clone, Copy, Debug)]
enum Body {
    /// Here, binding the label when other ranges jump to this copy.
    Inline(Option<Label>),
    /// Elsewhere (a later range with identical code): jump there.
    Jump(Label),
}

/// Pooled `RET K` instructions are placed at the next point control cannot fall
/// through once the oldest pending reference is this many instructions back, so that
/// conditional jumps (at most 255 forward) reach them without trampolines.
const FLUSH_AT: usize = 160;

struct Builder<'p> {
    ops: Vec<Op>,
    next_label: u32,
    /// Instructions emitted so far (labels aside).
    emitted: usize,
    /// Shared `RET K` instructions not placed yet: value -> (label, position of the
    /// first jump to it).
    pool: BTreeMap<u32, (Label, usize)>,
    groups: &'p [Group<'p>],
    /// Ranges with rules, in the order their code is laid out: `(group, range)`.
    visits: Vec<(usize, usize)>,
    /// Where the code of each range with rules goes (empty: inline everywhere).
    bodies: BTreeMap<(usize, usize), Body>,
}

impl<'p> Builder<'p> {
    fn new(groups: &'p [Group<'p>]) -> Builder<'p> {
        Builder {
            ops: Vec::new(),
            next_label: 0,
            emitted: 0,
            pool: BTreeMap::new(),
            groups,
            visits: Vec::new(),
            bodies: BTreeMap::new(),
        }
    }

    fn label(&mut self) -> Label {
        self.next_label += 1;
        Label(self.next_label)
    }

    fn op(&mut self, op: Op) {
        if !matches!(op, Op::Bind(_)) {
            self.emitted += 1;
        }
        self.ops.push(op);
    }

    /// The label of a shared `RET k`.
    fn ret(&mut self, k: u32) -> Label {
        if let Some((l, _)) = self.pool.get(&k) {
            return *l;
        }
        let l = self.label();
        self.pool.insert(k, (l, self.emitted));
        l
    }

    fn ld(&mut self, off: u32) {
        self.op(Op::Stmt(BPF_LD | BPF_W | BPF_ABS, off));
    }

    fn ret_k(&mut self, k: u32) {
        self.op(Op::Stmt(BPF_RET | BPF_K, k));
    }

    fn jump(&mut self, code: u16, k: u32, t: Option<Label>, f: Option<Label>) {
        self.op(Op::Cond(BPF_JMP | code | BPF_K, k, t, f));
    }

    /// Places the pooled returns here (control must not fall through to this point).
    fn flush(&mut self) {
        for (k, (l, _)) in std::mem::take(&mut self.pool) {
            self.op(Op::Bind(l));
            self.ret_k(k);
        }
    }

    /// A point control does not fall through: flush the pool if it is getting far.
    fn barrier(&mut self) {
        if self.pool_is_far() {
            self.flush();
        }
    }

    /// Whether the oldest pending reference to a pooled return is [`FLUSH_AT`] back.
    fn pool_is_far(&self) -> bool {
        let oldest = self.pool.values().map(|(_, at)| *at).min();
        oldest.is_some_and(|at| self.emitted - at >= FLUSH_AT)
    }

    /// The whole program.
    fn program(&mut self, bad_arch: u32) {
        let groups = self.groups;
        self.ld(OFF_ARCH);
        for (g, group) in groups.iter().enumerate() {
            let other_arch = self.label();
            self.jump(BPF_JEQ, group.audit, None, Some(other_arch));
            self.ld(OFF_NR);
            self.search(g, &group.shape);
            self.flush();
            self.op(Op::Bind(other_arch));
        }
        self.ret_k(bad_arch);
    }

    /// Where a jump to range `i` can go directly, without code of its own here: a
    /// pooled return, or identical code laid out later.
    fn direct(&mut self, g: usize, i: usize) -> Option<Label> {
        match &self.groups[g].ranges[i].1 {
            Leaf::Ret(k) => Some(self.ret(*k)),
            Leaf::Rules(..) => match self.bodies.get(&(g, i)) {
                Some(Body::Jump(l)) => Some(*l),
                _ => None,
            },
        }
    }

    fn direct_shape(&mut self, g: usize, shape: &Shape) -> Option<Label> {
        match shape {
            Shape::Leaf(i) => self.direct(g, *i),
            _ => None,
        }
    }

    /// Emits the search `shape` over group `g`'s ranges, knowing A holds nr. Control
    /// never falls off the end.
    fn search(&mut self, g: usize, shape: &Shape) {
        let ranges = &self.groups[g].ranges;
        match shape {
            Shape::Leaf(i) => self.leaf(g, *i),
            Shape::Split {
                at,
                left,
                right,
                right_heavier,
            } => {
                let k = ranges[*at].0;
                match (self.direct_shape(g, left), self.direct_shape(g, right)) {
                    (Some(l), Some(r)) => self.jump(BPF_JGE, k, Some(r), Some(l)),
                    (Some(l), None) => {
                        self.jump(BPF_JGE, k, None, Some(l));
                        self.search(g, right);
                    }
                    (None, Some(r)) => {
                        self.jump(BPF_JGE, k, Some(r), None);
                        self.search(g, left);
                    }
                    (None, None) => {
                        // The heavier side falls through: if a trampoline is needed,
                        // the lighter side pays for it.
                        let other = self.label();
                        let (first, second) = if *right_heavier {
                            self.jump(BPF_JGE, k, None, Some(other));
                            (right, left)
                        } else {
                            self.jump(BPF_JGE, k, Some(other), None);
                            (left, right)
                        };
                        self.search(g, first);
                        self.op(Op::Bind(other));
                        self.search(g, second);
                    }
                }
            }
            Shape::Chain { eqs, other } => {
                let mut later = Vec::new();
                for (p, &i) in eqs.iter().enumerate() {
                    let t = match self.direct(g, i) {
                        Some(l) => l,
                        None => {
                            let l = self.label();
                            later.push((l, i));
                            l
                        }
                    };
                    let f = if p + 1 == eqs.len() {
                        self.direct(g, *other)
                    } else {
                        None
                    };
                    self.jump(BPF_JEQ, ranges[i].0, Some(t), f);
                    if p + 1 == eqs.len() && f.is_none() {
                        self.leaf(g, *other);
                    }
                }
                for (l, i) in later {
                    self.op(Op::Bind(l));
                    self.leaf(g, i);
                }
            }
        }
        self.barrier();
    }

    /// Emits range `i`'s decision, knowing A holds nr.
    fn leaf(&mut self, g: usize, i: usize) {
        let group = &self.groups[g];
        match &group.ranges[i].1 {
            Leaf::Ret(k) => self.ret_k(*k),
            Leaf::Rules(_, fallback) => {
                self.visits.push((g, i));
                match self.bodies.get(&(g, i)).copied() {
                    Some(Body::Jump(l)) => self.op(Op::Ja(l)),
                    body => {
                        if let Some(Body::Inline(Some(l))) = body {
                            self.op(Op::Bind(l));
                        }
                        // Not a pooled return: a long level may place the pool in
                        // an island half-way, and a label must stay ahead of every
                        // jump to it.
                        let exit = self.label();
                        self.level(group.tree(i), exit, None, None);
                        self.op(Op::Bind(exit));
                        self.ret_k(*fallback);
                    }
                }
            }
        }
        self.barrier();
    }

    /// One level of a syscall's decision tree: each node makes A hold its (masked)
    /// word unless it already does, tests it, and goes on to the next sibling, an
    /// action, or a sub-level; falling off the level continues at `exit`. `known` is
    /// what A is known to hold on entry. Tests whose outcome that knowledge (or a zero
    /// mask) already decides emit nothing. `fail` is where [`Branch::Fail`] goes: the
    /// next node of the top level (`None` on the top level itself, where it is each
    /// node's own next).
    fn level(
        &mut self,
        nodes: &[Node],
        exit: Label,
        mut known: Option<Known>,
        fail: Option<Label>,
    ) {
        for (i, n) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            let next = if last { exit } else { self.label() };
            let fail_to = fail.unwrap_or(next);
            let code = match n.op {
                WordOp::Eq | WordOp::MaskedEq => BPF_JEQ,
                WordOp::Gt => BPF_JGT,
                WordOp::Ge => BPF_JGE,
            };
            // What A holds once it holds this node's word: what is known of it already,
            // or anything up to the mask.
            let word = match known {
                Some(k) if (k.off, k.mask) == (n.offset(), n.mask) => k,
                _ => Known {
                    off: n.offset(),
                    mask: n.mask,
                    lo: 0,
                    hi: n.mask,
                },
            };
            if let Some(taken) = word.decides(code, n.datum) {
                // No code: go where the outcome leads; A is untouched.
                match if taken { &n.on_true } else { &n.on_false } {
                    Branch::Next => {}
                    Branch::Fail => {
                        self.op(Op::Ja(fail_to));
                        if fail.is_some() {
                            return; // the rest of the level is unreachable
                        }
                        known = None;
                    }
                    Branch::Decide(a, _) => {
                        let l = self.ret(a.to_ret());
                        self.op(Op::Ja(l));
                        return; // the rest of the level is unreachable
                    }
                    Branch::Sub(level) => {
                        self.level(level, next, known, Some(fail_to));
                        known = None;
                    }
                }
                if !last {
                    self.op(Op::Bind(next));
                }
                continue;
            }
            match known {
                Some(k) if (k.off, k.mask) == (word.off, word.mask) => {}
                Some(k) if k.off == word.off && k.mask == u32::MAX => {
                    self.op(Op::Stmt(BPF_ALU | BPF_AND | BPF_K, n.mask));
                }
                _ => {
                    self.ld(n.offset());
                    if n.mask != u32::MAX {
                        self.op(Op::Stmt(BPF_ALU | BPF_AND | BPF_K, n.mask));
                    }
                }
            }
            let mut subs: Vec<(Label, &[Node], Known)> = Vec::new();
            let mut targets = [None, None];
            let mut at_next: Option<Known> = None;
            let mut next_paths = 0;
            for ((slot, b), outcome) in targets
                .iter_mut()
                .zip([&n.on_true, &n.on_false])
                .zip([true, false])
            {
                let after = word.after(code, n.datum, outcome);
                *slot = Some(match b {
                    Branch::Next => {
                        next_paths += 1;
                        at_next = Some(after);
                        next
                    }
                    // On the top level, failing is going on to the next node.
                    Branch::Fail if fail.is_none() => {
                        next_paths += 1;
                        at_next = Some(after);
                        next
                    }
                    Branch::Fail => fail_to,
                    Branch::Decide(a, _) => self.ret(a.to_ret()),
                    Branch::Sub(level) => {
                        let l = self.label();
                        subs.push((l, level.as_slice(), after));
                        l
                    }
                });
            }
            let [t, f] = targets;
            self.jump(code, n.datum, t, f);
            for (l, level, after) in &subs {
                self.op(Op::Bind(*l));
                self.level(level, next, Some(*after), Some(fail_to));
            }
            if next_paths == 0 && subs.is_empty() {
                return; // both outcomes decide: the rest of the level is unreachable
            }
            if !last {
                // A long level has no point control cannot fall through: where the
                // pooled returns are getting far, place them here behind a jump over
                // them (an island), rather than a trampoline for every test.
                if self.pool_is_far() {
                    self.op(Op::Ja(next));
                    self.flush();
                }
                self.op(Op::Bind(next));
            }
            // Only this node's own test jumps to the next sibling unless a sub-level
            // falls off into it (with A then unknown).
            known = match (next_paths, subs.is_empty()) {
                (1, true) => at_next,
                (2, true) => Some(word),
                _ => None,
            };
        }
        // Falling off the level (possible when the last test emitted no code): on to
        // `exit`. Dropped by the assembler when unreachable or when `exit` follows.
        self.op(Op::Ja(exit));
    }
}

/// What A is known to hold inside a syscall's argument checks: the word at `off`,
/// ANDed with `mask`, in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Known {
    off: u32,
    mask: u32,
    lo: u32,
    hi: u32,
}

impl Known {
    /// The outcome of `A <code> datum`, if the interval decides it.
    fn decides(self, code: u16, datum: u32) -> Option<bool> {
        match code {
            BPF_JEQ if datum < self.lo || datum > self.hi => Some(false),
            BPF_JEQ if self.lo == self.hi => Some(true), // == datum, from above
            BPF_JGT if self.lo > datum => Some(true),
            BPF_JGT if self.hi <= datum => Some(false),
            BPF_JGE if self.lo >= datum => Some(true),
            BPF_JGE if self.hi < datum => Some(false),
            _ => None,
        }
    }

    /// What is known after `A <code> datum` had `outcome` (which `decides` left open).
    fn after(self, code: u16, datum: u32, outcome: bool) -> Known {
        let (mut lo, mut hi) = (self.lo, self.hi);
        match (code, outcome) {
            (BPF_JEQ, true) => (lo, hi) = (datum, datum),
            (BPF_JEQ, false) if datum == lo => lo += 1,
            (BPF_JEQ, false) if datum == hi => hi -= 1,
            (BPF_JGT, true) => lo = lo.max(datum + 1),
            (BPF_JGT, false) => hi = hi.min(datum),
            (BPF_JGE, true) => lo = lo.max(datum),
            (BPF_JGE, false) => hi = hi.min(datum - 1),
            _ => {}
        }
        Known { lo, hi, ..self }
    }
}

/// A range with rules: `(group, range)`.
type Visit = (usize, usize);

/// Decides where identical argument-checking code is shared: ranges of a non-native
/// ABI (x32, a compat arch) whose code equals that of a range laid out later jump
/// there instead of repeating it; the last copy in layout order is the one kept. The
/// native ABI always keeps its own copy (a jump there could need a trampoline, one
/// more instruction on the common path).
fn share_bodies(
    groups: &[Group],
    visits: &[(usize, usize)],
    native: Arch,
    label: &mut dyn FnMut() -> Label,
) -> BTreeMap<(usize, usize), Body> {
    let fallback = |(g, i): (usize, usize)| match groups[g].ranges[i].1 {
        Leaf::Rules(_, f) => f,
        Leaf::Ret(_) => unreachable!("only ranges with rules are visited"),
    };
    // Classes of identical code: (representative, last visit, members).
    let mut classes: Vec<(Visit, Visit, usize)> = Vec::new();
    let mut class_of = Vec::with_capacity(visits.len());
    for &v in visits {
        let found = classes.iter().position(|(rep, _, _)| {
            fallback(*rep) == fallback(v)
                && same_code(groups[rep.0].tree(rep.1), groups[v.0].tree(v.1))
        });
        let c = match found {
            Some(c) => {
                classes[c].1 = v;
                classes[c].2 += 1;
                c
            }
            None => {
                classes.push((v, v, 1));
                classes.len() - 1
            }
        };
        class_of.push(c);
    }
    let labels: Vec<Option<Label>> = classes
        .iter()
        .map(|(_, _, members)| (*members > 1).then(&mut *label))
        .collect();
    let mut bodies = BTreeMap::new();
    for (&(g, i), &c) in visits.iter().zip(&class_of) {
        let is_native = groups[g].part_for(groups[g].ranges[i].0).arch == native;
        let body = match labels[c] {
            Some(l) if classes[c].1 != (g, i) && !is_native => Body::Jump(l),
            Some(l) if classes[c].1 == (g, i) => Body::Inline(Some(l)),
            _ => Body::Inline(None),
        };
        bodies.insert((g, i), body);
    }
    bodies
}

/// Compiles `policy` to a seccomp filter.
pub fn compile(policy: &Policy) -> Result<Program, CompileError> {
    if policy.unconfined {
        return Err(CompileError::Unconfined {
            profile: policy.source.clone(),
        });
    }
    // Group the covered ABIs by their `seccomp_data.arch` value (x86_64 and x32 share),
    // native first.
    let mut by_audit: Vec<(u32, Vec<&ArchPolicy>)> = Vec::new();
    for part in &policy.arches {
        let audit = part.arch.audit_arch();
        match by_audit.iter_mut().find(|(a, _)| *a == audit) {
            Some((_, v)) => v.push(part),
            None => by_audit.push((audit, vec![part])),
        }
    }
    let groups: Vec<Group> = by_audit
        .into_iter()
        .map(|(audit, parts)| {
            let ranges = ranges(&parts, policy);
            let shape = plan(&ranges, &weights(&ranges, &parts));
            Group {
                audit,
                parts,
                ranges,
                shape,
            }
        })
        .collect();
    let bad_arch = policy.bad_arch.to_ret();
    // A first pass finds the order in which code for syscalls with rules is laid out.
    let mut scratch = Builder::new(&groups);
    scratch.program(bad_arch);
    let mut b = Builder::new(&groups);
    b.bodies = share_bodies(&groups, &scratch.visits, policy.arches[0].arch, &mut || {
        b.label()
    });
    b.program(bad_arch);
    let insns = assemble(b.ops, b.next_label);
    if insns.len() > MAX_INSNS {
        return Err(CompileError::TooLong {
            profile: policy.source.clone(),
            len: insns.len(),
            max: MAX_INSNS,
            rules: policy
                .arches
                .iter()
                .flat_map(|a| &a.syscalls)
                .map(|s| s.nodes().len().max(1))
                .sum(),
            syscalls: policy.arches.iter().map(|a| a.syscalls.len()).sum(),
        });
    }
    Ok(Program::new(insns))
}

mod assemble;

use assemble::assemble;

#[cfg(test)]
mod tests;
