//! `syscage platform`: which seccomp profile a platform gives a workload, and why.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use syscage_core::localhost;
use syscage_core::platform::{kubernetes, mesos, openshift, Applied, Resolution};
use syscage_core::profile::Runtime;
use syscage_core::runtime::Release;

use crate::load;
use crate::node::{self, KubeletFlags, NodeArgs, StackArgs};
use syscage_core::chain::{self, Chain, Filter, Node};

/// Show which seccomp profile a platform applies to each container, and why.
///
/// Reads the workload's JSON or YAML (several documents, `kind: List`, `helm template`
/// and `kustomize build` output: every workload in the file) and prints, per container, the profile the platform applies, the
/// place in the file that decided it (file:line:column and JSON pointer) and the rule.
/// A Localhost profile must exist and parse: a missing file is an error, as the
/// container would not start. Exit status: 0, or 2 on an error.
///
/// `--print-profile` prints only the `--profile` value for `syscage check`:
///   syscage check --profile "$(syscage platform kubernetes pod.json -c app \
///       --seccomp-root ./seccomp --print-profile)" trace.strace
///
/// Examples:
///   syscage platform kubernetes examples/platform/pod.json --seccomp-root examples/platform/seccomp
///   syscage platform kubernetes examples/platform/deployment.json --seccomp-default
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    platform: Platform,
}

/// How to print the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    /// One JSON object: the file, the platform's settings, and per container the
    /// applied profile, what decided it (pointer and place), why, and notes.
    Json,
}

#[derive(clap::Subcommand, Debug)]
enum Platform {
    Kubernetes(KubeArgs),
    Openshift(OpenshiftArgs),
    Mesos(MesosArgs),
}

/// Kubernetes: the profile the kubelet asks the runtime for.
///
/// Accepts a Pod (as `kubectl get pod NAME -o json` prints it, or a bare Pod) or the pod
/// template of a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob, in
/// JSON. For each init, regular and ephemeral container: its
/// securityContext.seccompProfile, else the pod's spec.securityContext.seccompProfile,
/// else RuntimeDefault with --seccomp-default, else Unconfined. Localhost profiles are
/// read from the seccomp root. Privileged containers get no filter (containerd).
/// Annotations (seccomp.security.alpha.kubernetes.io/...) are ignored, as kubelets do
/// since 1.25 and API servers since 1.27; --kubelet-version and --apiserver-version
/// model older nodes (a kubelet before 1.25 reads them; an API server before 1.27
/// copies them into empty fields). An annotation that contradicts its field makes the
/// API server refuse the pod, whatever the versions.
///
/// Examples:
///   syscage platform kubernetes examples/platform/pod.json --seccomp-root examples/platform/seccomp
///   syscage platform kubernetes pod.json --container app --print-profile
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
struct KubeArgs {
    /// The Pod or workload, as JSON.
    #[arg(value_name = "POD.json")]
    file: String,
    /// Only this container (init, regular or ephemeral).
    #[arg(long, short = 'c', value_name = "NAME")]
    container: Option<String>,
    /// The kubelet's --seccomp-profile-root, where Localhost profiles are looked up.
    /// Default: /var/lib/kubelet/seccomp.
    #[arg(long, value_name = "DIR")]
    seccomp_root: Option<String>,
    /// The kubelet runs with --seccomp-default: containers that set no profile get
    /// RuntimeDefault instead of Unconfined.
    #[arg(long)]
    seccomp_default: bool,
    /// The kubelet's release (major.minor). Default: a current one (1.27+).
    #[arg(long, value_name = "VERSION")]
    kubelet_version: Option<Release>,
    /// The API server's release (major.minor). Default: the kubelet's.
    #[arg(long, value_name = "VERSION")]
    apiserver_version: Option<Release>,
    /// Shorthand for --kubelet-version 1.24 (a kubelet that still reads the legacy
    /// annotations: container field, container annotation, pod field, pod annotation).
    #[arg(long)]
    legacy_annotations: bool,
    /// Print only the --profile value for `syscage check` (needs one container): the
    /// filter the node installs (e.g. containerd/default@2.3), or unconfined.
    #[arg(long)]
    print_profile: bool,
    /// Admit the pod under this PodSecurityPolicy first (JSON or YAML): its
    /// seccomp.security.alpha.kubernetes.io/defaultProfileName and allowedProfileNames
    /// annotations, as Kubernetes 1.18 and earlier apply them (annotations only; the
    /// kubelet defaults to 1.18). One workload per file.
    #[arg(long, value_name = "PSP.yaml")]
    psp: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    node: NodeArgs,
    #[command(flatten)]
    stack: StackArgs,
}

/// OpenShift: what an SCC's seccomp strategy does to the pod, then the kubelet.
///
/// Admits the pod (or workload template) under one SecurityContextConstraints object
/// (JSON, e.g. `oc get scc restricted-v2 -o json`): a pod that sets no pod-level
/// profile gets the first entry of `seccompProfiles` that is not `*`; every container's
/// profile must then be listed (`*` allows any; runtime/default and docker/default are
/// one), else the pod is forbidden under that SCC (exit 2, naming the place). What the
/// kubelet applies to the admitted pod follows the Kubernetes rules. Which SCC a pod
/// gets among several (priority, RBAC) is not modelled.
///
/// Examples:
///   syscage platform openshift --scc examples/platform/scc-restricted-v2.json examples/platform/deployment.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
struct OpenshiftArgs {
    /// The SecurityContextConstraints object, as JSON.
    #[arg(long, value_name = "SCC.json")]
    scc: String,
    #[command(flatten)]
    kube: KubeArgs,
}

/// DC/OS-Mesos: the profile the agent's linux/seccomp isolator gives a Marathon app.
///
/// Reads a Marathon app (JSON, as `dcos marathon app show ID` prints it):
/// container.linuxInfo.seccomp.unconfined true -> no filter; profileName -> that file
/// in the agent's profile directory (--seccomp_config_dir); no seccomp block -> the
/// agent's default profile (--seccomp_profile_name; DC/OS sets default.json).
///
/// With --agent DIR given once per agent (each agent's --seccomp_config_dir), compares
/// the agents instead, as DC/OS wants them identical: profiles missing on some agents,
/// profiles whose verdicts differ between agents (by verdicts, with an event that
/// tells them apart, not by bytes), agents whose default profile would stop them, and
/// for each app which agents would run it under which filter.
///
/// Examples:
///   syscage platform mesos examples/platform/marathon-app.json --profiles-dir examples/platform/seccomp
///   syscage platform mesos app1.json app2.json --agent agent-a/seccomp --agent agent-b/seccomp
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
struct MesosArgs {
    /// The Marathon apps, as JSON (one, unless --agent).
    #[arg(value_name = "APP.json", required = true)]
    files: Vec<String>,
    /// The agent's --seccomp_config_dir.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "agent",
        conflicts_with = "agent"
    )]
    profiles_dir: Option<String>,
    /// One agent's --seccomp_config_dir; repeat for each agent to compare them.
    #[arg(long, value_name = "DIR")]
    agent: Vec<String>,
    /// The agent's --seccomp_profile_name (relative to --profiles-dir).
    #[arg(long, value_name = "NAME", default_value = mesos::DCOS_DEFAULT_PROFILE)]
    default: String,
    /// The agent has no default profile (no --seccomp_profile_name).
    #[arg(long, conflicts_with = "default")]
    no_default: bool,
    /// Print only the --profile value for `syscage check`.
    #[arg(long, conflicts_with = "agent")]
    print_profile: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.platform {
        Platform::Kubernetes(a) => kube(a),
        Platform::Openshift(a) => openshift(a),
        Platform::Mesos(a) => mesos(a),
    }
}

fn openshift(a: OpenshiftArgs) -> Result<ExitCode> {
    let scc_text = read(&a.scc)?;
    let k = a.kube;
    let text = read(&k.file)?;
    let node = kube_node(&k)?;
    let opts = node::kube_options(&node);
    let adm = openshift::resolve(
        &a.scc,
        &scc_text,
        &k.file,
        &text,
        &opts,
        k.container.as_deref(),
    )?;
    let w = adm.workload;
    let header = format!(
        "{}: {}{} admitted under SCC {} (seccompProfiles [{}{}]){}",
        k.file,
        w.kind,
        w.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default(),
        adm.scc.name,
        adm.scc.allowed.join(" "),
        if adm.scc.allow_any {
            if adm.scc.allowed.is_empty() {
                "*"
            } else {
                " *"
            }
        } else {
            ""
        },
        adm.defaulted
            .as_ref()
            .map(|d| format!("; pod profile defaulted to {d}"))
            .unwrap_or_default(),
    );
    let settings = serde_json::json!({
        "scc": adm.scc.name,
        "seccomp_profiles": adm.scc.allowed,
        "allow_any": adm.scc.allow_any,
        "defaulted": adm.defaulted,
        "seccomp_root": opts.seccomp_root,
        "node": node_json(&node),
    });
    admitted(&k, &node, w, "openshift", settings, &header)
}

/// An admitted workload (OpenShift's SCC, a PodSecurityPolicy): each container
/// followed down the node, its files checked, and the answer printed under `header`.
fn admitted(
    k: &KubeArgs,
    node: &Node,
    mut w: kubernetes::Workload,
    platform: &str,
    settings: serde_json::Value,
    header: &str,
) -> Result<ExitCode> {
    let chains = follow_all(&w.containers, node)?;
    check_files(
        &mut w.containers,
        Some((&chains, node)),
        "the kubelet would fail to create the container (CreateContainerError)",
    )?;
    if k.print_profile {
        return print_profile(&w.containers, Some(&chains));
    }
    if k.format == Format::Json {
        return print_json(
            &k.file,
            platform,
            settings,
            vec![(
                serde_json::json!({"kind": w.kind, "name": w.name, "at": w.at}),
                w.containers.as_slice(),
                Some(chains.as_slice()),
            )],
        );
    }
    crate::cmd::stdout(|out| {
        writeln!(out, "{header}")?;
        print_node(out, node)?;
        print(out, &w.containers, Some(&chains), &Check::Explicit(node))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn mesos(a: MesosArgs) -> Result<ExitCode> {
    if !a.agent.is_empty() {
        return crate::cmd::agents::run(
            &a.files,
            &a.agent,
            (!a.no_default).then_some(a.default.as_str()),
            a.format == Format::Json,
        );
    }
    let [file] = a.files.as_slice() else {
        bail!(
            "one Marathon app at a time without --agent (given {})",
            a.files.len()
        );
    };
    let profiles_dir = a
        .profiles_dir
        .clone()
        .expect("clap requires it without --agent");
    let text = read(file)?;
    let opts = mesos::Options {
        profiles_dir,
        default_profile: (!a.no_default).then(|| a.default.clone()),
    };
    let r = mesos::resolve(file, &text, &opts)?;
    // The seccomp isolator parses the default profile when the agent starts
    // (`LinuxSeccompIsolatorProcess::create`), with Mesos' own parser; if it cannot, the
    // agent does not start and every task on it fails, unconfined ones too.
    if let (Some(d), Some(path)) = (&opts.default_profile, opts.default_path()) {
        if let Err(why) = mesos_profile(&path) {
            bail!(
                "the agent's default profile (--seccomp_profile_name {d}): {why:#}: the Mesos \
                 agent does not start (its seccomp isolator parses the default profile at \
                 startup), so every task on it fails, unconfined ones too; --no-default \
                 models an agent without one"
            );
        }
    }
    let mut r = r;
    if let Applied::Localhost { path } = &r.applied {
        match mesos_profile(path) {
            Ok(ignored) if !ignored.is_empty() => r.notes.push(format!(
                "Mesos' profile parser does not read {} (Docker's format fields it ignores)",
                ignored.join(", ")
            )),
            Ok(_) => {}
            Err(why) => bail!(
                "{} {}: {why:#}: the agent would fail the task",
                r.role,
                r.container
            ),
        }
    }
    let mut rs = [r];
    check_files(&mut rs, None, "the agent would fail the task")?;
    if a.print_profile {
        return print_profile(&rs, None);
    }
    if a.format == Format::Json {
        return print_json(
            file,
            "mesos",
            serde_json::json!({
                "profiles_dir": opts.profiles_dir,
                "default_profile": opts.default_profile,
            }),
            vec![(
                serde_json::json!({"kind": "Marathon app"}),
                rs.as_slice(),
                None,
            )],
        );
    }
    crate::cmd::stdout(|out| {
        writeln!(
            out,
            "{}: Marathon app (profile directory {}; agent default {})",
            file,
            opts.profiles_dir,
            opts.default_profile.as_deref().unwrap_or("none")
        )?;
        let check = format!(
            "syscage check --marathon {file} --profiles-dir {}{} TRACE",
            opts.profiles_dir,
            match &opts.default_profile {
                None => " --no-default".to_string(),
                Some(d) if d == mesos::DCOS_DEFAULT_PROFILE => String::new(),
                Some(d) => format!(" --default {d}"),
            }
        );
        print(out, &rs, None, &Check::Marathon(check))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The node the kubelet runs on: its file and flags.
fn kube_node(a: &KubeArgs) -> Result<Node> {
    a.node.node(
        &a.stack,
        &KubeletFlags {
            seccomp_root: a.seccomp_root.clone(),
            seccomp_default: a.seccomp_default,
            kubelet_version: a
                .kubelet_version
                .or(a.legacy_annotations.then_some(Release::new(1, 24, 0))),
            apiserver_version: a.apiserver_version,
        },
    )
}

/// The options of this command that describe the node, to repeat after `check --pod`.
fn node_flags(a: &KubeArgs) -> String {
    let mut f = Vec::new();
    let mut opt = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            f.push(format!("{name} {v}"));
        }
    };
    opt("--node", a.node.node.clone());
    opt("--container-engine", a.node.container_engine.clone());
    opt(
        "--crio-seccomp-profile",
        a.node.crio_seccomp_profile.clone(),
    );
    opt(
        "--crio-privileged-seccomp-profile",
        a.node.crio_privileged_seccomp_profile.clone(),
    );
    opt("--runtime", a.stack.runtime.map(|r| r.to_string()));
    opt("--libseccomp", a.stack.libseccomp.clone());
    opt("--kernel", a.stack.kernel.map(|k| k.to_string()));
    opt("--arch", a.stack.arch.map(|x| x.name().to_string()));
    opt("--seccomp-root", a.seccomp_root.clone());
    opt(
        "--kubelet-version",
        a.kubelet_version
            .or(a.legacy_annotations.then_some(Release::new(1, 24, 0)))
            .map(|r| r.to_string()),
    );
    opt(
        "--apiserver-version",
        a.apiserver_version.map(|r| r.to_string()),
    );
    if a.node.no_seccomp {
        f.push("--no-seccomp".into());
    }
    if a.seccomp_default {
        f.push("--seccomp-default".into());
    }
    f.iter().map(|s| format!(" {s}")).collect()
}

/// `syscage check --pod FILE` with this command's node options (`--container` follows).
fn check_pod(a: &KubeArgs) -> String {
    format!("syscage check --pod {}{}", a.file, node_flags(a))
}

/// Each container followed down the node; a container the engine refuses is an error.
pub(crate) fn follow_all(rs: &[Resolution], node: &Node) -> Result<Vec<Chain>> {
    rs.iter()
        .map(|r| {
            chain::follow(r, node).map_err(|e| {
                anyhow::anyhow!("{e}: the container would not start (CreateContainerError)")
            })
        })
        .collect()
}

fn read(path: &str) -> Result<String> {
    crate::input::read_text(path, crate::input::Kind::Manifest)
}

fn kube(a: KubeArgs) -> Result<ExitCode> {
    if let Some(psp) = a.psp.clone() {
        return kube_psp(a, &psp);
    }
    let text = read(&a.file)?;
    let node = kube_node(&a)?;
    let opts = node::kube_options(&node);
    let mut ws = kubernetes::resolve_all(&a.file, &text, &opts, a.container.as_deref())?;
    let mut chains = Vec::new();
    for w in &mut ws {
        let c = follow_all(&w.containers, &node)?;
        check_files(
            &mut w.containers,
            Some((&c, &node)),
            "the kubelet would fail to create the container (CreateContainerError)",
        )?;
        chains.push(c);
    }
    if a.print_profile {
        let all: Vec<Resolution> = ws.iter().flat_map(|w| w.containers.clone()).collect();
        let all_chains: Vec<Chain> = chains.iter().flatten().cloned().collect();
        return print_profile(&all, Some(&all_chains));
    }
    let annotations = opts
        .annotations()
        .unwrap_or("ignored (kubelet 1.25+, API server 1.27+)");
    if a.format == Format::Json {
        return print_json(
            &a.file,
            "kubernetes",
            serde_json::json!({
                "seccomp_root": opts.seccomp_root,
                "seccomp_default": opts.seccomp_default,
                "kubelet": opts.kubelet.map(|r| r.to_string()),
                "api_server": opts.api_server.map(|r| r.to_string()),
                "annotations": annotations,
                "node": node_json(&node),
            }),
            ws.iter()
                .zip(&chains)
                .map(|(w, c)| {
                    (
                        serde_json::json!({
                            "kind": w.kind,
                            "name": w.name,
                            "at": w.at,
                            "pod_security": {
                                "baseline": w.pod_security.baseline,
                                "restricted": w.pod_security.restricted,
                            },
                        }),
                        w.containers.as_slice(),
                        Some(c.as_slice()),
                    )
                })
                .collect(),
        );
    }
    crate::cmd::stdout(|out| {
        writeln!(
            out,
            "{} (seccomp root {}; kubelet {}; annotations {})",
            a.file,
            opts.seccomp_root,
            if opts.seccomp_default {
                "with --seccomp-default"
            } else {
                "without --seccomp-default"
            },
            annotations,
        )?;
        print_node(out, &node)?;
        for (w, c) in ws.iter().zip(&chains) {
            writeln!(
                out,
                "{}{}{}:",
                if w.at.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", w.at)
                },
                w.kind,
                w.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default(),
            )?;
            print(out, &w.containers, Some(c), &Check::Pod(check_pod(&a)))?;
            writeln!(
                out,
                "  Pod Security Standards, seccomp checks: {}",
                pod_security(&w.pod_security)
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `platform kubernetes --psp`: PodSecurityPolicy admission, then the kubelet and the
/// node's chain.
fn kube_psp(a: KubeArgs, psp_path: &str) -> Result<ExitCode> {
    let psp_text = read(psp_path)?;
    let text = read(&a.file)?;
    let mut node = kube_node(&a)?;
    if node.kubelet.value.is_none() {
        node.kubelet.value = Some(kubernetes::psp::NEWEST);
        node.kubelet.from = syscage_core::chain::Origin::Default("1.18: the PSP model's");
    }
    let opts = node::kube_options(&node);
    let adm = kubernetes::psp::resolve(
        psp_path,
        &psp_text,
        &a.file,
        &text,
        &opts,
        a.container.as_deref(),
    )?;
    let w = adm.workload;
    let header = format!(
        "{}: {}{} admitted under PSP {} (allowedProfileNames {}; defaultProfileName {}){}",
        a.file,
        w.kind,
        w.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default(),
        adm.psp.name,
        if adm.psp.allowed_string.is_empty() {
            "unset"
        } else {
            adm.psp.allowed_string.as_str()
        },
        adm.psp.default.as_deref().unwrap_or("unset"),
        adm.defaulted
            .as_ref()
            .map(|d| format!("; pod annotation defaulted to {d}"))
            .unwrap_or_default(),
    );
    let settings = serde_json::json!({
        "psp": adm.psp.name,
        "allowed_profile_names": adm.psp.allowed_string,
        "default_profile_name": adm.psp.default,
        "defaulted": adm.defaulted,
        "seccomp_root": opts.seccomp_root,
        "kubelet": opts.kubelet.map(|r| r.to_string()),
        "node": node_json(&node),
    });
    admitted(&a, &node, w, "kubernetes", settings, &header)
}

/// The node's settings, one per line with where each came from.
fn print_node(out: &mut impl Write, node: &Node) -> io::Result<()> {
    writeln!(out, "node:")?;
    for (what, value, from) in node_settings(node) {
        writeln!(out, "  {what}: {value} ({from})")?;
    }
    Ok(())
}

/// The node's settings as (name, value, origin).
fn node_settings(node: &Node) -> Vec<(&'static str, String, String)> {
    let mut v = vec![(
        "container engine",
        node.describe_engine(),
        node.engine.from.to_string(),
    )];
    if let Some(p) = &node.crio_seccomp_profile.value {
        v.push((
            "CRI-O seccomp_profile",
            p.clone(),
            node.crio_seccomp_profile.from.to_string(),
        ));
    }
    if let Some(p) = &node.crio_privileged_seccomp_profile.value {
        v.push((
            "CRI-O privileged_seccomp_profile",
            p.clone(),
            node.crio_privileged_seccomp_profile.from.to_string(),
        ));
    }
    v.push((
        "seccomp",
        if node.seccomp.value {
            "supported"
        } else {
            "not supported"
        }
        .to_string(),
        node.seccomp.from.to_string(),
    ));
    v.push((
        "runtime",
        node.runtime.value.describe(),
        node.runtime.from.to_string(),
    ));
    v.push((
        "libseccomp",
        node.libseccomp_found
            .clone()
            .unwrap_or_else(|| node.libseccomp.value.clone()),
        node.libseccomp.from.to_string(),
    ));
    v.push((
        "kernel",
        node.kernel
            .value
            .map_or("running".into(), |k| k.to_string()),
        node.kernel.from.to_string(),
    ));
    v.push((
        "arch",
        node.arch
            .value
            .map_or("host".into(), |a| a.name().to_string()),
        node.arch.from.to_string(),
    ));
    v
}

fn node_json(node: &Node) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (what, value, from) in node_settings(node) {
        m.insert(
            what.replace(' ', "_"),
            serde_json::json!({"value": value, "from": from}),
        );
    }
    serde_json::Value::Object(m)
}

/// The pod's seccomp standing under the Pod Security Standards, in a line.
fn pod_security(p: &kubernetes::pod_security::PodSecurity) -> String {
    match (&p.baseline, &p.restricted) {
        (None, None) => "meets baseline and restricted".to_string(),
        (None, Some(r)) => format!("meets baseline; violates restricted: {r}"),
        (Some(b), Some(r)) => format!("violates baseline: {b}; violates restricted: {r}"),
        (Some(b), None) => format!("violates baseline: {b}"),
    }
}

/// A profile as the Mesos agent reads it: it must exist, pass Mesos' own parser
/// (`mesos::parser`, with this host's libseccomp as the agent's) and be one syscage
/// reads; `Ok` lists the fields Mesos ignores.
pub(crate) fn mesos_profile(path: &str) -> Result<Vec<String>> {
    if let Some(why) = crate::input::refusal(path) {
        bail!("profile {path} {why}");
    }
    let text = crate::input::read_text(path, crate::input::Kind::Profile)?;
    let libseccomp = syscage_enforcer::host::libseccomp()
        .unwrap_or_else(syscage_core::libseccomp::Libseccomp::latest);
    let ignored = mesos::parser::check(path, &text, &libseccomp)?;
    load::profile(path, Runtime::Runc).with_context(|| format!("profile {path}"))?;
    Ok(ignored)
}

/// Every profile file a container ends up with must exist and be a profile syscage
/// (and runc) accepts, read as the node's engine reads it (what the engine ignores
/// becomes a note on the container). Without chains (Mesos), the platform's Localhost
/// answers are checked.
fn check_files(
    rs: &mut [Resolution],
    chains: Option<(&[Chain], &Node)>,
    consequence: &str,
) -> Result<()> {
    for (i, r) in rs.iter_mut().enumerate() {
        let path = match chains {
            Some((c, _)) => match &c[i].filter {
                Filter::File { path } => path.clone(),
                _ => continue,
            },
            None => match &r.applied {
                Applied::Localhost { path } => path.clone(),
                _ => continue,
            },
        };
        if let Some(why) = crate::input::refusal(&path) {
            bail!(
                "{} {}: profile {path} {why} ({}): {consequence}",
                r.role,
                r.container,
                r.location
                    .as_ref()
                    .map_or(r.decided_by.clone(), |l| l.to_string())
            );
        }
        let what = format!("{} {}: profile {path}", r.role, r.container);
        match chains {
            Some((_, node)) => {
                let (source, text) = load::profile_text(&path).with_context(|| what.clone())?;
                let read = localhost::read(node.engine.value, &source, &text, Runtime::Runc)
                    .with_context(|| what.clone())?;
                r.notes.extend(read.ignored);
            }
            None => {
                load::profile(&path, Runtime::Runc).with_context(|| what.clone())?;
            }
        }
    }
    Ok(())
}

fn print_profile(rs: &[Resolution], chains: Option<&[Chain]>) -> Result<ExitCode> {
    match (rs, chains) {
        ([_], Some([c])) => {
            crate::cmd::print(format!("{}\n", c.filter.profile_spec()))?;
            Ok(ExitCode::SUCCESS)
        }
        ([r], None) => {
            crate::cmd::print(format!("{}\n", r.applied.profile_spec()))?;
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!(
            "--print-profile needs one container; pick one with --container ({})",
            rs.iter()
                .map(|r| r.container.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One workload for [`print_json`]: its description, its containers' answers and, with
/// a node below the platform, their chains.
type JsonWorkload<'a> = (serde_json::Value, &'a [Resolution], Option<&'a [Chain]>);

/// The answer as one JSON object: `settings` says what the platform was assumed to be.
fn print_json(
    file: &str,
    platform: &str,
    settings: serde_json::Value,
    workloads: Vec<JsonWorkload<'_>>,
) -> Result<ExitCode> {
    let container = |r: &Resolution, c: Option<&Chain>| {
        let (kind, path) = match &r.applied {
            Applied::RuntimeDefault => ("RuntimeDefault", None),
            Applied::Unconfined => ("Unconfined", None),
            Applied::Localhost { path } => ("Localhost", Some(path.as_str())),
        };
        serde_json::json!({
            "role": r.role,
            "name": r.container,
            "pointer": r.pointer,
            "applied": kind,
            "path": path,
            "profile": (r.applied != Applied::Unconfined).then(|| r.applied.profile_spec()),
            "decided_by": r.decided_by,
            "location": r.location.as_ref().map(|l| serde_json::json!({
                "source": l.source, "line": l.line, "column": l.column, "pointer": l.pointer,
            })),
            "reason": r.reason,
            "notes": r.notes,
            "chain": c.map(|c| serde_json::json!({
                "steps": c.steps.iter().map(|s| serde_json::json!({
                    "what": s.what, "decided_by": s.decided_by,
                })).collect::<Vec<_>>(),
                "filter": (c.filter != Filter::None).then(|| c.filter.profile_spec()),
                "capabilities": c.caps,
            })),
        })
    };
    let workloads: Vec<serde_json::Value> = workloads
        .into_iter()
        .map(|(mut meta, rs, chains)| {
            meta["containers"] = rs
                .iter()
                .enumerate()
                .map(|(i, r)| container(r, chains.map(|c| &c[i])))
                .collect();
            meta
        })
        .collect();
    let doc = serde_json::json!({
        "file": file,
        "platform": platform,
        "settings": settings,
        "workloads": workloads,
    });
    crate::cmd::print(format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    Ok(ExitCode::SUCCESS)
}

/// How to say which `syscage check` evaluates a container's filter.
enum Check<'a> {
    /// `check --pod FILE` and the node options, `--container NAME` to follow.
    Pod(String),
    /// `check --profile SPEC` with the container's capabilities and the node's stack
    /// (OpenShift: `--pod` would skip the SCC's admission).
    Explicit(&'a Node),
    /// `check --marathon APP ...`, whole (Mesos: no chain below the agent).
    Marathon(String),
}

impl Check<'_> {
    fn command(&self, r: &Resolution, chain: &Chain) -> String {
        match self {
            Check::Pod(head) => format!("{head} --container {} TRACE", r.container),
            Check::Marathon(c) => c.clone(),
            Check::Explicit(node) => {
                let mut c = format!("syscage check --profile {}", chain.filter.profile_spec());
                if matches!(chain.filter, Filter::File { .. }) {
                    c += &format!(" --read-as {}", node.engine.value);
                }
                c += &format!(
                    " --caps {}",
                    if chain.caps.is_empty() {
                        "none".to_string()
                    } else {
                        chain.caps.join(",")
                    }
                );
                c += &format!(" --runtime {}", node.runtime.value);
                if node.libseccomp.value != "host" {
                    c += &format!(" --libseccomp {}", node.libseccomp.value);
                }
                if let Some(k) = node.kernel.value {
                    c += &format!(" --kernel {k}");
                }
                if let Some(a) = node.arch.value {
                    c += &format!(" --arch {}", a.name());
                }
                c + " TRACE"
            }
        }
    }
}

/// Prints each container's answer, and the `check` that evaluates its filter.
fn print(
    out: &mut impl Write,
    rs: &[Resolution],
    chains: Option<&[Chain]>,
    check: &Check<'_>,
) -> io::Result<()> {
    for (i, r) in rs.iter().enumerate() {
        let chain = chains.map(|c| &c[i]);
        let what = match (&r.applied, chain) {
            (_, Some(c)) => match &c.filter {
                Filter::None => "unconfined".to_string(),
                Filter::Builtin(d) => d.name(),
                // A node file's profile (CRI-O's seccomp_profile) is not a Localhost one.
                Filter::File { path } if matches!(r.applied, Applied::Localhost { .. }) => {
                    format!("{path} (Localhost)")
                }
                Filter::File { path } => path.clone(),
            },
            (Applied::Localhost { path }, None) => format!("{path} (Localhost)"),
            (a, None) => a.to_string(),
        };
        writeln!(out, "{} {}: {what}", r.role, r.container)?;
        match &r.location {
            Some(l) => writeln!(
                out,
                "  decided by {} ({}:{}:{})",
                r.decided_by, l.source, l.line, l.column
            )?,
            None => writeln!(out, "  decided by {}", r.decided_by)?,
        }
        writeln!(out, "  {}", r.reason)?;
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
        match chain {
            Some(c) => {
                writeln!(out, "  chain: {}", c.line())?;
                if c.filter != Filter::None {
                    writeln!(out, "  check: {}", check.command(r, c))?;
                }
            }
            None if r.applied != Applied::Unconfined => match check {
                Check::Marathon(c) => writeln!(out, "  check: {c}")?,
                _ => writeln!(
                    out,
                    "  check: syscage check --profile {} TRACE",
                    r.applied.profile_spec()
                )?,
            },
            None => {}
        }
    }
    Ok(())
}
