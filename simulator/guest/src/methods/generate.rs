//! `generate`: the tightest profile for traces, as `syscage generate` writes it (the
//! same [`syscage_core::generate::build`]: generated or widened from a base, written,
//! read back, resolved, replayed and compiled), for the playground's "generate a
//! profile from this trace".

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};
use syscage_core::action::{describe_ret, Action};
use syscage_core::generate::output::OutputFormat;
use syscage_core::generate::{self, ArgMode, Options, Reason};
use syscage_core::profile::AnyProfile;
use syscage_core::runtime::RuntimeRelease;
use syscage_core::trace::TraceReader;

use crate::error::ApiError;
use crate::input::{self, Data, Input, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub traces: Vec<Input>,
    #[serde(default)]
    pub target: TargetSpec,
    /// A profile to widen instead of starting from nothing.
    #[serde(default)]
    pub base: Option<Input>,
    /// `errno` (default), `kill-process`, `kill-thread`, `log`.
    #[serde(default)]
    pub default_action: Option<String>,
    /// `none` (default) or `observed`.
    #[serde(default)]
    pub args: Option<String>,
    /// `oci` (default), `docker`, `seccompiler`, `spo`.
    #[serde(default)]
    pub format: Option<String>,
    /// Add the runtime's own calls (default true; false for seccompiler).
    #[serde(default)]
    pub runtime_calls: Option<bool>,
    #[serde(default)]
    pub no_new_privs: bool,
    #[serde(default)]
    pub name: Option<String>,
}

fn default_action(s: Option<&str>) -> Result<Action, ApiError> {
    Ok(match s.unwrap_or("errno") {
        "errno" => Action::errno(1),
        "kill-process" => Action::KILL_PROCESS,
        "kill-thread" => Action::KILL_THREAD,
        "log" => Action::LOG,
        other => {
            return Err(ApiError::field(
                "/default_action",
                format!("unknown default action {other:?} (expected errno, kill-process, kill-thread or log)"),
            ))
        }
    })
}

pub fn run(mut req: Request, data: Data<'_>) -> Result<Value, ApiError> {
    let target = req.target.target()?;
    let format: OutputFormat = req
        .format
        .as_deref()
        .unwrap_or("oci")
        .parse()
        .map_err(|m: String| ApiError::field("/format", m))?;
    let args = match req.args.as_deref().unwrap_or("none") {
        "none" => ArgMode::None,
        "observed" => ArgMode::Observed,
        other => {
            return Err(ApiError::field(
                "/args",
                format!("unknown argument mode {other:?} (expected none or observed)"),
            ))
        }
    };
    let default_action = default_action(req.default_action.as_deref())?;
    let base = match &req.base {
        None => None,
        Some(b) => match input::profile(b, "/base", target.runtime, data)? {
            AnyProfile::Oci(p) => Some(p),
            AnyProfile::Seccompiler(_) => {
                return Err(ApiError::field(
                    "/base",
                    "a seccompiler file cannot be widened; give an OCI or Docker profile",
                ))
            }
        },
    };
    let mut events = Vec::new();
    let mut seen = HashSet::new();
    let mut sources = Vec::new();
    let mut total = 0usize;
    let mut batch = Vec::new();
    for (i, mut t) in std::mem::take(&mut req.traces).into_iter().enumerate() {
        let (source, bytes) = input::trace(&mut t, &format!("/traces/{i}"), data)?;
        let mut reader = TraceReader::new(target.arch);
        reader
            .feed(&bytes, &mut batch)
            .and_then(|()| reader.finish(&mut batch))
            .map_err(|e| input::trace_error(&source, &e))?;
        for e in batch.drain(..) {
            total += 1;
            if e.sys.name().is_none() {
                return Err(ApiError {
                    source: Some(source.clone()),
                    line: Some(e.line),
                    ..ApiError::new(format!(
                        "{source}: line {}: {} on {} has no name, and a profile can only allow \
                         syscalls by name",
                        e.line, e.sys, e.sys.arch
                    ))
                });
            }
            if seen.insert((e.sys, e.args)) {
                events.push(e);
            }
        }
        sources.push(source);
    }
    let runtime = req
        .runtime_calls
        .unwrap_or(format != OutputFormat::Seccompiler)
        .then_some((
            RuntimeRelease {
                runtime: target.runtime,
                release: target.release,
            },
            req.no_new_privs,
        ));
    let opts = Options {
        default_action,
        args,
        runtime,
        native: target.arch,
        sources,
    };
    let name = req.name.as_deref().unwrap_or("generated");
    let built = generate::build(&events, &opts, base.as_ref(), format, name, &target)
        .map_err(|e| ApiError::new(e.to_string()))?;
    let added: Vec<Value> = built
        .generated
        .added
        .iter()
        .map(|a| match &a.reason {
            Reason::Traced { count, arches } => json!({
                "name": a.name,
                "condition": a.cond.map(|c| c.to_string()),
                "reason": "traced",
                "count": count,
                "arches": arches.iter().map(|a| a.name()).collect::<Vec<_>>(),
            }),
            Reason::Startup(c) => json!({
                "name": a.name,
                "condition": null,
                "reason": format!("runtime: {}", c.why),
            }),
        })
        .collect();
    Ok(json!({
        "text": built.rendered.text,
        "comment": built.rendered.comment,
        "format": built.format.name(),
        "verified": built.failures.is_empty(),
        "events": total,
        "distinct": events.len(),
        "architectures": built.policy.arches.iter().map(|a| a.arch.name()).collect::<Vec<_>>(),
        "default": describe_ret(built.policy.default.to_ret()),
        "added": added,
        "notes": built.generated.notes,
        "instructions": built.instructions,
        "denied": built.failures.iter().map(|u| json!({"what": u.what, "verdict": u.verdict})).collect::<Vec<_>>(),
    }))
}
