//! `syscage diff`: the verdict-level difference between two profiles.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use syscage_core::bpf::{self, Program, ValidProgram};
use syscage_core::diff::{self, Change, Filters};
use syscage_core::policy::Policy;

use crate::input::{self, Kind};
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
/// A and B may each be a profile (any format, or a builtin), a stack of them joined
/// with `+` (oldest first, as installed), a raw filter (`.bpf`), or the filters a live
/// process runs (`pid:1234`, read with ptrace). A raw filter's own conditions are not
/// known: its differences are sampled at the other side's boundaries and say so.
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
///   syscage diff runtime/default pid:1234
///   syscage diff runtime/default+extra.json compiled.bpf
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The filter before: a profile (file or builtin; FILE#NAME for a seccompiler
    /// filter), P1+P2 for a stack, a .bpf file, or pid:PID.
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

use crate::cmd::TextOrJson as Format;

/// One side, read.
enum Input {
    Policies(Vec<Policy>),
    Programs(Vec<ValidProgram>, String),
}

impl Input {
    fn filters(&self) -> Filters<'_> {
        match self {
            Input::Policies(p) => Filters::Policies(p),
            Input::Programs(programs, source) => Filters::Programs { programs, source },
        }
    }

    fn name(&self) -> String {
        match self {
            Input::Policies(p) => p
                .iter()
                .map(|p| p.source.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
            Input::Programs(_, source) => source.clone(),
        }
    }
}

fn read(spec: &str, args: &Args) -> Result<Input> {
    if let Some(pid) = spec.strip_prefix("pid:") {
        #[cfg(target_os = "linux")]
        {
            let pid: i32 = pid
                .parse()
                .map_err(|_| anyhow::anyhow!("{spec}: expected pid:NUMBER"))?;
            let programs = syscage_enforcer::dump::dump(pid)?;
            if programs.is_empty() {
                anyhow::bail!("process {pid} runs no seccomp filter");
            }
            return Ok(Input::Programs(
                validate(&programs, spec)?,
                format!("the filters of pid {pid}"),
            ));
        }
        #[cfg(not(target_os = "linux"))]
        anyhow::bail!("{spec}: reading a live process's filters needs Linux ({pid})");
    }
    let is_raw = input::exists(spec)
        && !syscage_core::builtin::is_builtin(spec)
        && std::fs::File::open(spec)
            .and_then(|mut f| {
                let mut head = [0u8; 64];
                let n = std::io::Read::read(&mut f, &mut head)?;
                Ok(head[..n]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|b| *b != b'{'))
            })
            .unwrap_or(false);
    if is_raw {
        let bytes = input::read(spec, Kind::Bpf)?;
        let p = Program::from_raw(&bytes).with_context(|| format!("{spec}: not a raw filter"))?;
        return Ok(Input::Programs(validate(&[p], spec)?, spec.to_string()));
    }
    let parts: Vec<String> = if !input::exists(spec) && spec.contains('+') {
        spec.split('+').map(str::to_string).collect()
    } else {
        vec![spec.to_string()]
    };
    Ok(Input::Policies(load::policies(
        &parts,
        &args.target,
        args.quiet,
    )?))
}

fn validate(programs: &[Program], spec: &str) -> Result<Vec<ValidProgram>> {
    programs
        .iter()
        .map(|p| bpf::validate(p).map_err(|e| anyhow::anyhow!("{spec}: {e}")))
        .collect()
}

pub fn run(args: Args) -> Result<ExitCode> {
    let a = read(&args.a, &args)?;
    let b = read(&args.b, &args)?;
    let d = diff::diff_filters(a.filters(), b.filters());
    let changes: Vec<&Change> = d
        .changes
        .iter()
        .filter(|c| !args.subset || c.widens())
        .collect();
    let widening = d.changes.iter().filter(|c| c.widens()).count();
    match args.format {
        Format::Json => {
            let list: Vec<_> = changes.iter().map(|c| c.to_json()).collect();
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
                a.name(),
                b.name(),
                d.events
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
                    "note: some regions come from masked or multi-argument conditions, or from a raw filter whose conditions are unknown, and were sampled at the boundaries, not proven"
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
