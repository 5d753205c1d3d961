//! `syscage diff`: the verdict-level difference between two profiles.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use syscage_core::action::describe_ret;
use syscage_core::diff::{self, Change, Region};

use crate::load::{self, TargetArgs};

/// Show what changes, verdict by verdict, from profile A to profile B.
///
/// Both are resolved for the same target (--arch, --caps, --kernel, --runtime,
/// --libseccomp) and compared on every architecture either covers, every syscall
/// number, and within a syscall on every argument region the two profiles' conditions
/// create: "personality (135) args[0] in 0x0..=0x7: ERRNO(EPERM) by /defaultAction ->
/// ALLOW by /syscalls/4 (personality)". Regions from equality and ordered tests are
/// exact; masked tests and rules combining arguments are sampled, and the output says
/// so. A text diff of the JSON cannot tell you this: reordered rules, renamed
/// actions, Docker's includes/excludes and runc's ENOSYS stub all change verdicts (or
/// do not) in ways only the semantics show.
///
/// --subset asks only whether B lets through anything A stops: the gate for a profile
/// change in CI.
///
/// Exit status: 0 no difference (with --subset: B opens nothing), 1 differences, 2 error.
///
/// Examples:
///   syscage diff runtime/default podman/default@4.3
///   syscage diff --subset old.json new.json
///   syscage diff --format json docker/default@20.10 docker/default@29.7
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The profile before (file or builtin; FILE#NAME for a seccompiler filter).
    #[arg(value_name = "A")]
    a: String,
    /// The profile after.
    #[arg(value_name = "B")]
    b: String,
    /// Only report where B allows a call A does not.
    #[arg(long)]
    subset: bool,
    /// text or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    target: TargetArgs,
    /// Don't print profile warnings.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let a = load::policies(std::slice::from_ref(&args.a), &args.target, args.quiet)?;
    let b = load::policies(std::slice::from_ref(&args.b), &args.target, args.quiet)?;
    let d = diff::diff(&a, &b);
    let changes: Vec<&Change> = d
        .changes
        .iter()
        .filter(|c| !args.subset || c.widens())
        .collect();
    let widening = d.changes.iter().filter(|c| c.widens()).count();
    match args.format {
        Format::Json => {
            let list: Vec<_> = changes
                .iter()
                .map(|c| {
                    let (index, lo, hi) = match c.region {
                        Region::All => (None, None, None),
                        Region::Arg { index, lo, hi } => (Some(index), Some(lo), Some(hi)),
                    };
                    json!({
                        "arch": c.arch.name(),
                        "nr_first": c.nrs.0,
                        "nr_last": c.nrs.1,
                        "syscall": syscage_core::syscalls::name_of(c.arch, c.nrs.0),
                        "arg": index, "lo": lo, "hi": hi,
                        "a": {"ret": c.a.ret, "verdict": describe_ret(c.a.ret), "decided_by": c.a.decided_by},
                        "b": {"ret": c.b.ret, "verdict": describe_ret(c.b.ret), "decided_by": c.b.decided_by},
                        "widens": c.widens(),
                        "approximated": c.approximated,
                    })
                })
                .collect();
            crate::cmd::print(format!(
                "{}\n",
                json!({
                    "a": args.a, "b": args.b,
                    "equal": d.changes.is_empty(),
                    "subset": widening == 0,
                    "approximated": d.approximated,
                    "events": d.events,
                    "changes": list,
                })
            ))?;
        }
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{} -> {} ({} events compared)",
                a[0].source, b[0].source, d.events
            );
            if changes.is_empty() {
                let _ = writeln!(
                    s,
                    "{}",
                    if args.subset {
                        "B allows nothing A denies"
                    } else {
                        "no difference: every verdict is the same"
                    }
                );
            } else {
                let _ = writeln!(
                    s,
                    "{} change(s), {widening} where B allows what A denies{}:",
                    d.changes.len(),
                    if args.subset { " (shown)" } else { "" }
                );
                for c in &changes {
                    let _ = writeln!(
                        s,
                        "  {}{}",
                        if c.widens() { "+ " } else { "  " },
                        c.describe()
                    );
                }
            }
            if d.approximated {
                let _ = writeln!(
                    s,
                    "note: some regions come from masked or multi-argument conditions and were sampled at their boundaries, not proven"
                );
            }
            crate::cmd::print(s)?;
        }
    }
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
