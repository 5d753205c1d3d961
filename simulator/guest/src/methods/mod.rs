//! One module a method family; each takes its parsed request and returns its result
//! (the `result` of the envelope). Shapes are documented in `simulator/ABI.md`.

pub mod check;
pub mod compile;
pub mod diff;
pub mod disasm;
pub mod generate;
pub mod resolve;

use serde_json::{json, Map, Value};
use syscage_core::action::{self, Action};
use syscage_core::policy::Origin;

/// `{"action", "data", "ret"}` for a return value (`UNKNOWN` for a value no action
/// names: the kernel treats it as KILL_PROCESS).
pub fn ret_json(ret: u32) -> Map<String, Value> {
    let mut m = Map::new();
    let (name, data) = match Action::from_ret(ret) {
        Some(a) => (a.kind.oci_name(), u32::from(a.data)),
        None => ("UNKNOWN", ret & action::ret::DATA),
    };
    m.insert("action".into(), json!(name));
    m.insert("data".into(), json!(data));
    m.insert("ret".into(), json!(ret));
    m.insert("describe".into(), json!(action::describe_ret(ret)));
    m
}

/// An action with what decided it: `ret_json` plus `rule` (the provenance label, as
/// in verdicts) and `why` (the explanation for people).
pub fn decided_json(a: Action, origin: &Origin) -> Value {
    let mut m = ret_json(a.to_ret());
    m.insert("rule".into(), json!(origin.label()));
    m.insert("why".into(), json!(origin.explain()));
    Value::Object(m)
}
