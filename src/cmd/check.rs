//! `syscage check`: replay traces against a profile (or a stack of them) and explain
//! every verdict.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use syscage_core::eval::Stack;
use syscage_core::report::{self, Checked};

use crate::load::{self, TargetArgs};

/// Check a syscall trace against a seccomp profile.
///
/// Reads strace output (`strace -f`, any of -tt -T -y, -X raw) or JSON Lines events
/// (`{"syscall":"openat","args":[...]}`) from the files given, or standard input, and
/// prints what the profile does to each call. Exit status: 0 when every event is
/// allowed, 1 when any is not, 2 on an error.
///
/// Examples:
///   syscage check --profile runtime/default examples/curl-version.strace
///   strace -f -o trace.txt ./my-app; syscage check --profile my-profile.json trace.txt
///   syscage check --profile docker.json --caps CAP_SYS_ADMIN --format json trace.jsonl
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A profile file (OCI, Docker, OCI bundle config.json) or builtin name
    /// (runtime/default, unconfined). Repeat to stack filters, oldest first.
    #[arg(long, short = 'p', required = true, value_name = "PROFILE")]
    profile: Vec<String>,
    /// Trace files (strace text or JSON Lines); standard input when none.
    #[arg(value_name = "TRACE")]
    traces: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// Output: a summary for people, or one JSON object per event.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Don't print profile or trace warnings.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let policies = load::policies(&args.profile, &args.target, args.quiet)?;
    let default_arch = policies[0].target.arch;
    let traces = load::traces(&args.traces, default_arch)?;
    let stack = Stack::new(&policies);
    let mut checked = Vec::new();
    for (name, trace) in &traces {
        if !args.quiet {
            for w in &trace.warnings {
                eprintln!("syscage: warning: {name}: {w}");
            }
        }
        checked.extend(trace.events.iter().map(|e| Checked {
            outcome: stack.evaluate(e),
            event: e.clone(),
        }));
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            for c in &checked {
                writeln!(out, "{}", report::to_json(c))?;
            }
        }
        Format::Text => {
            let names: Vec<&str> = policies.iter().map(|p| p.source.as_str()).collect();
            let t = &policies[0].target;
            writeln!(
                out,
                "profile {} on {} (kernel {}, {}, {} capabilities)",
                names.join(" + "),
                policies[0]
                    .arches
                    .iter()
                    .map(|a| a.arch.name())
                    .collect::<Vec<_>>()
                    .join("/"),
                t.kernel,
                t.runtime,
                t.caps.len()
            )?;
            write!(out, "{}", report::summary(&checked))?;
        }
    }
    Ok(if checked.iter().all(Checked::permitted) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
