//! Verdicts for people and for machines: the text summary `syscage check` prints and
//! its `--format json` lines.
//!
//! This module formats; it decides nothing. The verdicts come from an engine
//! ([`crate::eval`] or [`crate::bpf`]), the events from [`crate::trace`].

use std::collections::{BTreeMap, HashMap};
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

/// The human summary of `checked` (see [`Summary`]).
pub fn summary(checked: &[Checked]) -> String {
    let mut s = Summary::default();
    for c in checked {
        s.add(c);
    }
    s.render()
}

/// How many groups of not-allowed events the summary lists one by one; events of
/// further groups are counted together (only a hostile trace has this many distinct
/// syscall/verdict/rule combinations).
pub const MAX_GROUPS: usize = 10_000;

/// A not-allowed group: syscall name, `ret`, the deciding rule's explanation, and
/// whether the verdict depends on unknown arguments.
type GroupKey = (String, u32, String, bool);

/// The human summary, accumulated an event at a time: counts per action, then every
/// event that was not allowed, grouped by syscall and verdict, with the rule that
/// decided it. Memory grows with the number of distinct groups (at most
/// [`MAX_GROUPS`]), not with the number of events.
#[derive(Debug, Default)]
pub struct Summary {
    total: usize,
    permitted: usize,
    uncertain: usize,
    counts: BTreeMap<(i32, &'static str), usize>,
    index: HashMap<GroupKey, usize>,
    /// Groups in order of their first event: key, count, first event.
    groups: Vec<(GroupKey, usize, Checked)>,
    /// Events of groups past [`MAX_GROUPS`].
    ungrouped: usize,
}

impl Summary {
    pub fn add(&mut self, c: &Checked) {
        self.total += 1;
        let w = c.outcome.worst();
        *self
            .counts
            .entry((action::precedence(w.ret), action_label(w.ret)))
            .or_default() += 1;
        let depends = matches!(c.outcome, Outcome::Depends { .. });
        self.uncertain += usize::from(depends);
        if c.permitted() {
            self.permitted += 1;
            return;
        }
        let key = (c.event.syscall_name(), w.ret, w.origin.explain(), depends);
        if let Some(&i) = self.index.get(&key) {
            self.groups[i].1 += 1;
        } else if self.groups.len() < MAX_GROUPS {
            self.index.insert(key.clone(), self.groups.len());
            self.groups.push((key, 1, c.clone()));
        } else {
            self.ungrouped += 1;
        }
    }

    /// Events added.
    pub fn events(&self) -> usize {
        self.total
    }

    /// Events certainly allowed to run.
    pub fn permitted(&self) -> usize {
        self.permitted
    }

    /// Events whose verdict depends on arguments the trace does not show.
    pub fn uncertain(&self) -> usize {
        self.uncertain
    }

    /// Events per action (each at its worst possible verdict), strongest first.
    pub fn actions(&self) -> impl DoubleEndedIterator<Item = (&'static str, usize)> + '_ {
        self.counts.iter().map(|((_, name), n)| (*name, *n))
    }

    /// The text `syscage check` prints after its header line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let total = self.total;
        let _ = writeln!(out, "{total} events");
        // Weakest first: the allowed events lead.
        for (name, n) in self.actions().rev() {
            let _ = writeln!(out, "  {name:<13} {n:>8}");
        }
        if self.uncertain > 0 {
            let _ = writeln!(
                out,
                "  ({} depend on arguments the trace does not show; counted at their worst)",
                self.uncertain
            );
        }
        if total == 0 {
            let _ = writeln!(out, "\nthe trace has no events");
            return out;
        }
        if self.groups.is_empty() {
            let _ = writeln!(out, "\nevery event is allowed");
            return out;
        }
        let _ = writeln!(out, "\nnot allowed:");
        for ((name, ret, why, depends), n, c) in &self.groups {
            render_group(&mut out, name, *ret, why, *depends, *n, c);
        }
        if self.ungrouped > 0 {
            let _ = writeln!(
                out,
                "  ... and {} more not-allowed events in groups past the first {MAX_GROUPS}",
                self.ungrouped
            );
        }
        out
    }
}

fn render_group(
    out: &mut String,
    name: &str,
    ret: u32,
    why: &str,
    depends: bool,
    n: usize,
    c: &Checked,
) {
    let times = if n > 1 {
        format!(" x{n}")
    } else {
        String::new()
    };
    let verdict = action::describe_ret(ret);
    let _ = write!(
        out,
        "  {name}({}){times} -> {verdict} by {why}",
        render_args(&c.event)
    );
    if let Some(f) = c.outcome.worst().filter {
        let _ = write!(out, " [filter {f}]");
    }
    let _ = writeln!(out, "  (first at line {})", c.event.line);
    if depends {
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
    if action::Action::from_ret(ret).is_some_and(|a| a.kind == ActionKind::Trace) {
        let _ = writeln!(
            out,
            "      (without a tracer attached, TRACE returns ENOSYS)"
        );
    }
}
