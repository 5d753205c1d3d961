//! Builds a filter with the real libseccomp the way runc does and writes the exported
//! BPF to standard output. A separate process so that a test can time it out: some rule
//! sets make libseccomp 2.5.4 spin forever (SEMANTICS.md).
//!
//! Input (stdin, JSON): `{"default": RET, "arches": ["x86", ...], "rules": [{"name":
//! "read", "action": RET, "conds": [[arg, "SCMP_CMP_EQ", a, b], ...]}]}` — one
//! libseccomp rule each, conditions ANDed. Exit 0 with the program; exit 3 with the
//! index of the rule libseccomp refused (and why) on stderr; exit 2 on bad input; exit
//! 4 when the host's libseccomp cannot be loaded (the message says why).
//!
//! The library is the host's `libseccomp.so.2`, loaded at run time
//! (`syscage_enforcer::libseccomp`).

use std::io::{Read, Write};
use std::process::ExitCode;

use serde_json::Value;
use syscage_enforcer::libseccomp::{ArgCmp, Attr, CmpOp, Libseccomp};

/// The `SECCOMP_RET_*` values libseccomp takes as actions.
fn action(ret: u32) -> Option<u32> {
    matches!(
        ret & 0xffff_0000,
        0x8000_0000
            | 0x0000_0000
            | 0x0003_0000
            | 0x0005_0000
            | 0x7fc0_0000
            | 0x7ff0_0000
            | 0x7ffc_0000
            | 0x7fff_0000
    )
    .then_some(ret)
}

fn op(name: &str) -> Option<CmpOp> {
    Some(match name {
        "SCMP_CMP_NE" => CmpOp::Ne,
        "SCMP_CMP_LT" => CmpOp::Lt,
        "SCMP_CMP_LE" => CmpOp::Le,
        "SCMP_CMP_EQ" => CmpOp::Eq,
        "SCMP_CMP_GE" => CmpOp::Ge,
        "SCMP_CMP_GT" => CmpOp::Gt,
        "SCMP_CMP_MASKED_EQ" => CmpOp::MaskedEq,
        _ => return None,
    })
}

fn run() -> Result<(), (u8, String)> {
    let bad = |m: &str| (2, m.to_string());
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| bad(&e.to_string()))?;
    let v: Value = serde_json::from_str(&input).map_err(|e| bad(&e.to_string()))?;
    let lib = Libseccomp::host().map_err(|e| (4, e.to_string()))?;
    let default = action(v["default"].as_u64().ok_or_else(|| bad("default"))? as u32)
        .ok_or_else(|| bad("default action"))?;
    let mut f = lib
        .filter(default)
        .map_err(|e| (3, format!("default: {e}")))?;
    // The library's own default bad-arch action is KILL_THREAD: stated, not assumed.
    f.set(Attr::ActBadArch, 0)
        .map_err(|e| (3, format!("bad arch: {e}")))?;
    for a in v["arches"].as_array().ok_or_else(|| bad("arches"))? {
        let name = a.as_str().ok_or_else(|| bad("arch"))?;
        let token = lib.arch_token(name).ok_or_else(|| bad("arch name"))?;
        if let Err(e) = f.add_arch(token) {
            return Err((3, format!("arch: {e}")));
        }
    }
    for (i, r) in v["rules"]
        .as_array()
        .ok_or_else(|| bad("rules"))?
        .iter()
        .enumerate()
    {
        let name = r["name"].as_str().ok_or_else(|| bad("name"))?;
        // As runc: the name resolved on the native arch; unknown names are skipped.
        let Some(nr) = lib.resolve(name, None) else {
            continue;
        };
        let act = action(r["action"].as_u64().ok_or_else(|| bad("action"))? as u32)
            .ok_or_else(|| bad("rule action"))?;
        let mut conds = Vec::new();
        for c in r["conds"].as_array().ok_or_else(|| bad("conds"))? {
            let a = c[2].as_u64().ok_or_else(|| bad("a"))?;
            let b = c[3].as_u64().ok_or_else(|| bad("b"))?;
            let o = op(c[1].as_str().ok_or_else(|| bad("op"))?).ok_or_else(|| bad("op name"))?;
            conds.push(ArgCmp {
                arg: c[0].as_u64().ok_or_else(|| bad("arg"))? as u32,
                op: o,
                datum_a: a,
                // Only MASKED_EQ reads datum_b (the value; datum_a is the mask).
                datum_b: if o == CmpOp::MaskedEq { b } else { 0 },
            });
        }
        if let Err(e) = f.add_rule(act, nr, &conds) {
            return Err((3, format!("{i}\n{e}")));
        }
    }
    let bytes = f.export_bpf().map_err(|e| (3, format!("export: {e}")))?;
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| (2, format!("cannot write the program: {e}")))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}
