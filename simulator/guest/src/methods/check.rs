//! `check`: replay traces against a stack of profiles and raw programs, exactly as
//! `syscage check` does natively. Per-event results use the core's JSON report
//! ([`syscage_core::report::to_json`]) and the summary its text report, so the native
//! and sandboxed answers are comparable byte for byte.
//!
//! Two ways in: `check` takes the traces whole in one call; `check_begin`,
//! `check_feed` and `check_end` take them in chunks of any size over several calls on
//! one instance (ABI.md, "Streaming"), with the guest's memory bounded by the chunk
//! and the report rather than the trace. Both run the same [`Stream`].

use std::cell::RefCell;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use syscage_core::action::Action;
use syscage_core::arch::Arch;
use syscage_core::bpf;
use syscage_core::engine::{EngineKind, Layer, Prepared};
use syscage_core::event::Event;
use syscage_core::report::{self, Checked, Summary};
use syscage_core::trace::TraceReader;

use crate::error::{diagnostic_json, ApiError};
use crate::input::{self, Data, Input, TargetSpec};
use crate::Answer;

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

/// A check in progress: the prepared stack, the report so far and the trace being
/// read.
struct Stream {
    prepared: Prepared,
    default_arch: Arch,
    /// Whether per-event results are returned.
    events: bool,
    summary: Summary,
    /// The trace being read: its name and reader.
    trace: Option<(String, TraceReader)>,
    /// Scratch for the events a chunk completes.
    scratch: Vec<Event>,
}

thread_local! {
    /// The `check_begin` ... `check_end` stream of this instance (one at a time).
    static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
}

/// Prepares the stack and the head of the result (everything but counts, summary and
/// events).
fn begin(req: &Request, data: Data<'_>) -> Result<(Stream, Map<String, Value>), ApiError> {
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
            "runtime": target.runtime_release().to_string(),
            "libseccomp": target.libseccomp.library,
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
    if req.stats && kind == EngineKind::Bpf {
        head.insert("stats".into(), stats(&prepared, target.arch));
    }
    let stream = Stream {
        prepared,
        default_arch: target.arch,
        events: req.events,
        summary: Summary::default(),
        trace: None,
        scratch: Vec::new(),
    };
    Ok((stream, head))
}

impl Stream {
    /// Reads `chunk` of the trace `source` (`last`: the trace ends with it), checking
    /// the events it completes: their JSON goes to `events_out` when per-event results
    /// were asked for — comma-separated (array elements), or one a line with `lines` —
    /// and warnings to `warnings`.
    fn feed(
        &mut self,
        source: &str,
        chunk: &[u8],
        last: bool,
        lines: bool,
        events_out: &mut Vec<u8>,
        warnings: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        match &self.trace {
            Some((open, _)) if open != source => {
                return Err(ApiError::field(
                    "/source",
                    format!(
                        "trace {open:?} is still open: its last chunk must say \"last\": true \
                         before {source:?} starts"
                    ),
                ))
            }
            Some(_) => {}
            None => self.trace = Some((source.to_string(), TraceReader::new(self.default_arch))),
        }
        let Some((_, reader)) = self.trace.as_mut() else {
            return Ok(());
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut read = reader.feed(chunk, &mut scratch);
        if last && read.is_ok() {
            read = reader.finish(&mut scratch);
        }
        warnings.extend(reader.take_warnings().iter().map(
            |w| json!({"source": source, "line": w.line, "message": format!("{source}: {w}")}),
        ));
        read.map_err(|e| input::trace_error(source, &e))?;
        let evaluator = self.prepared.evaluator();
        if self.events {
            events_out.reserve(scratch.len() * 256);
        }
        for event in scratch.drain(..) {
            let c = Checked {
                outcome: evaluator.evaluate(&event),
                event,
            };
            self.summary.add(&c);
            if self.events {
                if !lines && !events_out.is_empty() {
                    events_out.push(b',');
                }
                report::write_json(events_out, &c);
                if lines {
                    events_out.push(b'\n');
                }
            }
        }
        self.scratch = scratch;
        if last {
            self.trace = None;
        }
        Ok(())
    }
}

/// `check`: the whole request in one call.
pub fn run(mut req: Request, data: Data<'_>) -> Result<Vec<u8>, ApiError> {
    let (mut stream, head) = begin(&req, data)?;
    let mut events = Vec::new();
    let mut trace_warnings = Vec::new();
    for (i, mut t) in std::mem::take(&mut req.traces).into_iter().enumerate() {
        let (source, bytes) = input::trace(&mut t, &format!("/traces/{i}"), data)?;
        drop(t);
        stream.feed(
            &source,
            &bytes,
            true,
            false,
            &mut events,
            &mut trace_warnings,
        )?;
    }
    let all = (events, stream.summary.events());
    answer(
        head,
        trace_warnings,
        all,
        Some(&stream.summary),
        req.events,
        false,
    )
    .map(|a| a.result)
}

/// `check_begin`: a `check` request without traces; the stack is prepared and kept for
/// the `check_feed` calls that follow.
pub fn begin_stream(req: Request, data: Data<'_>) -> Result<Vec<u8>, ApiError> {
    if !req.traces.is_empty() {
        return Err(ApiError::field(
            "/traces",
            "check_begin takes no traces: send them with check_feed",
        ));
    }
    let (stream, head) = begin(&req, data)?;
    STREAM.with(|s| *s.borrow_mut() = Some(stream));
    serde_json::to_vec(&Value::Object(head))
        .map_err(|e| ApiError::new(format!("cannot encode: {e}")))
}

/// `check_feed`'s request: which trace the data buffer continues, and whether it ends
/// there.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    /// The trace's name (messages and warnings use it).
    pub source: String,
    /// This chunk is the trace's last.
    #[serde(default)]
    pub last: bool,
    /// Events as JSON Lines after the envelope rather than in `events` (ABI.md).
    #[serde(default)]
    pub lines: bool,
}

/// `check_end`'s request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    /// As in [`Feed`].
    #[serde(default)]
    pub lines: bool,
}

/// The result object of `check`, `check_feed` and `check_end`: `head`'s fields, the
/// warnings, the counts and summary once the check is over, and the events (the
/// bytes [`Stream::feed`] wrote, `count` of them) in the form asked for — last, as raw
/// bytes: a large trace must not need a tree of values.
fn answer(
    mut head: Map<String, Value>,
    warnings: Vec<Value>,
    (events, count): (Vec<u8>, usize),
    over: Option<&Summary>,
    with_events: bool,
    lines: bool,
) -> Result<Answer, ApiError> {
    let encode = |e: serde_json::Error| ApiError::new(format!("cannot encode: {e}"));
    head.insert("trace_warnings".into(), Value::Array(warnings));
    if let Some(summary) = over {
        head.insert("counts".into(), counts(summary));
        head.insert("summary".into(), json!(summary.render()));
    }
    if lines {
        head.insert("lines".into(), json!(count));
        return Ok(Answer {
            result: serde_json::to_vec(&Value::Object(head)).map_err(encode)?,
            trailer: events,
        });
    }
    let mut out = serde_json::to_vec(&Value::Object(head)).map_err(encode)?;
    if with_events {
        out.pop(); // the closing brace
        out.extend_from_slice(b",\"events\":[");
        out.extend_from_slice(&events);
        out.extend_from_slice(b"]}");
    }
    Ok(Answer::from(out))
}

/// `check_feed`: the next chunk of a trace (the call's whole data buffer).
pub fn feed_stream(req: Feed, data: Data<'_>) -> Result<Answer, ApiError> {
    let chunk = data.unwrap_or_default();
    STREAM.with(|s| {
        let mut s = s.borrow_mut();
        let stream = s.as_mut().ok_or_else(|| {
            ApiError::new("check_feed without check_begin: no check is in progress")
        })?;
        let mut events = Vec::new();
        let mut warnings = Vec::new();
        let before = stream.summary.events();
        let fed = stream.feed(
            &req.source,
            chunk,
            req.last,
            req.lines,
            &mut events,
            &mut warnings,
        );
        if let Err(e) = fed {
            *s = None; // the check is over
            return Err(e);
        }
        let count = stream.summary.events() - before;
        answer(Map::new(), warnings, (events, count), None, true, req.lines)
    })
}

/// `check_end`: ends the open trace, if any, and answers the counts and summary.
pub fn end_stream(req: End) -> Result<Answer, ApiError> {
    let Some(mut stream) = STREAM.with(|s| s.borrow_mut().take()) else {
        return Err(ApiError::new(
            "check_end without check_begin: no check is in progress",
        ));
    };
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let open = stream.trace.as_ref().map(|(source, _)| source.clone());
    let before = stream.summary.events();
    if let Some(source) = open {
        stream.feed(&source, &[], true, req.lines, &mut events, &mut warnings)?;
    }
    let count = stream.summary.events() - before;
    let with_events = stream.events;
    answer(
        Map::new(),
        warnings,
        (events, count),
        Some(&stream.summary),
        with_events,
        req.lines,
    )
}

/// `{"events", "permitted", "not_permitted", "uncertain", "actions": {NAME: n}}`, the
/// actions strongest first, each event counted at its worst possible verdict.
fn counts(s: &Summary) -> Value {
    let actions: Map<String, Value> = s
        .actions()
        .map(|(name, n)| (name.to_string(), json!(n)))
        .collect();
    json!({
        "events": s.events(),
        "permitted": s.permitted(),
        "not_permitted": s.events() - s.permitted(),
        "uncertain": s.uncertain(),
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
