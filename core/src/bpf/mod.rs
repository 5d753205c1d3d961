//! Classic BPF as seccomp uses it: the program model and the `.bpf` wire format.
//!
//! This module owns the instruction type ([`Insn`], layout-compatible with the kernel's
//! `struct sock_filter`), the opcode constants, [`Program`] and its raw serialization (an
//! array of 8-byte little-endian `sock_filter`s, as bwrap `--seccomp`, libseccomp's
//! `seccomp_export_bpf` and `PTRACE_SECCOMP_GET_FILTER` use). It does not decide whether a
//! program is acceptable — that is [`validate`], the only way to get a [`ValidProgram`] —
//! nor what a program returns ([`interp`]), nor how it reads ([`disasm`], [`asm`],
//! [`export`]). The compiler from the policy IR lives elsewhere in this module tree.

pub mod asm;
pub mod cache;
pub mod compile;
pub mod disasm;
pub mod export;
pub mod interp;
pub mod permissive;
pub mod stats;
#[cfg(test)]
pub(crate) mod testgen;
pub mod validate;

pub use interp::{run, run_traced, Outcome};
pub use validate::{validate, InsnFault, ValidProgram, ValidateError};

/// The kernel's limit on one filter's length (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// The kernel's limit on a stack of filters: the sum of each filter's length plus a
/// 4-instruction penalty per filter (`MAX_INSNS_PER_PATH`, kernel/seccomp.c).
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// Number of scratch memory cells `M[]` (`BPF_MEMWORDS`).
pub const MEMWORDS: u32 = 16;

// Instruction classes (`BPF_CLASS(code)`, include/uapi/linux/bpf_common.h).
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_ST: u16 = 0x02;
pub const BPF_STX: u16 = 0x03;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_MISC: u16 = 0x07;

// Load sizes (`BPF_SIZE(code)`).
pub const BPF_W: u16 = 0x00;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;

// Load modes (`BPF_MODE(code)`).
pub const BPF_IMM: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MEM: u16 = 0x60;
pub const BPF_LEN: u16 = 0x80;
pub const BPF_MSH: u16 = 0xa0;

// ALU operations (`BPF_OP(code)`).
pub const BPF_ADD: u16 = 0x00;
pub const BPF_SUB: u16 = 0x10;
pub const BPF_MUL: u16 = 0x20;
pub const BPF_DIV: u16 = 0x30;
pub const BPF_OR: u16 = 0x40;
pub const BPF_AND: u16 = 0x50;
pub const BPF_LSH: u16 = 0x60;
pub const BPF_RSH: u16 = 0x70;
pub const BPF_NEG: u16 = 0x80;
pub const BPF_MOD: u16 = 0x90;
pub const BPF_XOR: u16 = 0xa0;

// Jump operations (`BPF_OP(code)`).
pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;
pub const BPF_JSET: u16 = 0x40;

// Operand sources (`BPF_SRC(code)`).
pub const BPF_K: u16 = 0x00;
pub const BPF_X: u16 = 0x08;

// Return value sources (`BPF_RVAL(code)`).
pub const BPF_A: u16 = 0x10;

// Misc operations (`BPF_MISCOP(code)`).
pub const BPF_TAX: u16 = 0x00;
pub const BPF_TXA: u16 = 0x80;

/// `BPF_CLASS(code)`.
pub const fn class(code: u16) -> u16 {
    code & 0x07
}
/// `BPF_SIZE(code)`.
pub const fn size(code: u16) -> u16 {
    code & 0x18
}
/// `BPF_MODE(code)`.
pub const fn mode(code: u16) -> u16 {
    code & 0xe0
}
/// `BPF_OP(code)`.
pub const fn op(code: u16) -> u16 {
    code & 0xf0
}
/// `BPF_SRC(code)`.
pub const fn src(code: u16) -> u16 {
    code & 0x08
}

/// One classic BPF instruction, laid out exactly like the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl Insn {
    /// Size of one instruction in the `.bpf` format.
    pub const SIZE: usize = 8;

    /// `BPF_STMT(code, k)`.
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// `BPF_JUMP(code, k, jt, jf)`.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// The 8 bytes of this instruction in the `.bpf` format (little-endian fields).
    pub fn to_bytes(self) -> [u8; 8] {
        let c = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [c[0], c[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }

    /// Reads one instruction from its 8 `.bpf` bytes.
    pub fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Whether this is a `RET` (of either source).
    pub const fn is_ret(self) -> bool {
        class(self.code) == BPF_RET
    }
}

/// Why a `.bpf` byte string is not a filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawError {
    #[error("a .bpf filter is an array of 8-byte sock_filter entries, but this one is {len} bytes (not a multiple of 8)")]
    NotMultipleOf8 { len: usize },
    #[error("the .bpf filter is empty (the kernel requires at least one instruction)")]
    Empty,
    #[error("the .bpf filter has {insns} instructions; the kernel accepts at most {MAX_INSNS}")]
    TooLong { insns: usize },
}

/// A classic BPF program: any sequence of instructions. Acceptability is not implied;
/// [`validate`] decides that.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Program(pub Vec<Insn>);

impl Program {
    pub fn new(insns: Vec<Insn>) -> Program {
        Program(insns)
    }

    pub fn insns(&self) -> &[Insn] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads the `.bpf` format. Rejects what no kernel could load by size alone (empty,
    /// ragged, more than [`MAX_INSNS`]); everything else is [`validate`]'s job.
    pub fn from_raw(bytes: &[u8]) -> Result<Program, RawError> {
        if bytes.len() & (Insn::SIZE - 1) != 0 {
            return Err(RawError::NotMultipleOf8 { len: bytes.len() });
        }
        let n = bytes.len() / Insn::SIZE;
        if n == 0 {
            return Err(RawError::Empty);
        }
        if n > MAX_INSNS {
            return Err(RawError::TooLong { insns: n });
        }
        let insns = bytes
            .chunks_exact(Insn::SIZE)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                Insn::from_bytes(b)
            })
            .collect();
        Ok(Program(insns))
    }

    /// Writes the `.bpf` format.
    pub fn to_raw(&self) -> Vec<u8> {
        self.0.iter().flat_map(|i| i.to_bytes()).collect()
    }
}

impl From<Vec<Insn>> for Program {
    fn from(v: Vec<Insn>) -> Program {
        Program(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_is_sock_filter_sized() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        assert_eq!(std::mem::align_of::<Insn>(), 4);
    }

    #[test]
    fn raw_round_trip_and_byte_order() {
        let p = Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let raw = p.to_raw();
        assert_eq!(raw.len(), 32);
        assert_eq!(&raw[0..8], &[0x20, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(&raw[8..16], &[0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0]);
        assert_eq!(Program::from_raw(&raw), Ok(p));
    }

    #[test]
    fn raw_errors() {
        assert_eq!(
            Program::from_raw(&[0; 12]),
            Err(RawError::NotMultipleOf8 { len: 12 })
        );
        assert_eq!(Program::from_raw(&[]), Err(RawError::Empty));
        assert_eq!(
            Program::from_raw(&vec![6; 8 * 4097]),
            Err(RawError::TooLong { insns: 4097 })
        );
        assert!(Program::from_raw(&vec![6; 8 * 4096]).is_ok());
        let msg = RawError::NotMultipleOf8 { len: 12 }.to_string();
        assert!(msg.contains("12 bytes"), "{msg}");
    }
}
