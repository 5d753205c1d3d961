//! `syscage check`: replay traces against a profile (or a stack of them) and explain
//! every verdict.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use syscage_core::action::Action;
use syscage_core::bpf;
use syscage_core::engine::{EngineKind, Layer, Prepared};
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
    #[arg(
        long,
        short = 'p',
        value_name = "PROFILE",
        required_unless_present_any = ["bpf", "pid"]
    )]
    profile: Vec<String>,
    /// A raw filter (.bpf) to evaluate, e.g. from libseccomp, bwrap or `syscage dump`.
    /// Stacked after the profiles; implies --engine bpf.
    #[arg(long, value_name = "FILE")]
    bpf: Vec<String>,
    /// Evaluate against the filters installed on this live process (read with
    /// PTRACE_SECCOMP_GET_FILTER, oldest first; profiles given are stacked after them).
    /// Implies --engine bpf unless --engine kernel.
    #[arg(long, value_name = "PID")]
    pid: Option<String>,
    /// reference: the policy semantics, directly; bpf: the compiled filter in the
    /// kernel-exact interpreter; kernel: the compiled filter installed in a child of
    /// this machine's kernel, each verdict observed with ptrace, no syscall executed
    /// (ALLOW and LOG look the same there).
    #[arg(long, value_enum, default_value_t = Engine::Reference)]
    engine: Engine,
    /// With the bpf engine: print filter figures to standard error.
    #[arg(long)]
    stats: bool,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Reference,
    Bpf,
    Kernel,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let policies = load::policies(&args.profile, &args.target, args.quiet)?;
    let target = args.target.target()?;
    let kind = if args.engine != Engine::Reference || !args.bpf.is_empty() || args.pid.is_some() {
        EngineKind::Bpf
    } else {
        EngineKind::Reference
    };
    let mut layers: Vec<Layer> = live_layers(args.pid.as_deref())?;
    layers.extend(policies.into_iter().map(Layer::Policy));
    for path in &args.bpf {
        let prog = crate::cmd::disasm::load_program(path)?;
        let program = bpf::validate(&prog)
            .map_err(|e| anyhow::anyhow!("{path}: the kernel would reject this filter: {e}"))?;
        layers.push(Layer::Program {
            source: path.clone(),
            program,
        });
    }
    let sources: Vec<String> = layers.iter().map(|l| l.source().to_string()).collect();
    let prepared = Prepared::new(layers, kind, target.kernel)?;
    if args.stats && kind == EngineKind::Bpf {
        for (i, p) in prepared.programs().iter().enumerate() {
            let policy = prepared.policies().get(i);
            let arches: Vec<_> = policy.map_or_else(
                || vec![target.arch],
                |p| p.arches.iter().map(|a| a.arch).collect(),
            );
            let stats = bpf::stats::measure(p, &arches, &|arch, nr| {
                policy.is_some_and(|p| p.fixed_action(arch, nr) == Some(Action::ALLOW))
            });
            eprint!("{}", crate::cmd::render_stats(&stats));
        }
    }
    let traces = load::traces(&args.traces, target.arch)?;
    let evaluator = prepared.evaluator();
    let mut checked = Vec::new();
    let mut kernel = None;
    if args.engine == Engine::Kernel {
        let events: Vec<_> = traces.iter().flat_map(|(_, t)| &t.events).collect();
        kernel = Some(kernel_outcomes(&prepared, &events)?.into_iter());
    }
    for (name, trace) in &traces {
        if !args.quiet {
            for w in &trace.warnings {
                eprintln!("syscage: warning: {name}: {w}");
            }
        }
        checked.extend(trace.events.iter().map(|e| Checked {
            outcome: match kernel.as_mut().and_then(Iterator::next) {
                Some(o) => o,
                None => evaluator.evaluate(e),
            },
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
            let t = &target;
            let arches: Vec<&str> = prepared
                .policies()
                .first()
                .map(|p| p.arches.iter().map(|a| a.arch.name()).collect())
                .unwrap_or_default();
            writeln!(
                out,
                "{} on {} (kernel {}, {}, {} capabilities; {} engine)",
                sources.join(" + "),
                if arches.is_empty() {
                    t.arch.name().to_string()
                } else {
                    arches.join("/")
                },
                t.kernel,
                t.runtime,
                t.caps.len(),
                match (args.engine, kind) {
                    (Engine::Kernel, _) => "kernel",
                    (_, EngineKind::Reference) => "reference",
                    (_, EngineKind::Bpf) => "bpf",
                }
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

// --engine kernel and --pid (Linux only; the enforcer crate does the work).

#[cfg(target_os = "linux")]
fn live_layers(pid: Option<&str>) -> Result<Vec<Layer>> {
    pid.map_or(Ok(Vec::new()), crate::cmd::dump::live_layers)
}

#[cfg(not(target_os = "linux"))]
fn live_layers(pid: Option<&str>) -> Result<Vec<Layer>> {
    match pid {
        Some(_) => anyhow::bail!("--pid needs Linux"),
        None => Ok(Vec::new()),
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn kernel_outcomes(
    prepared: &Prepared,
    events: &[&syscage_core::event::Event],
) -> Result<Vec<syscage_core::eval::Outcome>> {
    crate::cmd::kernel::evaluate(prepared, events)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn kernel_outcomes(
    _: &Prepared,
    _: &[&syscage_core::event::Event],
) -> Result<Vec<syscage_core::eval::Outcome>> {
    anyhow::bail!("--engine kernel needs Linux on x86_64")
}
