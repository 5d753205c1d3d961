//! `syscage check`: replay traces against a profile (or a stack of them) and explain
//! every verdict.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use serde::Deserialize;
use serde_json::json;
use syscage_core::action::Action;
use syscage_core::arch::Arch;
use syscage_core::bpf::{self, stats};
use syscage_core::builtin;
use syscage_core::engine::{EngineKind, Layer, Prepared};
use syscage_core::policy::Builder;
use syscage_core::report::{self, Checked, Summary};
use syscage_simulator::{host, Deadline, Limits, Simulator};

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
///   syscage check --profile examples/firecracker-like.json#vmm examples/vmm.jsonl
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A profile file (OCI, Docker, OCI bundle config.json, seccompiler JSON) or
    /// builtin name (runtime/default, unconfined). FILE#NAME picks the filter NAME of a
    /// seccompiler file (needed when it has several). Repeat to stack filters, oldest
    /// first.
    #[arg(
        long,
        short = 'p',
        value_name = "PROFILE",
        required_unless_present_any = ["bpf", "pid", "pod", "marathon"]
    )]
    profile: Vec<String>,
    /// A Pod or workload (JSON or YAML, as for `syscage platform kubernetes`): evaluate
    /// exactly the filter the node gives --container: the platform's choice, then the
    /// node's container engine (its RuntimeDefault, how it reads a Localhost file,
    /// privileged containers, its default capabilities plus the container's
    /// capabilities), runtime, libseccomp, kernel. The node comes from --node and the
    /// flags (--container-engine, --runtime, --libseccomp, --kernel, --arch, ...).
    #[arg(long, value_name = "POD.yaml", conflicts_with_all = ["profile", "bpf", "pid", "caps"])]
    pod: Option<String>,
    /// A Marathon app (JSON): evaluate the filter a DC/OS-Mesos agent with
    /// --profiles-dir (its --seccomp_config_dir) and --default gives it, as `syscage
    /// platform mesos` decides it (a profile Mesos' own parser refuses is an error).
    #[arg(long, value_name = "APP.json", conflicts_with_all = ["profile", "bpf", "pid", "pod"], requires = "profiles_dir")]
    marathon: Option<String>,
    /// With --marathon: the agent's --seccomp_config_dir.
    #[arg(long, value_name = "DIR", requires = "marathon")]
    profiles_dir: Option<String>,
    /// With --marathon: the agent's --seccomp_profile_name (default: DC/OS's default.json).
    #[arg(long, value_name = "NAME", requires = "marathon")]
    default: Option<String>,
    /// With --marathon: the agent has no default profile.
    #[arg(long, requires = "marathon", conflicts_with = "default")]
    no_default: bool,
    /// With --pod: the container (needed when the pod has several).
    #[arg(long, short = 'c', value_name = "NAME", requires = "pod")]
    container: Option<String>,
    /// With --pod: the kubelet's --seccomp-profile-root. Default: /var/lib/kubelet/seccomp.
    #[arg(long, value_name = "DIR", requires = "pod")]
    seccomp_root: Option<String>,
    /// With --pod: the kubelet runs with --seccomp-default.
    #[arg(long, requires = "pod")]
    seccomp_default: bool,
    /// With --pod: the kubelet's release (major.minor).
    #[arg(long, value_name = "VERSION", requires = "pod")]
    kubelet_version: Option<syscage_core::runtime::Release>,
    /// With --pod: the API server's release (major.minor).
    #[arg(long, value_name = "VERSION", requires = "pod")]
    apiserver_version: Option<syscage_core::runtime::Release>,
    #[command(flatten)]
    node: crate::node::NodeArgs,
    /// Read profile files as this container engine does: containerd reads a runtime-spec
    /// LinuxSeccomp, so a Docker-format file loses archMap (native architecture only) and
    /// includes/excludes (every rule for every container); cri-o and podman read Docker's
    /// format with containers/common (no minKernel; errno names in defaultErrno/errno);
    /// docker reads it as syscage does; mesos reads no errnoRet (its ERRNO is EPERM).
    /// Set by --pod from the node's engine, by --marathon to mesos.
    #[arg(long, value_name = "ENGINE")]
    read_as: Option<syscage_core::localhost::Reader>,
    /// A raw filter (.bpf) to evaluate, e.g. from libseccomp, bwrap or `syscage dump`.
    /// Stacked after the profiles; implies the bpf interpreter (inside the sandbox
    /// with the wasm engine).
    #[arg(long, value_name = "FILE")]
    bpf: Vec<String>,
    /// Evaluate against the filters installed on this live process (read with
    /// PTRACE_SECCOMP_GET_FILTER, oldest first; profiles given are stacked after them).
    /// Implies --engine bpf unless --engine kernel.
    #[arg(long, value_name = "PID")]
    pid: Option<String>,
    /// wasm: the reference semantics inside a WebAssembly sandbox with a deadline and a
    /// memory limit (for untrusted profiles and traces); reference: the same natively, at
    /// full speed; bpf: the compiled filter in the kernel-exact interpreter; kernel:
    /// the compiled filter installed in a child of this machine's kernel, each verdict
    /// observed with ptrace, no syscall executed (ALLOW and LOG look the same there).
    #[arg(long, value_enum, default_value_t = Engine::Wasm)]
    engine: Engine,
    /// With the wasm engine: the sandbox's memory limit, in MiB (or with a K, M, G
    /// suffix). Traces are streamed through the sandbox, so this bounds the profiles
    /// and the report, not the trace.
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    max_memory: u64,
    /// With the wasm engine: how long the sandbox may run, in seconds (the whole check).
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_TIMEOUT.as_secs_f64(), value_parser = parse_seconds)]
    timeout: f64,
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

/// `--marathon`: the Mesos agent's choice for the app, as `platform mesos` makes it,
/// becomes the profile checked.
fn marathon(args: &mut Args) -> Result<()> {
    use syscage_core::platform::{mesos, Applied};
    let file = args.marathon.clone().expect("called with --marathon");
    let text = crate::input::read_text(&file, crate::input::Kind::Manifest)?;
    let opts = mesos::Options {
        profiles_dir: args.profiles_dir.clone().expect("clap requires it"),
        default_profile: (!args.no_default).then(|| {
            args.default
                .clone()
                .unwrap_or_else(|| mesos::DCOS_DEFAULT_PROFILE.to_string())
        }),
    };
    if let (Some(d), Some(path)) = (&opts.default_profile, opts.default_path()) {
        crate::cmd::platform::mesos_profile(&path).with_context(|| {
            format!(
                "the agent's default profile {d}: the agent does not start, so the task fails                  (--no-default models an agent without one)"
            )
        })?;
    }
    let r = mesos::resolve(&file, &text, &opts)?;
    let spec = match &r.applied {
        Applied::Unconfined => "unconfined".to_string(),
        // container.type DOCKER: dockerd's own default.
        Applied::RuntimeDefault => "docker/default".to_string(),
        Applied::Localhost { path } => {
            crate::cmd::platform::mesos_profile(path)
                .with_context(|| format!("app {}: the agent would fail the task", r.container))?;
            // Mesos builds the filter itself with libseccomp: no runtime stub (crun's
            // model has none), and no errnoRet.
            args.read_as = Some(syscage_core::localhost::Reader::Mesos);
            args.target.runtime = Some("crun".parse().expect("a runtime name"));
            path.clone()
        }
    };
    if !args.quiet {
        eprintln!(
            "syscage: app {} on the Mesos agent: {} ({}; decided by {}){}",
            r.container,
            spec,
            r.reason,
            r.decided_by,
            if args.read_as.is_some() {
                "; the Mesos containerizer builds the filter itself with libseccomp, which \
                 syscage evaluates as crun's (no stub); capabilities: --caps (default \
                 Docker's)"
            } else {
                ""
            }
        );
    }
    args.profile = vec![spec];
    Ok(())
}

/// `--pod`: follows the container down the node and points the check at exactly that
/// filter, for that container's capabilities on that node's stack.
fn pod(args: &mut Args) -> Result<()> {
    use syscage_core::chain::Filter;
    use syscage_core::platform::kubernetes;
    let file = args.pod.clone().expect("called with --pod");
    let node = args.node.node(
        &crate::node::StackArgs::from(&args.target),
        &crate::node::KubeletFlags {
            seccomp_root: args.seccomp_root.clone(),
            seccomp_default: args.seccomp_default,
            kubelet_version: args.kubelet_version,
            apiserver_version: args.apiserver_version,
        },
    )?;
    let text = crate::input::read_text(&file, crate::input::Kind::Manifest)?;
    let ws = kubernetes::resolve_all(
        &file,
        &text,
        &crate::node::kube_options(&node),
        args.container.as_deref(),
    )?;
    let all: Vec<_> = ws.iter().flat_map(|w| w.containers.iter()).collect();
    let r = match all.as_slice() {
        [r] => *r,
        _ => bail!(
            "{file} has {} containers; pick one with --container ({})",
            all.len(),
            all.iter()
                .map(|r| r.container.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let chain = crate::cmd::platform::follow_all(std::slice::from_ref(r), &node)?.remove(0);
    if !args.quiet {
        eprintln!(
            "syscage: {} {} on {}: {}",
            r.role,
            r.container,
            node.describe_engine(),
            chain.line()
        );
    }
    args.profile = vec![match &chain.filter {
        Filter::None => "unconfined".to_string(),
        f => f.profile_spec(),
    }];
    if matches!(chain.filter, Filter::File { .. }) {
        args.read_as = Some(syscage_core::localhost::Reader::Engine(node.engine.value));
    }
    args.target.arch = node.arch.value;
    args.target.kernel = node.kernel.value;
    args.target.runtime = Some(node.runtime.value);
    args.target.libseccomp = Some(node.libseccomp.value.clone());
    args.target.caps = Some(if chain.caps.is_empty() {
        "none".to_string()
    } else {
        chain.caps.join(",")
    });
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Wasm,
    Reference,
    Bpf,
    Kernel,
}

/// `512` (MiB), `512M`, `2G`, `65536K`: a size in bytes, at most 4 GiB (wasm32).
fn parse_size(s: &str) -> Result<u64, String> {
    let bytes = crate::input::parse_size(s)?;
    if bytes > 4 << 30 {
        return Err(format!(
            "{s:?}: the limit must be between 1 byte and 4G (wasm32)"
        ));
    }
    Ok(bytes)
}

/// A positive number of seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v < 1e9 => Ok(v),
        _ => Err(format!("{s:?}: expected a positive number of seconds")),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(mut args: Args) -> Result<ExitCode> {
    load::check_traces(&args.traces)?;
    if args.pod.is_some() {
        pod(&mut args)?;
    }
    if args.marathon.is_some() {
        marathon(&mut args)?;
    }
    // A live process's filters are read natively (ptrace) and run by the bpf engine.
    if args.engine == Engine::Wasm && args.pid.is_none() {
        return run_wasm(&args);
    }
    let policies = load::policies_read_as(&args.profile, &args.target, args.quiet, args.read_as)?;
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
    let evaluator = prepared.evaluator();
    let mut kernel = match args.engine {
        Engine::Kernel => Some(KernelEngine::new(&prepared)?),
        _ => None,
    };
    let mut summary = Summary::default();
    let json = matches!(args.format, Format::Json);
    // Buffered: stdout flushes at every newline, a write per event.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let mut line = Vec::with_capacity(512);
    load::trace_events(&args.traces, target.arch, args.quiet, |_, event| {
        let outcome = match kernel.as_mut() {
            Some(k) => k.evaluate(&evaluator, &event)?,
            None => evaluator.evaluate(&event),
        };
        let c = Checked { event, outcome };
        summary.add(&c);
        if json {
            line.clear();
            report::write_json(&mut line, &c);
            line.push(b'\n');
            out.write_all(&line)?;
        }
        Ok(())
    })?;
    if let Some(k) = &kernel {
        eprintln!("{}", k.note());
    }
    if !json {
        let arches: Vec<&str> = prepared
            .policies()
            .first()
            .map(|p| p.arches.iter().map(|a| a.arch.name()).collect())
            .unwrap_or_default();
        let builders: Vec<Builder> = prepared.policies().iter().map(|p| p.builder).collect();
        let engine = match (args.engine, kind) {
            (Engine::Kernel, _) => "kernel engine",
            (_, EngineKind::Reference) => "reference engine",
            (_, EngineKind::Bpf) => "bpf engine",
        };
        writeln!(
            out,
            "{}",
            header(&sources, &arches, &target, &builders, engine)
        )?;
        write!(out, "{}", summary.render())?;
    }
    out.flush()?;
    Ok(exit_code(summary.events() - summary.permitted()))
}

/// 0 when every event is allowed, 1 when any is not.
fn exit_code(not_permitted: usize) -> ExitCode {
    if not_permitted == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The first line of the text report: what was checked, for which target, how. The
/// runtime and capabilities are shown only when a runtime builds one of the filters
/// (seccompiler ignores them).
fn header(
    sources: &[String],
    arches: &[&str],
    target: &syscage_core::policy::Target,
    builders: &[Builder],
    engine: &str,
) -> String {
    let arches = if arches.is_empty() {
        target.arch.name().to_string()
    } else {
        arches.join("/")
    };
    let built = if !builders.is_empty() && builders.iter().all(|b| *b == Builder::Seccompiler) {
        "seccompiler".to_string()
    } else {
        format!(
            "{}, {}, {} capabilities",
            target.runtime_release().describe(),
            target.libseccomp,
            target.caps.len()
        )
    };
    format!(
        "{} on {arches} (kernel {}, {built}; {engine})",
        sources.join(" + "),
        target.kernel
    )
}

/// The `check_begin` request for the simulator (see simulator/ABI.md): the profiles
/// and raw programs (read here, within their limits), the target and the options; the
/// traces follow in `check_feed` calls.
fn wasm_request(args: &Args, target: &syscage_core::policy::Target) -> Result<Vec<u8>> {
    let mut profiles = Vec::new();
    for spec in &args.profile {
        profiles.push(if builtin::is_builtin(spec) {
            json!({ "builtin": spec })
        } else {
            let (file, filter) = load::split_spec(spec);
            let (source, text) = load::profile_text(file)?;
            let mut p = json!({ "source": source, "text": text });
            if let Some(name) = filter {
                p["filter"] = json!(name);
            }
            if let Some(r) = args.read_as {
                p["read_as"] = json!(r.to_string());
            }
            p
        });
    }
    let mut programs = Vec::new();
    for path in &args.bpf {
        // Read and checked here: a file the kernel could never take is refused before
        // it crosses into the sandbox.
        let bytes = crate::input::read(path, crate::input::Kind::Bpf)?;
        bpf::Program::from_raw(&bytes).with_context(|| format!("{path}: not a raw BPF filter"))?;
        programs.push(json!({ "source": path, "bytes": bytes }));
    }
    let head = json!({
        "profiles": profiles,
        "bpf": programs,
        "target": {
            "arch": target.arch.name(),
            "kernel": target.kernel.to_string(),
            "runtime": target.runtime_release().to_string(),
            "libseccomp": {
                "library": target.libseccomp.library,
                "unknown": target.libseccomp.unknown().collect::<Vec<_>>(),
            },
            "caps": target.caps,
        },
        "engine": if args.bpf.is_empty() { "reference" } else { "bpf" },
        "events": matches!(args.format, Format::Json),
        "stats": args.stats,
    });
    Ok(serde_json::to_vec(&head)?)
}

/// What `check_begin` answers (ABI.md).
#[derive(Deserialize)]
struct WasmBegin {
    engine: String,
    sources: Vec<String>,
    #[serde(default)]
    builders: Vec<String>,
    arches: Vec<String>,
    warnings: Vec<host::GuestError>,
    #[serde(default)]
    stats: Vec<WasmStats>,
}

/// What `check_feed` answers; the events follow the envelope as JSON Lines (the
/// request says `"lines": true`).
#[derive(Deserialize)]
struct WasmFeed {
    trace_warnings: Vec<WasmWarning>,
    #[serde(default)]
    lines: usize,
}

/// What `check_end` answers.
#[derive(Deserialize)]
struct WasmEnd {
    trace_warnings: Vec<WasmWarning>,
    #[serde(default)]
    lines: usize,
    counts: WasmCounts,
    summary: String,
}

#[derive(Deserialize)]
struct WasmWarning {
    message: String,
}

#[derive(Deserialize)]
struct WasmCounts {
    events: usize,
    not_permitted: usize,
}

#[derive(Deserialize)]
struct WasmStats {
    instructions: usize,
    arches: Vec<WasmArchStats>,
}

#[derive(Deserialize)]
struct WasmArchStats {
    arch: String,
    executed: stats::Executed,
    cacheable: usize,
    allowed_argument_free: usize,
}

impl WasmStats {
    fn to_stats(&self) -> Result<stats::Stats> {
        Ok(stats::Stats {
            instructions: self.instructions,
            arches: self
                .arches
                .iter()
                .map(|a| {
                    Ok(stats::ArchStats {
                        arch: a.arch.parse::<Arch>()?,
                        executed: a.executed.clone(),
                        cacheable: a.cacheable,
                        allowed_argument_free: a.allowed_argument_free,
                        per_syscall: Vec::new(),
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

/// The result of an answer envelope (the host's [`host::Envelope`]) as `T`.
fn result<T: serde::de::DeserializeOwned>(env: host::Envelope<'_>, what: &str) -> Result<T> {
    let raw = env
        .into_result()?
        .ok_or_else(|| host::SimError::Malformed(format!("the {what} answer has no result")))?;
    Ok(serde_json::from_str(raw.get())
        .map_err(|e| host::SimError::Malformed(format!("{what} answer: {e}")))?)
}

/// Parses an answer envelope in the guest's memory.
fn envelope<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    result(host::parse_envelope(bytes)?, what)
}

/// An answer envelope followed by a newline and raw bytes (`"lines": true`, ABI.md):
/// the result, and the bytes after the envelope.
fn envelope_with_trailer<'a, T: serde::de::DeserializeOwned>(
    bytes: &'a [u8],
    what: &str,
) -> Result<(T, &'a [u8])> {
    let malformed = |m: String| host::SimError::Malformed(format!("{what} answer: {m}"));
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<host::Envelope<'a>>();
    let env = values
        .next()
        .ok_or_else(|| malformed("empty".into()))?
        .map_err(|e| malformed(e.to_string()))?;
    let end = values.byte_offset();
    let trailer = match bytes.get(end..) {
        Some([b'\n', rest @ ..]) => rest,
        Some([]) | None => &[],
        Some(_) => return Err(malformed("no newline after the envelope".into()).into()),
    };
    Ok((result(env, what)?, trailer))
}

/// Ends this process at the deadline with the sandbox's timeout error (exit 2): what
/// would be written after it is not. Only `check --engine wasm` starts it.
fn watchdog(timeout: std::time::Duration) {
    let started = std::time::Instant::now();
    let spawned = std::thread::Builder::new()
        .name("syscage-deadline".into())
        .spawn(move || loop {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                eprintln!("syscage: error: {}", host::SimError::Timeout { timeout });
                std::process::exit(2);
            }
            std::thread::park_timeout(left);
        });
    if let Err(e) = spawned {
        eprintln!("syscage: warning: no watchdog for --timeout: {e}");
    }
}

/// `check --engine wasm`: the same answers, computed inside the sandbox, the traces
/// streamed through it a chunk at a time.
fn run_wasm(args: &Args) -> Result<ExitCode> {
    let target = args.target.target()?;
    let request = wasm_request(args, &target)?;
    // The deadline is this process's: a watchdog ends it, and the guest's code runs
    // without epoch checks (a third faster; simulator::host explains).
    let timeout = std::time::Duration::from_secs_f64(args.timeout);
    watchdog(timeout);
    let sim = Simulator::new(Limits {
        max_memory: args.max_memory,
        timeout,
        deadline: Deadline::Caller,
    })?;
    let mut session = sim.session()?;
    let begin: WasmBegin = session.call_raw("check_begin", &request, None, |b| {
        envelope::<WasmBegin>(b, "check_begin")
    })??;
    drop(request);
    if !args.quiet {
        for w in &begin.warnings {
            eprintln!("syscage: warning: {}", w.message);
        }
    }
    for s in &begin.stats {
        eprint!("{}", crate::cmd::render_stats(&s.to_stats()?));
    }
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let quiet = args.quiet;
    let lines = matches!(args.format, Format::Json);
    // Warnings and events of one answer, as they come: the events are JSON Lines
    // already (the guest wrote them so), copied as they are.
    let emit = |out: &mut dyn Write,
                warnings: &[WasmWarning],
                lines: usize,
                events: &[u8]|
     -> Result<()> {
        // What the guest wrote is printed as it is: whole lines, as many as it says
        // (none, or at least that many bytes).
        if !(events.is_empty() || events.ends_with(b"\n")) || (lines == 0) != events.is_empty() {
            bail!(host::SimError::Malformed(format!(
                "{} bytes of events where the answer says {lines} lines",
                events.len()
            )));
        }
        if !quiet {
            for w in warnings {
                eprintln!("syscage: warning: {}", w.message);
            }
        }
        out.write_all(events)?;
        Ok(())
    };
    load::trace_chunks(&args.traces, |name, bytes, last| {
        let request = serde_json::to_vec(&json!({ "source": name, "last": last, "lines": lines }))?;
        session.call_raw("check_feed", &request, Some(bytes), |b| -> Result<()> {
            let (feed, events) = envelope_with_trailer::<WasmFeed>(b, "check_feed")?;
            emit(&mut out, &feed.trace_warnings, feed.lines, events)
        })?
    })?;
    let end_request = serde_json::to_vec(&json!({ "lines": lines }))?;
    let code = session.call_raw("check_end", &end_request, None, |b| -> Result<ExitCode> {
        let (end, events) = envelope_with_trailer::<WasmEnd>(b, "check_end")?;
        emit(&mut out, &end.trace_warnings, end.lines, events)?;
        if end.counts.not_permitted > end.counts.events {
            bail!(host::SimError::Malformed(
                "more events denied than checked".into()
            ));
        }
        if matches!(args.format, Format::Text) {
            let arches: Vec<&str> = begin.arches.iter().map(String::as_str).collect();
            let builders: Vec<Builder> = begin
                .builders
                .iter()
                .map(|b| match b.as_str() {
                    "seccompiler" => Builder::Seccompiler,
                    _ => Builder::Runtime,
                })
                .collect();
            let engine = if begin.engine == "bpf" {
                "wasm engine, bpf interpreter"
            } else {
                "wasm engine"
            };
            writeln!(
                out,
                "{}",
                header(&begin.sources, &arches, &target, &builders, engine)
            )?;
            write!(out, "{}", end.summary)?;
        }
        Ok(exit_code(end.counts.not_permitted))
    })??;
    out.flush()?;
    Ok(code)
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
use crate::cmd::kernel::KernelEngine;

/// Where the kernel engine cannot run: refuses to start.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
struct KernelEngine;

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
impl KernelEngine {
    fn new(_: &Prepared) -> Result<KernelEngine> {
        anyhow::bail!("--engine kernel needs Linux on x86_64")
    }

    fn evaluate(
        &mut self,
        _: &syscage_core::engine::Evaluator<'_>,
        _: &syscage_core::event::Event,
    ) -> Result<syscage_core::eval::Outcome> {
        anyhow::bail!("--engine kernel needs Linux on x86_64")
    }

    fn note(&self) -> String {
        String::new()
    }
}
