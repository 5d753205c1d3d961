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

/// [`to_json`]'s object written straight to `out` as compact JSON, byte for byte what
/// `serde_json::to_writer(out, &to_json(c))` writes, without building the value tree (a
/// map and a dozen allocations per event): `check --format json`'s hot path.
pub fn write_json(out: &mut Vec<u8>, c: &Checked) {
    let e = &c.event;
    out.extend_from_slice(b"{\"line\":");
    push_u64(out, e.line as u64);
    if let Some(pid) = e.pid {
        out.extend_from_slice(b",\"pid\":");
        push_u64(out, u64::from(pid));
    }
    out.extend_from_slice(b",\"arch\":");
    json_plain(out, e.arch().name());
    out.extend_from_slice(b",\"syscall\":");
    match (&e.name, e.sys.name()) {
        (Some(n), _) => json_str(out, n),
        (None, Some(n)) => json_plain(out, n),
        (None, None) => json_str(out, &e.sys.to_string()),
    }
    out.extend_from_slice(b",\"nr\":");
    push_u64(out, u64::from(e.sys.nr));
    out.extend_from_slice(b",\"args\":[");
    for (i, a) in e.args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match a {
            Some(v) => push_u64(out, *v),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
    if e.instruction_pointer != 0 {
        out.extend_from_slice(b",\"ip\":");
        push_u64(out, e.instruction_pointer);
    }
    out.push(b',');
    write_verdict_fields(out, c.outcome.worst());
    if let Outcome::Depends { possible, on } = &c.outcome {
        out.extend_from_slice(b",\"depends_on\":[");
        for (i, a) in on.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_u64(out, u64::from(*a));
        }
        out.extend_from_slice(b"],\"possible\":[");
        for (i, v) in possible.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            write_verdict_fields(out, v);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// `"ret":..,"action":..,"data":..,"rule":..[,"filter":..]`, as [`verdict_json`].
fn write_verdict_fields(out: &mut Vec<u8>, v: &Verdict) {
    let (name, data) = match action::Action::from_ret(v.ret) {
        Some(a) => (a.kind.oci_name(), u32::from(a.data)),
        None => ("UNKNOWN", v.ret & action::ret::DATA),
    };
    out.extend_from_slice(b"\"ret\":");
    push_u64(out, u64::from(v.ret));
    out.extend_from_slice(b",\"action\":");
    json_plain(out, name);
    out.extend_from_slice(b",\"data\":");
    push_u64(out, u64::from(data));
    out.extend_from_slice(b",\"rule\":");
    match &v.origin {
        crate::policy::Origin::Rule { pointer, .. }
        | crate::policy::Origin::Default { pointer } => json_str(out, pointer),
        other => json_str(out, &other.label()),
    }
    if let Some(f) = v.filter {
        out.extend_from_slice(b",\"filter\":");
        push_u64(out, f as u64);
    }
}

/// `v` in decimal, without the formatting machinery (a hot path in both engines).
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A string syscage's own tables spell (arch, syscall and action names: letters,
/// digits, `_`), which needs no escaping.
fn json_plain(out: &mut Vec<u8>, s: &'static str) {
    debug_assert!(
        s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{s}"
    );
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// A JSON string, escaped as serde_json escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
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
    let verdict = action::describe_outcome(ret);
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

#[cfg(test)]
mod json_tests {
    use super::*;
    use crate::arch::Arch;
    use crate::engine::{EngineKind, Layer, Prepared};
    use crate::policy::{resolve, Target};
    use crate::profile::{parse, KernelVersion, Runtime};

    const TRACES: [&str; 4] = [
        include_str!("../../examples/curl-version.strace"),
        include_str!("../../examples/denied.jsonl"),
        include_str!("../../examples/yy-curl.strace"),
        include_str!("../../examples/raw-id.strace"),
    ];

    /// `write_json` against serde_json writing `to_json`'s value (the independent
    /// means): every bundled event under runtime/default, a stack whose verdicts name
    /// their filter, verdicts that depend on unknown arguments, names that need
    /// escaping.
    #[test]
    fn write_json_is_byte_for_byte_to_json() {
        let k = KernelVersion {
            major: 6,
            minor: 18,
        };
        let target = Target::new(Arch::X86_64, k);
        let builtin = crate::builtin::lookup("runtime/default", Runtime::Runc)
            .unwrap()
            .unwrap();
        let odd = parse(
            "we\"ird\\.json",
            r#"{"defaultAction":"SCMP_ACT_TRACE","defaultErrnoRet":7,"syscalls":[
                {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":256,"op":"SCMP_CMP_MASKED_EQ","valueTwo":0}]},
                {"names":["mount","clone"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":2,"value":0,"op":"SCMP_CMP_EQ"}]},
                {"names":["openat"],"action":"SCMP_ACT_ERRNO","errnoRet":2}]}"#,
            Runtime::Crun,
        )
        .unwrap();
        let (mut seen, mut depends, mut filtered) = (0, 0, 0);
        for kind in [EngineKind::Reference, EngineKind::Bpf] {
            let layers = vec![
                Layer::Policy(resolve(&builtin, &target).unwrap()),
                Layer::Policy(resolve(&odd, &target).unwrap()),
            ];
            let prepared = Prepared::new(layers, kind, k).unwrap();
            let ev = prepared.evaluator();
            for text in TRACES {
                let mut events = crate::trace::parse(text, Arch::X86_64).unwrap().events;
                if let Some(e) = events.first_mut() {
                    e.name = Some("na\"me\u{1}".into());
                    e.pid = Some(7);
                    e.instruction_pointer = u64::MAX;
                }
                for event in events {
                    let c = Checked {
                        outcome: ev.evaluate(&event),
                        event,
                    };
                    depends += usize::from(matches!(c.outcome, Outcome::Depends { .. }));
                    filtered += usize::from(c.outcome.worst().filter.is_some());
                    let mut direct = Vec::new();
                    write_json(&mut direct, &c);
                    let via_value = serde_json::to_string(&to_json(&c)).unwrap();
                    assert_eq!(String::from_utf8(direct).unwrap(), via_value);
                    seen += 1;
                }
            }
        }
        assert!(
            seen > 500 && depends > 0 && filtered > 0,
            "{seen} {depends} {filtered}"
        );
    }
}
