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

/// A pre-decoded instruction. Jump targets are absolute indices, checked by the
/// validator to be inside the program; scratch and data indices are already reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    LdAbs(u8),
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
    Ja(u16),
    JeqK(u32, u16, u16),
    JeqX(u16, u16),
    JgtK(u32, u16, u16),
    JgtX(u16, u16),
    JgeK(u32, u16, u16),
    JgeX(u16, u16),
    JsetK(u32, u16, u16),
    JsetX(u16, u16),
    RetK(u32),
    RetA,
    Tax,
    Txa,
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
    let target = |off: u32| u16::try_from(pc as u64 + 1 + u64::from(off)).ok();
    let jt = || target(u32::from(i.jt));
    let jf = || target(u32::from(i.jf));
    Some(match i.code {
        c if c == BPF_LD | BPF_W | BPF_ABS => {
            if k % 4 != 0 || k >= SeccompData::SIZE {
                return None;
            }
            Op::LdAbs((k / 4) as u8)
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
        c if c == BPF_JMP | BPF_JA => Op::Ja(target(k)?),
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

/// `seccomp_data` as the 16 words `LD|W|ABS` can read.
#[inline(always)]
fn words(d: &SeccompData) -> [u32; 16] {
    let [a0, a1, a2, a3, a4, a5] = d.args;
    let ip = d.instruction_pointer;
    [
        d.nr,
        d.arch,
        ip as u32,
        (ip >> 32) as u32,
        a0 as u32,
        (a0 >> 32) as u32,
        a1 as u32,
        (a1 >> 32) as u32,
        a2 as u32,
        (a2 >> 32) as u32,
        a3 as u32,
        (a3 >> 32) as u32,
        a4 as u32,
        (a4 >> 32) as u32,
        a5 as u32,
        (a5 >> 32) as u32,
    ]
}

#[inline(always)]
fn exec<T: Tracer>(ops: &[Op], data: &SeccompData, trace: &mut T) -> Outcome {
    let w = words(data);
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
            Op::LdAbs(i) => a = w[usize::from(i) & 15],
            Op::LdImm(k) => a = k,
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
            Op::Ja(t) => pc = usize::from(t),
            Op::JeqK(k, t, f) => pc = usize::from(if a == k { t } else { f }),
            Op::JeqX(t, f) => pc = usize::from(if a == x { t } else { f }),
            Op::JgtK(k, t, f) => pc = usize::from(if a > k { t } else { f }),
            Op::JgtX(t, f) => pc = usize::from(if a > x { t } else { f }),
            Op::JgeK(k, t, f) => pc = usize::from(if a >= k { t } else { f }),
            Op::JgeX(t, f) => pc = usize::from(if a >= x { t } else { f }),
            Op::JsetK(k, t, f) => pc = usize::from(if a & k != 0 { t } else { f }),
            Op::JsetX(t, f) => pc = usize::from(if a & x != 0 { t } else { f }),
            Op::RetK(k) => return Outcome { ret: k, executed },
            Op::RetA => return Outcome { ret: a, executed },
            Op::Tax => x = a,
            Op::Txa => a = x,
        }
    }
    Outcome { ret: 0, executed }
}

/// Runs `prog` on `data`: the value the kernel's filter would return.
pub fn run(prog: &ValidProgram, data: &SeccompData) -> Outcome {
    exec(&prog.ops, data, &mut NoTrace)
}

/// Runs `prog` on `data` and also returns the indices of the executed instructions, in
/// order (for highlighting a path).
pub fn run_traced(prog: &ValidProgram, data: &SeccompData) -> (Outcome, Vec<u16>) {
    let mut path = Vec::new();
    let out = exec(&prog.ops, data, &mut path);
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
