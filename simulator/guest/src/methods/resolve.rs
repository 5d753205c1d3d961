//! `resolve`, `explain` and `lint`: what a profile becomes for a target. `resolve`
//! returns the policy IR as data (per architecture, per syscall: an unconditional
//! action or libseccomp's decision tree, each action with its provenance), `explain`
//! the same as indented text for people, `lint` the warnings and the review findings
//! (`syscage_core::lint`).

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{json, Value};
use syscage_core::action::describe_ret;
use syscage_core::policy::{ArchPolicy, Branch, Decision, Node, Policy, SyscallPolicy};

use super::{decided_json, ret_json};
use crate::error::{diagnostic_json, ApiError};
use crate::input::{Data, Input, TargetSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub profile: Input,
    #[serde(default)]
    pub target: TargetSpec,
    /// Only this syscall (a name, or a number) in every architecture.
    pub syscall: Option<String>,
}

fn load(req: &Request, data: Data<'_>) -> Result<Policy, ApiError> {
    Ok(req.target.resolve(&req.profile, "/profile", data)?.policy)
}

fn wanted(req: &Request, s: &SyscallPolicy) -> bool {
    match &req.syscall {
        None => true,
        Some(w) => *w == s.name || w.parse::<u32>().is_ok_and(|n| n == s.nr),
    }
}

fn node_json(n: &Node) -> Value {
    json!({
        "test": n.to_string(),
        "arg": n.arg,
        "word": if n.hi { "high" } else { "low" },
        "op": format!("{:?}", n.op),
        "mask": n.mask,
        "datum": n.datum,
        "true": branch_json(&n.on_true),
        "false": branch_json(&n.on_false),
    })
}

/// `"next"`, an action object, or an array of nodes (a deeper level).
fn branch_json(b: &Branch) -> Value {
    match b {
        Branch::Next => json!("next"),
        Branch::Fail => json!("fail"),
        Branch::Decide(a, origin) => decided_json(*a, origin),
        Branch::Sub(level) => Value::Array(level.iter().map(node_json).collect()),
    }
}

fn arch_json(req: &Request, part: &ArchPolicy) -> Value {
    let syscalls: Vec<Value> = part
        .syscalls
        .iter()
        .filter(|s| wanted(req, s))
        .map(|s| {
            let mut v = json!({"nr": s.nr, "name": s.name});
            match &s.decision {
                Decision::Always(a, origin) => v["always"] = decided_json(*a, origin),
                Decision::Tree(level) => {
                    v["tree"] = Value::Array(level.iter().map(node_json).collect())
                }
            }
            if s.libseccomp_codegen_may_differ {
                v["libseccomp_codegen_may_differ"] = json!(true);
            }
            v
        })
        .collect();
    json!({
        "arch": part.arch.name(),
        "enosys_above": part.enosys_above,
        "bypass": part.bypass,
        "syscalls": syscalls,
    })
}

pub fn resolve(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    let p = load(req, data)?;
    Ok(json!({
        "source": p.source,
        "unconfined": p.unconfined,
        "default": decided_json(p.default, &p.default_origin),
        "bad_arch": Value::Object(ret_json(p.bad_arch.to_ret())),
        "arches": p.arches.iter().map(|a| arch_json(req, a)).collect::<Vec<_>>(),
        "warnings": p.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
    }))
}

fn explain_level(level: &[Node], depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for n in level {
        for (word, b) in [("if", &n.on_true), ("else", &n.on_false)] {
            let head = if word == "if" {
                format!("{pad}if {n}:")
            } else {
                format!("{pad}else:")
            };
            match b {
                Branch::Next => {
                    let _ = writeln!(out, "{head} next");
                }
                Branch::Fail => {
                    let _ = writeln!(out, "{head} fail (on to the next top-level test)");
                }
                Branch::Decide(a, origin) => {
                    let _ = writeln!(
                        out,
                        "{head} {} by {}",
                        describe_ret(a.to_ret()),
                        origin.explain()
                    );
                }
                Branch::Sub(sub) => {
                    let _ = writeln!(out, "{head}");
                    explain_level(sub, depth + 1, out);
                }
            }
        }
    }
}

pub fn explain(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    let p = load(req, data)?;
    let mut out = String::new();
    let t = &p.target;
    let _ = writeln!(
        out,
        "{} for {} (kernel {}, {}, {} capabilities)",
        p.source,
        t.arch,
        t.kernel,
        t.runtime,
        t.caps.len()
    );
    if p.unconfined {
        let _ = writeln!(out, "unconfined: installs no filter; everything is allowed");
        return Ok(json!({"text": out}));
    }
    let _ = writeln!(
        out,
        "default: {} by {}",
        describe_ret(p.default.to_ret()),
        p.default_origin.explain()
    );
    let _ = writeln!(
        out,
        "other architectures: {}",
        describe_ret(p.bad_arch.to_ret())
    );
    for part in &p.arches {
        let _ = writeln!(out, "{}:", part.arch);
        for s in part.syscalls.iter().filter(|s| wanted(req, s)) {
            match &s.decision {
                Decision::Always(a, origin) => {
                    let _ = writeln!(
                        out,
                        "  {} ({}): {} by {}",
                        s.name,
                        s.nr,
                        describe_ret(a.to_ret()),
                        origin.explain()
                    );
                }
                Decision::Tree(level) => {
                    let _ = writeln!(out, "  {} ({}):", s.name, s.nr);
                    explain_level(level, 2, &mut out);
                    let _ = writeln!(
                        out,
                        "    otherwise: {} by {}",
                        describe_ret(p.default.to_ret()),
                        p.default_origin.explain()
                    );
                }
            }
        }
        if let Some(max) = part.enosys_above {
            let _ = writeln!(
                out,
                "  numbers above {max}: ERRNO(ENOSYS) by runc's ENOSYS stub"
            );
        }
        for nr in &part.bypass {
            let _ = writeln!(out, "  {nr}: never reaches seccomp on this kernel");
        }
    }
    for w in &p.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    Ok(json!({"text": out}))
}

pub fn lint(req: &Request, data: Data<'_>) -> Result<Value, ApiError> {
    let resolved = req.target.resolve(&req.profile, "/profile", data)?;
    let p = resolved.policy;
    // The review findings (as `syscage lint`), for OCI and Docker profiles.
    let findings =
        match crate::input::profile(&req.profile, "/profile", resolved.target.runtime, data)? {
            syscage_core::profile::AnyProfile::Oci(profile) => {
                let text = crate::input::profile_text(&req.profile, "/profile", data)?;
                syscage_core::lint::profile(&profile, &text, &resolved.target)
            }
            syscage_core::profile::AnyProfile::Seccompiler(_) => Vec::new(),
        };
    Ok(json!({
        "source": p.source,
        "warnings": p.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        "findings": findings.iter().map(syscage_core::lint::Finding::to_json).collect::<Vec<_>>(),
    }))
}
