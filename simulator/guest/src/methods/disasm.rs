//! `disasm`: a filter's listing and, for one event, the path the kernel would execute
//! through it and the value it returns.

use serde::Deserialize;
use serde_json::{json, Value};
use syscage_core::bpf::{self, disasm::DisasmOptions};
use syscage_core::trace::jsonl;

use super::compile::{compiled, insn_json};
use super::ret_json;
use crate::error::ApiError;
use crate::input::{self, Data, Input, Resolved, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// A profile to compile ...
    pub profile: Option<Input>,
    /// ... or a raw program.
    pub bpf: Option<Input>,
    #[serde(default)]
    pub target: TargetSpec,
    /// One event, as a JSON Lines trace spells it (`{"syscall":"openat","args":[..]}`).
    pub event: Option<Value>,
}

pub fn run(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    // A bad target is reported first, whichever input is given.
    let (target, source, valid) = match (&req.profile, &req.bpf) {
        (Some(p), None) => {
            let Resolved { target, policy } = req.target.resolve(p, "/profile", data)?;
            let valid = compiled(&policy)?;
            (target, policy.source, valid)
        }
        (None, Some(b)) => {
            let target = req.target.target()?;
            let (source, valid) = input::program(b, "/bpf", data)?;
            (target, source, valid)
        }
        _ => {
            req.target.target()?;
            return Err(ApiError::field(
                "",
                "give exactly one of \"profile\" and \"bpf\"",
            ));
        }
    };
    let prog = valid.program();
    let texts = bpf::disasm::pseudo_c(
        prog,
        &DisasmOptions {
            arch_hint: Some(target.arch),
        },
    );
    let mut result = json!({"source": source, "length": prog.len()});
    let mut executed = vec![false; prog.len()];
    if let Some(ev) = &req.event {
        let line = serde_json::to_string(ev).map_err(|e| ApiError::new(e.to_string()))?;
        let event = jsonl::parse_line(&line, 1, target.arch)
            .map_err(|e| ApiError::field("/event", format!("{e}").replacen("line 1: ", "", 1)))?;
        let unknown: Vec<usize> = event.unknown_args().collect();
        let (outcome, path) = bpf::run_traced(&valid, &event.data_with(0));
        for &pc in &path {
            if let Some(e) = executed.get_mut(usize::from(pc)) {
                *e = true;
            }
        }
        let mut run = ret_json(outcome.ret);
        run.insert("executed".into(), json!(outcome.executed));
        run.insert("path".into(), json!(path));
        run.insert("syscall".into(), json!(event.syscall_name()));
        run.insert("arch".into(), json!(event.arch().name()));
        run.insert("nr".into(), json!(event.sys.nr));
        run.insert("unknown_args_as_zero".into(), json!(unknown));
        result["run"] = Value::Object(run);
    }
    result["lines"] = prog
        .insns()
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(pc, (i, text))| {
            let mut l = insn_json(i);
            l["index"] = json!(pc);
            l["raw"] = json!(bpf::disasm::raw_fields(*i));
            l["text"] = json!(text);
            if req.event.is_some() {
                l["executed"] = json!(executed[pc]);
            }
            l
        })
        .collect();
    Ok(result)
}
