//! The kernel-exact classic BPF interpreter: what a validated filter returns for one
//! `struct seccomp_data`, and which instructions it executed on the way.
//!
//! Semantics are those of the kernel after it converts a seccomp cBPF filter to eBPF
//! (`bpf_convert_filter`, net/core/filter.c) and runs it (`___bpf_prog_run`,
//! kernel/bpf/core.c, or a JIT):
//!
//! * `A` and `X` start at 0 (the prologue XORs both). `M[]` lives on the stack and is not
//!   cleared, but the validator guarantees every read follows a write, so zero-initialising
//!   it here is unobservable.
//! * All ALU ops are 32-bit (`BPF_ALU`, not `BPF_ALU64`): wrapping add/sub/mul, unsigned
//!   division, `NEG` is `(u32)-A`.
//! * `DIV` by `X == 0`: the conversion emits `if (X != 0) goto +2; A ^= A; exit;` before
//!   the divide, so the **program returns 0** (`SECCOMP_RET_KILL_THREAD`). Division by a
//!   constant 0 never loads.
//! * Shifts by `X`: the interpreter computes `(u32)A << ((u32)X & 31)` (the `SHT` macro
//!   in `___bpf_prog_run`, added to remove C undefined behaviour), and the x86-64 and
//!   arm64 JITs emit 32-bit `shl`/`lslv`, which mask the count to 5 bits in hardware — so
//!   the count is taken modulo 32 everywhere. Shifts by a constant `>= 32` never load.
//! * Comparisons are unsigned 32-bit (constants with the sign bit set go through a
//!   zero-extended temporary register, so `JGT 0x80000000` is unsigned).
//! * `LD|W|ABS k` reads the native-endian word at byte `k` of `seccomp_data`;
//!   `LD|W|LEN`/`LDX|W|LEN` load 64 (seccomp_check_filter rewrites them to immediates).
//! * The return value is the 32-bit `A` (`RET A`) or `k` (`RET K`).
//!
//! Speed: the validator pre-decodes each instruction into an 8-byte op with reduced
//! indices, so the loop needs no checks beyond one slice bound; plain runs additionally
//! fuse "load word; conditional jump on a constant" and "JA onto RET K" pairs (the shape
//! compiled filters have), while traced runs use the unfused ops so every instruction
//! index is reported. Both count instructions identically.
//!
//! The instruction count ([`Outcome::executed`]) includes the final `RET`. Stacking
//! filters and interpreting the returned action are [`crate::eval`]'s business.

use super::*;
use crate::event::SeccompData;

/// What one run of a filter produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// The 32-bit `SECCOMP_RET_*` value the filter returned.
    pub ret: u32,
    /// How many instructions ran, the final `RET` included.
    pub executed: u32,
}

/// A pre-decoded instruction (8 bytes). Jump offsets are relative, as in the raw
/// instruction, and checked by the validator to land inside the program; scratch and data
/// indices are already reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    LdNr,
    LdArch,
    /// `seccomp_data` word 2..=15 (instruction pointer and arguments).
    LdWord(u8),
    LdImm(u32),
    LdMem(u8),
    LdxImm(u32),
    LdxMem(u8),
    St(u8),
    Stx(u8),
    AddK(u32),
    AddX,
    SubK(u32),
    SubX,
    MulK(u32),
    MulX,
    DivK(u32),
    DivX,
    AndK(u32),
    AndX,
    OrK(u32),
    OrX,
    XorK(u32),
    XorX,
    LshK(u32),
    LshX,
    RshK(u32),
    RshX,
    Neg,
    Ja(u32),
    JeqK(u32, u8, u8),
    JeqX(u8, u8),
    JgtK(u32, u8, u8),
    JgtX(u8, u8),
    JgeK(u32, u8, u8),
    JgeX(u8, u8),
    JsetK(u32, u8, u8),
    JsetX(u8, u8),
    RetK(u32),
    RetA,
    Tax,
    Txa,
    // Fused pairs (only in the array plain runs use; each counts as two instructions).
    // A load of word `w` followed by a conditional jump on a constant; offsets are
    // relative to the instruction after the jump.
    LdJeqK(u8, u32, u8, u8),
    LdJgtK(u8, u32, u8, u8),
    LdJgeK(u8, u32, u8, u8),
    LdJsetK(u8, u32, u8, u8),
    // The same for the two words compiled filters load most, `nr` and `arch`, so the
    // hot path does not select the word at run time.
    LdNrJeqK(u32, u8, u8),
    LdNrJgtK(u32, u8, u8),
    LdNrJgeK(u32, u8, u8),
    LdNrJsetK(u32, u8, u8),
    LdArchJeqK(u32, u8, u8),
    LdArchJgtK(u32, u8, u8),
    LdArchJgeK(u32, u8, u8),
    LdArchJsetK(u32, u8, u8),
    /// `JA` landing on `RET K`.
    JaRetK(u32),
}

/// Decodes instructions the validator accepted. Anything it would not have accepted
/// decodes to `RetK(0)`, so even a misuse inside this crate cannot misbehave.
pub(crate) fn decode(insns: &[Insn]) -> Box<[Op]> {
    insns
        .iter()
        .enumerate()
        .map(|(pc, i)| decode_one(pc, *i).unwrap_or(Op::RetK(0)))
        .collect()
}

fn decode_one(pc: usize, i: Insn) -> Option<Op> {
    let k = i.k;
    let cell = || u8::try_from(k).ok().filter(|c| u32::from(*c) < MEMWORDS);
    // Offsets the validator would refuse make the decode fail (and the op a `RetK(0)`).
    let fits = |off: u32| pc as u64 + 1 + u64::from(off) < MAX_INSNS as u64;
    let jt = || fits(u32::from(i.jt)).then_some(i.jt);
    let jf = || fits(u32::from(i.jf)).then_some(i.jf);
    Some(match i.code {
        c if c == BPF_LD | BPF_W | BPF_ABS => {
            if k & 3 != 0 || k >= SeccompData::SIZE {
                return None;
            }
            match k / 4 {
                0 => Op::LdNr,
                1 => Op::LdArch,
                w => Op::LdWord(w as u8),
            }
        }
        c if c == BPF_LD | BPF_W | BPF_LEN => Op::LdImm(SeccompData::SIZE),
        c if c == BPF_LDX | BPF_W | BPF_LEN => Op::LdxImm(SeccompData::SIZE),
        c if c == BPF_LD | BPF_IMM => Op::LdImm(k),
        c if c == BPF_LDX | BPF_IMM => Op::LdxImm(k),
        c if c == BPF_LD | BPF_MEM => Op::LdMem(cell()?),
        c if c == BPF_LDX | BPF_MEM => Op::LdxMem(cell()?),
        BPF_ST => Op::St(cell()?),
        BPF_STX => Op::Stx(cell()?),
        c if c == BPF_ALU | BPF_ADD | BPF_K => Op::AddK(k),
        c if c == BPF_ALU | BPF_ADD | BPF_X => Op::AddX,
        c if c == BPF_ALU | BPF_SUB | BPF_K => Op::SubK(k),
        c if c == BPF_ALU | BPF_SUB | BPF_X => Op::SubX,
        c if c == BPF_ALU | BPF_MUL | BPF_K => Op::MulK(k),
        c if c == BPF_ALU | BPF_MUL | BPF_X => Op::MulX,
        c if c == BPF_ALU | BPF_DIV | BPF_K => {
            if k == 0 {
                return None;
            }
            Op::DivK(k)
        }
        c if c == BPF_ALU | BPF_DIV | BPF_X => Op::DivX,
        c if c == BPF_ALU | BPF_AND | BPF_K => Op::AndK(k),
        c if c == BPF_ALU | BPF_AND | BPF_X => Op::AndX,
        c if c == BPF_ALU | BPF_OR | BPF_K => Op::OrK(k),
        c if c == BPF_ALU | BPF_OR | BPF_X => Op::OrX,
        c if c == BPF_ALU | BPF_XOR | BPF_K => Op::XorK(k),
        c if c == BPF_ALU | BPF_XOR | BPF_X => Op::XorX,
        c if c == BPF_ALU | BPF_LSH | BPF_K => Op::LshK(k),
        c if c == BPF_ALU | BPF_LSH | BPF_X => Op::LshX,
        c if c == BPF_ALU | BPF_RSH | BPF_K => Op::RshK(k),
        c if c == BPF_ALU | BPF_RSH | BPF_X => Op::RshX,
        c if c == BPF_ALU | BPF_NEG => Op::Neg,
        c if c == BPF_JMP | BPF_JA => Op::Ja(fits(k).then_some(k)?),
        c if c == BPF_JMP | BPF_JEQ | BPF_K => Op::JeqK(k, jt()?, jf()?),
        c if c == BPF_JMP | BPF_JEQ | BPF_X => Op::JeqX(jt()?, jf()?),
        c if c == BPF_JMP | BPF_JGT | BPF_K => Op::JgtK(k, jt()?, jf()?),
        c if c == BPF_JMP | BPF_JGT | BPF_X => Op::JgtX(jt()?, jf()?),
        c if c == BPF_JMP | BPF_JGE | BPF_K => Op::JgeK(k, jt()?, jf()?),
        c if c == BPF_JMP | BPF_JGE | BPF_X => Op::JgeX(jt()?, jf()?),
        c if c == BPF_JMP | BPF_JSET | BPF_K => Op::JsetK(k, jt()?, jf()?),
        c if c == BPF_JMP | BPF_JSET | BPF_X => Op::JsetX(jt()?, jf()?),
        c if c == BPF_RET | BPF_K => Op::RetK(k),
        c if c == BPF_RET | BPF_A => Op::RetA,
        c if c == BPF_MISC | BPF_TAX => Op::Tax,
        c if c == BPF_MISC | BPF_TXA => Op::Txa,
        _ => return None,
    })
}

/// Fuses the pairs compiled filters are made of: a load followed by a conditional jump
/// on a constant, and a `JA` onto a `RET K`. The second instruction of a pair keeps its
/// own op, so jumps into the middle of a pair still work; executed counts are unchanged.
pub(crate) fn fuse(ops: &[Op]) -> Box<[Op]> {
    let mut out = ops.to_vec();
    for (i, slot) in out.iter_mut().enumerate() {
        let w = match ops[i] {
            Op::LdNr => 0,
            Op::LdArch => 1,
            Op::LdWord(w) => w,
            Op::Ja(k) => {
                if let Some(Op::RetK(r)) = ops.get(i + 1 + k as usize) {
                    *slot = Op::JaRetK(*r);
                }
                continue;
            }
            _ => continue,
        };
        *slot = match (w, ops.get(i + 1)) {
            (0, Some(Op::JeqK(k, t, f))) => Op::LdNrJeqK(*k, *t, *f),
            (0, Some(Op::JgtK(k, t, f))) => Op::LdNrJgtK(*k, *t, *f),
            (0, Some(Op::JgeK(k, t, f))) => Op::LdNrJgeK(*k, *t, *f),
            (0, Some(Op::JsetK(k, t, f))) => Op::LdNrJsetK(*k, *t, *f),
            (1, Some(Op::JeqK(k, t, f))) => Op::LdArchJeqK(*k, *t, *f),
            (1, Some(Op::JgtK(k, t, f))) => Op::LdArchJgtK(*k, *t, *f),
            (1, Some(Op::JgeK(k, t, f))) => Op::LdArchJgeK(*k, *t, *f),
            (1, Some(Op::JsetK(k, t, f))) => Op::LdArchJsetK(*k, *t, *f),
            (_, Some(Op::JeqK(k, t, f))) => Op::LdJeqK(w, *k, *t, *f),
            (_, Some(Op::JgtK(k, t, f))) => Op::LdJgtK(w, *k, *t, *f),
            (_, Some(Op::JgeK(k, t, f))) => Op::LdJgeK(w, *k, *t, *f),
            (_, Some(Op::JsetK(k, t, f))) => Op::LdJsetK(w, *k, *t, *f),
            _ => continue,
        };
    }
    out.into_boxed_slice()
}

/// Observes the instructions a run executes; the no-op version compiles away.
trait Tracer {
    fn step(&mut self, pc: usize);
}

struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn step(&mut self, _pc: usize) {}
}

impl Tracer for Vec<u16> {
    #[inline(always)]
    fn step(&mut self, pc: usize) {
        self.push(pc as u16);
    }
}

/// Word `w` (0..=15) of `seccomp_data`; 64-bit fields low word first (little-endian
/// layout, as [`SeccompData::word`]).
#[inline(always)]
fn word(d: &SeccompData, w: u8) -> u32 {
    let v = match w {
        0 => return d.nr,
        1 => return d.arch,
        2 | 3 => d.instruction_pointer,
        _ => match d.args.get(usize::from(w.wrapping_sub(4) / 2)) {
            Some(v) => *v,
            None => 0,
        },
    };
    if w & 1 == 0 {
        v as u32
    } else {
        (v >> 32) as u32
    }
}

/// Whether any op touches scratch memory (when none does, runs skip clearing it).
pub(crate) fn uses_scratch(ops: &[Op]) -> bool {
    ops.iter()
        .any(|op| matches!(op, Op::LdMem(_) | Op::LdxMem(_) | Op::St(_) | Op::Stx(_)))
}

/// Runs `ops`. `MEM` says whether they may touch scratch memory; with `MEM == false` a
/// scratch op (which [`uses_scratch`] rules out) would end the run with 0.
/// Marks the path it is called on as unlikely (what `std::hint::cold_path` does; that is
/// newer than the workspace's minimum Rust, 1.85). All it does here is keep the
/// optimiser from turning the branch in [`branch`] into a conditional move.
#[inline(always)]
#[cold]
fn cold() {}

/// `if c { t } else { f }` as a real conditional branch, never a conditional move. A
/// conditional move puts every comparison on the critical path (compare, select, add,
/// load the next op: one long dependency chain through the whole run), while a branch
/// lets the processor run ahead on its prediction; filter branches are mostly
/// predictable (the arch check, JEQ chains that rarely match, and the same syscalls
/// recurring in a trace). Measured on the `interp` benches: about 1.6x the runs per
/// second of the conditional-move version.
#[inline(always)]
fn branch(c: bool, t: u8, f: u8) -> u8 {
    if c {
        cold();
        t
    } else {
        f
    }
}

#[inline(always)]
fn exec<T: Tracer, const MEM: bool>(ops: &[Op], data: &SeccompData, trace: &mut T) -> Outcome {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut m = [0u32; 16];
    let mut pc: usize = 0;
    let mut executed: u32 = 0;
    // Every path ends in a RET: the validator checks that the last instruction is one and
    // that all jumps go forward and stay inside. Running off the end (impossible for a
    // ValidProgram) would return 0, the strictest verdict.
    while let Some(op) = ops.get(pc) {
        trace.step(pc);
        executed += 1;
        pc += 1;
        match *op {
            Op::LdNr => a = data.nr,
            Op::LdArch => a = data.arch,
            Op::LdWord(i) => a = word(data, i),
            Op::LdImm(k) => a = k,
            Op::LdMem(_) | Op::LdxMem(_) | Op::St(_) | Op::Stx(_) if !MEM => {
                return Outcome { ret: 0, executed }
            }
            Op::LdMem(i) => a = m[usize::from(i) & 15],
            Op::LdxImm(k) => x = k,
            Op::LdxMem(i) => x = m[usize::from(i) & 15],
            Op::St(i) => m[usize::from(i) & 15] = a,
            Op::Stx(i) => m[usize::from(i) & 15] = x,
            Op::AddK(k) => a = a.wrapping_add(k),
            Op::AddX => a = a.wrapping_add(x),
            Op::SubK(k) => a = a.wrapping_sub(k),
            Op::SubX => a = a.wrapping_sub(x),
            Op::MulK(k) => a = a.wrapping_mul(k),
            Op::MulX => a = a.wrapping_mul(x),
            Op::DivK(k) => match a.checked_div(k) {
                Some(q) => a = q,
                None => return Outcome { ret: 0, executed },
            },
            Op::DivX => match a.checked_div(x) {
                Some(q) => a = q,
                None => return Outcome { ret: 0, executed },
            },
            Op::AndK(k) => a &= k,
            Op::AndX => a &= x,
            Op::OrK(k) => a |= k,
            Op::OrX => a |= x,
            Op::XorK(k) => a ^= k,
            Op::XorX => a ^= x,
            Op::LshK(k) => a = a.wrapping_shl(k),
            Op::LshX => a = a.wrapping_shl(x),
            Op::RshK(k) => a = a.wrapping_shr(k),
            Op::RshX => a = a.wrapping_shr(x),
            Op::Neg => a = a.wrapping_neg(),
            // `pc` already points past the jump; offsets are relative to there.
            Op::Ja(k) => pc += k as usize,
            Op::JeqK(k, t, f) => pc += usize::from(branch(a == k, t, f)),
            Op::JeqX(t, f) => pc += usize::from(if a == x { t } else { f }),
            Op::JgtK(k, t, f) => pc += usize::from(branch(a > k, t, f)),
            Op::JgtX(t, f) => pc += usize::from(branch(a > x, t, f)),
            Op::JgeK(k, t, f) => pc += usize::from(branch(a >= k, t, f)),
            Op::JgeX(t, f) => pc += usize::from(branch(a >= x, t, f)),
            Op::JsetK(k, t, f) => pc += usize::from(branch(a & k != 0, t, f)),
            Op::JsetX(t, f) => pc += usize::from(branch(a & x != 0, t, f)),
            Op::RetK(k) => return Outcome { ret: k, executed },
            Op::LdJeqK(w, k, t, f) => {
                a = word(data, w);
                executed += 1;
                pc += 1 + usize::from(branch(a == k, t, f));
            }
            Op::LdJgtK(w, k, t, f) => {
                a = word(data, w);
                executed += 1;
                pc += 1 + usize::from(branch(a > k, t, f));
            }
            Op::LdJgeK(w, k, t, f) => {
                a = word(data, w);
                executed += 1;
                pc += 1 + usize::from(branch(a >= k, t, f));
            }
            Op::LdJsetK(w, k, t, f) => {
                a = word(data, w);
                executed += 1;
                pc += 1 + usize::from(branch(a & k != 0, t, f));
            }
            Op::LdNrJeqK(k, t, f) => {
                a = data.nr;
                executed += 1;
                pc += 1 + usize::from(branch(a == k, t, f));
            }
            Op::LdNrJgtK(k, t, f) => {
                a = data.nr;
                executed += 1;
                pc += 1 + usize::from(branch(a > k, t, f));
            }
            Op::LdNrJgeK(k, t, f) => {
                a = data.nr;
                executed += 1;
                pc += 1 + usize::from(branch(a >= k, t, f));
            }
            Op::LdNrJsetK(k, t, f) => {
                a = data.nr;
                executed += 1;
                pc += 1 + usize::from(branch(a & k != 0, t, f));
            }
            Op::LdArchJeqK(k, t, f) => {
                a = data.arch;
                executed += 1;
                pc += 1 + usize::from(branch(a == k, t, f));
            }
            Op::LdArchJgtK(k, t, f) => {
                a = data.arch;
                executed += 1;
                pc += 1 + usize::from(branch(a > k, t, f));
            }
            Op::LdArchJgeK(k, t, f) => {
                a = data.arch;
                executed += 1;
                pc += 1 + usize::from(branch(a >= k, t, f));
            }
            Op::LdArchJsetK(k, t, f) => {
                a = data.arch;
                executed += 1;
                pc += 1 + usize::from(branch(a & k != 0, t, f));
            }
            Op::JaRetK(k) => {
                return Outcome {
                    ret: k,
                    executed: executed + 1,
                }
            }
            Op::RetA => return Outcome { ret: a, executed },
            Op::Tax => x = a,
            Op::Txa => a = x,
        }
    }
    Outcome { ret: 0, executed }
}

/// Runs `prog` on `data`: the value the kernel's filter would return.
pub fn run(prog: &ValidProgram, data: &SeccompData) -> Outcome {
    if prog.scratch {
        exec::<_, true>(&prog.fused, data, &mut NoTrace)
    } else {
        exec::<_, false>(&prog.fused, data, &mut NoTrace)
    }
}

/// Runs `prog` on `data` and also returns the indices of the executed instructions, in
/// order (for highlighting a path).
pub fn run_traced(prog: &ValidProgram, data: &SeccompData) -> (Outcome, Vec<u16>) {
    let mut path = Vec::new();
    let out = exec::<_, true>(&prog.ops, data, &mut path);
    (out, path)
}

impl ValidProgram {
    /// See [`run`].
    pub fn run(&self, data: &SeccompData) -> Outcome {
        run(self, data)
    }

    /// See [`run_traced`].
    pub fn run_traced(&self, data: &SeccompData) -> (Outcome, Vec<u16>) {
        run_traced(self, data)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testgen;
    use super::*;
    use proptest::prelude::*;

    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;

    fn data() -> SeccompData {
        SeccompData {
            nr: 59,
            arch: 0xc000_003e,
            instruction_pointer: 0x1111_2222_3333_4444,
            args: [0xaaaa_bbbb_cccc_dddd, 1, 2, 3, 4, 0xffff_ffff_0000_0005],
        }
    }

    fn go(v: &[Insn]) -> Outcome {
        let p = validate(&Program(v.to_vec())).expect("test program must be valid");
        run(&p, &data())
    }

    fn ret_a() -> Insn {
        Insn::stmt(BPF_RET | BPF_A, 0)
    }

    /// Runs `A = a; X = x; <op>; return A`.
    fn alu(a: u32, x: u32, code: u16, k: u32) -> u32 {
        go(&[
            Insn::stmt(BPF_LD | BPF_IMM, a),
            Insn::stmt(BPF_LDX | BPF_IMM, x),
            Insn::stmt(code, k),
            ret_a(),
        ])
        .ret
    }

    #[test]
    fn loads_read_seccomp_data_words() {
        let expect = [
            (0, 59),
            (4, 0xc000_003e),
            (8, 0x3333_4444),
            (12, 0x1111_2222),
            (16, 0xcccc_dddd),
            (20, 0xaaaa_bbbb),
            (24, 1),
            (28, 0),
            (56, 5),
            (60, 0xffff_ffff),
        ];
        for (k, v) in expect {
            assert_eq!(go(&[Insn::stmt(LD_ABS, k), ret_a()]).ret, v, "offset {k}");
        }
        assert_eq!(
            go(&[Insn::stmt(BPF_LD | BPF_W | BPF_LEN, 0), ret_a()]).ret,
            64
        );
        let ldx_len = [
            Insn::stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
            Insn::stmt(BPF_MISC | BPF_TXA, 0),
            ret_a(),
        ];
        assert_eq!(go(&ldx_len).ret, 64);
    }

    #[test]
    fn ops_are_eight_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 8);
    }

    #[test]
    fn registers_start_at_zero() {
        assert_eq!(go(&[ret_a()]).ret, 0);
        assert_eq!(go(&[Insn::stmt(BPF_MISC | BPF_TXA, 0), ret_a()]).ret, 0);
    }

    #[test]
    fn alu_k_and_x() {
        let k = BPF_K;
        let x = BPF_X;
        assert_eq!(alu(7, 0, BPF_ALU | BPF_ADD | k, 5), 12);
        assert_eq!(alu(0xffff_fffe, 3, BPF_ALU | BPF_ADD | x, 0), 1); // wraps
        assert_eq!(alu(5, 0, BPF_ALU | BPF_SUB | k, 7), 0xffff_fffe); // wraps
        assert_eq!(alu(5, 2, BPF_ALU | BPF_SUB | x, 0), 3);
        assert_eq!(
            alu(0x1_0001, 0, BPF_ALU | BPF_MUL | k, 0x1_0001),
            0x0002_0001
        ); // low 32 bits
        assert_eq!(alu(6, 7, BPF_ALU | BPF_MUL | x, 0), 42);
        assert_eq!(alu(100, 0, BPF_ALU | BPF_DIV | k, 7), 14);
        assert_eq!(alu(0xffff_ffff, 2, BPF_ALU | BPF_DIV | x, 0), 0x7fff_ffff); // unsigned
        assert_eq!(alu(0b1100, 0, BPF_ALU | BPF_AND | k, 0b1010), 0b1000);
        assert_eq!(alu(0b1100, 0b1010, BPF_ALU | BPF_AND | x, 0), 0b1000);
        assert_eq!(alu(0b1100, 0, BPF_ALU | BPF_OR | k, 0b1010), 0b1110);
        assert_eq!(alu(0b1100, 0b1010, BPF_ALU | BPF_OR | x, 0), 0b1110);
        assert_eq!(alu(0b1100, 0, BPF_ALU | BPF_XOR | k, 0b1010), 0b0110);
        assert_eq!(alu(0b1100, 0b1010, BPF_ALU | BPF_XOR | x, 0), 0b0110);
        assert_eq!(alu(1, 0, BPF_ALU | BPF_LSH | k, 31), 0x8000_0000);
        assert_eq!(alu(0x8000_0000, 0, BPF_ALU | BPF_RSH | k, 31), 1); // logical
        assert_eq!(alu(3, 4, BPF_ALU | BPF_LSH | x, 0), 48);
        assert_eq!(alu(48, 4, BPF_ALU | BPF_RSH | x, 0), 3);
        assert_eq!(alu(1, 0, BPF_ALU | BPF_NEG, 0), 0xffff_ffff);
        assert_eq!(alu(0, 0, BPF_ALU | BPF_NEG, 0), 0);
    }

    #[test]
    fn shifts_by_x_take_the_count_mod_32() {
        // Kernel: (u32)A << ((u32)X & 31); JITs use 32-bit shl/lslv, same result.
        assert_eq!(alu(1, 32, BPF_ALU | BPF_LSH | BPF_X, 0), 1);
        assert_eq!(alu(1, 33, BPF_ALU | BPF_LSH | BPF_X, 0), 2);
        assert_eq!(alu(0x8000_0000, 63, BPF_ALU | BPF_RSH | BPF_X, 0), 1);
        assert_eq!(alu(0xf0, 0xffff_ffe4, BPF_ALU | BPF_RSH | BPF_X, 0), 0xf); // & 31 = 4
    }

    #[test]
    fn division_by_zero_x_returns_zero_from_the_program() {
        let p = [
            Insn::stmt(BPF_LD | BPF_IMM, 10),
            Insn::stmt(BPF_LDX | BPF_IMM, 0),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ];
        assert_eq!(
            go(&p),
            Outcome {
                ret: 0,
                executed: 3
            }
        );
    }

    #[test]
    fn scratch_memory() {
        let p = [
            Insn::stmt(BPF_LD | BPF_IMM, 11),
            Insn::stmt(BPF_ST, 15),
            Insn::stmt(BPF_LDX | BPF_IMM, 22),
            Insn::stmt(BPF_STX, 0),
            Insn::stmt(BPF_LD | BPF_IMM, 0),
            Insn::stmt(BPF_LDX | BPF_MEM, 15), // X = 11
            Insn::stmt(BPF_LD | BPF_MEM, 0),   // A = 22
            Insn::stmt(BPF_ALU | BPF_SUB | BPF_X, 0),
            ret_a(),
        ];
        assert_eq!(
            go(&p),
            Outcome {
                ret: 11,
                executed: 9
            }
        );
    }

    #[test]
    fn jumps_are_unsigned_and_counted() {
        // A = args[0] (high) = 0xaaaabbbb > 0x80000000 unsigned.
        let jgt = [
            Insn::stmt(LD_ABS, 20),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 0x8000_0000, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 1),
            Insn::stmt(BPF_RET | BPF_K, 2),
        ];
        assert_eq!(
            go(&jgt),
            Outcome {
                ret: 2,
                executed: 3
            }
        );
        let jge_eq = [
            Insn::stmt(LD_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 59, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 1),
            Insn::stmt(BPF_RET | BPF_K, 2),
        ];
        assert_eq!(go(&jge_eq).ret, 1);
        let jset = |mask| {
            go(&[
                Insn::stmt(LD_ABS, 0), // 59 = 0b111011
                Insn::jump(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1),
                Insn::stmt(BPF_RET | BPF_K, 1),
                Insn::stmt(BPF_RET | BPF_K, 2),
            ])
            .ret
        };
        assert_eq!(jset(0b100), 2);
        assert_eq!(jset(0b10), 1);
        let x_forms = [
            Insn::stmt(LD_ABS, 0),
            Insn::stmt(BPF_LDX | BPF_IMM, 59),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 3),
            Insn::stmt(BPF_LDX | BPF_IMM, 60),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_X, 0, 1, 0),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0), // 59 & 60 != 0
            Insn::stmt(BPF_RET | BPF_K, 9),
            Insn::stmt(BPF_JMP | BPF_JA, 1),
            Insn::stmt(BPF_RET | BPF_K, 8),
            Insn::stmt(BPF_RET | BPF_K, 7),
        ];
        let valid = validate(&Program(x_forms.to_vec())).unwrap();
        let (out, path) = run_traced(&valid, &data());
        assert_eq!(
            out,
            Outcome {
                ret: 7,
                executed: 8
            }
        );
        assert_eq!(path, vec![0, 1, 2, 3, 4, 5, 7, 9]);
        assert_eq!(run(&valid, &data()), out);
    }

    #[test]
    fn fused_pairs_count_and_can_be_entered_in_the_middle() {
        let p = [
            Insn::stmt(LD_ABS, 0),                            // fused with 1
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 100, 1, 0), // -> 3 (mid-pair) / 2
            Insn::stmt(LD_ABS, 4),                            // fused with 3
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 200, 0, 1), // -> 4 / 5
            Insn::stmt(BPF_JMP | BPF_JA, 1),                  // fused: JA onto RET
            Insn::stmt(BPF_RET | BPF_K, 5),
            Insn::stmt(BPF_RET | BPF_K, 6),
        ];
        let v = validate(&Program(p.to_vec())).unwrap();
        assert!(matches!(v.fused[0], Op::LdNrJgtK(100, 1, 0)));
        assert!(matches!(v.fused[2], Op::LdArchJeqK(200, 0, 1)));
        assert!(matches!(v.fused[4], Op::JaRetK(6)));
        let mut d = data();
        d.nr = 200;
        assert_eq!(
            run(&v, &d),
            Outcome {
                ret: 6,
                executed: 5
            }
        );
        assert_eq!(
            run_traced(&v, &d),
            (
                Outcome {
                    ret: 6,
                    executed: 5
                },
                vec![0, 1, 3, 4, 6]
            )
        );
        d.nr = 50;
        assert_eq!(
            run(&v, &d),
            Outcome {
                ret: 5,
                executed: 5
            }
        );
        assert_eq!(run_traced(&v, &d).1, vec![0, 1, 2, 3, 5]);
    }

    #[test]
    fn ret_a_returns_the_accumulator() {
        let p = [
            Insn::stmt(LD_ABS, 0),
            Insn::stmt(BPF_ALU | BPF_OR | BPF_K, 0x0005_0000),
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::stmt(BPF_LD | BPF_IMM, 0),
            Insn::stmt(BPF_MISC | BPF_TXA, 0),
            ret_a(),
        ];
        assert_eq!(
            go(&p),
            Outcome {
                ret: 0x0005_003b,
                executed: 6
            }
        );
    }

    proptest! {
        #[test]
        fn random_valid_programs_run_like_the_reference(
            p in testgen::valid_program(),
            d in testgen::seccomp_data(),
        ) {
            let v = validate(&p).expect("generator makes valid programs");
            let out = run(&v, &d);
            let (traced, path) = run_traced(&v, &d);
            prop_assert_eq!(out, traced);
            prop_assert_eq!(path.len() as u32, out.executed);
            prop_assert!(path.windows(2).all(|w| w[0] < w[1]));
            let reference = testgen::reference_run(&p, &d).expect("reference ran");
            prop_assert_eq!((out.ret, out.executed), reference);
            let last = *path.last().unwrap() as usize;
            let is_div = p.insns()[last].code == BPF_ALU | BPF_DIV | BPF_X;
            prop_assert!(p.insns()[last].is_ret() || is_div);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256),
                                       d in testgen::seccomp_data()) {
            if let Ok(p) = Program::from_raw(&bytes) {
                if let Ok(v) = validate(&p) {
                    let out = run(&v, &d);
                    prop_assert!(out.executed as usize <= p.len());
                }
            }
        }
    }
}
