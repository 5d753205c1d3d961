//! Readable source-code exports of a program: a C `struct sock_filter` array written with
//! `BPF_STMT`/`BPF_JUMP` and symbolic opcode names, and a Rust array of
//! `libc::sock_filter` (or any struct with the same four fields). Each entry carries its
//! index and pseudo-C as a comment. What the instructions mean is [`super::disasm`]'s
//! business; this module only spells them.

use std::fmt::Write as _;

use super::disasm::{audit_arch_name, field_name, pseudo_c, DisasmOptions, Kind};
use super::*;
use crate::action::{errno_name, Action, ActionKind};

/// Export options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The array's name.
    pub name: String,
    /// Passed to the disassembler for the comments.
    pub disasm: DisasmOptions,
}

impl Default for ExportOptions {
    fn default() -> ExportOptions {
        ExportOptions {
            name: "filter".to_string(),
            disasm: DisasmOptions::default(),
        }
    }
}

fn alu_name(o: u16) -> &'static str {
    match o {
        BPF_ADD => "BPF_ADD",
        BPF_SUB => "BPF_SUB",
        BPF_MUL => "BPF_MUL",
        BPF_DIV => "BPF_DIV",
        BPF_MOD => "BPF_MOD",
        BPF_AND => "BPF_AND",
        BPF_OR => "BPF_OR",
        BPF_XOR => "BPF_XOR",
        BPF_LSH => "BPF_LSH",
        _ => "BPF_RSH",
    }
}

fn jmp_name(o: u16) -> &'static str {
    match o {
        BPF_JEQ => "BPF_JEQ",
        BPF_JGT => "BPF_JGT",
        BPF_JGE => "BPF_JGE",
        _ => "BPF_JSET",
    }
}

fn src_name(s: u16) -> &'static str {
    if s == BPF_X {
        "BPF_X"
    } else {
        "BPF_K"
    }
}

/// The symbolic C spelling of an opcode, e.g. `BPF_LD | BPF_W | BPF_ABS`; a hex literal
/// for opcodes without one.
pub fn c_opcode(code: u16) -> String {
    match Kind::of(code) {
        Kind::LdAbs => "BPF_LD | BPF_W | BPF_ABS".into(),
        Kind::LdLen => "BPF_LD | BPF_W | BPF_LEN".into(),
        Kind::LdxLen => "BPF_LDX | BPF_W | BPF_LEN".into(),
        Kind::LdImm => "BPF_LD | BPF_IMM".into(),
        Kind::LdxImm => "BPF_LDX | BPF_IMM".into(),
        Kind::LdMem => "BPF_LD | BPF_MEM".into(),
        Kind::LdxMem => "BPF_LDX | BPF_MEM".into(),
        Kind::St => "BPF_ST".into(),
        Kind::Stx => "BPF_STX".into(),
        Kind::Alu(o, s) => format!("BPF_ALU | {} | {}", alu_name(o), src_name(s)),
        Kind::Neg => "BPF_ALU | BPF_NEG".into(),
        Kind::Ja => "BPF_JMP | BPF_JA".into(),
        Kind::Jcond(o, s) => format!("BPF_JMP | {} | {}", jmp_name(o), src_name(s)),
        Kind::RetK => "BPF_RET | BPF_K".into(),
        Kind::RetA => "BPF_RET | BPF_A".into(),
        Kind::Tax => "BPF_MISC | BPF_TAX".into(),
        Kind::Txa => "BPF_MISC | BPF_TXA".into(),
        Kind::Packet(_) | Kind::Unknown => format!("{code:#04x}"),
    }
}

fn c_ret(k: u32) -> String {
    let Some(a) = Action::from_ret(k) else {
        return format!("{k:#010x}");
    };
    let base = match a.kind {
        ActionKind::KillProcess => "SECCOMP_RET_KILL_PROCESS",
        ActionKind::KillThread => "SECCOMP_RET_KILL_THREAD",
        ActionKind::Trap => "SECCOMP_RET_TRAP",
        ActionKind::Errno => "SECCOMP_RET_ERRNO",
        ActionKind::Notify => "SECCOMP_RET_USER_NOTIF",
        ActionKind::Trace => "SECCOMP_RET_TRACE",
        ActionKind::Log => "SECCOMP_RET_LOG",
        ActionKind::Allow => "SECCOMP_RET_ALLOW",
    };
    match (a.data, a.kind) {
        (0, _) => base.to_string(),
        (d, ActionKind::Errno) => match errno_name(d) {
            Some(e) => format!("{base} | {e}"),
            None => format!("{base} | {d}"),
        },
        (d, _) => format!("{base} | {d}"),
    }
}

/// The symbolic C spelling of an instruction's `k`.
fn c_k(i: Insn) -> String {
    match Kind::of(i.code) {
        Kind::LdAbs => match field_name(i.k) {
            Some(_) => {
                let k = i.k;
                let base = match k {
                    0 => "nr".to_string(),
                    4 => "arch".to_string(),
                    8 | 12 => "instruction_pointer".to_string(),
                    _ => format!("args[{}]", (k - 16) / 8),
                };
                let hi = k >= 8 && k % 8 == 4;
                let off = format!("offsetof(struct seccomp_data, {base})");
                if hi {
                    format!("{off} + 4")
                } else {
                    off
                }
            }
            None => i.k.to_string(),
        },
        Kind::RetK => c_ret(i.k),
        Kind::Jcond(BPF_JEQ, BPF_K) => match audit_arch_name(i.k) {
            Some(n) => n.to_string(),
            None => super::disasm::fmt_k(i.k),
        },
        _ => super::disasm::fmt_k(i.k),
    }
}

/// A C array: `struct sock_filter filter[] = { BPF_STMT(...), BPF_JUMP(...), };`.
/// `args[i]` high words are written `+ 4`, which is right for little-endian targets.
pub fn to_c(prog: &Program, opts: &ExportOptions) -> String {
    let comments = pseudo_c(prog, &opts.disasm);
    let mut out = format!("struct sock_filter {}[] = {{\n", opts.name);
    for (pc, (i, c)) in prog.insns().iter().zip(comments).enumerate() {
        let kind = Kind::of(i.code);
        let body = if kind.uses_jt_jf() || i.jt != 0 || i.jf != 0 {
            format!(
                "BPF_JUMP({}, {}, {}, {})",
                c_opcode(i.code),
                c_k(*i),
                i.jt,
                i.jf
            )
        } else {
            format!("BPF_STMT({}, {})", c_opcode(i.code), c_k(*i))
        };
        let _ = writeln!(
            out,
            "\t/* {pc:04} */ {body}, /* {} */",
            c.replace("*/", "* /")
        );
    }
    out.push_str("};\n");
    out
}

/// A Rust array: `const FILTER: [libc::sock_filter; N] = [ ... ];`. `ty` is the element
/// type's path (any struct with `code`, `jt`, `jf`, `k` fields).
pub fn to_rust(prog: &Program, opts: &ExportOptions, ty: &str) -> String {
    let comments = pseudo_c(prog, &opts.disasm);
    let mut out = format!(
        "pub const {}: [{ty}; {}] = [\n",
        opts.name.to_ascii_uppercase(),
        prog.len()
    );
    for (pc, (i, c)) in prog.insns().iter().zip(comments).enumerate() {
        let _ = writeln!(
            out,
            "    {ty} {{ code: {:#06x}, jt: {}, jf: {}, k: {:#010x} }}, // {pc:04}: {c}",
            i.code, i.jt, i.jf, i.k
        );
    }
    out.push_str("];\n");
    out
}

/// The headers that define every name [`to_c`] uses.
pub const C_PROLOGUE: &str = "#include <stddef.h>\n#include <linux/audit.h>\n#include <linux/filter.h>\n#include <linux/seccomp.h>\n#include <errno.h>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Program {
        Program(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x8000_0000),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 20),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
        ])
    }

    #[test]
    fn c_array() {
        let c = to_c(&example(), &ExportOptions::default());
        let expected = "\
struct sock_filter filter[] = {
\t/* 0000 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), /* A = arch */
\t/* 0001 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0), /* if (A == AUDIT_ARCH_X86_64) goto 0003 */
\t/* 0002 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), /* return KILL_PROCESS */
\t/* 0003 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4), /* A = args[0] (high) */
\t/* 0004 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_X, 0), /* A &= X */
\t/* 0005 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM), /* return ERRNO(EPERM) */
};
";
        assert_eq!(c, expected);
    }

    #[test]
    fn rust_array() {
        let r = to_rust(&example(), &ExportOptions::default(), "libc::sock_filter");
        assert!(
            r.starts_with("pub const FILTER: [libc::sock_filter; 6] = [\n"),
            "{r}"
        );
        assert!(r.contains(
            "    libc::sock_filter { code: 0x0020, jt: 0, jf: 0, k: 0x00000004 }, // 0000: A = arch\n"
        ));
        assert!(r.ends_with("];\n"));
    }
}
