//! The chain below the platform: from the profile a platform asks for to the filter the
//! kernel runs. A [`Node`] says what the node runs — the kubelet and its flags, the
//! container engine and its seccomp settings, the OCI runtime, libseccomp, the kernel,
//! the architecture — each setting with where it came from ([`Setting`]). [`follow`]
//! takes one container down it: what the engine makes of `RuntimeDefault`, a
//! `Localhost` file, a privileged container or a node without seccomp, and which
//! capabilities the container has. [`Chain::target`] is the [`Target`] the filter is
//! resolved for, so that `check` evaluates exactly what the node would install.
//!
//! This module does not decide what the platform asks for ([`crate::platform`]), read
//! or parse profiles ([`crate::builtin`], [`crate::localhost`]), or ask the host
//! anything (the caller resolves `host` and the running kernel).
//!
//! Engine rules, with their sources (SEMANTICS.md section 11):
//! * privileged: containerd's CRI sets no filter (`generateSeccompSpecOpts`, v1.6.20
//!   `pkg/cri/server/container_create_linux.go`); CRI-O none either, unless
//!   `privileged_seccomp_profile` is set, which it then applies as a Localhost profile
//!   (`server/container_create.go` `setupSeccomp`, v1.36.3);
//! * a node without seccomp: containerd refuses any profile but Unconfined ("seccomp is
//!   not supported"); CRI-O runs every container without a filter (`setupSeccomp`
//!   returns before reading the profile);
//! * CRI-O's `seccomp_profile` replaces its builtin default for RuntimeDefault.

use std::fmt;

use crate::arch::Arch;
use crate::builtin::{catalog, ContainerEngine, EngineDefault};
use crate::platform::{Applied, Doc, PlatformError, Resolution};
use crate::policy::Target;
use crate::profile::{KernelVersion, Location};
use crate::runtime::{Release, RuntimeRelease};

/// Where a node setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// syscage's default (the text says which).
    Default(&'static str),
    /// The node file, at this place.
    File(Location),
    /// A command-line flag.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default(why) => write!(f, "default: {why}"),
            Origin::File(l) => write!(f, "{}:{}:{}", l.source, l.line, l.column),
            Origin::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// One node setting and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub from: Origin,
}

impl<T> Setting<T> {
    fn default(value: T, why: &'static str) -> Setting<T> {
        Setting {
            value,
            from: Origin::Default(why),
        }
    }

    /// Replaces the value, recording the flag that did.
    pub fn set_by_flag(&mut self, value: T, flag: &'static str) {
        self.value = value;
        self.from = Origin::Flag(flag);
    }
}

/// What a node runs, below the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The container engine (the CRI implementation on a Kubernetes node).
    pub engine: Setting<ContainerEngine>,
    /// Its release; `None`: the newest modelled.
    pub engine_release: Setting<Option<Release>>,
    /// CRI-O's `seccomp_profile` (crio.conf): replaces the builtin default.
    pub crio_seccomp_profile: Setting<Option<String>>,
    /// CRI-O's `privileged_seccomp_profile`: what privileged containers get.
    pub crio_privileged_seccomp_profile: Setting<Option<String>>,
    /// Whether the engine and kernel support seccomp at all.
    pub seccomp: Setting<bool>,
    pub runtime: Setting<RuntimeRelease>,
    /// `host`, `latest` or a release: as `--libseccomp` takes it.
    pub libseccomp: Setting<String>,
    /// The library that setting found, for people (`libseccomp 2.5.4 (host)`), when the
    /// caller looked.
    pub libseccomp_found: Option<String>,
    /// `None`: the running kernel.
    pub kernel: Setting<Option<KernelVersion>>,
    /// `None`: this host's.
    pub arch: Setting<Option<Arch>>,
    pub kubelet: Setting<Option<Release>>,
    pub api_server: Setting<Option<Release>>,
    /// kubelet `--seccomp-default`.
    pub seccomp_default: Setting<bool>,
    /// kubelet `--seccomp-profile-root`.
    pub seccomp_profile_root: Setting<String>,
}

impl Default for Node {
    fn default() -> Node {
        Node {
            engine: Setting::default(
                ContainerEngine::Containerd,
                "containerd, the most common CRI",
            ),
            engine_release: Setting::default(None, "the newest modelled"),
            crio_seccomp_profile: Setting::default(None, "unset"),
            crio_privileged_seccomp_profile: Setting::default(None, "unset"),
            seccomp: Setting::default(true, "seccomp supported"),
            runtime: Setting::default(RuntimeRelease::default(), "runc"),
            libseccomp: Setting::default("host".to_string(), "this host's"),
            libseccomp_found: None,
            kernel: Setting::default(None, "the running kernel"),
            arch: Setting::default(None, "this host's"),
            kubelet: Setting::default(None, "a current kubelet (1.27+)"),
            api_server: Setting::default(None, "the kubelet's"),
            seccomp_default: Setting::default(false, "kubelet without --seccomp-default"),
            seccomp_profile_root: Setting::default(
                crate::platform::kubernetes::DEFAULT_SECCOMP_ROOT.to_string(),
                "the kubelet's",
            ),
        }
    }
}

/// The keys a node file may have, for the error that names an unknown one.
const KEYS: &str = "kubelet {version, seccompDefault, seccompProfileRoot}, apiServer {version}, \
                    containerEngine {name, version, seccompProfile, privilegedSeccompProfile}, \
                    seccomp, runtime, libseccomp, kernel, arch";

impl Node {
    /// Reads a node file (YAML or JSON):
    ///
    /// ```yaml
    /// kubelet: {version: "1.29", seccompDefault: true, seccompProfileRoot: /var/lib/kubelet/seccomp}
    /// apiServer: {version: "1.29"}
    /// containerEngine: {name: cri-o, version: "1.36", seccompProfile: /etc/crio/seccomp.json}
    /// seccomp: true
    /// runtime: runc@1.1.5
    /// libseccomp: "2.5.4"
    /// kernel: "6.1"
    /// arch: x86_64
    /// ```
    ///
    /// Every key is optional; what is absent keeps its default.
    pub fn parse(source: &str, text: &str) -> Result<Node, PlatformError> {
        let doc = Doc::parse(source, text)?;
        let mut node = Node::default();
        let root = doc
            .object("")?
            .ok_or_else(|| doc.invalid("", "a node file is a mapping (an object)"))?;
        for key in root.keys() {
            let known = matches!(
                key.as_str(),
                "kubelet"
                    | "apiServer"
                    | "containerEngine"
                    | "seccomp"
                    | "runtime"
                    | "libseccomp"
                    | "kernel"
                    | "arch"
                    | "comment"
            );
            if !known {
                return Err(doc.invalid(
                    &format!("/{key}"),
                    format!("unknown node setting {key:?} (known: {KEYS})"),
                ));
            }
        }
        for (parent, keys) in [
            (
                "/kubelet",
                &["version", "seccompDefault", "seccompProfileRoot"][..],
            ),
            ("/apiServer", &["version"][..]),
            (
                "/containerEngine",
                &[
                    "name",
                    "version",
                    "seccompProfile",
                    "privilegedSeccompProfile",
                ][..],
            ),
        ] {
            if let Some(obj) = doc.object(parent)? {
                if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
                    return Err(doc.invalid(
                        &format!("{parent}/{k}"),
                        format!("unknown setting {k:?} (known here: {})", keys.join(", ")),
                    ));
                }
            }
        }
        let at = |p: &str| Origin::File(doc.location(p));
        // A version may be written as a YAML number (1.29): read it as its text.
        let text_of = |p: &str| -> Result<Option<String>, PlatformError> {
            match doc.get(p) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(doc.invalid(p, "expected a string")),
            }
        };
        let parsed = |p: &str| -> Result<Option<(String, Origin)>, PlatformError> {
            Ok(text_of(p)?.map(|t| (t, at(p))))
        };
        if let Some((v, from)) = parsed("/kubelet/version")? {
            let r: Release = v
                .parse()
                .map_err(|e: String| doc.invalid("/kubelet/version", e))?;
            node.kubelet = Setting {
                value: Some(r),
                from,
            };
        }
        if let Some((v, from)) = parsed("/apiServer/version")? {
            let r: Release = v
                .parse()
                .map_err(|e: String| doc.invalid("/apiServer/version", e))?;
            node.api_server = Setting {
                value: Some(r),
                from,
            };
        }
        if let Some(b) = doc.boolean("/kubelet/seccompDefault")? {
            node.seccomp_default = Setting {
                value: b,
                from: at("/kubelet/seccompDefault"),
            };
        }
        if let Some(s) = doc.string("/kubelet/seccompProfileRoot")? {
            node.seccomp_profile_root = Setting {
                value: s.to_string(),
                from: at("/kubelet/seccompProfileRoot"),
            };
        }
        if let Some(s) = doc.string("/containerEngine/name")? {
            let e: ContainerEngine = s
                .parse()
                .map_err(|e: String| doc.invalid("/containerEngine/name", e))?;
            node.engine = Setting {
                value: e,
                from: at("/containerEngine/name"),
            };
        }
        if let Some((v, from)) = parsed("/containerEngine/version")? {
            let r: Release = v
                .parse()
                .map_err(|e: String| doc.invalid("/containerEngine/version", e))?;
            catalog::find(node.engine.value, Some(r))
                .map_err(|e| doc.invalid("/containerEngine/version", e.to_string()))?;
            node.engine_release = Setting {
                value: Some(r),
                from,
            };
        }
        for (p, slot) in [
            (
                "/containerEngine/seccompProfile",
                &mut node.crio_seccomp_profile,
            ),
            (
                "/containerEngine/privilegedSeccompProfile",
                &mut node.crio_privileged_seccomp_profile,
            ),
        ] {
            if let Some(s) = doc.string(p)? {
                *slot = Setting {
                    value: Some(s.to_string()),
                    from: at(p),
                };
            }
        }
        if node.engine.value != ContainerEngine::CriO {
            for p in [
                "/containerEngine/seccompProfile",
                "/containerEngine/privilegedSeccompProfile",
            ] {
                if doc.get(p).is_some() {
                    return Err(doc.invalid(
                        p,
                        format!(
                            "a CRI-O setting (crio.conf), but the node's engine is {}",
                            node.engine.value
                        ),
                    ));
                }
            }
        }
        if let Some(b) = doc.boolean("/seccomp")? {
            node.seccomp = Setting {
                value: b,
                from: at("/seccomp"),
            };
        }
        if let Some((v, from)) = parsed("/runtime")? {
            let r: RuntimeRelease = v.parse().map_err(|e: String| doc.invalid("/runtime", e))?;
            node.runtime = Setting { value: r, from };
        }
        if let Some((v, from)) = parsed("/libseccomp")? {
            node.libseccomp = Setting { value: v, from };
        }
        if let Some((v, from)) = parsed("/kernel")? {
            let k: KernelVersion = v.parse().map_err(|e: String| doc.invalid("/kernel", e))?;
            node.kernel = Setting {
                value: Some(k),
                from,
            };
        }
        if let Some(s) = doc.string("/arch")? {
            let a: Arch = s
                .parse()
                .map_err(|e: crate::arch::UnknownArch| doc.invalid("/arch", e.to_string()))?;
            node.arch = Setting {
                value: Some(a),
                from: at("/arch"),
            };
        }
        Ok(node)
    }

    /// The engine's modelled default profile on this node.
    pub fn engine_default(&self) -> &'static EngineDefault {
        catalog::find(self.engine.value, self.engine_release.value)
            .expect("a node's engine release is checked when it is set")
    }

    /// The engine's default capabilities.
    pub fn default_caps(&self) -> &'static [&'static str] {
        match self.engine.value {
            ContainerEngine::Docker | ContainerEngine::Containerd => crate::caps::DOCKER_DEFAULT,
            ContainerEngine::CriO => crate::caps::CRIO_DEFAULT,
            ContainerEngine::Podman => crate::caps::PODMAN_DEFAULT,
        }
    }

    /// `containerd 1.6`, `cri-o (newest modelled, 1.36)`.
    pub fn describe_engine(&self) -> String {
        let d = self.engine_default();
        match self.engine_release.value {
            Some(r) => format!("{} {r}", self.engine.value),
            None => format!("{} {} (newest modelled)", self.engine.value, d.line),
        }
    }
}

/// The filter a container ends up with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// No seccomp filter.
    None,
    /// The engine's default profile.
    Builtin(&'static EngineDefault),
    /// A profile file, read the way the node's engine reads it ([`crate::localhost`]).
    File { path: String },
}

impl Filter {
    /// The `--profile` value `syscage check` takes for it.
    pub fn profile_spec(&self) -> String {
        match self {
            Filter::None => "unconfined".to_string(),
            Filter::Builtin(d) => d.name(),
            Filter::File { path } => path.clone(),
        }
    }
}

/// One step of the chain: what happened, and what decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub what: String,
    pub decided_by: String,
}

/// One container followed down the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub steps: Vec<Step>,
    pub filter: Filter,
    /// The container's bounding capabilities, as the engine sets them.
    pub caps: Vec<String>,
}

/// Why a container would not start on the node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{container}: {engine} refuses it: {message}")]
pub struct Refused {
    pub container: String,
    pub engine: ContainerEngine,
    pub message: String,
}

/// Follows `r` (what the platform asks for one container) down `node`.
pub fn follow(r: &Resolution, node: &Node) -> Result<Chain, Refused> {
    let engine = node.engine.value;
    let engine_from = node.engine.from.to_string();
    let asked = match &r.applied {
        Applied::RuntimeDefault => "RuntimeDefault".to_string(),
        Applied::Unconfined => "Unconfined".to_string(),
        Applied::Localhost { path } => format!("Localhost {path}"),
    };
    let mut steps = vec![Step {
        what: format!("the platform asks for {asked}"),
        decided_by: match &r.location {
            Some(l) => format!("{} ({}:{}:{})", r.decided_by, l.source, l.line, l.column),
            None => r.decided_by.clone(),
        },
    }];
    let refuse = |message: String| Refused {
        container: format!("{} {}", r.role, r.container),
        engine,
        message,
    };
    let mut requested = r.applied.clone();
    if let Some(at) = &r.privileged {
        let place = format!("{} ({}:{}:{})", at.pointer, at.source, at.line, at.column);
        match (engine, node.crio_privileged_seccomp_profile.value.as_ref()) {
            (ContainerEngine::CriO, Some(p)) => {
                steps.push(Step {
                    what: format!(
                        "privileged: CRI-O applies privileged_seccomp_profile {p} instead"
                    ),
                    decided_by: format!(
                        "{place}; privileged_seccomp_profile ({})",
                        node.crio_privileged_seccomp_profile.from
                    ),
                });
                requested = Applied::Localhost { path: p.clone() };
            }
            _ => {
                steps.push(Step {
                    what: format!("privileged: {engine} sets no seccomp filter"),
                    decided_by: place,
                });
                requested = Applied::Unconfined;
            }
        }
    }
    let filter = if !node.seccomp.value {
        match (engine, &requested) {
            (_, Applied::Unconfined) => Filter::None,
            (ContainerEngine::Containerd, other) => {
                return Err(refuse(format!(
                "seccomp is not supported on this node ({}), and the container asks for {other} \
                     (containerd's CRI: \"seccomp is not supported\")",
                node.seccomp.from
            )))
            }
            (ContainerEngine::CriO, _) => {
                steps.push(Step {
                    what: "CRI-O runs it without a filter: seccomp is not enabled on the node"
                        .to_string(),
                    decided_by: node.seccomp.from.to_string(),
                });
                Filter::None
            }
            (e, other) => {
                return Err(refuse(format!(
                    "what {e} does with {other} on a node without seccomp is not modelled"
                )))
            }
        }
    } else {
        match &requested {
            Applied::Unconfined => Filter::None,
            Applied::RuntimeDefault => match (engine, &node.crio_seccomp_profile.value) {
                (ContainerEngine::CriO, Some(p)) => {
                    steps.push(Step {
                        what: format!("CRI-O's seccomp_profile {p} is its RuntimeDefault"),
                        decided_by: node.crio_seccomp_profile.from.to_string(),
                    });
                    Filter::File { path: p.clone() }
                }
                _ => {
                    let d = node.engine_default();
                    steps.push(Step {
                        what: format!("{} default profile ({})", node.describe_engine(), d.name()),
                        decided_by: engine_from.clone(),
                    });
                    Filter::Builtin(d)
                }
            },
            Applied::Localhost { path } => {
                steps.push(Step {
                    what: format!("{path} read as {engine} reads it"),
                    decided_by: engine_from.clone(),
                });
                Filter::File { path: path.clone() }
            }
        }
    };
    if filter != Filter::None {
        let rr = node.runtime.value;
        steps.push(Step {
            what: rr.describe(),
            decided_by: node.runtime.from.to_string(),
        });
        steps.push(Step {
            what: node
                .libseccomp_found
                .clone()
                .unwrap_or_else(|| format!("libseccomp {}", node.libseccomp.value)),
            decided_by: node.libseccomp.from.to_string(),
        });
        steps.push(Step {
            what: format!(
                "kernel {}, {}",
                node.kernel
                    .value
                    .map_or("(running)".to_string(), |k| k.to_string()),
                node.arch
                    .value
                    .map_or("(this host's architecture)".to_string(), |a| a
                        .name()
                        .to_string())
            ),
            decided_by: format!("{}; {}", node.kernel.from, node.arch.from),
        });
    }
    // A privileged container has every capability; others the engine's defaults with
    // the container's changes.
    let caps = if r.privileged.is_some() {
        crate::caps::NAMES.iter().map(|c| c.to_string()).collect()
    } else {
        crate::caps::apply(
            node.default_caps(),
            &r.capabilities.add,
            &r.capabilities.drop,
        )
    };
    Ok(Chain {
        steps,
        filter,
        caps,
    })
}

impl Chain {
    /// `t` (the node's architecture, kernel, runtime and libseccomp, resolved by the
    /// caller) with this container's capabilities.
    pub fn target(&self, mut t: Target) -> Target {
        t.caps = self.caps.iter().cloned().collect();
        t
    }

    /// The steps in a line: `RuntimeDefault -> containerd 1.6 default profile -> ...`.
    pub fn line(&self) -> String {
        self.steps
            .iter()
            .map(|s| s.what.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

#[cfg(test)]
mod tests;
