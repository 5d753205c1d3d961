//! Test support: a proptest generator of programs the kernel accepts, and a naive
//! reference interpreter written straight from the semantics (no pre-decoding) for
//! differential tests of [`super::interp`].

use proptest::prelude::*;

use super::*;
use crate::event::SeccompData;

/// Every opcode seccomp accepts.
pub const SECCOMP_CODES: [u16; 41] = [
    BPF_LD | BPF_W | BPF_ABS,
    BPF_LD | BPF_W | BPF_LEN,
    BPF_LDX | BPF_W | BPF_LEN,
    BPF_RET | BPF_K,
    BPF_RET | BPF_A,
    BPF_ALU | BPF_ADD | BPF_K,
    BPF_ALU | BPF_ADD | BPF_X,
    BPF_ALU | BPF_SUB | BPF_K,
    BPF_ALU | BPF_SUB | BPF_X,
    BPF_ALU | BPF_MUL | BPF_K,
    BPF_ALU | BPF_MUL | BPF_X,
    BPF_ALU | BPF_DIV | BPF_K,
    BPF_ALU | BPF_DIV | BPF_X,
    BPF_ALU | BPF_AND | BPF_K,
    BPF_ALU | BPF_AND | BPF_X,
    BPF_ALU | BPF_OR | BPF_K,
    BPF_ALU | BPF_OR | BPF_X,
    BPF_ALU | BPF_XOR | BPF_K,
    BPF_ALU | BPF_XOR | BPF_X,
    BPF_ALU | BPF_LSH | BPF_K,
    BPF_ALU | BPF_LSH | BPF_X,
    BPF_ALU | BPF_RSH | BPF_K,
    BPF_ALU | BPF_RSH | BPF_X,
    BPF_ALU | BPF_NEG,
    BPF_LD | BPF_IMM,
    BPF_LDX | BPF_IMM,
    BPF_MISC | BPF_TAX,
    BPF_MISC | BPF_TXA,
    BPF_LD | BPF_MEM,
    BPF_LDX | BPF_MEM,
    BPF_ST,
    BPF_STX,
    BPF_JMP | BPF_JA,
    BPF_JMP | BPF_JEQ | BPF_K,
    BPF_JMP | BPF_JEQ | BPF_X,
    BPF_JMP | BPF_JGE | BPF_K,
    BPF_JMP | BPF_JGE | BPF_X,
    BPF_JMP | BPF_JGT | BPF_K,
    BPF_JMP | BPF_JGT | BPF_X,
    BPF_JMP | BPF_JSET | BPF_K,
    BPF_JMP | BPF_JSET | BPF_X,
];

/// Interesting constants: small numbers, syscall-ish numbers, arch values, edges.
fn pick_k(raw: u32) -> u32 {
    const K: [u32; 12] = [
        0,
        1,
        2,
        59,
        0x4000_0000,
        0xc000_003e,
        0x4000_0003,
        0x7fff_0000,
        0x0005_0001,
        0x8000_0000,
        0xffff_ffff,
        31,
    ];
    match raw % 4 {
        0 => K[(raw as usize / 4) % K.len()],
        1 => raw % 64,
        _ => raw,
    }
}

/// Turns arbitrary seeds into a program the kernel accepts.
pub fn build(seeds: &[(u8, u32, u8, u8)], ret_a: bool) -> Program {
    let len = seeds.len() + 1;
    let mut insns = Vec::with_capacity(len);
    for (i, &(c, raw, jt, jf)) in seeds.iter().enumerate() {
        // Half the time, the shapes compilers emit (and the interpreter fuses).
        const COMPILED: [u16; 7] = [
            BPF_LD | BPF_W | BPF_ABS,
            BPF_JMP | BPF_JEQ | BPF_K,
            BPF_JMP | BPF_JGT | BPF_K,
            BPF_JMP | BPF_JGE | BPF_K,
            BPF_JMP | BPF_JSET | BPF_K,
            BPF_JMP | BPF_JA,
            BPF_RET | BPF_K,
        ];
        let code = if c >= 128 {
            COMPILED[usize::from(c) % COMPILED.len()]
        } else {
            SECCOMP_CODES[usize::from(c) % SECCOMP_CODES.len()]
        };
        let reach = len - i - 2; // largest offset that still lands inside
        let reach8 = reach.min(255);
        let k = pick_k(raw);
        let insn = match code {
            c if c == BPF_LD | BPF_W | BPF_ABS => Insn::stmt(c, (raw % 16) * 4),
            c if c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM || c == BPF_ST || c == BPF_STX => {
                Insn::stmt(c, raw % 16)
            }
            c if c == BPF_ALU | BPF_DIV | BPF_K => Insn::stmt(c, k.max(1)),
            c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => {
                Insn::stmt(c, raw % 32)
            }
            c if c == BPF_JMP | BPF_JA => Insn::stmt(c, raw % (reach as u32 + 1)),
            c if class(c) == BPF_JMP => Insn::jump(
                c,
                k,
                (usize::from(jt) % (reach8 + 1)) as u8,
                (usize::from(jf) % (reach8 + 1)) as u8,
            ),
            c => Insn::stmt(c, k),
        };
        insns.push(insn);
    }
    insns.push(if ret_a {
        Insn::stmt(BPF_RET | BPF_A, 0)
    } else {
        Insn::stmt(BPF_RET | BPF_K, pick_k(len as u32 * 7919))
    });
    fix_scratch(&mut insns);
    Program(insns)
}

/// The kernel's `check_load_and_stores` walk, turning each read of a possibly unwritten
/// cell into a write of it. Writes only add bits, so earlier reads stay valid.
fn fix_scratch(insns: &mut [Insn]) {
    let mut masks = vec![u16::MAX; insns.len()];
    let mut valid: u16 = 0;
    for pc in 0..insns.len() {
        valid &= masks[pc];
        let i = insns[pc];
        match class(i.code) {
            BPF_LD | BPF_LDX if mode(i.code) == BPF_MEM && valid & (1 << i.k) == 0 => {
                let code = if class(i.code) == BPF_LD {
                    BPF_ST
                } else {
                    BPF_STX
                };
                insns[pc] = Insn::stmt(code, i.k);
                valid |= 1 << i.k;
            }
            BPF_ST | BPF_STX => valid |= 1 << i.k,
            BPF_JMP => {
                let offs = if op(i.code) == BPF_JA {
                    [i.k as usize; 2]
                } else {
                    [usize::from(i.jt), usize::from(i.jf)]
                };
                for o in offs {
                    masks[pc + 1 + o] &= valid;
                }
                valid = u16::MAX;
            }
            _ => {}
        }
    }
}

prop_compose! {
    /// A program the kernel accepts, 1 to 64 instructions long.
    pub fn valid_program()(
        seeds in prop::collection::vec(any::<(u8, u32, u8, u8)>(), 0..64),
        ret_a in any::<bool>(),
    ) -> Program {
        build(&seeds, ret_a)
    }
}

prop_compose! {
    /// `seccomp_data` with values that often hit the constants [`pick_k`] produces.
    pub fn seccomp_data()(nr in prop_oneof![0u32..64, Just(0x4000_0000u32), any::<u32>()],
                          arch in prop_oneof![Just(0xc000_003eu32), Just(0x4000_0003u32), any::<u32>()],
                          ip in any::<u64>(),
                          args in any::<[u64; 6]>()) -> SeccompData {
        SeccompData { nr, arch, instruction_pointer: ip, args }
    }
}

/// The semantics, written plainly over raw instructions. `None` if the program does
/// something a valid program cannot (runs off the end, bad cell, ...).
pub fn reference_run(p: &Program, d: &SeccompData) -> Option<(u32, u32)> {
    let insns = p.insns();
    let (mut a, mut x, mut m) = (0u32, 0u32, [0u32; 16]);
    let mut pc = 0usize;
    let mut n = 0u32;
    loop {
        let i = *insns.get(pc)?;
        n += 1;
        pc += 1;
        let operand = if src(i.code) == BPF_X { x } else { i.k };
        match class(i.code) {
            BPF_LD => {
                a = match mode(i.code) {
                    BPF_ABS => d.word(i.k)?,
                    BPF_LEN => 64,
                    BPF_IMM => i.k,
                    BPF_MEM => *m.get(i.k as usize)?,
                    _ => return None,
                }
            }
            BPF_LDX => {
                x = match mode(i.code) {
                    BPF_LEN => 64,
                    BPF_IMM => i.k,
                    BPF_MEM => *m.get(i.k as usize)?,
                    _ => return None,
                }
            }
            BPF_ST => *m.get_mut(i.k as usize)? = a,
            BPF_STX => *m.get_mut(i.k as usize)? = x,
            BPF_ALU => {
                a = match op(i.code) {
                    BPF_ADD => a.wrapping_add(operand),
                    BPF_SUB => a.wrapping_sub(operand),
                    BPF_MUL => a.wrapping_mul(operand),
                    BPF_DIV => {
                        if operand == 0 {
                            return Some((0, n));
                        }
                        a / operand
                    }
                    BPF_AND => a & operand,
                    BPF_OR => a | operand,
                    BPF_XOR => a ^ operand,
                    BPF_LSH => a << (operand & 31),
                    BPF_RSH => a >> (operand & 31),
                    BPF_NEG => (-(i64::from(a))) as u32,
                    _ => return None,
                }
            }
            BPF_JMP => {
                let off = match op(i.code) {
                    BPF_JA => i.k as usize,
                    o => {
                        let taken = match o {
                            BPF_JEQ => a == operand,
                            BPF_JGT => a > operand,
                            BPF_JGE => a >= operand,
                            BPF_JSET => a & operand != 0,
                            _ => return None,
                        };
                        usize::from(if taken { i.jt } else { i.jf })
                    }
                };
                pc += off;
            }
            BPF_RET => {
                return Some((if i.code == BPF_RET | BPF_A { a } else { i.k }, n));
            }
            BPF_MISC => {
                if i.code == BPF_MISC | BPF_TAX {
                    x = a
                } else {
                    a = x
                }
            }
            _ => return None,
        }
    }
}
