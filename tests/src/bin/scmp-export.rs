//! Builds a filter with the real libseccomp the way runc does and writes the exported
//! BPF to standard output. A separate process so that a test can time it out: some rule
//! sets make libseccomp 2.5.4 spin forever (SEMANTICS.md).
//!
//! Input (stdin, JSON): `{"default": RET, "arches": ["x86", ...], "rules": [{"name":
//! "read", "action": RET, "conds": [[arg, "SCMP_CMP_EQ", a, b], ...]}]}` — one
//! libseccomp rule each, conditions ANDed. Exit 0 with the program; exit 3 with the
//! index of the rule libseccomp refused (and why) on stderr; exit 2 on bad input.

use std::io::Read;
use std::process::ExitCode;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use serde_json::Value;

fn action(ret: u32) -> Option<ScmpAction> {
    let data = ret & 0xffff;
    Some(match ret & 0xffff_0000 {
        0x8000_0000 => ScmpAction::KillProcess,
        0x0000_0000 => ScmpAction::KillThread,
        0x0003_0000 => ScmpAction::Trap,
        0x0005_0000 => ScmpAction::Errno(data as i32),
        0x7fc0_0000 => ScmpAction::Notify,
        0x7ff0_0000 => ScmpAction::Trace(data as u16),
        0x7ffc_0000 => ScmpAction::Log,
        0x7fff_0000 => ScmpAction::Allow,
        _ => return None,
    })
}

fn op(name: &str, a: u64) -> Option<ScmpCompareOp> {
    Some(match name {
        "SCMP_CMP_NE" => ScmpCompareOp::NotEqual,
        "SCMP_CMP_LT" => ScmpCompareOp::Less,
        "SCMP_CMP_LE" => ScmpCompareOp::LessOrEqual,
        "SCMP_CMP_EQ" => ScmpCompareOp::Equal,
        "SCMP_CMP_GE" => ScmpCompareOp::GreaterEqual,
        "SCMP_CMP_GT" => ScmpCompareOp::Greater,
        "SCMP_CMP_MASKED_EQ" => ScmpCompareOp::MaskedEqual(a),
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
    let default = action(v["default"].as_u64().ok_or_else(|| bad("default"))? as u32)
        .ok_or_else(|| bad("default action"))?;
    let mut f = ScmpFilterContext::new(default).map_err(|e| (3, format!("default: {e}")))?;
    for a in v["arches"].as_array().ok_or_else(|| bad("arches"))? {
        let arch: ScmpArch = a
            .as_str()
            .ok_or_else(|| bad("arch"))?
            .parse()
            .map_err(|_| bad("arch name"))?;
        if let Err(e) = f.add_arch(arch) {
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
        let Ok(sc) = ScmpSyscall::from_name(name) else {
            continue; // runc skips names libseccomp does not know
        };
        let act = action(r["action"].as_u64().ok_or_else(|| bad("action"))? as u32)
            .ok_or_else(|| bad("rule action"))?;
        let mut conds = Vec::new();
        for c in r["conds"].as_array().ok_or_else(|| bad("conds"))? {
            let a = c[2].as_u64().ok_or_else(|| bad("a"))?;
            let b = c[3].as_u64().ok_or_else(|| bad("b"))?;
            let o = op(c[1].as_str().ok_or_else(|| bad("op"))?, a).ok_or_else(|| bad("op name"))?;
            let datum = if matches!(o, ScmpCompareOp::MaskedEqual(_)) {
                b
            } else {
                a
            };
            conds.push(ScmpArgCompare::new(
                c[0].as_u64().ok_or_else(|| bad("arg"))? as u32,
                o,
                datum,
            ));
        }
        let added = if conds.is_empty() {
            f.add_rule(act, sc)
        } else {
            f.add_rule_conditional(act, sc, &conds)
        };
        if let Err(e) = added {
            return Err((3, format!("{i}\n{e}")));
        }
    }
    f.export_bpf(std::io::stdout())
        .map_err(|e| (3, format!("export: {e}")))
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
