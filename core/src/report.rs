//! Verdicts for people and for machines: the text summary `syscage check` prints and
//! its `--format json` lines.
//!
//! This module formats; it decides nothing. The verdicts come from an engine
//! ([`crate::eval`] or [`crate::bpf`]), the events from [`crate::trace`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::action::{self, ActionKind};
use crate::eval::{Outcome, Verdict};
use crate::event::Event;

/// One event and the engine's answer for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub event: Event,
    pub outcome: Outcome,
}

impl Checked {
    /// Whether the call certainly goes ahead (every possible verdict permits it).
    pub fn permitted(&self) -> bool {
        match &self.outcome {
            Outcome::Known(v) => v.permits(),
            Outcome::Depends { possible, .. } => possible.iter().all(Verdict::permits),
        }
    }
}

fn action_label(ret: u32) -> &'static str {
    match action::Action::from_ret(ret) {
        Some(a) => a.kind.short_name(),
        None => "UNKNOWN",
    }
}

fn verdict_json(v: &Verdict) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ret".into(), json!(v.ret));
    let (name, data) = match action::Action::from_ret(v.ret) {
        Some(a) => (a.kind.oci_name(), json!(a.data)),
        None => ("UNKNOWN", json!(v.ret & action::ret::DATA)),
    };
    m.insert("action".into(), json!(name));
    m.insert("data".into(), data);
    m.insert("rule".into(), json!(v.origin.label()));
    if let Some(f) = v.filter {
        m.insert("filter".into(), json!(f));
    }
    m
}

/// The JSON object for one checked event: the event's fields plus `ret`, `action` (OCI
/// name), `data`, `rule`; for an outcome that depends on unknown arguments, the worst
/// case in those fields plus `depends_on` and `possible`.
pub fn to_json(c: &Checked) -> Value {
    let e = &c.event;
    let mut m = Map::new();
    m.insert("line".into(), json!(e.line));
    if let Some(pid) = e.pid {
        m.insert("pid".into(), json!(pid));
    }
    m.insert("arch".into(), json!(e.arch().name()));
    m.insert("syscall".into(), json!(e.syscall_name()));
    m.insert("nr".into(), json!(e.sys.nr));
    m.insert(
        "args".into(),
        Value::Array(
            e.args
                .iter()
                .map(|a| a.map_or(Value::Null, |v| json!(v)))
                .collect(),
        ),
    );
    if e.instruction_pointer != 0 {
        m.insert("ip".into(), json!(e.instruction_pointer));
    }
    m.extend(verdict_json(c.outcome.worst()));
    if let Outcome::Depends { possible, on } = &c.outcome {
        m.insert("depends_on".into(), json!(on));
        m.insert(
            "possible".into(),
            Value::Array(
                possible
                    .iter()
                    .map(|v| Value::Object(verdict_json(v)))
                    .collect(),
            ),
        );
    }
    Value::Object(m)
}

/// `40, 0x1, ?` — the arguments up to the last known one; `?` for unknown ones.
fn render_args(e: &Event) -> String {
    let last = e
        .args
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |i| i + 1);
    e.args[..last]
        .iter()
        .map(|a| match a {
            Some(v) if *v < 4096 => v.to_string(),
            Some(v) => format!("{v:#x}"),
            None => "?".into(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human summary: counts per action, then every event that was not allowed,
/// grouped by syscall and verdict, with the rule that decided it.
pub fn summary(checked: &[Checked]) -> String {
    let mut out = String::new();
    let mut counts: BTreeMap<(i32, &'static str), usize> = BTreeMap::new();
    let mut uncertain = 0usize;
    for c in checked {
        let w = c.outcome.worst();
        *counts
            .entry((action::precedence(w.ret), action_label(w.ret)))
            .or_default() += 1;
        if matches!(c.outcome, Outcome::Depends { .. }) {
            uncertain += 1;
        }
    }
    let total = checked.len();
    let _ = writeln!(out, "{total} events");
    for ((_, name), n) in counts.iter().rev() {
        let _ = writeln!(out, "  {name:<13} {n:>8}");
    }
    if uncertain > 0 {
        let _ = writeln!(
            out,
            "  ({uncertain} depend on arguments the trace does not show; counted at their worst)"
        );
    }
    // Group the events that are not certainly allowed.
    type Key = (String, u32, String, bool);
    let mut groups: BTreeMap<Key, (usize, usize, &Checked)> = BTreeMap::new();
    let mut order = Vec::new();
    for c in checked.iter().filter(|c| !c.permitted()) {
        let w = c.outcome.worst();
        let key = (
            c.event.syscall_name(),
            w.ret,
            w.origin.explain(),
            matches!(c.outcome, Outcome::Depends { .. }),
        );
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (0, c.event.line, c)
        });
        entry.0 += 1;
    }
    if total == 0 {
        let _ = writeln!(out, "\nthe trace has no events");
        return out;
    }
    if groups.is_empty() {
        let _ = writeln!(out, "\nevery event is allowed");
        return out;
    }
    let _ = writeln!(out, "\nnot allowed:");
    for key in &order {
        let (n, line, c) = groups[key];
        let (name, ret, why, depends) = key;
        let times = if n > 1 {
            format!(" x{n}")
        } else {
            String::new()
        };
        let verdict = action::describe_ret(*ret);
        let _ = write!(
            out,
            "  {name}({}){times} -> {verdict} by {why}",
            render_args(&c.event)
        );
        if let Some(f) = c.outcome.worst().filter {
            let _ = write!(out, " [filter {f}]");
        }
        let _ = writeln!(out, "  (first at line {line})");
        if *depends {
            if let Outcome::Depends { possible, on } = &c.outcome {
                let args: Vec<String> = on.iter().map(|a| format!("args[{a}]")).collect();
                let alts: Vec<String> = possible
                    .iter()
                    .map(|v| format!("{} by {}", v.describe(), v.origin.label()))
                    .collect();
                let _ = writeln!(
                    out,
                    "      depends on {} (not in the trace): could be {}",
                    args.join(", "),
                    alts.join(" | ")
                );
            }
        }
        if action::Action::from_ret(*ret).is_some_and(|a| a.kind == ActionKind::Trace) {
            let _ = writeln!(
                out,
                "      (without a tracer attached, TRACE returns ENOSYS)"
            );
        }
    }
    out
}
