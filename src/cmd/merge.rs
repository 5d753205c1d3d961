//! `syscage merge`: the union of profiles, verdict-exact.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::json;
use syscage_core::bpf;
use syscage_core::generate::output::{self, OutputFormat};
use syscage_core::merge;
use syscage_core::policy::{self, Policy};
use syscage_core::profile::{AnyProfile, Profile};

use crate::cmd::generate::{object_name, write_profile, ReportFormat};
use crate::load::{self, TargetArgs};

/// Merge profiles into their union: a call goes ahead under the result when it goes
/// ahead under any of them.
///
/// This is what the Security Profiles Operator does with the profiles recorded from a
/// workload's replicas. The result is checked verdict-exact: on every event that can
/// tell the profiles apart (each syscall of each architecture, the boundary values of
/// every argument any rule tests), resolved for the target (--runtime, libseccomp,
/// --kernel, --caps), the merged profile must give the most permissive of the
/// inputs' verdicts. Where it cannot (one profile denies with a rule what another
/// allows by default, architectures only some list, rules libseccomp cannot hold
/// together) merge explains each conflict and exits 1 without writing, unless
/// --allow-conflicts.
///
/// The inputs must share a default action.
///
/// Examples:
///   syscage merge replica-a.json replica-b.json -o app.json
///   syscage merge --format spo --name app a.json b.json c.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Profiles (files or builtin names), two or more.
    #[arg(value_name = "PROFILE", required = true, num_args = 1..)]
    profiles: Vec<String>,
    /// Output format: oci, docker, seccompiler or spo.
    #[arg(long, default_value = "oci", value_name = "FORMAT")]
    format: OutputFormat,
    /// metadata.name of the SPO object. Default: the output file's stem, else "merged".
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Write the profile here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<String>,
    /// Write the merged profile even when it is not the exact union.
    #[arg(long)]
    allow_conflicts: bool,
    /// How the account is printed (on standard error).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    report: ReportFormat,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.profiles.len() < 2 {
        bail!("give two or more profiles to merge");
    }
    let target = args.target.target()?;
    let mut inputs: Vec<Profile> = Vec::new();
    for spec in &args.profiles {
        match load::profile(spec, target.runtime)? {
            AnyProfile::Oci(p) => inputs.push(p),
            AnyProfile::Seccompiler(_) => {
                bail!("{spec}: seccompiler files cannot be merged; give OCI or Docker profiles")
            }
        }
    }
    let policies: Vec<Policy> = inputs
        .iter()
        .map(|p| policy::resolve(p, &target).with_context(|| p.source.clone()))
        .collect::<Result<_>>()?;
    let merged = merge::merge(&inputs)?;
    let format = output::format_for(&merged.profile, args.format);
    if format != args.format {
        eprintln!(
            "syscage: merge: an input uses archMap or includes/excludes; writing the docker format"
        );
    }
    let name = object_name(args.name.as_deref(), args.output.as_deref(), "merged");
    let comment = format!("Merged by syscage merge from {}", args.profiles.join(", "));
    let rendered = output::render(&merged.profile, format, &comment, &name)?;
    let back = output::read_back(&rendered.text, format, target.runtime)
        .context("internal error: the merged profile does not read back")?;
    let result = policy::resolve_any(&back, &target)?;
    let program = bpf::compile::compile(&result).context("the merged profile does not compile")?;
    let conflicts = merge::check(&policies, &result);
    let write = conflicts.is_empty() || args.allow_conflicts;
    if write {
        write_profile(args.output.as_deref(), &rendered.text)?;
    }
    match args.report {
        ReportFormat::Json => eprintln!(
            "{}",
            json!({
                "written": write,
                "output": args.output,
                "format": format.name(),
                "inputs": args.profiles,
                "rules": merged.profile.syscalls.len(),
                "instructions": program.len(),
                "resolved": merged.resolved,
                "conflicts": conflicts.iter().map(|c| c.describe()).collect::<Vec<_>>(),
            })
        ),
        ReportFormat::Text => {
            let mut s = String::new();
            let names: usize = merged.profile.syscalls.iter().map(|r| r.names.len()).sum();
            let _ = writeln!(
                s,
                "syscage: merge: {} profiles into {} rule(s) naming {} syscall(s), {} BPF instructions",
                inputs.len(),
                merged.profile.syscalls.len(),
                names,
                program.len()
            );
            for r in &merged.resolved {
                let _ = writeln!(s, "  resolved: {r}");
            }
            if conflicts.is_empty() {
                let _ = writeln!(
                    s,
                    "  verdict-exact: on every boundary event the result gives the most permissive input's verdict"
                );
            } else {
                let _ = writeln!(
                    s,
                    "  {} event(s) where the result is not the union:",
                    conflicts.len()
                );
                for c in conflicts.iter().take(20) {
                    let _ = writeln!(s, "    {}", c.describe());
                }
                if conflicts.len() > 20 {
                    let _ = writeln!(s, "    ... and {} more", conflicts.len() - 20);
                }
                let _ = writeln!(
                    s,
                    "  {}",
                    if write {
                        "written anyway (--allow-conflicts)"
                    } else {
                        "not written (--allow-conflicts writes it anyway)"
                    }
                );
            }
            eprint!("{s}");
        }
    }
    Ok(if write && conflicts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
