//! `syscage generate`: the tightest profile that runs what a trace shows.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::json;
use syscage_core::action::{describe_ret, Action};
use syscage_core::arch::Arch;
use syscage_core::event::Event;
use syscage_core::generate::output::OutputFormat;
use syscage_core::generate::{self, ArgMode, BuildError, Built, Options, Reason, Unpermitted};
use syscage_core::policy::Target;
use syscage_core::profile::AnyProfile;
use syscage_core::runtime::RuntimeRelease;

use crate::load::{self, TargetArgs};

/// Generate the tightest profile that runs what a trace shows.
///
/// Reads the traces (syscage record's JSON Lines, strace -f output, or the kernel's
/// SECCOMP audit records from dmesg, journalctl -k or audit.log; detected by content)
/// and writes the smallest profile that allows every call in them: the names they
/// show, on the architectures they show and no other, plus the calls the runtime
/// itself makes after installing the filter and before the program's first
/// instruction (runc's and crun's own, so the container starts).
///
/// Before anything is written the result is verified: the profile is written, read
/// back, resolved for the target (--runtime, the host's libseccomp, --kernel) and
/// every traced call is replayed through the reference engine, each runtime call
/// too, and it is compiled to BPF. If any call would be denied (for example a name
/// the host's libseccomp does not know, which runc skips), generate says which, and
/// why, and exits 1 without writing.
///
/// Exit status: 0 written; 1 verification failed; 2 bad input.
///
/// Examples:
///   syscage record -o app.jsonl -- ./app --serve
///   syscage generate app.jsonl -o app.json
///   syscage generate --args observed --default-action kill-process app.jsonl
///   syscage generate --base runtime/default --format docker blocked.log -o widened.json
///   syscage generate --format spo --name my-app app.jsonl > seccompprofile.yaml
///   syscage generate --format seccompiler app.jsonl -o app-seccompiler.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Trace files (standard input when none, or `-`).
    #[arg(value_name = "TRACE")]
    traces: Vec<String>,
    /// Widen this profile (a file or builtin name) only where the traces need it,
    /// instead of starting from nothing; the base's default action stays.
    #[arg(long, value_name = "PROFILE", conflicts_with = "default_action")]
    base: Option<String>,
    /// What every call not in the traces gets.
    #[arg(long, value_enum, default_value_t = DefaultAction::Errno)]
    default_action: DefaultAction,
    /// `observed`: for clone, unshare, socket, personality, prctl and ioctl, allow
    /// only the argument values the traces show (when they are few and known).
    #[arg(long, value_enum, default_value_t = ArgsMode::None)]
    args: ArgsMode,
    /// Output format: oci (runc, crun, Kubernetes Localhost), docker (with comments),
    /// seccompiler (one architecture), spo (a Security Profiles Operator SeccompProfile).
    #[arg(long, default_value = "oci", value_name = "FORMAT")]
    format: OutputFormat,
    /// The container runs with no_new_privs (runtime-spec `noNewPrivileges`,
    /// Kubernetes `allowPrivilegeEscalation: false`): the runtime installs the filter
    /// later and needs fewer calls under it.
    #[arg(long)]
    no_new_privs: bool,
    /// No container runtime starts the program (syscage enforce, a program that
    /// installs its own filter): add none of a runtime's calls. Implied by
    /// --format seccompiler.
    #[arg(long)]
    no_runtime: bool,
    /// metadata.name of the SPO object. Default: the output file's stem, else "generated".
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Write the profile here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<String>,
    /// How the account of what was generated is printed (on standard error).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    report: ReportFormat,
    #[command(flatten)]
    target: TargetArgs,
    /// Don't print trace warnings.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum DefaultAction {
    /// SCMP_ACT_ERRNO with EPERM: the call fails, the program goes on.
    Errno,
    /// SCMP_ACT_KILL_PROCESS.
    KillProcess,
    /// SCMP_ACT_KILL_THREAD.
    KillThread,
    /// SCMP_ACT_LOG: allowed, and the kernel logs it (a first try in production).
    Log,
}

impl DefaultAction {
    fn action(self) -> Action {
        match self {
            DefaultAction::Errno => Action::errno(1),
            DefaultAction::KillProcess => Action::KILL_PROCESS,
            DefaultAction::KillThread => Action::KILL_THREAD,
            DefaultAction::Log => Action::LOG,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ArgsMode {
    None,
    Observed,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The SPO object's name: `name` if given, else the output file's stem, else `fallback`.
pub fn object_name(name: Option<&str>, output: Option<&str>, fallback: &str) -> String {
    name.map(str::to_string).unwrap_or_else(|| {
        output
            .and_then(|o| std::path::Path::new(o).file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| fallback.into())
    })
}

/// Writes a profile to `output`, or to standard output.
pub fn write_profile(output: Option<&str>, text: &str) -> Result<()> {
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {path:?}")),
        None => crate::cmd::print(text),
    }
}

/// The traces' events, each distinct (syscall, arguments) once, with where it was
/// first seen and how often.
pub struct Events {
    pub events: Vec<Event>,
    /// Per event: the trace it came from.
    pub files: Vec<String>,
    pub total: usize,
}

/// Reads every trace, refusing numbers a profile cannot name (with their place).
pub fn read_events(paths: &[String], arch: Arch, quiet: bool) -> Result<Events> {
    load::check_traces(paths)?;
    let mut out = Events {
        events: Vec::new(),
        files: Vec::new(),
        total: 0,
    };
    let mut seen = HashSet::new();
    load::trace_events(paths, arch, quiet, |name, e| {
        out.total += 1;
        if e.sys.name().is_none() {
            bail!(
                "{name}: line {}: {} on {} has no name in syscage's tables, and a profile \
                 can only allow syscalls by name",
                e.line,
                e.sys,
                e.sys.arch
            );
        }
        if seen.insert((e.sys, e.args)) {
            out.events.push(e);
            out.files.push(name.to_string());
        }
        Ok(())
    })?;
    Ok(out)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let target = args.target.target()?;
    let events = read_events(&args.traces, target.arch, args.quiet)?;
    if events.events.is_empty() {
        bail!("the traces hold no syscall events: nothing to generate from");
    }
    let runtime = (!args.no_runtime && args.format != OutputFormat::Seccompiler).then_some((
        RuntimeRelease {
            runtime: target.runtime,
            release: target.release,
        },
        args.no_new_privs,
    ));
    let sources: Vec<String> = if args.traces.is_empty() {
        vec!["standard input".into()]
    } else {
        args.traces
            .iter()
            .map(|t| crate::input::display_name(t).to_string())
            .collect()
    };
    let opts = Options {
        default_action: args.default_action.action(),
        args: match args.args {
            ArgsMode::None => ArgMode::None,
            ArgsMode::Observed => ArgMode::Observed,
        },
        runtime,
        native: target.arch,
        sources: sources.clone(),
    };
    let base = match &args.base {
        None => None,
        Some(spec) => match load::profile(spec, target.runtime)? {
            AnyProfile::Oci(p) => Some(p),
            AnyProfile::Seccompiler(_) => {
                bail!("--base {spec}: a seccompiler file cannot be widened; give an OCI or Docker profile")
            }
        },
    };
    let name = object_name(args.name.as_deref(), args.output.as_deref(), "generated");
    let built = generate::build(
        &events.events,
        &opts,
        base.as_ref(),
        args.format,
        &name,
        &target,
    )
    .map_err(|e| match (&args.base, e) {
        (Some(spec), e @ (BuildError::Base(_) | BuildError::UnconfinedBase)) => {
            anyhow::anyhow!("--base {spec}: {e}")
        }
        (_, e) => e.into(),
    })?;
    if built.format != args.format && args.report == ReportFormat::Text {
        eprintln!(
            "syscage: generate: the base uses archMap or includes/excludes; writing the \
             docker format"
        );
    }
    let report = Report {
        built: &built,
        events: &events,
        target: &target,
        runtime,
    };
    if !built.failures.is_empty() {
        report.print(args.report, args.output.as_deref());
        eprintln!(
            "syscage: generate: not written: {} call(s) would be denied",
            built.failures.len()
        );
        return Ok(ExitCode::from(1));
    }
    write_profile(args.output.as_deref(), &built.rendered.text)?;
    report.print(args.report, args.output.as_deref());
    Ok(ExitCode::SUCCESS)
}

struct Report<'a> {
    built: &'a Built,
    events: &'a Events,
    target: &'a Target,
    runtime: Option<(RuntimeRelease, bool)>,
}

impl Report<'_> {
    fn print(&self, how: ReportFormat, output: Option<&str>) {
        match how {
            ReportFormat::Text => eprint!("{}", self.text(output)),
            ReportFormat::Json => eprintln!("{}", self.json(output)),
        }
    }

    fn failure_place(&self, u: &Unpermitted) -> String {
        match u.event {
            Some(i) => format!("{}: {}", self.events.files[i], u.what),
            None => u.what.clone(),
        }
    }

    fn text(&self, output: Option<&str>) -> String {
        let g = &self.built.generated;
        let mut s = String::new();
        let traced = g
            .added
            .iter()
            .filter(|a| matches!(a.reason, Reason::Traced { .. }))
            .count();
        let startup: Vec<&str> = g
            .added
            .iter()
            .filter(|a| matches!(a.reason, Reason::Startup(_)))
            .map(|a| a.name.as_str())
            .collect();
        let arches: Vec<&str> = self
            .built
            .policy
            .arches
            .iter()
            .map(|a| a.arch.name())
            .collect();
        let _ = writeln!(
            s,
            "syscage: generate: {} calls read ({} distinct); {} syscall(s) allowed for them{}",
            self.events.total,
            self.events.events.len(),
            traced,
            match self.runtime {
                Some((rr, _)) if !startup.is_empty() => format!(
                    ", {} for what {} calls before the program starts ({})",
                    startup.len(),
                    rr.runtime,
                    startup.join(" ")
                ),
                _ => String::new(),
            }
        );
        for a in &g.added {
            if let (Some(c), Reason::Traced { count, .. }) = (&a.cond, &a.reason) {
                let _ = writeln!(s, "  {} only when {c} ({count} call(s) seen)", a.name);
            }
        }
        for n in &g.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let _ = writeln!(
            s,
            "  architectures {}; default {}; {} format{}",
            arches.join(", "),
            describe_ret(self.built.policy.default.to_ret()),
            self.built.format.name(),
            output
                .map(|o| format!(", written to {o}"))
                .unwrap_or_default()
        );
        if self.built.failures.is_empty() {
            let _ = writeln!(
                s,
                "  verified: every traced call{} goes ahead under {} with {} (reference engine, \
                 the profile as written); {} BPF instructions",
                if self.runtime.is_some() {
                    " and runtime call"
                } else {
                    ""
                },
                RuntimeRelease {
                    runtime: self.target.runtime,
                    release: self.target.release
                }
                .describe(),
                self.target.libseccomp,
                self.built.instructions
            );
        } else {
            let _ = writeln!(s, "  NOT verified: these would be denied:");
            for u in self.built.failures.iter().take(20) {
                let _ = writeln!(s, "    {}: {}", self.failure_place(u), u.verdict);
            }
            if self.built.failures.len() > 20 {
                let _ = writeln!(s, "    ... and {} more", self.built.failures.len() - 20);
            }
        }
        s
    }

    fn json(&self, output: Option<&str>) -> serde_json::Value {
        let g = &self.built.generated;
        let added: Vec<serde_json::Value> = g
            .added
            .iter()
            .map(|a| {
                let (reason, count, arches) = match &a.reason {
                    Reason::Traced { count, arches } => (
                        "traced".to_string(),
                        Some(*count),
                        arches.iter().map(|a| a.name()).collect::<Vec<_>>(),
                    ),
                    Reason::Startup(c) => (format!("runtime: {}", c.why), None, Vec::new()),
                };
                json!({
                    "name": a.name,
                    "condition": a.cond.map(|c| c.to_string()),
                    "reason": reason,
                    "count": count,
                    "arches": arches,
                })
            })
            .collect();
        json!({
            "written": self.built.failures.is_empty(),
            "output": output,
            "format": self.built.format.name(),
            "events": self.events.total,
            "distinct": self.events.events.len(),
            "architectures": self.built.policy.arches.iter().map(|a| a.arch.name()).collect::<Vec<_>>(),
            "default": describe_ret(self.built.policy.default.to_ret()),
            "added": added,
            "notes": g.notes,
            "instructions": self.built.instructions,
            "denied": self.built.failures.iter().map(|u| json!({
                "what": self.failure_place(u),
                "verdict": u.verdict,
            })).collect::<Vec<_>>(),
        })
    }
}
