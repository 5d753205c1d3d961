//! The compiler's last passes, on the symbolic program: drop what no path reaches,
//! keep identical blocks once (where jumps stay short), then resolve labels into
//! offsets, with `JA` trampolines where a conditional jump would pass 255 instructions.
//!
//! What code to emit is the compiler's ([`super`]); this module only places it. Labels
//! are numbered densely, so the passes index them in vectors ([`LabelMap`]).

use std::collections::HashMap;

use super::{Label, Op};
use crate::bpf::{Insn, BPF_JA, BPF_JMP, BPF_K, BPF_RET};

/// A value per label. Labels are numbered densely from 0, so a vector indexed by the
/// number does what a map would, without its lookups (the passes below ask per jump).
struct LabelMap<T>(Vec<Option<T>>);

impl<T: Copy> LabelMap<T> {
    /// A map with room for every label `ops` mentions.
    fn for_ops(ops: &[Op]) -> LabelMap<T> {
        let max = ops
            .iter()
            .flat_map(|op| match *op {
                Op::Bind(l) | Op::Ja(l) => [Some(l), None],
                Op::Cond(_, _, t, f) => [t, f],
                Op::Stmt(..) => [None, None],
            })
            .flatten()
            .map(|l| l.0 as usize + 1)
            .max()
            .unwrap_or(0);
        LabelMap(vec![None; max])
    }

    fn get(&self, l: Label) -> Option<T> {
        self.0.get(l.0 as usize).copied().flatten()
    }

    fn insert(&mut self, l: Label, v: T) {
        self.0[l.0 as usize] = Some(v);
    }

    /// The value of a label that is bound (every jump target is).
    fn at(&self, l: Label) -> T {
        self.get(l).expect("jump targets are bound")
    }
}

/// Whether control never goes on to the next instruction after `op`.
fn is_terminator(op: &Op) -> bool {
    match op {
        Op::Stmt(code, _) => code & 0x07 == BPF_RET,
        Op::Ja(_) => true,
        Op::Cond(_, _, t, f) => t.is_some() && f.is_some(),
        Op::Bind(_) => false,
    }
}

/// Identical straight-line blocks (reached only by jumps, ending in a return or jumps)
/// are kept once, at the last copy, and jumps to the earlier copies go there — as
/// libseccomp does with its block hashes. Done only where the jumps stay short enough
/// to need no trampoline, so no path gets longer. Repeated until nothing changes, as
/// merged blocks make the blocks jumping to them identical in turn.
fn merge_blocks(mut ops: Vec<Op>) -> Vec<Op> {
    /// How far (in instructions) a jump may be moved to reach the kept copy.
    const REACH: u32 = 200;
    loop {
        // Position (instruction index) of every op, and of the first jump to each label.
        let mut pos = Vec::with_capacity(ops.len());
        let mut first_ref: LabelMap<u32> = LabelMap::for_ops(&ops);
        let mut n = 0u32;
        for op in &ops {
            pos.push(n);
            let targets = match op {
                Op::Bind(_) => continue,
                Op::Ja(l) => [Some(*l), None],
                Op::Cond(_, _, t, f) => [*t, *f],
                Op::Stmt(..) => [None, None],
            };
            for l in targets.into_iter().flatten() {
                if first_ref.get(l).is_none() {
                    first_ref.insert(l, n);
                }
            }
            n += 1;
        }
        // Blocks: labels at `start..body`, instructions `body..=end`.
        // (A hash map: the outcome does not depend on the order groups are visited in,
        // as each group decides from `pos` and `first_ref` alone.)
        let mut blocks: HashMap<&[Op], Vec<(usize, usize, usize)>> = HashMap::new();
        let mut i = 0;
        while i < ops.len() {
            if !matches!(ops[i], Op::Bind(_)) {
                i += 1;
                continue;
            }
            let start = i;
            let falls_in = start > 0 && !is_terminator(&ops[start - 1]);
            while i < ops.len() && matches!(ops[i], Op::Bind(_)) {
                i += 1;
            }
            let body = i;
            let mut end = None;
            while i < ops.len() {
                match &ops[i] {
                    Op::Bind(_) => break,
                    op if is_terminator(op) => {
                        end = Some(i);
                        break;
                    }
                    _ => i += 1,
                }
            }
            if let (Some(end), false) = (end, falls_in) {
                blocks
                    .entry(&ops[body..=end])
                    .or_default()
                    .push((start, body, end));
            }
        }
        let mut rename: LabelMap<Label> = LabelMap::for_ops(&ops);
        let mut renamed = false;
        let mut drop = vec![false; ops.len()];
        for copies in blocks.values() {
            let Some(&(keep, _, _)) = copies.last() else {
                continue;
            };
            let Op::Bind(canonical) = ops[keep] else {
                unreachable!("blocks start with a label")
            };
            for &(start, body, end) in &copies[..copies.len() - 1] {
                let labels: Vec<Label> = ops[start..body]
                    .iter()
                    .map(|op| match op {
                        Op::Bind(l) => *l,
                        _ => unreachable!("labels"),
                    })
                    .collect();
                let earliest = labels.iter().filter_map(|&l| first_ref.get(l)).min();
                if earliest.is_some_and(|r| pos[keep] - r > REACH) {
                    continue;
                }
                for l in labels {
                    rename.insert(l, canonical);
                }
                renamed = true;
                drop[start..=end].iter_mut().for_each(|d| *d = true);
            }
        }
        if !renamed {
            return ops;
        }
        let r = |l: Label| rename.get(l).unwrap_or(l);
        ops = ops
            .iter()
            .zip(&drop)
            .filter(|(_, d)| !**d)
            .map(|(op, _)| match *op {
                Op::Ja(l) => Op::Ja(r(l)),
                Op::Cond(c, k, t, f) => Op::Cond(c, k, t.map(r), f.map(r)),
                op => op,
            })
            .collect();
    }
}

/// Drops the instructions no path reaches.
fn reachable(ops: Vec<Op>) -> Vec<Op> {
    let mut at = LabelMap::for_ops(&ops);
    for (i, op) in ops.iter().enumerate() {
        if let Op::Bind(l) = op {
            at.insert(*l, i);
        }
    }
    let mut seen = vec![false; ops.len()];
    let mut todo = vec![0usize];
    while let Some(mut i) = todo.pop() {
        while i < ops.len() && !seen[i] {
            seen[i] = true;
            match ops[i] {
                Op::Stmt(code, _) if code & 0x07 == BPF_RET => break,
                Op::Ja(l) => {
                    i = at.at(l);
                    continue;
                }
                Op::Cond(_, _, t, f) => {
                    for l in [t, f].into_iter().flatten() {
                        todo.push(at.at(l));
                    }
                    if t.is_some() && f.is_some() {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    ops.into_iter()
        .zip(seen)
        .filter(|(op, seen)| *seen || matches!(op, Op::Bind(_)))
        .map(|(op, _)| op)
        .collect()
}

/// Resolves labels: drops jumps to the very next instruction, and inserts `JA`
/// trampolines where a conditional jump would exceed 255 instructions.
pub(super) fn assemble(mut ops: Vec<Op>, mut next_label: u32) -> Vec<Insn> {
    let mut fresh = || {
        next_label += 1;
        Label(next_label)
    };
    ops = merge_blocks(reachable(ops));
    loop {
        // A `JA` to the label bound right after it is a no-op.
        let mut i = 0;
        let mut cleaned = Vec::with_capacity(ops.len());
        while i < ops.len() {
            if let Op::Ja(l) = ops[i] {
                let mut j = i + 1;
                let mut lands_next = false;
                while let Some(Op::Bind(b)) = ops.get(j) {
                    if *b == l {
                        lands_next = true;
                    }
                    j += 1;
                }
                if lands_next {
                    i += 1;
                    continue;
                }
            }
            cleaned.push(ops[i]);
            i += 1;
        }
        ops = cleaned;
        // Positions of instructions and labels.
        let mut pos = LabelMap::for_ops(&ops);
        let mut n = 0u32;
        for op in &ops {
            match op {
                Op::Bind(l) => {
                    pos.insert(*l, n);
                }
                _ => n += 1,
            }
        }
        // Every conditional jump that is too far gets a trampoline, all in one pass
        // (then positions are recomputed: a trampoline can push another jump too far).
        let mut at = 0u32;
        let mut fixes = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Bind(_) => continue,
                Op::Cond(_, _, t, f) => {
                    for (which, l) in [(0, t), (1, f)] {
                        if let Some(l) = l {
                            if pos.at(*l) - at - 1 > 255 {
                                fixes.push((i, which, *l));
                                break; // one trampoline per jump per pass
                            }
                        }
                    }
                }
                _ => {}
            }
            at += 1;
        }
        if fixes.is_empty() {
            let mut out = Vec::with_capacity(n as usize);
            let mut at = 0u32;
            for op in &ops {
                let rel = |l: &Option<Label>| l.map_or(0, |l| (pos.at(l) - at - 1) as u8);
                match op {
                    Op::Bind(_) => continue,
                    Op::Stmt(code, k) => out.push(Insn::stmt(*code, *k)),
                    Op::Ja(l) => out.push(Insn::stmt(BPF_JMP | BPF_JA, pos.at(*l) - at - 1)),
                    Op::Cond(code, k, t, f) => out.push(Insn::jump(*code, *k, rel(t), rel(f))),
                }
                at += 1;
            }
            // A `JA` onto a `RET K` may as well return (same length, one step less).
            for i in 0..out.len() {
                if out[i].code == BPF_JMP | BPF_JA {
                    let target = out[i + 1 + out[i].k as usize];
                    if target.code == BPF_RET | BPF_K {
                        out[i] = target;
                    }
                }
            }
            return out;
        }
        // Insert `JA far` right after each such jump (into a new list); its
        // other branch then skips over it.
        let mut fixed = Vec::with_capacity(ops.len() + 4 * fixes.len());
        let mut fixes = fixes.into_iter().peekable();
        for (i, op) in ops.into_iter().enumerate() {
            let Some(&(_, which, far)) = fixes.peek().filter(|f| f.0 == i) else {
                fixed.push(op);
                continue;
            };
            fixes.next();
            let (tramp, after) = (fresh(), fresh());
            let Op::Cond(code, k, t, f) = op else {
                unreachable!("fixes point at conditional jumps")
            };
            let (t, f) = if which == 0 {
                (Some(tramp), Some(f.unwrap_or(after)))
            } else {
                (Some(t.unwrap_or(after)), Some(tramp))
            };
            fixed.extend([
                Op::Cond(code, k, t, f),
                Op::Bind(tramp),
                Op::Ja(far),
                Op::Bind(after),
            ]);
        }
        ops = fixed;
    }
}
