//! The seccomp filter validator: accepts exactly the programs the kernel accepts for
//! `SECCOMP_SET_MODE_FILTER`, and is the only way to obtain a [`ValidProgram`], which is
//! what the interpreter runs.
//!
//! The kernel checks a filter in three steps (`bpf_prog_create_from_user` →
//! `bpf_prepare_filter`), all failing with `EINVAL`:
//!
//! 1. `bpf_check_basics_ok` (net/core/filter.c): 1..=4096 instructions
//!    (`seccomp_prepare_filter` checks the same first).
//! 2. `bpf_check_classic` (net/core/filter.c): every opcode is in the classic table
//!    (`chk_code_allowed`); `DIV`/`MOD` by constant 0 rejected; `LSH`/`RSH` by constant
//!    `k >= 32` rejected; `M[k]` with `k >= 16` rejected; `JA` needs
//!    `k < len - pc - 1`, conditional jumps need `pc + 1 + jt < len` and
//!    `pc + 1 + jf < len`; the last instruction is `RET K` or `RET A`; then
//!    `check_load_and_stores`: a linear walk with one 16-bit "written cells" mask per
//!    instruction, in which a jump ANDs its state into its targets' masks and resets the
//!    running state to all-ones, and any other instruction (including `RET`) passes its
//!    state on to the next one; reading a cell whose bit is clear is rejected.
//! 3. `seccomp_check_filter` (kernel/seccomp.c, unchanged through 6.18): an explicit
//!    allow-list — `LD|W|ABS` with `k` 4-aligned and `< sizeof(struct seccomp_data)` (64),
//!    `LD|W|LEN` and `LDX|W|LEN` (rewritten to load the constant 64), `RET K/A`,
//!    `ALU ADD/SUB/MUL/DIV/AND/OR/XOR/LSH/RSH` with `K` or `X`, `ALU NEG`, `LD/LDX IMM`,
//!    `LD/LDX MEM`, `ST`, `STX`, `MISC TAX/TXA`, `JMP JA`, `JEQ/JGE/JGT/JSET` with `K` or
//!    `X`. Notably **not** `MOD` (a patch adding it was declined, lkml 2020-03), nor
//!    byte/half-word or indirect loads, nor `LDX|B|MSH`.
//!
//! syscage runs the per-instruction checks of steps 2 and 3 together in instruction
//! order, then the final-`RET` check, then the scratch-memory walk; a program is
//! accepted iff the kernel accepts it, and when several rules fail the error names the
//! first failing instruction. The walk mirrors the kernel's exactly — including that
//! code after a `RET` inherits the `RET`'s state, so an unreachable read of an unwritten
//! cell is still rejected.
//!
//! Not here: stack-wide limits ([`super::MAX_INSNS_PER_PATH`]) and what a program does.

use std::fmt;

use super::*;
use crate::event::SeccompData;

/// What is wrong with one instruction (or, for [`InsnFault::LastNotRet`], with the end of
/// the program).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsnFault {
    #[error("opcode {code:#04x} is not a classic BPF instruction")]
    UnknownOpcode { code: u16 },
    #[error(
        "opcode {code:#04x} ({name}) is classic BPF but seccomp_check_filter does not allow it"
    )]
    NotForSeccomp { code: u16, name: &'static str },
    #[error("division or modulo by the constant 0")]
    DivByZero,
    #[error("shift by the constant {k} (must be below 32)")]
    ShiftTooLarge { k: u32 },
    #[error("scratch memory cell M[{k}] does not exist (there are 16, M[0]..M[15])")]
    ScratchIndex { k: u32 },
    #[error("jump target {target} is past the end of the program ({len} instructions)")]
    JumpOutOfRange { target: u64, len: usize },
    #[error("load from seccomp_data offset {k} is out of range (the struct is 64 bytes)")]
    LoadOutOfRange { k: u32 },
    #[error("load from seccomp_data offset {k} is not 4-byte aligned")]
    LoadMisaligned { k: u32 },
    #[error("the last instruction must be RET (K or A)")]
    LastNotRet,
    #[error("reads scratch memory M[{k}], which is not written on every path to here")]
    ScratchUninit { k: u32 },
}

/// Why the kernel would refuse a filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidateError {
    #[error("the filter is empty (the kernel requires at least one instruction)")]
    Empty,
    #[error("the filter has {len} instructions; the kernel accepts at most {MAX_INSNS}")]
    TooLong { len: usize },
    #[error("instruction {index} ({}): {reason}", RawFields(*insn))]
    Insn {
        index: usize,
        insn: Insn,
        reason: InsnFault,
    },
}

impl ValidateError {
    /// The index of the offending instruction, if the error is about one.
    pub fn index(&self) -> Option<usize> {
        match self {
            ValidateError::Insn { index, .. } => Some(*index),
            _ => None,
        }
    }
}

struct RawFields(Insn);

impl fmt::Display for RawFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        write!(
            f,
            "code={:#06x} jt={} jf={} k={:#010x}",
            i.code, i.jt, i.jf, i.k
        )
    }
}

/// A program the kernel would accept, pre-decoded for the interpreter. Only
/// [`validate`] makes one.
#[derive(Clone, Debug)]
pub struct ValidProgram {
    pub(crate) program: Program,
    /// One op per instruction (used when tracing).
    pub(crate) ops: Box<[super::interp::Op]>,
    /// The same with common pairs fused (used by plain runs).
    pub(crate) fused: Box<[super::interp::Op]>,
    /// Whether any instruction uses scratch memory.
    pub(crate) scratch: bool,
}

impl ValidProgram {
    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn into_program(self) -> Program {
        self.program
    }

    pub fn len(&self) -> usize {
        self.program.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

impl PartialEq for ValidProgram {
    fn eq(&self, other: &ValidProgram) -> bool {
        self.program == other.program
    }
}

impl Eq for ValidProgram {}

impl TryFrom<Program> for ValidProgram {
    type Error = ValidateError;
    fn try_from(p: Program) -> Result<ValidProgram, ValidateError> {
        validate(&p)
    }
}

/// Whether `code` is in the kernel's classic table (`chk_code_allowed`).
pub fn classic_allowed(code: u16) -> bool {
    const ALU_OPS: [u16; 10] = [
        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
    ];
    const JMP_OPS: [u16; 4] = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET];
    match class(code) {
        BPF_ALU => {
            code == BPF_ALU | BPF_NEG
                || (code & !(0xf0 | 0x08) == BPF_ALU && ALU_OPS.contains(&op(code)))
        }
        BPF_JMP => {
            code == BPF_JMP | BPF_JA
                || (code & !(0xf0 | 0x08) == BPF_JMP && JMP_OPS.contains(&op(code)))
        }
        _ => matches!(
            code,
            // LD
            0x20 | 0x28 | 0x30 | 0x80 | 0x40 | 0x48 | 0x50 | 0x00 | 0x60
            // LDX: W|LEN, B|MSH, IMM, MEM
            | 0x81 | 0xb1 | 0x01 | 0x61
            // ST, STX, TAX, TXA, RET K, RET A
            | 0x02 | 0x03 | 0x07 | 0x87 | 0x06 | 0x16
        ),
    }
}

/// Whether `code` is on `seccomp_check_filter`'s allow-list (which is a subset of the
/// classic table).
pub fn seccomp_allowed(code: u16) -> bool {
    classic_allowed(code) && seccomp_refusal(code).is_none()
}

/// For a classic opcode seccomp refuses, a short name of it.
fn seccomp_refusal(code: u16) -> Option<&'static str> {
    Some(match code {
        c if c == BPF_ALU | BPF_MOD | BPF_K => "ALU MOD K",
        c if c == BPF_ALU | BPF_MOD | BPF_X => "ALU MOD X",
        c if c == BPF_LD | BPF_H | BPF_ABS => "LD H ABS",
        c if c == BPF_LD | BPF_B | BPF_ABS => "LD B ABS",
        c if c == BPF_LD | BPF_W | BPF_IND => "LD W IND",
        c if c == BPF_LD | BPF_H | BPF_IND => "LD H IND",
        c if c == BPF_LD | BPF_B | BPF_IND => "LD B IND",
        c if c == BPF_LDX | BPF_B | BPF_MSH => "LDX B MSH",
        _ => return None,
    })
}

/// The per-instruction checks of `bpf_check_classic` and `seccomp_check_filter`.
fn check_insn(pc: usize, len: usize, i: Insn) -> Result<(), InsnFault> {
    let code = i.code;
    if !classic_allowed(code) {
        return Err(InsnFault::UnknownOpcode { code });
    }
    if let Some(name) = seccomp_refusal(code) {
        return Err(InsnFault::NotForSeccomp { code, name });
    }
    let jump_target = |off: u64| -> Result<(), InsnFault> {
        let target = pc as u64 + 1 + off;
        if target >= len as u64 {
            Err(InsnFault::JumpOutOfRange { target, len })
        } else {
            Ok(())
        }
    };
    match class(code) {
        BPF_ALU => match op(code) {
            BPF_DIV if src(code) == BPF_K && i.k == 0 => return Err(InsnFault::DivByZero),
            BPF_LSH | BPF_RSH if src(code) == BPF_K && i.k >= 32 => {
                return Err(InsnFault::ShiftTooLarge { k: i.k })
            }
            _ => {}
        },
        BPF_LD | BPF_LDX if mode(code) == BPF_MEM && i.k >= MEMWORDS => {
            return Err(InsnFault::ScratchIndex { k: i.k })
        }
        BPF_ST | BPF_STX if i.k >= MEMWORDS => return Err(InsnFault::ScratchIndex { k: i.k }),
        BPF_LD if mode(code) == BPF_ABS => {
            if i.k >= SeccompData::SIZE {
                return Err(InsnFault::LoadOutOfRange { k: i.k });
            }
            if i.k & 3 != 0 {
                return Err(InsnFault::LoadMisaligned { k: i.k });
            }
        }
        BPF_JMP if op(code) == BPF_JA => jump_target(u64::from(i.k))?,
        BPF_JMP => {
            jump_target(u64::from(i.jt))?;
            jump_target(u64::from(i.jf))?;
        }
        _ => {}
    }
    Ok(())
}

/// `check_load_and_stores`, step for step. Assumes the per-instruction checks passed
/// (jump targets and cell indices in range); never panics even if they did not.
fn check_scratch(insns: &[Insn]) -> Result<(), (usize, InsnFault)> {
    let mut masks = vec![u16::MAX; insns.len()];
    let mut valid: u16 = 0;
    let bit = |k: u32| 1u16.checked_shl(k).unwrap_or(0);
    for (pc, i) in insns.iter().enumerate() {
        valid &= masks[pc];
        let code = i.code;
        match class(code) {
            BPF_ST | BPF_STX => valid |= bit(i.k),
            BPF_LD | BPF_LDX if mode(code) == BPF_MEM && valid & bit(i.k) == 0 => {
                return Err((pc, InsnFault::ScratchUninit { k: i.k }));
            }
            BPF_JMP => {
                let targets: [u64; 2] = if op(code) == BPF_JA {
                    [u64::from(i.k); 2]
                } else {
                    [u64::from(i.jt), u64::from(i.jf)]
                };
                for off in targets {
                    let t = pc as u64 + 1 + off;
                    if let Some(m) = usize::try_from(t).ok().and_then(|t| masks.get_mut(t)) {
                        *m &= valid;
                    }
                }
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks `prog` as the kernel would for `SECCOMP_SET_MODE_FILTER`.
pub fn validate(prog: &Program) -> Result<ValidProgram, ValidateError> {
    let insns = prog.insns();
    let len = insns.len();
    if len == 0 {
        return Err(ValidateError::Empty);
    }
    if len > MAX_INSNS {
        return Err(ValidateError::TooLong { len });
    }
    let fault = |index: usize, reason: InsnFault| ValidateError::Insn {
        index,
        insn: insns[index],
        reason,
    };
    for (pc, i) in insns.iter().enumerate() {
        check_insn(pc, len, *i).map_err(|r| fault(pc, r))?;
    }
    if !insns[len - 1].is_ret() {
        return Err(fault(len - 1, InsnFault::LastNotRet));
    }
    check_scratch(insns).map_err(|(pc, r)| fault(pc, r))?;
    let ops = super::interp::decode(insns);
    let fused = super::interp::fuse(&ops);
    let scratch = super::interp::uses_scratch(&ops);
    Ok(ValidProgram {
        program: prog.clone(),
        ops,
        fused,
        scratch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const RET_K: u16 = BPF_RET | BPF_K;
    const ALLOW: u32 = 0x7fff_0000;

    fn p(v: &[Insn]) -> Program {
        Program(v.to_vec())
    }

    fn ret() -> Insn {
        Insn::stmt(RET_K, ALLOW)
    }

    fn fault_of(v: &[Insn]) -> (usize, InsnFault) {
        match validate(&p(v)) {
            Err(ValidateError::Insn { index, reason, .. }) => (index, reason),
            other => panic!("expected an instruction fault, got {other:?}"),
        }
    }

    #[test]
    fn length_rules() {
        assert_eq!(validate(&p(&[])), Err(ValidateError::Empty));
        assert!(validate(&p(&vec![ret(); 4096])).is_ok());
        assert_eq!(
            validate(&p(&vec![ret(); 4097])),
            Err(ValidateError::TooLong { len: 4097 })
        );
    }

    #[test]
    fn loads_must_be_aligned_and_in_range() {
        for k in (0..64).step_by(4) {
            assert!(validate(&p(&[Insn::stmt(LD_ABS, k), ret()])).is_ok(), "{k}");
        }
        assert_eq!(
            fault_of(&[Insn::stmt(LD_ABS, 2), ret()]),
            (0, InsnFault::LoadMisaligned { k: 2 })
        );
        assert_eq!(
            fault_of(&[Insn::stmt(LD_ABS, 64), ret()]),
            (0, InsnFault::LoadOutOfRange { k: 64 })
        );
        // An ancillary-data offset (SKF_AD_OFF + SKF_AD_PROTOCOL) is classic-only.
        assert!(matches!(
            fault_of(&[Insn::stmt(LD_ABS, 0xffff_f000), ret()]),
            (0, InsnFault::LoadOutOfRange { .. })
        ));
    }

    #[test]
    fn packet_loads_and_mod_are_classic_but_not_seccomp() {
        for code in [
            BPF_LD | BPF_H | BPF_ABS,
            BPF_LD | BPF_B | BPF_ABS,
            BPF_LD | BPF_W | BPF_IND,
            BPF_LDX | BPF_B | BPF_MSH,
            BPF_ALU | BPF_MOD | BPF_K,
            BPF_ALU | BPF_MOD | BPF_X,
        ] {
            assert!(classic_allowed(code), "{code:#x}");
            let (i, f) = fault_of(&[Insn::stmt(code, 4), ret()]);
            assert_eq!(i, 0);
            assert!(matches!(f, InsnFault::NotForSeccomp { .. }), "{f:?}");
        }
    }

    #[test]
    fn unknown_opcodes() {
        for code in [
            0x0e, /* RET X */
            0x8c, /* NEG|X */
            0x21, /* LDX ABS */
            0x62, 0xff, 0x1234,
        ] {
            assert_eq!(
                fault_of(&[Insn::stmt(code, 0), ret()]),
                (0, InsnFault::UnknownOpcode { code })
            );
        }
        // The full set the kernel allows for seccomp: 41 opcodes (classic has 49).
        let n = (0..=u16::MAX).filter(|c| seccomp_allowed(*c)).count();
        assert_eq!(n, 41);
        assert_eq!((0..=u16::MAX).filter(|c| classic_allowed(*c)).count(), 49);
    }

    #[test]
    fn jumps_must_land_inside() {
        let jeq = BPF_JMP | BPF_JEQ | BPF_K;
        assert!(validate(&p(&[Insn::jump(jeq, 1, 1, 0), ret(), ret()])).is_ok());
        assert_eq!(
            fault_of(&[Insn::jump(jeq, 1, 2, 0), ret(), ret()]),
            (0, InsnFault::JumpOutOfRange { target: 3, len: 3 })
        );
        assert_eq!(
            fault_of(&[Insn::jump(jeq, 1, 0, 5), ret(), ret()]),
            (0, InsnFault::JumpOutOfRange { target: 6, len: 3 })
        );
        let ja = BPF_JMP | BPF_JA;
        assert!(validate(&p(&[Insn::stmt(ja, 1), ret(), ret()])).is_ok());
        assert_eq!(
            fault_of(&[Insn::stmt(ja, 2), ret(), ret()]),
            (0, InsnFault::JumpOutOfRange { target: 3, len: 3 })
        );
        // "Backward" jumps are huge forward ones: k is unsigned.
        assert_eq!(
            fault_of(&[ret(), Insn::stmt(ja, u32::MAX), ret()]),
            (
                1,
                InsnFault::JumpOutOfRange {
                    target: 2 + u64::from(u32::MAX),
                    len: 3
                }
            )
        );
        // A jump is an error even when it is the last instruction.
        assert_eq!(
            fault_of(&[ret(), Insn::jump(jeq, 0, 0, 0)]),
            (1, InsnFault::JumpOutOfRange { target: 2, len: 2 })
        );
    }

    #[test]
    fn last_must_be_ret() {
        assert_eq!(
            fault_of(&[ret(), Insn::stmt(LD_ABS, 0)]),
            (1, InsnFault::LastNotRet)
        );
        assert!(validate(&p(&[Insn::stmt(BPF_RET | BPF_A, 0)])).is_ok());
    }

    #[test]
    fn constant_division_by_zero_and_big_shifts() {
        let div = BPF_ALU | BPF_DIV | BPF_K;
        assert!(validate(&p(&[Insn::stmt(div, 3), ret()])).is_ok());
        assert_eq!(
            fault_of(&[Insn::stmt(div, 0), ret()]),
            (0, InsnFault::DivByZero)
        );
        // Division by X is accepted; X == 0 is a run-time matter.
        assert!(validate(&p(&[Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0), ret()])).is_ok());
        for code in [BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_RSH | BPF_K] {
            assert!(validate(&p(&[Insn::stmt(code, 31), ret()])).is_ok());
            assert_eq!(
                fault_of(&[Insn::stmt(code, 32), ret()]),
                (0, InsnFault::ShiftTooLarge { k: 32 })
            );
        }
        assert!(validate(&p(&[Insn::stmt(BPF_ALU | BPF_LSH | BPF_X, 99), ret()])).is_ok());
    }

    #[test]
    fn scratch_cells_exist() {
        assert!(validate(&p(&[Insn::stmt(BPF_ST, 15), ret()])).is_ok());
        for code in [BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM] {
            assert_eq!(
                fault_of(&[Insn::stmt(code, 16), ret()]),
                (0, InsnFault::ScratchIndex { k: 16 })
            );
        }
    }

    #[test]
    fn scratch_must_be_written_on_every_path() {
        let jeq = BPF_JMP | BPF_JEQ | BPF_K;
        let st = |k| Insn::stmt(BPF_ST, k);
        let ld = |k| Insn::stmt(BPF_LD | BPF_MEM, k);
        // Written before the branch: fine on both paths.
        assert!(validate(&p(&[st(3), Insn::jump(jeq, 0, 1, 0), ret(), ld(3), ret()])).is_ok());
        // Written on both arms, read at the join.
        let both = [
            Insn::jump(jeq, 0, 0, 2),
            st(1),
            Insn::stmt(BPF_JMP | BPF_JA, 1),
            Insn::stmt(BPF_STX, 1),
            ld(1),
            ret(),
        ];
        assert!(validate(&p(&both)).is_ok());
        // Written on one path only.
        let one = [Insn::jump(jeq, 0, 0, 1), st(1), ld(1), ret()];
        assert_eq!(fault_of(&one), (2, InsnFault::ScratchUninit { k: 1 }));
        // Never written.
        assert_eq!(
            fault_of(&[Insn::stmt(BPF_LDX | BPF_MEM, 0), ret()]),
            (0, InsnFault::ScratchUninit { k: 0 })
        );
        // Kernel quirk: code after a RET inherits the RET's state, even if unreachable.
        assert_eq!(
            fault_of(&[ret(), ld(0), ret()]),
            (1, InsnFault::ScratchUninit { k: 0 })
        );
        assert!(validate(&p(&[st(0), ret(), ld(0), ret()])).is_ok());
    }

    proptest::proptest! {
        /// Mutating one field of a valid program: whatever the validator still accepts,
        /// the plain reference semantics can run without ever going wrong.
        #[test]
        fn accepted_mutants_are_safe_to_run(
            p in super::super::testgen::valid_program(),
            at in 0usize..64,
            field in 0u8..4,
            value in proptest::prelude::any::<u32>(),
            d in super::super::testgen::seccomp_data(),
        ) {
            let mut insns = p.0.clone();
            let at = at % insns.len();
            let i = &mut insns[at];
            match field {
                0 => i.code = value as u16 & 0xff,
                1 => i.jt = value as u8,
                2 => i.jf = value as u8,
                _ => i.k = if value % 2 == 0 { value % 80 } else { value },
            }
            let m = Program(insns);
            if validate(&m).is_ok() {
                proptest::prop_assert!(super::super::testgen::reference_run(&m, &d).is_some());
            }
        }
    }

    #[test]
    fn error_messages_name_index_and_reason() {
        let e = validate(&p(&[ret(), Insn::stmt(LD_ABS, 2), ret()])).unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("instruction 1 "), "{m}");
        assert!(m.contains("not 4-byte aligned"), "{m}");
        assert_eq!(e.index(), Some(1));
    }
}
