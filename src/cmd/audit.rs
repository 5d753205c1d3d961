//! `syscage audit`: every process of this host, its seccomp state, filter stack and
//! container; the stacks grouped and named; what an operator must act on.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use syscage_core::audit::{self, HostAudit, Mode, Severity};
use syscage_enforcer::audit::{scan, Options};

use crate::candidates::{self, Candidate};

/// Audit this host: every process's seccomp mode, filters and container.
///
/// For each process syscage reads /proc/PID/status (mode, filter count,
/// no_new_privs), its filters (ptrace; needs CAP_SYS_ADMIN and CAP_SYS_PTRACE, and
/// syscage itself running without seccomp: the kernel refuses
/// PTRACE_SECCOMP_GET_FILTER to a confined tracer), its cgroup and the environment
/// variables that name a container (Docker, containerd, CRI-O, Podman, Kubernetes
/// pods, Mesos and Marathon; hand-run runc and crun containers through their state
/// directories). Processes with the same filters share a stack digest; each stack is
/// compared, verdict by verdict, with the builtins (every engine's default by release,
/// as runc and crun install them) and the profiles given to --match.
///
/// Findings: unconfined-container (error: a container process with Seccomp 0),
/// mixed-filters (warning: the containers of one pod, or the tasks of one Marathon
/// app, under different stacks), unknown-filter (warning: a stack no candidate
/// matches), threads-differ and unreadable (notes). Without the capabilities, syscage
/// says per process what it could not read and goes on.
///
/// Exit status: 0, or 1 when there is an error finding (with --every, never: it runs
/// until stopped).
///
/// Examples:
///   syscage audit
///   syscage audit --match /etc/seccomp/web.json --verbose
///   syscage audit --format json --node "$NODE_NAME" --every 1h   # a DaemonSet's loop
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Output: text for people, json for `syscage report` (one line per round).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// More candidate profiles to name stacks after (files, or builtin names); the
    /// builtins are always candidates.
    #[arg(long = "match", value_name = "PROFILE", num_args = 1..)]
    matches: Vec<String>,
    /// The name of this host in the output. Default: $NODE_NAME (a Kubernetes pod
    /// gets it from the downward API), else the hostname.
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Audit again after each interval (30s, 10m, 1h), one JSON line (or text
    /// report) per round, until stopped.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    every: Option<Duration>,
    /// Do not read filters (no ptrace): modes and counts only, no stack digests.
    #[arg(long)]
    no_filters: bool,
    /// Also look for hand-run containers under this runtime state directory (runc or
    /// crun `--root`). Repeatable; the defaults are always read.
    #[arg(long, value_name = "DIR")]
    runtime_root: Vec<std::path::PathBuf>,
    /// Text: list every process, not only containers and stacks.
    #[arg(long, short = 'v')]
    verbose: bool,
    #[command(flatten)]
    target: crate::load::TargetArgs,
}

use crate::cmd::TextOrJson as Format;

fn parse_interval(s: &str) -> Result<Duration, String> {
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not an interval: write e.g. 30s, 10m, 1h"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => return Err(format!("{s:?}: the unit is s, m or h")),
    }
    .ok_or_else(|| format!("{s:?}: too long an interval"))?;
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

fn node_name(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("NODE_NAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "localhost".into())
}

/// What a stack was found to be: whole, and filter by filter.
type Named = (Option<Vec<String>>, Option<Vec<Vec<String>>>);

/// One round: scan, name the stacks (remembering what was named in earlier rounds),
/// analyse.
fn round(
    node: &str,
    opts: &Options,
    candidates: &[Candidate],
    named: &mut HashMap<String, Named>,
) -> HostAudit {
    let s = scan(node, opts);
    let mut a = s.audit;
    for stack in &mut a.stacks {
        let (matches, layers) = named
            .entry(stack.digest.clone())
            .or_insert_with(|| {
                let Some(programs) = s.programs.get(&stack.digest) else {
                    return (None, None);
                };
                let whole = candidates::identify(programs, candidates)
                    .ok()
                    .map(|i| i.matches);
                let layers = match &whole {
                    Some(m) if m.is_empty() && programs.len() > 1 => programs
                        .iter()
                        .map(|p| {
                            candidates::identify(std::slice::from_ref(p), candidates)
                                .map(|i| i.matches)
                        })
                        .collect::<Result<Vec<_>>>()
                        .ok(),
                    _ => None,
                };
                (whole, layers)
            })
            .clone();
        stack.matches = matches;
        stack.layers = layers;
    }
    a.analyse();
    a
}

pub fn run(args: Args) -> Result<ExitCode> {
    let node = node_name(args.node.clone());
    for r in &args.runtime_root {
        if !r.is_dir() {
            bail!("--runtime-root {}: not a directory", r.display());
        }
    }
    let mut opts = Options {
        filters: !args.no_filters,
        ..Options::default()
    };
    opts.runtime_roots.extend(args.runtime_root.iter().cloned());
    let mut names = candidates::builtins();
    names.extend(args.matches.iter().cloned());
    let candidates = if args.no_filters {
        Vec::new()
    } else {
        candidates::resolve(&names, &args.target)?
    };
    let mut named = HashMap::new();
    loop {
        let a = round(&node, &opts, &candidates, &mut named);
        crate::cmd::stdout(|out| {
            match args.format {
                Format::Json => writeln!(out, "{}", serde_json::to_string(&a)?)?,
                Format::Text => out.write_all(render(&a, args.verbose).as_bytes())?,
            }
            Ok(())
        })?;
        match args.every {
            Some(d) => std::thread::sleep(d),
            None => {
                let error = a.flags.iter().any(|f| f.severity == Severity::Error);
                return Ok(if error {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            }
        }
    }
}

fn plural(n: usize, one: &str) -> String {
    let many = if one.ends_with('s') { "es" } else { "s" };
    format!("{n} {one}{}", if n == 1 { "" } else { many })
}

fn state_of(p: &audit::Process) -> String {
    match (p.mode, &p.stack) {
        (Some(Mode::Disabled), _) => "no seccomp".into(),
        (Some(Mode::Strict), _) => "strict mode".into(),
        (_, Some(d)) => format!("stack {}", audit::short(d)),
        (Some(Mode::Filter), None) => format!(
            "{} (not read)",
            plural(p.filters.unwrap_or(0) as usize, "filter")
        ),
        (None, _) => "unread".into(),
    }
}

/// The text report.
pub fn render(a: &HostAudit, verbose: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let containers = a.containers();
    let _ = writeln!(
        s,
        "node {} (kernel {}): {}, {}, {} ({} kernel threads not listed)",
        a.node,
        a.kernel,
        plural(a.processes.len(), "process"),
        plural(containers.len(), "container"),
        plural(a.stacks.len(), "filter stack"),
        a.kernel_threads
    );
    for w in &a.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let _ = writeln!(s, "\nstacks:");
    for (digest, procs) in a.groups() {
        let in_containers = procs.iter().filter(|p| p.container.is_some()).count();
        let who = format!(
            "{}, {} in containers",
            plural(procs.len(), "process"),
            in_containers
        );
        match digest.and_then(|d| a.stack(d)) {
            Some(st) => {
                let sizes: Vec<String> = st.instructions.iter().map(|n| n.to_string()).collect();
                let _ = writeln!(
                    s,
                    "  {}  {} ({} instructions): {who}",
                    audit::short(&st.digest),
                    plural(st.filters.len(), "filter"),
                    sizes.join(" + ")
                );
                match &st.matches {
                    Some(m) if m.is_empty() => match &st.layers {
                        Some(layers) => {
                            for (i, l) in layers.iter().enumerate() {
                                let what = if l.is_empty() {
                                    "no candidate profile".to_string()
                                } else {
                                    l.join("; ")
                                };
                                let _ = writeln!(s, "      filter {}: = {what}", i + 1);
                            }
                        }
                        None => {
                            let _ = writeln!(s, "      = no candidate profile");
                        }
                    },
                    Some(m) => {
                        for what in m {
                            let _ = writeln!(s, "      = {what}");
                        }
                    }
                    None => {
                        let _ = writeln!(s, "      (not compared)");
                    }
                }
            }
            None => {
                let mut by: std::collections::BTreeMap<String, usize> = Default::default();
                for p in &procs {
                    *by.entry(state_of(p)).or_default() += 1;
                }
                let kinds: Vec<String> = by.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let _ = writeln!(s, "  no stack      {who}: {}", kinds.join(", "));
            }
        }
    }
    if !containers.is_empty() {
        let _ = writeln!(s, "\ncontainers:");
        for c in &containers {
            let mut where_ = String::new();
            if let Some(pod) = &c.container.pod {
                where_ = format!(
                    "  pod {pod}{}",
                    c.container
                        .qos
                        .as_ref()
                        .map(|q| format!(" ({q})"))
                        .unwrap_or_default()
                );
            } else if let Some(app) = &c.container.app {
                where_ = format!("  app {app}");
            }
            let _ = writeln!(
                s,
                "  {:<40} {:<12} {}{where_}",
                c.container.to_string(),
                plural(c.processes.len(), "process"),
                state_of(c.first()),
            );
        }
    }
    if verbose {
        let _ = writeln!(s, "\nprocesses:");
        for p in &a.processes {
            let _ = writeln!(
                s,
                "  {:>7} {:<16} {:<24} nnp {:<3} {}{}",
                p.pid,
                p.name,
                state_of(p),
                match p.no_new_privs {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "?",
                },
                p.container
                    .as_ref()
                    .map(|c| c.to_string())
                    .or_else(|| p.monitor.as_ref().map(|m| format!("monitor of {m}")))
                    .unwrap_or_else(|| "host".into()),
                if p.auditor { " (this audit)" } else { "" }
            );
            for u in &p.unreadable {
                let _ = writeln!(s, "          cannot read {u}");
            }
        }
    }
    let _ = writeln!(s, "\nfindings:");
    let (unreadable, rest): (Vec<_>, Vec<_>) = a
        .flags
        .iter()
        .partition(|f| f.kind == audit::FlagKind::Unreadable);
    if rest.is_empty() && unreadable.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for f in rest {
        let _ = writeln!(s, "  {:<7} {}: {}", f.severity, f.kind.name(), f.message);
    }
    if !unreadable.is_empty() {
        let _ = writeln!(
            s,
            "  note    unreadable: {} could not be read in full (--verbose or --format json \
             for each), e.g. {}",
            plural(unreadable.len(), "process"),
            unreadable[0].message
        );
    }
    s
}
