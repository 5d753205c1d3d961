//! The readable listing of a classic BPF program: one instruction a line, with its line
//! number, its raw `sock_filter` fields and pseudo-C, e.g.
//!
//! ```text
//! 0000: 0x20 0x00 0x00 0x00000004  A = arch
//! 0001: 0x15 0x00 0x03 0xc000003e  if (A != AUDIT_ARCH_X86_64) goto 0005
//! 0002: 0x20 0x00 0x00 0x00000000  A = nr
//! 0003: 0x15 0x00 0x01 0x0000003b  if (A != 59 /* execve */) goto 0005
//! 0004: 0x06 0x00 0x00 0x00050001  return ERRNO(EPERM)
//! 0005: 0x06 0x00 0x00 0x7fff0000  return ALLOW
//! ```
//!
//! Syscall numbers are named for the architecture the program is known to be checking at
//! that instruction: a forward dataflow tracks what `A` holds (`nr`, `arch`, something
//! else) and which `AUDIT_ARCH_*` value a `JEQ` on `arch` established on the taken
//! branch; where paths disagree only the number is printed. [`DisasmOptions::arch_hint`]
//! names numbers on paths where no arch check happened at all.
//!
//! This module also owns the opcode classification ([`Kind`]) the assembler and the
//! exporters share. [`super::asm`] reads this listing back.

use std::fmt::Write as _;

use super::*;
use crate::action::describe_ret;
use crate::arch::Arch;

/// What an opcode is, as far as printing and parsing go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `A = seccomp_data[k]` (`LD|W|ABS`).
    LdAbs,
    /// `LD|W|LEN`: `A = len` (64 for seccomp).
    LdLen,
    /// `LDX|W|LEN`: `X = len`.
    LdxLen,
    LdImm,
    LdxImm,
    LdMem,
    LdxMem,
    St,
    Stx,
    /// `ALU` with an operation (`BPF_ADD`…) and a source (`BPF_K`/`BPF_X`).
    Alu(u16, u16),
    Neg,
    Ja,
    /// Conditional jump with an operation (`BPF_JEQ`…) and a source.
    Jcond(u16, u16),
    RetK,
    RetA,
    Tax,
    Txa,
    /// A classic-only packet load (`LD|H|ABS`, `LD|*|IND`, `LDX|B|MSH`, …).
    Packet(&'static str),
    Unknown,
}

impl Kind {
    pub fn of(code: u16) -> Kind {
        const ALU_OPS: [u16; 10] = [
            BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
        ];
        const JMP_OPS: [u16; 4] = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET];
        match code {
            0x20 => Kind::LdAbs,
            0x80 => Kind::LdLen,
            0x81 => Kind::LdxLen,
            0x00 => Kind::LdImm,
            0x01 => Kind::LdxImm,
            0x60 => Kind::LdMem,
            0x61 => Kind::LdxMem,
            0x02 => Kind::St,
            0x03 => Kind::Stx,
            0x84 => Kind::Neg,
            0x05 => Kind::Ja,
            0x06 => Kind::RetK,
            0x16 => Kind::RetA,
            0x07 => Kind::Tax,
            0x87 => Kind::Txa,
            0x28 => Kind::Packet("LD H ABS"),
            0x30 => Kind::Packet("LD B ABS"),
            0x40 => Kind::Packet("LD W IND"),
            0x48 => Kind::Packet("LD H IND"),
            0x50 => Kind::Packet("LD B IND"),
            0xb1 => Kind::Packet("LDX B MSH"),
            c if c & !0xf8 == BPF_ALU && ALU_OPS.contains(&op(c)) => Kind::Alu(op(c), src(c)),
            c if c & !0xf8 == BPF_JMP && JMP_OPS.contains(&op(c)) => Kind::Jcond(op(c), src(c)),
            _ => Kind::Unknown,
        }
    }

    /// Whether `jt`/`jf` mean anything for this kind.
    pub fn uses_jt_jf(self) -> bool {
        matches!(self, Kind::Jcond(..) | Kind::Unknown | Kind::Packet(_))
    }

    /// Whether `k` means anything for this kind.
    pub fn uses_k(self) -> bool {
        match self {
            Kind::LdLen | Kind::LdxLen | Kind::Neg | Kind::RetA | Kind::Tax | Kind::Txa => false,
            Kind::Alu(_, s) | Kind::Jcond(_, s) => s == BPF_K,
            _ => true,
        }
    }
}

/// The instruction with the fields its opcode ignores zeroed.
pub fn normalize(i: Insn) -> Insn {
    let kind = Kind::of(i.code);
    Insn {
        code: i.code,
        jt: if kind.uses_jt_jf() { i.jt } else { 0 },
        jf: if kind.uses_jt_jf() { i.jf } else { 0 },
        k: if kind.uses_k() { i.k } else { 0 },
    }
}

/// `AUDIT_ARCH_*` names, as include/uapi/linux/audit.h spells them.
pub fn audit_arch_name(value: u32) -> Option<&'static str> {
    let arch = Arch::ALL
        .into_iter()
        .find(|a| *a != Arch::X32 && a.audit_arch() == value)?;
    Some(match arch {
        Arch::X86_64 | Arch::X32 => "AUDIT_ARCH_X86_64",
        Arch::X86 => "AUDIT_ARCH_I386",
        Arch::Aarch64 => "AUDIT_ARCH_AARCH64",
        Arch::Arm => "AUDIT_ARCH_ARM",
        Arch::Riscv64 => "AUDIT_ARCH_RISCV64",
        Arch::S390x => "AUDIT_ARCH_S390X",
        Arch::S390 => "AUDIT_ARCH_S390",
        Arch::Ppc64le => "AUDIT_ARCH_PPC64LE",
        Arch::Ppc64 => "AUDIT_ARCH_PPC64",
        Arch::Ppc => "AUDIT_ARCH_PPC",
        Arch::Mips => "AUDIT_ARCH_MIPS",
        Arch::Mipsel => "AUDIT_ARCH_MIPSEL",
        Arch::Mips64 => "AUDIT_ARCH_MIPS64",
        Arch::Mipsel64 => "AUDIT_ARCH_MIPSEL64",
        Arch::Mips64n32 => "AUDIT_ARCH_MIPS64N32",
        Arch::Mipsel64n32 => "AUDIT_ARCH_MIPSEL64N32",
        Arch::Loongarch64 => "AUDIT_ARCH_LOONGARCH64",
    })
}

/// The value of an `AUDIT_ARCH_*` name.
pub fn audit_arch_value(name: &str) -> Option<u32> {
    Arch::ALL
        .into_iter()
        .map(|a| a.audit_arch())
        .find(|v| audit_arch_name(*v) == Some(name))
}

/// The name of the `seccomp_data` word at byte `k`, e.g. `args[2] (high)`.
pub fn field_name(k: u32) -> Option<String> {
    if k & 3 != 0 || k >= 64 {
        return None;
    }
    Some(match k {
        0 => "nr".to_string(),
        4 => "arch".to_string(),
        8 => "instruction_pointer (low)".to_string(),
        12 => "instruction_pointer (high)".to_string(),
        _ => {
            let half = if (k - 16) & 7 == 0 { "low" } else { "high" };
            format!("args[{}] ({half})", (k - 16) / 8)
        }
    })
}

/// Formats a constant: decimal below 4096, hexadecimal above.
pub fn fmt_k(k: u32) -> String {
    if k < 4096 {
        k.to_string()
    } else {
        format!("{k:#x}")
    }
}

/// Listing options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisasmOptions {
    /// The architecture to name syscall numbers for where the program has not checked
    /// `arch` on any path.
    pub arch_hint: Option<Arch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AHolds {
    Nr,
    Arch,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArchKnown {
    /// No `arch` check on any path here.
    Unchecked,
    Audit(u32),
    /// Paths disagree.
    Mixed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Facts {
    a: AHolds,
    arch: ArchKnown,
}

impl Facts {
    fn join(self, o: Facts) -> Facts {
        Facts {
            a: if self.a == o.a { self.a } else { AHolds::Other },
            arch: if self.arch == o.arch {
                self.arch
            } else {
                ArchKnown::Mixed
            },
        }
    }
}

/// The facts holding on entry to each instruction (`None` if unreachable).
fn dataflow(insns: &[Insn]) -> Vec<Option<Facts>> {
    let n = insns.len();
    let mut facts: Vec<Option<Facts>> = vec![None; n];
    if n == 0 {
        return facts;
    }
    facts[0] = Some(Facts {
        a: AHolds::Other,
        arch: ArchKnown::Unchecked,
    });
    let flow = |facts: &mut Vec<Option<Facts>>, to: u64, f: Facts| {
        if let Some(slot) = usize::try_from(to).ok().and_then(|t| facts.get_mut(t)) {
            *slot = Some(match *slot {
                Some(old) => old.join(f),
                None => f,
            });
        }
    };
    for pc in 0..n {
        let Some(f) = facts[pc] else { continue };
        let i = insns[pc];
        let next = pc as u64 + 1;
        let mut out = f;
        match Kind::of(i.code) {
            Kind::LdAbs => {
                out.a = match i.k {
                    0 => AHolds::Nr,
                    4 => AHolds::Arch,
                    _ => AHolds::Other,
                }
            }
            Kind::LdLen
            | Kind::LdImm
            | Kind::LdMem
            | Kind::Alu(..)
            | Kind::Neg
            | Kind::Txa
            | Kind::Packet(_)
            | Kind::Unknown => out.a = AHolds::Other,
            Kind::RetK | Kind::RetA => continue,
            Kind::Ja => {
                flow(&mut facts, next + u64::from(i.k), f);
                continue;
            }
            Kind::Jcond(o, s) => {
                let mut taken = f;
                if o == BPF_JEQ && s == BPF_K && f.a == AHolds::Arch {
                    taken.arch = ArchKnown::Audit(i.k);
                }
                flow(&mut facts, next + u64::from(i.jt), taken);
                flow(&mut facts, next + u64::from(i.jf), f);
                continue;
            }
            Kind::LdxLen | Kind::LdxImm | Kind::LdxMem | Kind::St | Kind::Stx | Kind::Tax => {}
        }
        flow(&mut facts, next, out);
    }
    facts
}

fn syscall_name(f: Option<Facts>, hint: Option<Arch>, nr: u32) -> Option<&'static str> {
    let f = f?;
    if f.a != AHolds::Nr {
        return None;
    }
    let audit = match f.arch {
        ArchKnown::Audit(a) => a,
        ArchKnown::Unchecked => hint?.audit_arch(),
        ArchKnown::Mixed => return None,
    };
    let arch = Arch::from_audit(audit, nr)?;
    crate::syscalls::name_of(arch, nr)
}

fn alu_symbol(o: u16) -> &'static str {
    match o {
        BPF_ADD => "+=",
        BPF_SUB => "-=",
        BPF_MUL => "*=",
        BPF_DIV => "/=",
        BPF_MOD => "%=",
        BPF_AND => "&=",
        BPF_OR => "|=",
        BPF_XOR => "^=",
        BPF_LSH => "<<=",
        _ => ">>=",
    }
}

/// `(positive, negated)` comparison spellings for a conditional jump operation.
fn cmp_symbols(o: u16) -> (&'static str, &'static str) {
    match o {
        BPF_JEQ => ("==", "!="),
        BPF_JGT => (">", "<="),
        BPF_JGE => (">=", "<"),
        _ => ("&", "!&"),
    }
}

fn target(pc: usize, off: u32) -> String {
    format!("{:04}", pc as u64 + 1 + u64::from(off))
}

/// The pseudo-C of every instruction of `prog`.
pub fn pseudo_c(prog: &Program, opts: &DisasmOptions) -> Vec<String> {
    let insns = prog.insns();
    let facts = dataflow(insns);
    insns
        .iter()
        .enumerate()
        .map(|(pc, i)| pseudo_one(pc, *i, facts[pc], opts))
        .collect()
}

fn pseudo_one(pc: usize, i: Insn, f: Option<Facts>, opts: &DisasmOptions) -> String {
    let k = i.k;
    match Kind::of(i.code) {
        Kind::LdAbs => match field_name(k) {
            Some(name) => format!("A = {name}"),
            None => format!("A = seccomp_data[{}]", fmt_k(k)),
        },
        Kind::LdLen => "A = len".into(),
        Kind::LdxLen => "X = len".into(),
        Kind::LdImm => format!("A = {}", fmt_k(k)),
        Kind::LdxImm => format!("X = {}", fmt_k(k)),
        Kind::LdMem => format!("A = M[{k}]"),
        Kind::LdxMem => format!("X = M[{k}]"),
        Kind::St => format!("M[{k}] = A"),
        Kind::Stx => format!("M[{k}] = X"),
        Kind::Alu(o, s) => {
            let rhs = if s == BPF_X { "X".into() } else { fmt_k(k) };
            format!("A {} {rhs}", alu_symbol(o))
        }
        Kind::Neg => "A = -A".into(),
        Kind::Ja => format!("goto {}", target(pc, k)),
        Kind::Jcond(o, s) => {
            let rhs = if s == BPF_X {
                "X".to_string()
            } else {
                let name = if o == BPF_JEQ {
                    syscall_name(f, opts.arch_hint, k)
                } else {
                    None
                };
                match name {
                    Some(n) => format!("{} /* {n} */", fmt_k(k)),
                    None => match audit_arch_name(k) {
                        Some(a) if f.is_none_or(|f| f.a != AHolds::Nr) => a.to_string(),
                        _ => fmt_k(k),
                    },
                }
            };
            let (pos, neg) = cmp_symbols(o);
            let cond = |negated: bool| -> String {
                match (o, negated) {
                    (BPF_JSET, false) => format!("A & {rhs}"),
                    (BPF_JSET, true) => format!("!(A & {rhs})"),
                    (_, false) => format!("A {pos} {rhs}"),
                    (_, true) => format!("A {neg} {rhs}"),
                }
            };
            let (jt, jf) = (u32::from(i.jt), u32::from(i.jf));
            if jf == 0 {
                format!("if ({}) goto {}", cond(false), target(pc, jt))
            } else if jt == 0 {
                format!("if ({}) goto {}", cond(true), target(pc, jf))
            } else {
                format!(
                    "if ({}) goto {} else goto {}",
                    cond(false),
                    target(pc, jt),
                    target(pc, jf)
                )
            }
        }
        Kind::RetK => format!("return {}", describe_ret(k)),
        Kind::RetA => "return A".into(),
        Kind::Tax => "X = A".into(),
        Kind::Txa => "A = X".into(),
        Kind::Packet(name) => format!("??? {name} (classic packet load, not for seccomp)"),
        Kind::Unknown => format!("??? unknown opcode {:#04x}", i.code),
    }
}

/// The raw-fields column of one line: `0x20 0x00 0x00 0x00000004`.
pub fn raw_fields(i: Insn) -> String {
    format!("{:#04x} {:#04x} {:#04x} {:#010x}", i.code, i.jt, i.jf, i.k)
}

/// The full listing, one line per instruction, each ending in a newline.
pub fn disasm(prog: &Program, opts: &DisasmOptions) -> String {
    let mut out = String::new();
    for (pc, (i, text)) in prog.insns().iter().zip(pseudo_c(prog, opts)).enumerate() {
        let _ = writeln!(out, "{pc:04}: {}  {text}", raw_fields(*i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86_64: u32 = 0xc000_003e;

    fn example() -> Program {
        Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, X86_64, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ])
    }

    #[test]
    fn listing_format() {
        let text = disasm(&example(), &DisasmOptions::default());
        let expected = "\
0000: 0x20 0x00 0x00 0x00000004  A = arch
0001: 0x15 0x00 0x03 0xc000003e  if (A != AUDIT_ARCH_X86_64) goto 0005
0002: 0x20 0x00 0x00 0x00000000  A = nr
0003: 0x15 0x00 0x01 0x0000003b  if (A != 59 /* execve */) goto 0005
0004: 0x06 0x00 0x00 0x00050001  return ERRNO(EPERM)
0005: 0x06 0x00 0x00 0x7fff0000  return ALLOW
";
        assert_eq!(text, expected);
    }

    #[test]
    fn both_branches_and_fields() {
        let p = Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 20),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 7, 1, 2),
            Insn::stmt(BPF_RET | BPF_A, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 8),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1),
            Insn::stmt(BPF_ALU | BPF_LSH | BPF_K, 3),
            Insn::stmt(BPF_ST, 2),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]);
        let lines = pseudo_c(&p, &DisasmOptions::default());
        assert_eq!(lines[0], "A = args[0] (high)");
        assert_eq!(lines[1], "if (A > 7) goto 0003 else goto 0004");
        assert_eq!(lines[2], "return A");
        assert_eq!(lines[3], "A = instruction_pointer (low)");
        assert_eq!(lines[4], "if (!(A & X)) goto 0006");
        assert_eq!(lines[5], "A <<= 3");
        assert_eq!(lines[6], "M[2] = A");
        assert_eq!(lines[7], "return KILL_THREAD");
    }

    #[test]
    fn syscall_names_follow_the_arch_check() {
        // Two arches: x86_64 then i386, each comparing nr 11 (munmap / execve).
        let jeq = BPF_JMP | BPF_JEQ | BPF_K;
        let p = Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(jeq, X86_64, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(jeq, 11, 5, 6),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::jump(jeq, 0x4000_0003, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(jeq, 11, 1, 2),
            Insn::stmt(BPF_RET | BPF_K, 0),
            // Reached from both arches: names are ambiguous here.
            Insn::jump(jeq, 11, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]);
        let lines = pseudo_c(&p, &DisasmOptions::default());
        assert_eq!(
            lines[3],
            "if (A == 11 /* munmap */) goto 0009 else goto 0010"
        );
        assert_eq!(lines[5], "if (A != AUDIT_ARCH_I386) goto 0009");
        assert_eq!(
            lines[7],
            "if (A == 11 /* execve */) goto 0009 else goto 0010"
        );
        assert_eq!(lines[9], "if (A != 11) goto 0011");
    }

    #[test]
    fn hint_names_unchecked_paths_and_x32() {
        let p = Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0x4000_0001, 0, 1),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let none = pseudo_c(&p, &DisasmOptions::default());
        assert_eq!(none[1], "if (A != 0x40000001) goto 0003");
        let hinted = pseudo_c(
            &p,
            &DisasmOptions {
                arch_hint: Some(Arch::X86_64),
            },
        );
        assert_eq!(hinted[1], "if (A != 0x40000001 /* write */) goto 0003");
        assert_eq!(hinted[2], "if (A == 0 /* read */) goto 0003");
    }

    #[test]
    fn odd_programs_print_without_panicking() {
        let p = Program(vec![
            Insn::stmt(0xffff, 1),
            Insn::stmt(BPF_LD | BPF_H | BPF_ABS, 1),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 2),
            Insn::stmt(BPF_JMP | BPF_JA, u32::MAX),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 255, 255),
        ]);
        let lines = pseudo_c(&p, &DisasmOptions::default());
        assert_eq!(lines[0], "??? unknown opcode 0xffff");
        assert!(lines[1].starts_with("??? LD H ABS"));
        assert_eq!(lines[2], "A = seccomp_data[2]");
        assert_eq!(lines[3], "goto 4294967299");
        assert_eq!(lines[4], "if (A == 1) goto 0260 else goto 0260");
    }
}
