//! The node below the platform, from a node file (`--node`) and flags: glue between
//! clap and `syscage_core::chain::Node`, and the host lookups that make a node's
//! defaults concrete (the running kernel, the installed runc, the host's libseccomp).

use anyhow::{Context, Result};
use syscage_core::arch::Arch;
use syscage_core::builtin::catalog;
use syscage_core::chain::Node;
use syscage_core::platform::kubernetes;
use syscage_core::profile::KernelVersion;
use syscage_core::runtime::{Release, RuntimeRelease};

use crate::load::TargetArgs;

/// What the node runs (shared by `platform kubernetes|openshift` and `check --pod`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct NodeArgs {
    /// A node file (YAML or JSON): the kubelet (version, seccompDefault,
    /// seccompProfileRoot), the API server's version, the container engine (name,
    /// version; CRI-O's seccompProfile and privilegedSeccompProfile), seccomp
    /// (false: a node without it), runtime, libseccomp, kernel, arch. Flags override
    /// it; what neither sets has a default the output states. Example:
    /// examples/platform/node.yaml.
    #[arg(long, value_name = "NODE.yaml")]
    pub node: Option<String>,
    /// The container engine (the node's CRI), optionally at a release line:
    /// containerd, containerd@1.6, cri-o@1.36, docker@20.10, podman@4.3. It decides what
    /// RuntimeDefault is, how a Localhost file is read, what privileged containers get
    /// and the default capabilities. Default: containerd, newest modelled.
    #[arg(long, value_name = "ENGINE[@RELEASE]")]
    pub container_engine: Option<String>,
    /// CRI-O's seccomp_profile (crio.conf): the file CRI-O uses for RuntimeDefault.
    #[arg(long, value_name = "PATH")]
    pub crio_seccomp_profile: Option<String>,
    /// CRI-O's privileged_seccomp_profile: what privileged containers get (else none).
    #[arg(long, value_name = "PATH")]
    pub crio_privileged_seccomp_profile: Option<String>,
    /// The node has no seccomp (kernel or engine built without it): containerd refuses
    /// every profile but Unconfined, CRI-O runs every container without a filter.
    #[arg(long)]
    pub no_seccomp: bool,
}

/// The runtime, libseccomp, kernel and architecture of a node, as flags (for
/// `platform`; `check` has them in its target options).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct StackArgs {
    /// The node's OCI runtime, optionally at a release: runc, runc@1.1.5, crun@1.8.
    /// Default: runc, at the release installed here.
    #[arg(long, value_name = "RUNTIME[@RELEASE]")]
    pub runtime: Option<RuntimeRelease>,
    /// The node's libseccomp: host, a release (2.5.4), latest. Default: host.
    #[arg(long, value_name = "host|VERSION|latest")]
    pub libseccomp: Option<String>,
    /// The node's kernel (major.minor). Default: the running kernel.
    #[arg(long, value_name = "VERSION")]
    pub kernel: Option<KernelVersion>,
    /// The node's architecture. Default: this host's.
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<Arch>,
}

impl From<&TargetArgs> for StackArgs {
    fn from(t: &TargetArgs) -> StackArgs {
        StackArgs {
            runtime: t.runtime,
            libseccomp: t.libseccomp.clone(),
            kernel: t.kernel,
            arch: t.arch,
        }
    }
}

/// The kubelet's settings as flags (`platform kubernetes` has them).
#[derive(Clone, Debug, Default)]
pub struct KubeletFlags {
    pub seccomp_root: Option<String>,
    pub seccomp_default: bool,
    pub kubelet_version: Option<Release>,
    pub apiserver_version: Option<Release>,
}

impl NodeArgs {
    /// The node: its file, then the flags, then this host for what is still a default.
    pub fn node(&self, stack: &StackArgs, kubelet: &KubeletFlags) -> Result<Node> {
        let mut node = match &self.node {
            Some(path) => {
                let text = crate::input::read_text(path, crate::input::Kind::Manifest)?;
                Node::parse(path, &text)?
            }
            None => Node::default(),
        };
        if let Some(spec) = &self.container_engine {
            let (name, release) = match spec.split_once('@') {
                Some((n, r)) => (n, Some(r)),
                None => (spec.as_str(), None),
            };
            let engine = name
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--container-engine: {e}"))?;
            let release = release
                .map(str::parse::<Release>)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--container-engine: {e}"))?;
            catalog::find(engine, release).context("--container-engine")?;
            node.engine.set_by_flag(engine, "--container-engine");
            node.engine_release
                .set_by_flag(release, "--container-engine");
        }
        if let Some(p) = &self.crio_seccomp_profile {
            node.crio_seccomp_profile
                .set_by_flag(Some(p.clone()), "--crio-seccomp-profile");
        }
        if let Some(p) = &self.crio_privileged_seccomp_profile {
            node.crio_privileged_seccomp_profile
                .set_by_flag(Some(p.clone()), "--crio-privileged-seccomp-profile");
        }
        if self.no_seccomp {
            node.seccomp.set_by_flag(false, "--no-seccomp");
        }
        if let Some(r) = stack.runtime {
            node.runtime.set_by_flag(r, "--runtime");
        }
        if let Some(l) = &stack.libseccomp {
            node.libseccomp.set_by_flag(l.clone(), "--libseccomp");
        }
        if let Some(k) = stack.kernel {
            node.kernel.set_by_flag(Some(k), "--kernel");
        }
        if let Some(a) = stack.arch {
            node.arch.set_by_flag(Some(a), "--arch");
        }
        if let Some(r) = &kubelet.seccomp_root {
            node.seccomp_profile_root
                .set_by_flag(r.clone(), "--seccomp-root");
        }
        if kubelet.seccomp_default {
            node.seccomp_default.set_by_flag(true, "--seccomp-default");
        }
        if let Some(v) = kubelet.kubelet_version {
            node.kubelet.set_by_flag(Some(v), "--kubelet-version");
        }
        if let Some(v) = kubelet.apiserver_version {
            node.api_server.set_by_flag(Some(v), "--apiserver-version");
        }
        if (self.crio_seccomp_profile.is_some() || self.crio_privileged_seccomp_profile.is_some())
            && node.engine.value != syscage_core::builtin::ContainerEngine::CriO
        {
            anyhow::bail!(
                "--crio-seccomp-profile and --crio-privileged-seccomp-profile are CRI-O settings, \
                 but the node's engine is {} ({})",
                node.engine.value,
                node.engine.from
            );
        }
        // What is still a default is this host's, made concrete so the chain names it.
        let host = TargetArgs {
            arch: node.arch.value,
            caps: None,
            kernel: node.kernel.value,
            runtime: Some(node.runtime.value),
            libseccomp: Some(node.libseccomp.value.clone()),
        }
        .target()?;
        node.arch.value = Some(host.arch);
        node.kernel.value = Some(host.kernel);
        node.runtime.value = host.runtime_release();
        node.libseccomp_found = Some(host.libseccomp.to_string());
        Ok(node)
    }
}

/// The kubelet's options on `node`.
pub fn kube_options(node: &Node) -> kubernetes::Options {
    kubernetes::Options {
        seccomp_root: node.seccomp_profile_root.value.clone(),
        seccomp_default: node.seccomp_default.value,
        kubelet: node.kubelet.value,
        api_server: node.api_server.value,
    }
}
