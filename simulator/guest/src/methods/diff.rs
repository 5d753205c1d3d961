//! `diff`: the verdict-level difference between two profiles, as `syscage diff`
//! computes it ([`syscage_core::diff`]), for the playground's second profile pane.

use serde::Deserialize;
use serde_json::{json, Value};
use syscage_core::diff;

use crate::error::ApiError;
use crate::input::{Data, Input, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub a: Input,
    pub b: Input,
    #[serde(default)]
    pub target: TargetSpec,
    /// Only where B allows what A denies.
    #[serde(default)]
    pub subset: bool,
}

/// At most this many changes are listed (the counts are always whole).
const MAX_LISTED: usize = 2000;

pub fn run(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    let a = req.target.resolve(&req.a, "/a", data)?.policy;
    let b = req.target.resolve(&req.b, "/b", data)?.policy;
    let d = diff::diff(std::slice::from_ref(&a), std::slice::from_ref(&b));
    let shown: Vec<&diff::Change> = d
        .changes
        .iter()
        .filter(|c| !req.subset || c.widens())
        .collect();
    let list: Vec<Value> = shown.iter().take(MAX_LISTED).map(|c| c.to_json()).collect();
    Ok(json!({
        "a": a.source,
        "b": b.source,
        "equal": d.changes.is_empty(),
        "subset": !d.changes.iter().any(diff::Change::widens),
        "approximated": d.approximated,
        "events": d.events,
        "total": shown.len(),
        "changes": list,
    }))
}
