//! `syscage lint`: findings about profiles and raw filters.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use syscage_core::bpf::{self, Program};
use syscage_core::lint::{self, Finding, Severity};
use syscage_core::profile::{self, AnyProfile};

use crate::input::{self, Kind};
use crate::load::{self, TargetArgs};

/// Review profiles and raw filters for what tends to go wrong.
///
/// Each finding has a stable id (SC1xx for profiles, SC2xx for raw filters), a
/// severity, the place (file:line:column and JSON pointer, or the instruction), why it
/// matters and a fix. Profiles are checked as written and for the target (its
/// architectures, the runtime's libseccomp): dangerous syscalls allowed outright,
/// io_uring, dead and shadowed rules, names libseccomp does not know, clone3 next to a
/// flag-filtered clone, i386 socketcall bypasses, 64-bit data on 32-bit arches, actions
/// that need a tracer or listener, what runc and crun treat differently. Raw filters
/// (--bpf) are checked for the arch check and its order, x32 and i386 calls that get
/// through, and instruction-pointer tests. `syscage lint --list` prints the catalog.
///
/// --format sarif writes SARIF 2.1.0 for GitHub code scanning (upload it with
/// github/codeql-action/upload-sarif).
///
/// Exit status: 0 nothing above a note, 1 warnings or errors found, 2 bad input.
///
/// Examples:
///   syscage lint my-profile.json
///   syscage lint --format sarif profiles/*.json > syscage.sarif
///   syscage lint --bpf filter.bpf
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Profiles (files or builtin names).
    #[arg(value_name = "PROFILE")]
    profiles: Vec<String>,
    /// Raw filters (.bpf) to check.
    #[arg(long = "bpf", value_name = "FILE")]
    bpf: Vec<String>,
    /// text, json or sarif.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print the catalog of checks and exit.
    #[arg(long)]
    list: bool,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Sarif,
}

/// The profile's text and model, for a builtin or a file.
fn read(spec: &str, target: &syscage_core::policy::Target) -> Result<(String, AnyProfile)> {
    if let Some(d) = syscage_core::builtin::engine_default(spec) {
        let d = d?;
        let source = format!("builtin:{spec}");
        let text = d.text();
        let p = profile::parse(&source, &text, target.runtime)?;
        return Ok((text, AnyProfile::Oci(p)));
    }
    let (path, text) = load::profile_text(spec)?;
    let p = profile::parse_any(&path, &text, target.runtime, None)?;
    Ok((text, p))
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.list {
        let mut s = String::new();
        for r in lint::RULES {
            s.push_str(&format!(
                "{} {:<7} {}: {}\n",
                r.id,
                r.severity.name(),
                r.name,
                r.why
            ));
        }
        crate::cmd::print(s)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.profiles.is_empty() && args.bpf.is_empty() {
        bail!("give profiles to lint, or --bpf FILE for a raw filter (--list prints the checks)");
    }
    let target = args.target.target()?;
    let mut findings: Vec<Finding> = Vec::new();
    for spec in &args.profiles {
        let (text, p) = read(spec, &target)?;
        match p {
            AnyProfile::Oci(p) => findings.extend(lint::profile(&p, &text, &target)),
            AnyProfile::Seccompiler(_) => bail!(
                "{spec}: a seccompiler file; its profile checks are not written yet \
                 (compile it and lint the filter with --bpf)"
            ),
        }
    }
    for path in &args.bpf {
        let bytes = input::read(path, Kind::Bpf)?;
        let prog =
            Program::from_raw(&bytes).with_context(|| format!("{path}: not a raw filter"))?;
        let valid = bpf::validate(&prog).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        findings.extend(lint::program(&valid, path, target.arch));
    }
    let serious = findings
        .iter()
        .filter(|f| f.rule.severity != Severity::Note)
        .count();
    match args.format {
        Format::Text => {
            let mut s: String = findings.iter().map(Finding::render).collect();
            s.push_str(&format!(
                "{} finding(s), {serious} warning(s) or error(s)\n",
                findings.len()
            ));
            crate::cmd::print(s)?;
        }
        Format::Json => {
            let list: Vec<_> = findings.iter().map(Finding::to_json).collect();
            crate::cmd::print(format!("{}\n", serde_json::Value::from(list)))?;
        }
        Format::Sarif => {
            let log = lint::sarif::log(&findings, env!("CARGO_PKG_VERSION"), &|s| s.to_string());
            crate::cmd::print(format!(
                "{}\n",
                serde_json::to_string_pretty(&log).expect("JSON values serialize")
            ))?;
        }
    }
    Ok(if serious > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
