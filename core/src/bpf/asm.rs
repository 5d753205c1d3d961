//! The assembler: reads the [`super::disasm`] listing (or a hand-written one) back into a
//! [`Program`].
//!
//! A line is `[label:] [code jt jf k] [pseudo-C]`; blank lines and lines starting with
//! `#`, `;` or `//` are skipped, and `/* … */` comments are ignored. Each remaining line
//! is one instruction.
//!
//! * **Raw fields** (four `0x…` numbers), when present, are authoritative: the
//!   instruction is exactly those fields, so every listing `disasm` prints — of any
//!   program, valid or not — assembles back to the same program.
//! * **Pseudo-C**, when present, is parsed too. Without raw fields it *is* the
//!   instruction, so hand-written or hand-edited listings work (drop the raw columns of a
//!   line you edit). With raw fields it must agree with them on every field the opcode
//!   uses (ignored `jt`/`jf`/`k` bits may differ), else the line is an error naming both
//!   — a stale listing is never silently half-applied. `return` texts are compared by
//!   what they print, since `describe_ret` drops data some actions ignore. Pseudo-C
//!   beginning with `???` (opcodes with no pseudo-C) makes no claim.
//! * **Jump targets** (`goto L`) name a line's label; a number that is no label is an
//!   instruction index. `disasm` labels each line with its index, so in an untouched
//!   listing both readings agree, and lines inserted by hand can carry any fresh label.
//!   Jumps go forward only; conditional offsets must fit in 8 bits.
//!
//! The grammar of pseudo-C is what `disasm` prints: `A = nr|arch|args[i] (low|high)|
//! instruction_pointer (low|high)|seccomp_data[k]|len|M[k]|X|-A|k`, `X = len|M[k]|A|k`,
//! `M[k] = A|X`, `A op= k|X` (`+ - * / % & | ^ << >>`), `goto L`,
//! `if (A ==|!=|>|<=|>=|<  k|X) goto L [else goto L]`, `if (A & v)`, `if (!(A & v))`,
//! `return A|k|ALLOW|LOG|KILL|KILL_THREAD|KILL_PROCESS|TRAP[(n)]|ERRNO(n|ENAME)|
//! TRACE[(n)]|NOTIFY|UNKNOWN(0x…, …)`. Constants are decimal, `0x` hex, or
//! `AUDIT_ARCH_*`.

use std::collections::HashMap;

use super::disasm::{audit_arch_value, normalize, raw_fields, Kind};
use super::*;
use crate::action::{describe_ret, errno_name, ret};

/// Why a listing does not assemble.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}: {text:?}")]
pub struct AsmError {
    /// 1-based line number in the listing.
    pub line: usize,
    pub text: String,
    pub reason: AsmFault,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsmFault {
    #[error("raw fields must be four numbers (code jt jf k): {0}")]
    BadRaw(String),
    #[error("cannot read the pseudo-C ({0})")]
    BadPseudo(String),
    #[error("no instruction: a line needs raw fields or pseudo-C")]
    Nothing,
    #[error("label {0:?} is defined twice")]
    DuplicateLabel(String),
    #[error("jump target {0:?} is neither a label nor an instruction index")]
    UnknownTarget(String),
    #[error("jump target {target} is not after this instruction (BPF jumps go forward only)")]
    Backward { target: usize },
    #[error(
        "jump to {target} is {offset} instructions ahead; a conditional jump reaches at most 255"
    )]
    TooFar { target: usize, offset: u64 },
    #[error(
        "the pseudo-C says {pseudo} but the raw fields say {raw}; fix one or delete the raw fields"
    )]
    Mismatch { pseudo: String, raw: String },
}

struct Line<'a> {
    number: usize,
    text: &'a str,
    raw: Option<Insn>,
    pseudo: Option<String>,
}

/// Strips `/* … */` comments.
fn strip_comments(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    parse_num(s).and_then(|v| u32::try_from(v).ok())
}

/// A constant operand: number or `AUDIT_ARCH_*`.
fn parse_const(s: &str) -> Result<u32, String> {
    let s = s.trim();
    parse_u32(s)
        .or_else(|| audit_arch_value(s))
        .ok_or_else(|| format!("{s:?} is not a 32-bit constant"))
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

fn split_line<'a>(number: usize, text: &'a str) -> Result<(Option<&'a str>, Line<'a>), AsmError> {
    let err = |reason| AsmError {
        line: number,
        text: text.to_string(),
        reason,
    };
    let mut rest = text.trim();
    let mut label = None;
    if let Some((l, r)) = rest.split_once(':') {
        if is_label(l.trim_end()) && !l.contains(' ') {
            label = Some(l.trim_end());
            rest = r.trim_start();
        }
    }
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let looks_raw = |t: &&str| t.starts_with("0x") || t.starts_with("0X");
    let mut raw = None;
    if tokens.first().is_some_and(looks_raw) {
        let fields: Vec<&str> = tokens.iter().take(4).copied().collect();
        if fields.len() < 4 || !fields.iter().all(looks_raw) {
            return Err(err(AsmFault::BadRaw(fields.join(" "))));
        }
        let n: Vec<Option<u64>> = fields.iter().map(|f| parse_num(f)).collect();
        let code = n[0].and_then(|v| u16::try_from(v).ok());
        let jt = n[1].and_then(|v| u8::try_from(v).ok());
        let jf = n[2].and_then(|v| u8::try_from(v).ok());
        let k = n[3].and_then(|v| u32::try_from(v).ok());
        match (code, jt, jf, k) {
            (Some(code), Some(jt), Some(jf), Some(k)) => raw = Some(Insn { code, jt, jf, k }),
            _ => return Err(err(AsmFault::BadRaw(fields.join(" ")))),
        }
        // Skip the four raw tokens in the original text.
        for _ in 0..4 {
            rest = rest.trim_start();
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = &rest[end..];
        }
    }
    let pseudo = strip_comments(rest);
    let pseudo = (!pseudo.is_empty()).then_some(pseudo);
    if raw.is_none() && pseudo.is_none() {
        return Err(err(AsmFault::Nothing));
    }
    Ok((
        label,
        Line {
            number,
            text,
            raw,
            pseudo,
        },
    ))
}

struct Ctx<'a> {
    pc: usize,
    labels: &'a HashMap<&'a str, usize>,
}

impl Ctx<'_> {
    fn resolve(&self, t: &str) -> Result<usize, AsmFault> {
        let t = t.trim();
        let target = match self.labels.get(t) {
            Some(i) => *i,
            None => match parse_num(t).and_then(|v| usize::try_from(v).ok()) {
                Some(i) => i,
                None => return Err(AsmFault::UnknownTarget(t.to_string())),
            },
        };
        if target <= self.pc {
            return Err(AsmFault::Backward { target });
        }
        Ok(target)
    }

    fn offset8(&self, t: &str) -> Result<u8, AsmFault> {
        let target = self.resolve(t)?;
        let offset = (target - self.pc - 1) as u64;
        u8::try_from(offset).map_err(|_| AsmFault::TooFar { target, offset })
    }
}

fn bad(msg: impl Into<String>) -> AsmFault {
    AsmFault::BadPseudo(msg.into())
}

fn parse_ret(s: &str) -> Result<u32, AsmFault> {
    let s = s.trim();
    if let Some(v) = parse_u32(s) {
        return Ok(v);
    }
    let (name, arg) = match s.split_once('(') {
        Some((n, a)) => {
            let a = a
                .strip_suffix(')')
                .ok_or_else(|| bad(format!("unclosed parenthesis in {s:?}")))?;
            (n.trim(), Some(a.trim()))
        }
        None => (s, None),
    };
    if name == "UNKNOWN" {
        let v = arg.and_then(|a| a.split(',').next()).and_then(parse_u32);
        return v.ok_or_else(|| bad(format!("cannot read {s:?}")));
    }
    let base = match name {
        "ALLOW" => ret::ALLOW,
        "LOG" => ret::LOG,
        "KILL" | "KILL_THREAD" => ret::KILL_THREAD,
        "KILL_PROCESS" => ret::KILL_PROCESS,
        "TRAP" => ret::TRAP,
        "ERRNO" => ret::ERRNO,
        "TRACE" => ret::TRACE,
        "NOTIFY" | "USER_NOTIF" => ret::USER_NOTIF,
        _ => return Err(bad(format!("unknown action {name:?}"))),
    };
    let data = match arg {
        None => 0,
        Some(a) => match parse_u32(a) {
            Some(v) if v <= ret::DATA => v,
            Some(v) => return Err(bad(format!("action data {v} does not fit in 16 bits"))),
            None => (1..=4095u16)
                .find(|e| errno_name(*e) == Some(a))
                .map(u32::from)
                .ok_or_else(|| bad(format!("unknown errno name {a:?}")))?,
        },
    };
    Ok(base | data)
}

/// Parses `M[k]`.
fn parse_cell(s: &str) -> Option<u32> {
    s.trim()
        .strip_prefix("M[")?
        .strip_suffix(']')
        .and_then(parse_u32)
}

fn parse_field(s: &str) -> Option<u32> {
    let s = s.trim();
    match s {
        "nr" => return Some(0),
        "arch" => return Some(4),
        _ => {}
    }
    if let Some(inner) = s
        .strip_prefix("seccomp_data[")
        .and_then(|r| r.strip_suffix(']'))
    {
        return parse_u32(inner);
    }
    let (base, half) = s.rsplit_once(' ')?;
    let add = match half {
        "(low)" => 0,
        "(high)" => 4,
        _ => return None,
    };
    if base == "instruction_pointer" {
        return Some(8 + add);
    }
    let i = base.strip_prefix("args[")?.strip_suffix(']')?;
    let i = parse_u32(i).filter(|i| *i < 6)?;
    Some(16 + 8 * i + add)
}

fn parse_pseudo(s: &str, cx: &Ctx) -> Result<Option<Insn>, AsmFault> {
    if s.starts_with("???") {
        return Ok(None);
    }
    let stmt = |code, k| Ok(Some(Insn::stmt(code, k)));
    if let Some(r) = s.strip_prefix("return ") {
        return if r.trim() == "A" {
            stmt(BPF_RET | BPF_A, 0)
        } else {
            stmt(BPF_RET | BPF_K, parse_ret(r)?)
        };
    }
    if let Some(t) = s.strip_prefix("goto ") {
        let target = cx.resolve(t)?;
        let k = u32::try_from(target - cx.pc - 1).map_err(|_| bad("jump too far"))?;
        return stmt(BPF_JMP | BPF_JA, k);
    }
    if let Some(r) = s.strip_prefix("if ") {
        return parse_if(r, cx).map(Some);
    }
    // Assignments.
    const OPS: [(&str, u16); 10] = [
        ("<<=", BPF_LSH),
        (">>=", BPF_RSH),
        ("+=", BPF_ADD),
        ("-=", BPF_SUB),
        ("*=", BPF_MUL),
        ("/=", BPF_DIV),
        ("%=", BPF_MOD),
        ("&=", BPF_AND),
        ("|=", BPF_OR),
        ("^=", BPF_XOR),
    ];
    for (sym, o) in OPS {
        if let Some((lhs, rhs)) = s.split_once(sym) {
            if lhs.trim() != "A" {
                return Err(bad("ALU operations work on A"));
            }
            let rhs = rhs.trim();
            return if rhs == "X" {
                stmt(BPF_ALU | o | BPF_X, 0)
            } else {
                stmt(BPF_ALU | o | BPF_K, parse_const(rhs).map_err(bad)?)
            };
        }
    }
    let Some((lhs, rhs)) = s.split_once('=') else {
        return Err(bad("expected an assignment, goto, if or return"));
    };
    let (lhs, rhs) = (lhs.trim(), rhs.trim());
    match lhs {
        "A" => match rhs {
            "len" => stmt(BPF_LD | BPF_W | BPF_LEN, 0),
            "X" => stmt(BPF_MISC | BPF_TXA, 0),
            "-A" => stmt(BPF_ALU | BPF_NEG, 0),
            _ => {
                if let Some(c) = parse_cell(rhs) {
                    stmt(BPF_LD | BPF_MEM, c)
                } else if let Some(off) = parse_field(rhs) {
                    stmt(BPF_LD | BPF_W | BPF_ABS, off)
                } else {
                    stmt(BPF_LD | BPF_IMM, parse_const(rhs).map_err(bad)?)
                }
            }
        },
        "X" => match rhs {
            "len" => stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
            "A" => stmt(BPF_MISC | BPF_TAX, 0),
            _ => match parse_cell(rhs) {
                Some(c) => stmt(BPF_LDX | BPF_MEM, c),
                None => stmt(BPF_LDX | BPF_IMM, parse_const(rhs).map_err(bad)?),
            },
        },
        _ => match (parse_cell(lhs), rhs) {
            (Some(c), "A") => stmt(BPF_ST, c),
            (Some(c), "X") => stmt(BPF_STX, c),
            _ => Err(bad(format!("cannot assign {rhs:?} to {lhs:?}"))),
        },
    }
}

fn parse_if(r: &str, cx: &Ctx) -> Result<Insn, AsmFault> {
    let r = r.trim();
    let r = r
        .strip_prefix('(')
        .ok_or_else(|| bad("expected '(' after if"))?;
    // The condition ends at the parenthesis that closes the first one.
    let mut depth = 1;
    let mut end = None;
    for (i, c) in r.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let end = end.ok_or_else(|| bad("unbalanced parentheses"))?;
    let cond = r[..end].trim();
    let tail = r[end + 1..].trim();
    let tail = tail
        .strip_prefix("goto ")
        .ok_or_else(|| bad("expected 'goto' after the condition"))?;
    let (t_then, t_else) = match tail.split_once(" else goto ") {
        Some((a, b)) => (a, Some(b)),
        None => (tail, None),
    };

    let (o, negated, rhs) =
        if let Some(inner) = cond.strip_prefix("!(").and_then(|c| c.strip_suffix(')')) {
            let rhs = inner
                .trim()
                .strip_prefix("A &")
                .ok_or_else(|| bad("expected !(A & v)"))?;
            (BPF_JSET, true, rhs)
        } else {
            let rest = cond
                .strip_prefix('A')
                .ok_or_else(|| bad("conditions compare A"))?
                .trim_start();
            const CMPS: [(&str, u16, bool); 7] = [
                ("==", BPF_JEQ, false),
                ("!=", BPF_JEQ, true),
                (">=", BPF_JGE, false),
                ("<=", BPF_JGT, true),
                (">", BPF_JGT, false),
                ("<", BPF_JGE, true),
                ("&", BPF_JSET, false),
            ];
            let (sym, o, neg) = CMPS
                .iter()
                .find(|(sym, ..)| rest.starts_with(sym))
                .ok_or_else(|| bad(format!("unknown comparison in {cond:?}")))?;
            (*o, *neg, &rest[sym.len()..])
        };
    let rhs = rhs.trim();
    let (s, k) = if rhs == "X" {
        (BPF_X, 0)
    } else {
        (BPF_K, parse_const(rhs).map_err(bad)?)
    };
    let code = BPF_JMP | o | s;
    let first = cx.offset8(t_then)?;
    let second = match t_else {
        Some(t) => cx.offset8(t)?,
        None => 0,
    };
    if t_else.is_some() && negated {
        return Err(bad("write 'else' only after a positive condition"));
    }
    let (jt, jf) = if negated { (0, first) } else { (first, second) };
    Ok(Insn::jump(code, k, jt, jf))
}

fn agrees(pseudo: Insn, raw: Insn) -> bool {
    let (p, r) = (normalize(pseudo), normalize(raw));
    p == r
        || (Kind::of(r.code) == Kind::RetK
            && p.code == r.code
            && describe_ret(p.k) == describe_ret(r.k))
}

/// Assembles a listing.
pub fn assemble(text: &str) -> Result<Program, AsmError> {
    let mut lines = Vec::new();
    let mut labels: HashMap<&str, usize> = HashMap::new();
    for (n, t) in text.lines().enumerate() {
        let trimmed = t.trim();
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with(';')
            || trimmed.starts_with("//")
        {
            continue;
        }
        let (label, line) = split_line(n + 1, t)?;
        if let Some(l) = label {
            if labels.insert(l, lines.len()).is_some() {
                return Err(AsmError {
                    line: n + 1,
                    text: t.to_string(),
                    reason: AsmFault::DuplicateLabel(l.to_string()),
                });
            }
        }
        lines.push(line);
    }
    let mut insns = Vec::with_capacity(lines.len());
    for (pc, line) in lines.iter().enumerate() {
        let err = |reason| AsmError {
            line: line.number,
            text: line.text.to_string(),
            reason,
        };
        let cx = Ctx {
            pc,
            labels: &labels,
        };
        let parsed = match &line.pseudo {
            // With raw fields, unreadable pseudo-C is still an error: a listing whose
            // columns cannot be checked against each other must not assemble silently.
            Some(p) => parse_pseudo(p, &cx).map_err(err)?,
            None => None,
        };
        let insn = match (line.raw, parsed) {
            (Some(raw), Some(p)) => {
                if !agrees(p, raw) {
                    return Err(err(AsmFault::Mismatch {
                        pseudo: raw_fields(p),
                        raw: raw_fields(raw),
                    }));
                }
                raw
            }
            (Some(raw), None) => raw,
            (None, Some(p)) => p,
            (None, None) => return Err(err(AsmFault::Nothing)),
        };
        insns.push(insn);
    }
    Ok(Program(insns))
}

#[cfg(test)]
mod tests {
    use super::super::disasm::{disasm, DisasmOptions};
    use super::super::testgen;
    use super::*;
    use crate::arch::Arch;
    use proptest::prelude::*;

    fn listing(p: &Program) -> String {
        disasm(p, &DisasmOptions::default())
    }

    /// The listing with the raw columns removed: pseudo-C only.
    fn pseudo_only(text: &str) -> String {
        text.lines()
            .map(|l| {
                let (label, rest) = l.split_once(": ").unwrap();
                let pseudo = rest.splitn(5, ' ').nth(4).unwrap().trim();
                format!("{label}: {pseudo}\n")
            })
            .collect()
    }

    #[test]
    fn hand_written_listing() {
        let text = "
            # allow read, deny the rest
            A = arch
            if (A != AUDIT_ARCH_X86_64) goto kill
            A = nr
            if (A == 0 /* read */) goto ok
            return ERRNO(EPERM)
            ok: return ALLOW
            kill: return KILL_PROCESS
        ";
        let p = assemble(text).unwrap();
        assert_eq!(
            p.insns(),
            &[
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 4),
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
                Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
                Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
                Insn::stmt(BPF_RET | BPF_K, 0x8000_0000),
            ]
        );
    }

    #[test]
    fn every_statement_form() {
        let text = "
            A = args[5] (high)
            A = instruction_pointer (low)
            A = seccomp_data[3]
            A = len
            X = len
            A = 0x10
            X = 7
            M[1] = A
            M[2] = X
            A = M[1]
            X = M[2]
            A = X
            X = A
            A = -A
            A += 1
            A -= X
            A *= 3
            A /= 2
            A %= 5
            A &= 0xff
            A |= X
            A ^= 1
            A <<= 2
            A >>= X
            if (A > 3) goto 0026 else goto 0027
            if (A <= X) goto 0027
            if (!(A & 4)) goto 0028
            if (A < 1) goto 0028
            return TRACE(3)
        ";
        let p = assemble(text).unwrap();
        let codes: Vec<u16> = p.insns().iter().map(|i| i.code).collect();
        assert_eq!(
            codes,
            vec![
                0x20, 0x20, 0x20, 0x80, 0x81, 0x00, 0x01, 0x02, 0x03, 0x60, 0x61, 0x87, 0x07, 0x84,
                0x04, 0x1c, 0x24, 0x34, 0x94, 0x54, 0x4c, 0xa4, 0x64, 0x7c, 0x25, 0x2d, 0x45, 0x35,
                0x06
            ]
        );
        assert_eq!(p.insns()[0].k, 60);
        assert_eq!(p.insns()[1].k, 8);
        assert_eq!((p.insns()[24].jt, p.insns()[24].jf), (1, 2));
        assert_eq!((p.insns()[25].jt, p.insns()[25].jf), (0, 1));
        assert_eq!(
            (p.insns()[26].jt, p.insns()[26].jf, p.insns()[26].k),
            (0, 1, 4)
        );
        assert_eq!(p.insns()[28].k, 0x7ff0_0003);
    }

    #[test]
    fn stale_raw_fields_are_an_error() {
        let text = "0000: 0x06 0x00 0x00 0x7fff0000  return ERRNO(EPERM)\n";
        let e = assemble(text).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(matches!(e.reason, AsmFault::Mismatch { .. }), "{e}");
        assert!(e.to_string().contains("raw fields say"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = assemble("A = nr\nA = frobnicate\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = assemble("A = nr\ngoto 0000\nreturn A\n").unwrap_err();
        assert_eq!(e.reason, AsmFault::Backward { target: 0 });
        let e = assemble("x: A = nr\nx: return A\n").unwrap_err();
        assert_eq!(e.reason, AsmFault::DuplicateLabel("x".into()));
        let e = assemble("if (A == 1) goto nowhere\nreturn A\n").unwrap_err();
        assert_eq!(e.reason, AsmFault::UnknownTarget("nowhere".into()));
        let e = assemble("0000: 0x06 0x00\n").unwrap_err();
        assert!(matches!(e.reason, AsmFault::BadRaw(_)));
        let mut far = String::from("if (A == 1) goto 0300\n");
        far.push_str(&"return A\n".repeat(300));
        let e = assemble(&far).unwrap_err();
        assert!(matches!(e.reason, AsmFault::TooFar { .. }), "{e}");
    }

    #[test]
    fn lossy_returns_agree_by_description() {
        // NOTIFY ignores data in its description; the raw k wins.
        let p = Program(vec![Insn::stmt(BPF_RET | BPF_K, 0x7fc0_0005)]);
        assert_eq!(assemble(&listing(&p)).unwrap(), p);
    }

    proptest! {
        #[test]
        fn valid_programs_round_trip(p in testgen::valid_program(), hint in 0usize..19) {
            let opts = DisasmOptions { arch_hint: Arch::ALL.get(hint).copied() };
            let text = disasm(&p, &opts);
            prop_assert_eq!(assemble(&text).unwrap(), p.clone());
            // The pseudo-C alone carries the program too (up to ignored fields and
            // data that `return` texts do not show).
            let q = assemble(&pseudo_only(&text)).unwrap();
            prop_assert_eq!(q.len(), p.len());
            for (a, b) in q.insns().iter().zip(p.insns()) {
                prop_assert!(agrees(*a, *b), "{:?} vs {:?}", a, b);
            }
        }

        #[test]
        fn any_program_round_trips(insns in prop::collection::vec(
            any::<(u16, u8, u8, u32)>().prop_map(|(c, jt, jf, k)| {
                // Bias opcodes toward the real ones.
                let code = if c % 4 == 0 { c } else {
                    testgen::SECCOMP_CODES[usize::from(c) % 41]
                };
                Insn { code, jt, jf, k }
            }), 0..40)) {
            let p = Program(insns);
            let text = listing(&p);
            prop_assert_eq!(assemble(&text).unwrap(), p);
        }
    }
}
