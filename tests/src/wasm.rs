//! Running `check` both ways: natively with a core engine, and through the WebAssembly
//! simulator in wasmtime, each answer as the per-event JSON objects of
//! `syscage check --format json` plus the text summary, so they compare exactly.

use std::sync::OnceLock;

use serde_json::{json, Value};
use syscage_core::builtin;
use syscage_core::engine::{EngineKind, Layer, Prepared};
use syscage_core::policy::{self, Target};
use syscage_core::profile;
use syscage_core::report::{self, Checked};
use syscage_core::trace;
use syscage_simulator::{Limits, Simulator};

/// A profile to check against: a builtin name, or `(source, text)`.
#[derive(Clone, Debug)]
pub enum Spec {
    Builtin(&'static str),
    Text(String, String),
}

impl Spec {
    fn request(&self) -> Value {
        match self {
            Spec::Builtin(name) => json!({ "builtin": name }),
            Spec::Text(source, text) => json!({ "source": source, "text": text }),
        }
    }
}

/// One engine's answer: the JSON line of every event, and the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub events: Vec<Value>,
    pub summary: String,
}

/// The shared simulator (compiled once per test process, through the module cache).
pub fn simulator() -> &'static Simulator {
    static SIM: OnceLock<Simulator> = OnceLock::new();
    SIM.get_or_init(|| Simulator::new(Limits::default()).expect("the simulator loads"))
}

/// The native answer, as `syscage check --engine reference|bpf` computes it.
pub fn native(
    profiles: &[Spec],
    traces: &[(String, String)],
    target: &Target,
    kind: EngineKind,
) -> Result<Answer, String> {
    let mut layers = Vec::new();
    for spec in profiles {
        let p = match spec {
            Spec::Builtin(name) => builtin::lookup(name, target.runtime)
                .expect("a builtin")
                .map(profile::AnyProfile::Oci)
                .map_err(|e| e.to_string())?,
            Spec::Text(source, text) => {
                profile::parse_any(source, text, target.runtime, None).map_err(|e| e.to_string())?
            }
        };
        layers.push(Layer::Policy(
            policy::resolve_any(&p, target).map_err(|e| e.to_string())?,
        ));
    }
    let prepared = Prepared::new(layers, kind, target.kernel).map_err(|e| e.to_string())?;
    let evaluator = prepared.evaluator();
    let mut checked = Vec::new();
    for (source, text) in traces {
        let t = trace::parse(text, target.arch).map_err(|e| format!("{source}: {e}"))?;
        checked.extend(t.events.into_iter().map(|event| Checked {
            outcome: evaluator.evaluate(&event),
            event,
        }));
    }
    Ok(Answer {
        events: checked.iter().map(report::to_json).collect(),
        summary: report::summary(&checked),
    })
}

/// The simulator's answer to the same question (`engine`: "reference" or "bpf").
pub fn wasm(
    profiles: &[Spec],
    traces: &[(String, String)],
    target: &Target,
    engine: &str,
) -> Result<Answer, String> {
    let request = json!({
        "profiles": profiles.iter().map(Spec::request).collect::<Vec<_>>(),
        "traces": traces
            .iter()
            .map(|(source, text)| json!({ "source": source, "text": text }))
            .collect::<Vec<_>>(),
        "target": {
            "arch": target.arch.name(),
            "kernel": target.kernel.to_string(),
            "runtime": target.runtime.to_string(),
            "caps": target.caps,
        },
        "engine": engine,
    });
    let r = simulator()
        .call("check", &request)
        .map_err(|e| e.to_string())?;
    let events = r["events"].as_array().cloned().ok_or("no events")?;
    let summary = r["summary"].as_str().ok_or("no summary")?.to_string();
    if r["counts"]["events"] != json!(events.len()) {
        return Err(format!("counts disagree with the events: {}", r["counts"]));
    }
    Ok(Answer { events, summary })
}
