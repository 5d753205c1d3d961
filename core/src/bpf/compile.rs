//! The compiler: a [`Policy`] to one classic-BPF seccomp filter.
//!
//! Shape of the output, per `seccomp_data.arch` value the policy covers:
//!
//! ```text
//!        A = arch; if (A == ARCH_1) goto arch1; if (A == ARCH_2) goto arch2; ...; return BAD_ARCH
//! arch1: A = nr
//!        binary search over ranges of numbers with the same decision (JGE K splits)
//!        leaf: return K                  (argument-free decision: cacheable by the kernel)
//!        leaf: argument checks, then return K   (rules of one syscall, first match wins)
//! ```
//!
//! Ideas borrowed, code not: Chromium's `bpf_dsl` policy compiler (the number space cut
//! into ranges of equal result, searched by a balanced tree) and gVisor's `pkg/seccomp`
//! (shared return tails, trampolines for long jumps). x32 needs no check of its own: x32
//! numbers carry bit 30, so for `AUDIT_ARCH_X86_64` the range tree covers x86_64 below
//! 0x40000000 and x32 (or the bad-arch action) above it. runc's ENOSYS stub is one more
//! range: everything above the highest number the profile names.
//!
//! Every argument-free decision is reached through `LD arch`, `LD nr`, `JEQ/JGE K` and
//! `RET K` only, which the kernel's action cache can evaluate (`seccomp_is_const_allow`),
//! so every argument-free ALLOW is cached. Output is deterministic.

use std::collections::BTreeMap;

use crate::action::{Action, ENOSYS};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::policy::{ArchPolicy, Cond, Policy, Rule, Width};
use crate::profile::CmpOp;

use super::{Insn, Program, MAX_INSNS};
use super::{BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K};
use super::{BPF_LD, BPF_RET, BPF_W};

/// Why a policy could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error(
        "the compiled filter for {profile} has {len} instructions; the kernel accepts at most {max} \
         (the profile has {rules} rules over {syscalls} syscalls: split it into stacked profiles \
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

fn arg_lo(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}

fn arg_hi(i: u8) -> u32 {
    arg_lo(i) + 4
}

/// A jump target in the program being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Label(u32);

/// An instruction whose jump targets are still symbolic.
#[derive(Clone, Copy, Debug)]
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
    /// The rules of one syscall, then the fallback return value.
    Rules(usize, u32),
}

struct Builder<'p> {
    ops: Vec<Op>,
    next_label: u32,
    /// Shared `RET K` tails, one per value, placed at the end.
    rets: BTreeMap<u32, Label>,
    policy: &'p Policy,
}

impl<'p> Builder<'p> {
    fn label(&mut self) -> Label {
        self.next_label += 1;
        Label(self.next_label)
    }

    fn ret(&mut self, k: u32) -> Label {
        if let Some(l) = self.rets.get(&k) {
            return *l;
        }
        let l = self.label();
        self.rets.insert(k, l);
        l
    }

    fn ld(&mut self, off: u32) {
        self.ops.push(Op::Stmt(BPF_LD | BPF_W | BPF_ABS, off));
    }

    fn jump(&mut self, code: u16, k: u32, t: Option<Label>, f: Option<Label>) {
        self.ops.push(Op::Cond(BPF_JMP | code | BPF_K, k, t, f));
    }

    fn goto_ret(&mut self, k: u32) {
        let l = self.ret(k);
        self.ops.push(Op::Ja(l));
    }
}

/// The decisions of one `seccomp_data.arch` value, as sorted, merged ranges covering
/// every 32-bit number: `(first number, leaf)`; each range ends where the next begins.
fn ranges(parts: &[&ArchPolicy], policy: &Policy) -> Vec<(u32, Leaf)> {
    let bad = policy.bad_arch.to_ret();
    let default = policy.default.to_ret();
    // Builds the ranges of one ABI over [lo, hi).
    let mut out: Vec<(u32, Leaf)> = Vec::new();
    let push = |start: u32, leaf: Leaf, out: &mut Vec<(u32, Leaf)>| {
        if out.last().is_some_and(|(_, l)| *l == leaf) {
            return;
        }
        out.push((start, leaf));
    };
    let halves: [(u32, u64, Option<&ArchPolicy>); 2] = [
        (
            0,
            u64::from(X32_SYSCALL_BIT),
            parts.iter().copied().find(|p| p.arch != Arch::X32),
        ),
        (
            X32_SYSCALL_BIT,
            1 << 32,
            parts.iter().copied().find(|p| p.arch == Arch::X32),
        ),
    ];
    let is_x86_64 = parts
        .iter()
        .any(|p| matches!(p.arch, Arch::X86_64 | Arch::X32));
    let halves: &[(u32, u64, Option<&ArchPolicy>)] = if is_x86_64 {
        &halves
    } else {
        // Other ABIs use the whole number space.
        &[(0, 1 << 32, None)][..]
    };
    for &(lo, hi, part) in halves {
        let part = if is_x86_64 {
            part
        } else {
            parts.first().copied()
        };
        let Some(part) = part else {
            push(lo, Leaf::Ret(bad), &mut out);
            continue;
        };
        let fallback = |nr: u32| match part.enosys_above {
            Some(max) if nr > max => Action::errno(ENOSYS).to_ret(),
            _ => default,
        };
        let mut cursor = u64::from(lo);
        let stub_start = part.enosys_above.map(|m| u64::from(m) + 1);
        let fill_gap = |from: u64, to: u64, out: &mut Vec<(u32, Leaf)>| {
            // [from, to) has no rules: default, then the stub from its start.
            if from >= to {
                return;
            }
            match stub_start {
                Some(s) if s < to => {
                    if from < s {
                        push(from as u32, Leaf::Ret(default), out);
                    }
                    push(
                        s.max(from) as u32,
                        Leaf::Ret(Action::errno(ENOSYS).to_ret()),
                        out,
                    );
                }
                _ => push(from as u32, Leaf::Ret(default), out),
            }
        };
        for (i, s) in part.syscalls.iter().enumerate() {
            let nr = u64::from(s.nr);
            if nr < cursor || nr >= hi {
                continue;
            }
            fill_gap(cursor, nr, &mut out);
            let fb = fallback(s.nr);
            let leaf = match s.rules.first() {
                Some(r) if r.conds.is_empty() => Leaf::Ret(r.action.to_ret()),
                _ => Leaf::Rules(i, fb),
            };
            // Rules leaves are never merged with neighbours: they belong to one number.
            if matches!(leaf, Leaf::Rules(..)) {
                out.push((s.nr, leaf));
            } else {
                push(s.nr, leaf, &mut out);
            }
            cursor = nr + 1;
        }
        fill_gap(cursor, hi, &mut out);
    }
    out
}

impl Builder<'_> {
    /// Emits a balanced search over `ranges[..]`, knowing A holds nr and lies in the
    /// union of these ranges.
    fn search<'a>(&mut self, ranges: &[(u32, Leaf)], part_for: &dyn Fn(u32) -> &'a ArchPolicy) {
        if ranges.len() == 1 {
            let (start, leaf) = &ranges[0];
            match leaf {
                Leaf::Ret(k) => self.goto_ret(*k),
                Leaf::Rules(i, fallback) => {
                    let part = part_for(*start);
                    let rules = &part.syscalls[*i].rules;
                    self.rules(rules, *fallback);
                }
            }
            return;
        }
        let mid = ranges.len() / 2;
        let right = self.label();
        // if (A >= start(mid)) goto right; else fall through to the left half.
        self.jump(BPF_JGE, ranges[mid].0, Some(right), None);
        self.search(&ranges[..mid], part_for);
        self.ops.push(Op::Bind(right));
        self.search(&ranges[mid..], part_for);
    }

    /// The rules of one syscall, first match wins, then `fallback`.
    fn rules(&mut self, rules: &[Rule], fallback: u32) {
        for r in rules {
            let next = self.label();
            let done = self.ret(r.action.to_ret());
            for c in &r.conds {
                self.cond(c, next);
            }
            self.ops.push(Op::Ja(done));
            self.ops.push(Op::Bind(next));
        }
        self.goto_ret(fallback);
    }

    /// Falls through when `c` holds, jumps to `fail` when it does not. Clobbers A.
    fn cond(&mut self, c: &Cond, fail: Label) {
        let pass = self.label();
        let hi = (c.datum >> 32) as u32;
        let lo = c.datum as u32;
        let wide = c.width == Width::W64;
        match c.op {
            CmpOp::Eq => {
                if wide {
                    self.ld(arg_hi(c.arg));
                    self.jump(BPF_JEQ, hi, None, Some(fail));
                }
                self.ld(arg_lo(c.arg));
                self.jump(BPF_JEQ, lo, None, Some(fail));
            }
            CmpOp::Ne => {
                if wide {
                    self.ld(arg_hi(c.arg));
                    self.jump(BPF_JEQ, hi, None, Some(pass));
                }
                self.ld(arg_lo(c.arg));
                self.jump(BPF_JEQ, lo, Some(fail), None);
            }
            CmpOp::MaskedEq => {
                let (mhi, mlo) = ((c.mask >> 32) as u32, c.mask as u32);
                let d = c.datum & c.mask;
                if wide && mhi != 0 {
                    self.ld(arg_hi(c.arg));
                    self.ops.push(Op::Stmt(BPF_ALU | BPF_AND | BPF_K, mhi));
                    self.jump(BPF_JEQ, (d >> 32) as u32, None, Some(fail));
                }
                if mlo != 0 {
                    self.ld(arg_lo(c.arg));
                    self.ops.push(Op::Stmt(BPF_ALU | BPF_AND | BPF_K, mlo));
                    self.jump(BPF_JEQ, d as u32, None, Some(fail));
                }
            }
            CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le => {
                // v > d, v >= d directly; v < d as !(v >= d), v <= d as !(v > d).
                let (code, negate) = match c.op {
                    CmpOp::Gt => (BPF_JGT, false),
                    CmpOp::Ge => (BPF_JGE, false),
                    CmpOp::Lt => (BPF_JGE, true),
                    _ => (BPF_JGT, true),
                };
                let (yes, no) = if negate { (fail, pass) } else { (pass, fail) };
                if wide {
                    self.ld(arg_hi(c.arg));
                    // High words decide unless equal.
                    self.jump(BPF_JGT, hi, Some(yes), None);
                    self.jump(BPF_JEQ, hi, None, Some(no));
                }
                self.ld(arg_lo(c.arg));
                if negate {
                    self.jump(code, lo, Some(fail), None);
                } else {
                    self.jump(code, lo, None, Some(fail));
                }
            }
        }
        self.ops.push(Op::Bind(pass));
    }
}

/// Compiles `policy` to a seccomp filter.
pub fn compile(policy: &Policy) -> Result<Program, CompileError> {
    if policy.unconfined {
        return Err(CompileError::Unconfined {
            profile: policy.source.clone(),
        });
    }
    let mut b = Builder {
        ops: Vec::new(),
        next_label: 0,
        rets: BTreeMap::new(),
        policy,
    };
    // Group the covered ABIs by their `seccomp_data.arch` value (x86_64 and x32 share).
    let mut groups: Vec<(u32, Vec<&ArchPolicy>)> = Vec::new();
    for part in &policy.arches {
        let audit = part.arch.audit_arch();
        match groups.iter_mut().find(|(a, _)| *a == audit) {
            Some((_, v)) => v.push(part),
            None => groups.push((audit, vec![part])),
        }
    }
    b.ld(OFF_ARCH);
    let labels: Vec<Label> = groups.iter().map(|_| b.label()).collect();
    for ((audit, _), l) in groups.iter().zip(&labels) {
        b.jump(BPF_JEQ, *audit, Some(*l), None);
    }
    b.goto_ret(policy.bad_arch.to_ret());
    for ((_, parts), l) in groups.iter().zip(&labels) {
        b.ops.push(Op::Bind(*l));
        b.ld(OFF_NR);
        let r = ranges(parts, b.policy);
        let parts = parts.clone();
        let part_for = move |nr: u32| -> &ArchPolicy {
            let x32 = nr & X32_SYSCALL_BIT != 0;
            parts
                .iter()
                .copied()
                .find(|p| (p.arch == Arch::X32) == x32)
                .unwrap_or(parts[0])
        };
        b.search(&r, &part_for);
    }
    for (k, l) in std::mem::take(&mut b.rets) {
        b.ops.push(Op::Bind(l));
        b.ops.push(Op::Stmt(BPF_RET | BPF_K, k));
    }
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
                .map(|s| s.rules.len())
                .sum(),
            syscalls: policy.arches.iter().map(|a| a.syscalls.len()).sum(),
        });
    }
    Ok(Program::new(insns))
}

/// Resolves labels: drops jumps to the very next instruction, and inserts `JA`
/// trampolines where a conditional jump would exceed 255 instructions.
fn assemble(mut ops: Vec<Op>, mut next_label: u32) -> Vec<Insn> {
    let mut fresh = || {
        next_label += 1;
        Label(next_label)
    };
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
        let mut pos = BTreeMap::new();
        let mut n = 0u32;
        for op in &ops {
            match op {
                Op::Bind(l) => {
                    pos.insert(*l, n);
                }
                _ => n += 1,
            }
        }
        // Find the first conditional jump that is too far and give it a trampoline.
        let mut at = 0u32;
        let mut fix = None;
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Bind(_) => continue,
                Op::Cond(_, _, t, f) => {
                    for (which, l) in [(0, t), (1, f)] {
                        if let Some(l) = l {
                            if pos[l] - at - 1 > 255 {
                                fix = Some((i, which, *l));
                            }
                        }
                    }
                    if fix.is_some() {
                        break;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        let Some((i, which, far)) = fix else {
            let mut out = Vec::with_capacity(n as usize);
            let mut at = 0u32;
            for op in &ops {
                let rel = |l: &Option<Label>| l.map_or(0, |l| (pos[&l] - at - 1) as u8);
                match op {
                    Op::Bind(_) => continue,
                    Op::Stmt(code, k) => out.push(Insn::stmt(*code, *k)),
                    Op::Ja(l) => out.push(Insn::stmt(BPF_JMP | BPF_JA, pos[l] - at - 1)),
                    Op::Cond(code, k, t, f) => out.push(Insn::jump(*code, *k, rel(t), rel(f))),
                }
                at += 1;
            }
            return out;
        };
        // Insert `JA far` right after the jump; its other branch then skips over it.
        let (tramp, after) = (fresh(), fresh());
        let Op::Cond(code, k, t, f) = ops[i] else {
            unreachable!("fix points at a conditional jump")
        };
        let (t, f) = if which == 0 {
            (Some(tramp), Some(f.unwrap_or(after)))
        } else {
            (Some(t.unwrap_or(after)), Some(tramp))
        };
        ops.splice(
            i..=i,
            [
                Op::Cond(code, k, t, f),
                Op::Bind(tramp),
                Op::Ja(far),
                Op::Bind(after),
            ],
        );
    }
}

#[cfg(test)]
mod tests;
