//! The profiles a live filter stack is compared with (`status --match`, `dump
//! --match`, `audit`): each named profile resolved once per runtime, and the stacks
//! that are verdict-equivalent to them (`syscage_core::identify`).

use anyhow::Result;
use syscage_core::bpf::{self, Program, ValidProgram};
use syscage_core::identify::{self, Mismatch};
use syscage_core::policy::Policy;
use syscage_core::profile::Runtime;
use syscage_core::runtime::RuntimeRelease;

/// One profile as one runtime installs it.
pub struct Candidate {
    /// "NAME as RUNTIME installs it (LIBSECCOMP, N capabilities)".
    pub what: String,
    pub policy: Policy,
}

/// What a stack is.
pub struct Identified {
    /// Every candidate it is equivalent to.
    pub matches: Vec<String>,
    /// Where it first differs from the first candidate it is not, for a stack with no
    /// match.
    pub closest: Option<(String, Mismatch)>,
}

/// Every builtin except `unconfined` (each engine's default by release,
/// `runtime/default`).
pub fn builtins() -> Vec<String> {
    syscage_core::builtin::names()
        .into_iter()
        .filter(|n| n != "unconfined")
        .collect()
}

/// `names` resolved for the target, once for each runtime (both runc and crun when
/// `--runtime` is not given). A profile that does not resolve for a runtime is not a
/// candidate for it.
pub fn resolve(names: &[String], target: &crate::load::TargetArgs) -> Result<Vec<Candidate>> {
    let runtimes: Vec<Runtime> = match target.runtime {
        Some(r) => vec![r.runtime],
        None => vec![Runtime::Runc, Runtime::Crun],
    };
    let mut out = Vec::new();
    for rt in runtimes {
        let mut t = target.clone();
        t.runtime = Some(target.runtime.unwrap_or_else(|| rt.into()));
        let resolved = t.target()?;
        for name in names {
            let profile = crate::load::profile(name, resolved.runtime)?;
            let Ok(policy) = syscage_core::policy::resolve_any(&profile, &resolved) else {
                continue;
            };
            out.push(Candidate {
                what: format!(
                    "{name} as {} installs it ({}, {} capabilities)",
                    RuntimeRelease {
                        runtime: resolved.runtime,
                        release: resolved.release
                    }
                    .describe(),
                    resolved.libseccomp,
                    resolved.caps.len()
                ),
                policy,
            });
        }
    }
    Ok(out)
}

/// Compares a stack (oldest filter first) with every candidate.
pub fn identify(programs: &[Program], candidates: &[Candidate]) -> Result<Identified> {
    let valid: Vec<ValidProgram> = programs
        .iter()
        .map(bpf::validate)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("an installed filter does not validate: {e}"))?;
    let mut out = Identified {
        matches: Vec::new(),
        closest: None,
    };
    for c in candidates {
        match identify::first_mismatch(&valid, &c.policy) {
            None => out.matches.push(c.what.clone()),
            Some(m) if out.closest.is_none() => out.closest = Some((c.what.clone(), m)),
            Some(_) => {}
        }
    }
    Ok(out)
}
