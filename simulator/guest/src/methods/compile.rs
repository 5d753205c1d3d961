//! `compile`: a profile compiled to one classic-BPF filter, as `syscage compile` emits
//! it: the instructions, the raw `.bpf` bytes (base64), the listing, and the figures.

use serde::Deserialize;
use serde_json::{json, Value};
use syscage_core::action::Action;
use syscage_core::bpf::{self, disasm::DisasmOptions, Insn, ValidProgram};
use syscage_core::policy::Policy;

use crate::base64;
use crate::error::ApiError;
use crate::input::{Data, Input, Resolved, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub profile: Input,
    #[serde(default)]
    pub target: TargetSpec,
}

/// `{"code", "jt", "jf", "k"}`.
pub fn insn_json(i: &Insn) -> Value {
    json!({"code": i.code, "jt": i.jt, "jf": i.jf, "k": i.k})
}

/// `policy` compiled, and the result validated as the kernel would.
pub fn compiled(policy: &Policy) -> Result<ValidProgram, ApiError> {
    let prog = bpf::compile::compile(policy).map_err(|e| ApiError::new(e.to_string()))?;
    bpf::validate(&prog).map_err(|e| {
        ApiError::new(format!(
            "{}: the compiled program was rejected by the validator: {e}",
            policy.source
        ))
    })
}

pub fn run(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    let Resolved { target, policy } = req.target.resolve(&req.profile, "/profile", data)?;
    let valid = compiled(&policy)?;
    let prog = valid.program();
    let arches: Vec<_> = policy.arches.iter().map(|a| a.arch).collect();
    let stats = bpf::stats::measure(&valid, &arches, &|arch, nr| {
        policy.fixed_action(arch, nr) == Some(Action::ALLOW)
    });
    let listing = bpf::disasm::disasm(
        prog,
        &DisasmOptions {
            arch_hint: Some(target.arch),
        },
    );
    Ok(json!({
        "source": policy.source,
        "length": prog.len(),
        "instructions": prog.insns().iter().map(insn_json).collect::<Vec<_>>(),
        "base64": base64::encode(&prog.to_raw()),
        "disasm": listing.lines().collect::<Vec<_>>(),
        "stats": stats,
        "warnings": policy.warnings.iter().map(crate::error::diagnostic_json).collect::<Vec<_>>(),
    }))
}
