//! `check`: replay traces against a stack of profiles and raw programs, exactly as
//! `syscage check` does natively. Per-event results use the core's JSON report
//! ([`syscage_core::report::to_json`]) and the summary its text report, so the native
//! and sandboxed answers are comparable byte for byte.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use syscage_core::action::{self, Action};
use syscage_core::bpf;
use syscage_core::engine::{EngineKind, Layer, Prepared};
use syscage_core::eval::Outcome;
use syscage_core::report::{self, Checked};

use crate::error::{diagnostic_json, ApiError};
use crate::input::{self, Data, Input, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Profiles to stack, oldest first.
    #[serde(default)]
    pub profiles: Vec<Input>,
    /// Raw programs, stacked after the profiles (they imply the bpf engine).
    #[serde(default)]
    pub bpf: Vec<Input>,
    /// Traces, in order (strace text or JSON Lines).
    #[serde(default)]
    pub traces: Vec<Input>,
    #[serde(default)]
    pub target: TargetSpec,
    /// `reference` (default) or `bpf`.
    pub engine: Option<String>,
    /// Whether to return the per-event results (default true).
    #[serde(default = "yes")]
    pub events: bool,
    /// With the bpf engine: figures about each filter (default false).
    #[serde(default)]
    pub stats: bool,
}

fn yes() -> bool {
    true
}

pub fn run(req: Request, data: Data<'_>) -> Result<Vec<u8>, ApiError> {
    let target = req.target.target()?;
    let kind = match req.engine.as_deref() {
        None | Some("reference") if req.bpf.is_empty() => EngineKind::Reference,
        None | Some("reference") | Some("bpf") => EngineKind::Bpf,
        Some(other) => {
            return Err(ApiError::field(
                "/engine",
                format!("unknown engine {other:?} (expected reference or bpf)"),
            ))
        }
    };
    if req.profiles.is_empty() && req.bpf.is_empty() {
        return Err(ApiError::field(
            "/profiles",
            "nothing to check against: give at least one profile or bpf program",
        ));
    }
    let mut warnings = Vec::new();
    let mut layers = Vec::new();
    for (i, p) in req.profiles.iter().enumerate() {
        let policy = input::policy(p, &format!("/profiles/{i}"), &target, data)?;
        warnings.extend(policy.warnings.iter().map(diagnostic_json));
        layers.push(Layer::Policy(policy));
    }
    for (i, b) in req.bpf.iter().enumerate() {
        let (source, program) = input::program(b, &format!("/bpf/{i}"), data)?;
        layers.push(Layer::Program { source, program });
    }
    let sources: Vec<String> = layers.iter().map(|l| l.source().to_string()).collect();
    let prepared =
        Prepared::new(layers, kind, target.kernel).map_err(|e| ApiError::new(e.to_string()))?;

    let evaluator = prepared.evaluator();
    let mut trace_warnings = Vec::new();
    let mut checked = Vec::new();
    for (i, mut t) in req.traces.into_iter().enumerate() {
        let (source, trace) = input::trace(&mut t, &format!("/traces/{i}"), target.arch, data)?;
        drop(t);
        trace_warnings.extend(trace.warnings.iter().map(
            |w| json!({"source": source, "line": w.line, "message": format!("{source}: {w}")}),
        ));
        checked.extend(trace.events.into_iter().map(|event| Checked {
            outcome: evaluator.evaluate(&event),
            event,
        }));
    }

    let mut head = Map::new();
    head.insert(
        "engine".into(),
        json!(match kind {
            EngineKind::Reference => "reference",
            EngineKind::Bpf => "bpf",
        }),
    );
    head.insert(
        "target".into(),
        json!({
            "arch": target.arch.name(),
            "kernel": target.kernel.to_string(),
            "runtime": target.runtime.to_string(),
            "caps": target.caps,
        }),
    );
    head.insert("sources".into(), json!(sources));
    let arches: Vec<&str> = prepared
        .policies()
        .first()
        .map(|p| p.arches.iter().map(|a| a.arch.name()).collect())
        .unwrap_or_default();
    head.insert("arches".into(), json!(arches));
    let builders: Vec<&str> = prepared
        .policies()
        .iter()
        .map(|p| p.builder.name())
        .collect();
    head.insert("builders".into(), json!(builders));
    head.insert("warnings".into(), Value::Array(warnings));
    head.insert("trace_warnings".into(), Value::Array(trace_warnings));
    head.insert("counts".into(), counts(&checked));
    head.insert("summary".into(), json!(report::summary(&checked)));
    if req.stats && kind == EngineKind::Bpf {
        head.insert("stats".into(), stats(&prepared, target.arch));
    }

    // The events go last, written one at a time (a large trace must not need a second
    // tree of values).
    let mut out = serde_json::to_vec(&Value::Object(head))
        .map_err(|e| ApiError::new(format!("cannot encode: {e}")))?;
    if req.events {
        out.pop(); // the closing brace
        out.extend_from_slice(b",\"events\":[");
        for (i, c) in checked.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &report::to_json(c))
                .map_err(|e| ApiError::new(format!("cannot encode: {e}")))?;
        }
        out.extend_from_slice(b"]}");
    }
    Ok(out)
}

/// `{"events", "permitted", "not_permitted", "uncertain", "actions": {NAME: n}}`, the
/// actions strongest first, each event counted at its worst possible verdict.
fn counts(checked: &[Checked]) -> Value {
    let mut by: BTreeMap<(i32, &'static str), usize> = BTreeMap::new();
    for c in checked {
        let ret = c.outcome.worst().ret;
        let name = Action::from_ret(ret).map_or("UNKNOWN", |a| a.kind.short_name());
        *by.entry((action::precedence(ret), name)).or_default() += 1;
    }
    let permitted = checked.iter().filter(|c| c.permitted()).count();
    let actions: Map<String, Value> = by
        .iter()
        .map(|((_, name), n)| (name.to_string(), json!(n)))
        .collect();
    json!({
        "events": checked.len(),
        "permitted": permitted,
        "not_permitted": checked.len() - permitted,
        "uncertain": checked
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Depends { .. }))
            .count(),
        "actions": actions,
    })
}

/// Figures for each compiled or raw filter, as `syscage check --stats` prints them.
fn stats(prepared: &Prepared, native: syscage_core::arch::Arch) -> Value {
    let all: Vec<Value> = prepared
        .programs()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let policy = prepared.policies().get(i);
            let arches: Vec<_> = policy.map_or_else(
                || vec![native],
                |p| p.arches.iter().map(|a| a.arch).collect(),
            );
            let s = bpf::stats::measure(p, &arches, &|arch, nr| {
                policy.is_some_and(|p| p.fixed_action(arch, nr) == Some(Action::ALLOW))
            });
            serde_json::to_value(&s).unwrap_or(Value::Null)
        })
        .collect();
    Value::Array(all)
}
