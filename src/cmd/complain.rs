//! `syscage enforce --permissive`: complain mode's output. The work is
//! `syscage_enforcer::permissive`'s; this prints each would-be denial, writes the
//! traces asked for, and sums up.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use syscage_core::action::describe_ret;
use syscage_core::policy::Policy;
use syscage_core::trace::jsonl;
use syscage_enforcer::install::Filter;
use syscage_enforcer::permissive::{self, Seen};
use syscage_enforcer::record::Recorded;

/// What to write besides the report.
pub struct Options {
    pub record: Option<PathBuf>,
    pub record_all: Option<PathBuf>,
    pub quiet: bool,
}

fn create(path: &Option<PathBuf>) -> Result<Option<BufWriter<File>>> {
    path.as_ref()
        .map(|p| {
            File::create(p)
                .map(BufWriter::new)
                .with_context(|| format!("cannot create {}", p.display()))
        })
        .transpose()
}

/// Where a would-be denial came from: the verdict and the rule, with its profile.
fn decided_by(s: &Seen<'_>, policies: &[Policy]) -> String {
    let v = s.verdicts.worst();
    let profile = v
        .filter
        .and_then(|i| policies.get(i))
        .or(policies.first())
        .map(|p| p.source.as_str())
        .unwrap_or("?");
    format!(
        "{} by {} of {profile}",
        describe_ret(v.ret),
        v.origin.explain()
    )
}

pub fn run(
    command: &[OsString],
    policies: &[Policy],
    filters: &[Filter],
    opts: &Options,
) -> Result<ExitCode> {
    let (mut denied_out, mut all_out) = match (create(&opts.record), create(&opts.record_all)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("syscage: enforce: {e:#}; the command was not run");
            return Ok(ExitCode::from(125));
        }
    };
    let programs: Vec<_> = filters.iter().map(|f| f.program.clone()).collect();
    let mut by_rule: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut denials = 0usize;
    let mut disagreements = Vec::new();
    let mut line = String::with_capacity(256);
    let stderr = io::stderr();
    let mut sink = |s: Seen<'_>| -> io::Result<()> {
        if !s.agrees() {
            disagreements.push(format!(
                "pid {}: {}{}: the kernel {} it, syscage's reference engine says {}",
                s.recorded.pid,
                s.event.syscall_name(),
                args_text(&s),
                if s.kernel_would_deny {
                    "would stop"
                } else {
                    "lets through"
                },
                describe_ret(s.verdicts.worst().ret)
            ));
        }
        line.clear();
        jsonl::write_record(&mut line, s.recorded);
        if let Some(out) = all_out.as_mut() {
            out.write_all(line.as_bytes())?;
        }
        if !s.kernel_would_deny && !s.would_deny() {
            return Ok(());
        }
        denials += 1;
        let why = decided_by(&s, policies);
        if let Some(out) = denied_out.as_mut() {
            out.write_all(line.as_bytes())?;
        }
        if !opts.quiet {
            writeln!(
                stderr.lock(),
                "syscage: permissive: pid {}: {}{} would be {why}",
                s.recorded.pid,
                s.event.syscall_name(),
                args_text(&s)
            )?;
        }
        *by_rule.entry((s.event.syscall_name(), why)).or_insert(0) += 1;
        Ok(())
    };
    let mut other = |r: &Recorded| -> io::Result<()> {
        let _ = r;
        Ok(())
    };
    let outcome = match permissive::run(
        command,
        policies,
        &programs,
        opts.record_all.is_some(),
        &mut sink,
        &mut other,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "syscage: enforce: {e}{}",
                if e.exit_code() >= 125 {
                    "; the command was not run"
                } else {
                    ""
                }
            );
            return Ok(ExitCode::from(e.exit_code()));
        }
    };
    for (out, path) in [(denied_out, &opts.record), (all_out, &opts.record_all)] {
        if let (Some(mut o), Some(p)) = (out, path) {
            o.flush()
                .with_context(|| format!("cannot write {}", p.display()))?;
        }
    }
    let mut summary = format!(
        "syscage: permissive: {denials} call{} would have been denied",
        if denials == 1 { "" } else { "s" }
    );
    if by_rule.is_empty() {
        summary.push_str(": the profile lets this run through as it is");
    } else {
        summary.push(':');
        for ((name, why), n) in &by_rule {
            summary.push_str(&format!("\n  {n:>6}  {name}: {why}"));
        }
    }
    eprintln!("{summary}");
    for d in &disagreements {
        eprintln!("syscage: permissive: BUG: {d}");
    }
    if !disagreements.is_empty() {
        eprintln!(
            "syscage: permissive: {} call(s) where the kernel and syscage disagree: please report this",
            disagreements.len()
        );
    }
    Ok(crate::cmd::record::exit_as(outcome))
}

fn args_text(s: &Seen<'_>) -> String {
    let a: Vec<String> = s.recorded.args.iter().map(|a| format!("{a:#x}")).collect();
    format!("({})", a.join(", "))
}
