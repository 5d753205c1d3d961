//! Which container a process belongs to, read from the text of its
//! `/proc/PID/cgroup` and the few variables of `/proc/PID/environ` that engines set.
//!
//! Every engine names the cgroup of a container after the container's ID, in a shape
//! of its own; this module knows those shapes ([`identify`]) and nothing else. It does
//! not read `/proc` (the enforcer's `audit` does, and hands the text here), and it does
//! not guess: a path that matches no shape is "not a container" ([`None`]), and a
//! process attributed by other means (a runtime's state directory naming the init
//! pid) is built by the caller with [`Container::from_runtime_state`].
//!
//! The shapes, with where each engine makes them:
//!
//! | engine | cgroup path (last components) | source |
//! |---|---|---|
//! | Docker, cgroupfs driver | `/docker/<64 hex>` | moby `daemon/oci_linux.go` (`cgroupsPath = filepath.Join(parent, c.ID)`, parent `/docker`) |
//! | Docker, systemd driver | `/system.slice/docker-<64 hex>.scope` | moby `daemon/oci_linux.go` (`parent:docker:id`), runc's systemd driver makes `docker-<id>.scope` |
//! | Kubernetes pod, cgroupfs | `/kubepods[/burstable\|/besteffort]/pod<uid>/<container>` | kubelet `pkg/kubelet/cm/pod_container_manager_linux.go` (`GetPodContainerName`) |
//! | Kubernetes pod, systemd | `/kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid, _ for ->.slice/<container>` | kubelet `cm/cgroup_manager_linux.go` (`ToSystemd`, `escapeSystemdCgroupName`) |
//! | containerd (CRI) container | `cri-containerd-<64 hex>.scope` (systemd), `<64 hex>` (cgroupfs) | containerd `internal/cri/server/container_create_linux.go` (`getCgroupsPath`) |
//! | CRI-O container | `crio-<64 hex>.scope` (systemd), `crio-<64 hex>` (cgroupfs); conmon in `crio-conmon-<id>` | cri-o `internal/config/cgmgr/{systemd,cgroupfs}.go` |
//! | nerdctl | `nerdctl-<64 hex>.scope` (systemd) | nerdctl `pkg/cmd/container/run_cgroup_linux.go` (`generateCgroupPath`) |
//! | Podman | `libpod-<64 hex>.scope` (systemd), `/libpod_parent/libpod-<64 hex>` (cgroupfs), `libpod-payload-<64 hex>` (`--cgroups=split`, quadlet); conmon in `libpod-conmon-<id>.scope` | podman `libpod/container_internal_linux.go` (`getOCICgroupPath`), `libpod/oci_conmon_linux.go` |
//! | crun's systemd driver | `<scope>/container` below the engine's scope (the `run.oci.systemd.subgroup` default) | crun `src/libcrun/cgroup-systemd.c` (`find_systemd_subgroup`) |
//! | Mesos containerizer | `/mesos/<container id>`, nested `/mesos/<id>/mesos/<id>`, `/leaf` below on cgroup v2 | mesos `src/slave/containerizer/mesos/paths.cpp` (`getCgroupPath`, `buildPath`), `--cgroups_root` default `mesos` (`src/slave/flags.cpp`) |
//!
//! On a hybrid host the unified (`0::`) line can name a service while the v1 lines name
//! the container (Docker on Debian 11), so every line is tried and a container wins.
//!
//! The environment adds names the cgroup does not carry: `HOSTNAME` (the short
//! container ID under Docker and Podman, the pod's name under Kubernetes),
//! `MESOS_TASK_ID` and `MARATHON_APP_ID` (set by Marathon, not Mesos: the task and the
//! app a DC/OS task belongs to), `MESOS_EXECUTOR_ID` (the task's ID under Mesos's
//! command executor), `MESOS_CONTAINER_NAME` (Mesos's Docker containerizer) and
//! `container` (`podman`, for containers made from an image). Docker and Podman set no
//! variable naming the container. [`ENVIRON_KEYS`] is the whole list, so
//! a reader can keep only these.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The engine that made a container's cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    Docker,
    Containerd,
    CriO,
    Podman,
    Mesos,
    /// A Kubernetes pod whose container cgroup does not say which CRI runtime made it
    /// (containerd and cri-dockerd both use the bare ID under the cgroupfs driver).
    Kubernetes,
    /// An OCI runtime run by hand (found through its state directory, not its cgroup).
    Runc,
    Crun,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Containerd => "containerd",
            Engine::CriO => "cri-o",
            Engine::Podman => "podman",
            Engine::Mesos => "mesos",
            Engine::Kubernetes => "kubernetes",
            Engine::Runc => "runc",
            Engine::Crun => "crun",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a process's cgroup says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A process of a container.
    Container(Container),
    /// An engine's monitor beside a container (conmon): host-side by design, not
    /// confined with the container's profile.
    Monitor { engine: Engine, id: String },
}

/// A container, as far as the host can tell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Container {
    pub engine: Engine,
    /// The engine's container ID (Mesos: nested IDs joined with `.`, as Mesos prints
    /// them).
    pub id: String,
    /// The Kubernetes pod's UID, with dashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The Kubernetes QoS class the pod's cgroup is under (`guaranteed`, `burstable`,
    /// `besteffort`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<String>,
    /// A human name from the environment: the pod's name (Kubernetes `HOSTNAME`), the
    /// Mesos task ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application the container is one instance of, when the environment says
    /// (`MARATHON_APP_ID`): its tasks should all run under one filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

impl Container {
    /// A container found through a runtime's state directory (runc's `state.json`,
    /// crun's `status`), which names its init process.
    pub fn from_runtime_state(engine: Engine, id: &str) -> Container {
        Container {
            engine,
            id: id.to_string(),
            pod: None,
            qos: None,
            name: None,
            app: None,
        }
    }

    /// The ID shortened as engines print it (12 characters for hex IDs).
    pub fn short_id(&self) -> &str {
        if self.id.len() == 64 && is_hex(&self.id) {
            &self.id[..12]
        } else {
            &self.id
        }
    }

    /// What the containers of one group (a pod, an app) have in common, if anything:
    /// `pod <uid>` or `app <id>`.
    pub fn group(&self) -> Option<String> {
        if let Some(p) = &self.pod {
            Some(format!("pod {p}"))
        } else {
            self.app.as_ref().map(|a| format!("app {a}"))
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.engine, self.short_id())?;
        if let Some(n) = &self.name {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

/// The environment variables [`identify`] reads; the rest of a process's environment
/// is none of syscage's business and need not be kept.
pub const ENVIRON_KEYS: &[&str] = &[
    "HOSTNAME",
    "KUBERNETES_SERVICE_HOST",
    "MESOS_TASK_ID",
    "MESOS_EXECUTOR_ID",
    "MESOS_CONTAINER_NAME",
    "MARATHON_APP_ID",
    "container",
];

/// The container `/proc/PID/cgroup` (`cgroup`) places a process in, with the names
/// `environ` (pairs of [`ENVIRON_KEYS`]) adds; `None` for a process of the host.
pub fn identify(cgroup: &str, environ: &[(String, String)]) -> Option<Placement> {
    // Every hierarchy names the same container; a line that names an engine wins over
    // one that only shows a Kubernetes pod's bare container ID.
    cgroup
        .lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .filter_map(from_path)
        .max_by_key(|p| match p {
            Placement::Container(c) if c.engine != Engine::Kubernetes => 2,
            _ => 1,
        })
        .map(|p| match p {
            Placement::Container(c) => Placement::Container(with_environ(c, environ)),
            m => m,
        })
}

fn env<'a>(environ: &'a [(String, String)], key: &str) -> Option<&'a str> {
    environ
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn with_environ(mut c: Container, environ: &[(String, String)]) -> Container {
    match c.engine {
        // Marathon sets MESOS_TASK_ID; Mesos's command executor is named after the task;
        // the Docker containerizer names its container `mesos-<container id>`.
        Engine::Mesos => {
            c.name = ["MESOS_TASK_ID", "MESOS_EXECUTOR_ID"]
                .into_iter()
                .find_map(|k| env(environ, k))
                .map(str::to_string)
        }
        // Under Kubernetes HOSTNAME is the pod's name (the kubelet sets the pod's
        // hostname); under Docker and Podman it is the short ID, which says nothing new.
        _ if c.pod.is_some() => c.name = env(environ, "HOSTNAME").map(str::to_string),
        _ => {}
    }
    if c.name.is_none() {
        // A Docker container started by Mesos's Docker containerizer.
        c.name = ["MESOS_TASK_ID", "MESOS_CONTAINER_NAME"]
            .into_iter()
            .find_map(|k| env(environ, k))
            .map(str::to_string);
    }
    c.app = env(environ, "MARATHON_APP_ID").map(str::to_string);
    c
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex64(s: &str) -> Option<&str> {
    (s.len() == 64 && is_hex(s)).then_some(s)
}

/// A `prefix<64 hex>suffix` component.
fn id_between<'a>(part: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    hex64(part.strip_prefix(prefix)?.strip_suffix(suffix)?)
}

/// The pod UID and QoS class of a kubelet pod cgroup component: `pod<uid>` under
/// cgroupfs; `kubepods[-<qos>]-pod<uid, _ for ->.slice` under systemd, every slice
/// prefixed with the kubelet's `--cgroup-root` when one is set (kind's
/// `kubelet-kubepods-besteffort-pod<uid>.slice`).
fn pod_of(part: &str) -> Option<(String, Option<String>)> {
    if let Some(uid) = part.strip_prefix("pod") {
        return uid_like(uid).then(|| (uid.to_string(), None));
    }
    let rest = part.strip_suffix(".slice")?;
    let at = rest.rfind("-pod")?;
    let uid = rest[at + 4..].replace('_', "-");
    if !uid_like(&uid) {
        return None;
    }
    let qos = ["burstable", "besteffort"]
        .into_iter()
        .find(|q| rest[..at].to_ascii_lowercase().ends_with(q))
        .map(str::to_string);
    Some((uid, qos))
}

/// A Kubernetes UID: 36 characters of hex and dashes (a static pod's UID is a 32-hex
/// hash of its manifest, so dashes are optional).
fn uid_like(s: &str) -> bool {
    (s.len() == 36 || s.len() == 32) && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn container(engine: Engine, id: &str) -> Container {
    Container::from_runtime_state(engine, id)
}

/// One cgroup path. The container's component is not always the last: crun puts the
/// workload in `<scope>/container`, a container running systemd adds `init.scope`, and
/// Mesos on cgroup v2 a `leaf`; so components are tried innermost first.
fn from_path(path: &str) -> Option<Placement> {
    // A systemd-style cgroupsPath handed to a cgroupfs runtime becomes one directory
    // named `<slice>:cri-containerd:<id>` (containerd and runc disagreeing on the
    // driver): read it as the two components systemd would have made.
    let path = path.replace(":cri-containerd:", "/cri-containerd-");
    let fixed;
    let path = if path.contains("/cri-containerd-") && !path.ends_with(".scope") {
        fixed = format!("{path}.scope");
        fixed.as_str()
    } else {
        path.as_str()
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();

    // Kubernetes: the container's component follows the pod's.
    if parts
        .iter()
        .any(|p| p.to_ascii_lowercase().contains("kubepods"))
    {
        let (pod_at, (uid, qos)) = parts
            .iter()
            .enumerate()
            .find_map(|(i, p)| pod_of(p).map(|x| (i, x)))?;
        let qos = qos
            .or_else(|| {
                parts[..pod_at].iter().find_map(|p| {
                    let p = p.to_ascii_lowercase();
                    ["burstable", "besteffort"]
                        .into_iter()
                        .find(|q| p == *q || p == format!("kubepods-{q}.slice"))
                        .map(str::to_string)
                })
            })
            .unwrap_or_else(|| "guaranteed".to_string());
        let leaf = parts.get(pod_at + 1)?;
        if let Some(m) = monitor(leaf) {
            return Some(m);
        }
        let (engine, id) =
            engine_component(leaf).or_else(|| Some((Engine::Kubernetes, hex64(leaf)?)))?;
        let mut c = container(engine, id);
        c.pod = Some(uid);
        c.qos = Some(qos);
        return Some(Placement::Container(c));
    }

    for (i, part) in parts.iter().enumerate().rev() {
        if let Some(m) = monitor(part) {
            return Some(m);
        }
        if let Some((engine, id)) = engine_component(part) {
            return Some(Placement::Container(container(engine, id)));
        }
        let parent = i.checked_sub(1).map(|j| parts[j]);
        if let (Some("docker"), Some(id)) = (parent, hex64(part)) {
            return Some(Placement::Container(container(Engine::Docker, id)));
        }
    }
    // Mesos: `mesos/<id>` at any depth, nested containers as `.../mesos/<id>/mesos/<id>`
    // (a container ID is a UUID; v2 hosts add `/leaf`).
    let ids: Vec<&str> = parts
        .windows(2)
        .filter(|w| w[0] == "mesos" && uid_like(w[1]) && w[1].len() == 36)
        .map(|w| w[1])
        .collect();
    if !ids.is_empty() {
        return Some(Placement::Container(container(
            Engine::Mesos,
            &ids.join("."),
        )));
    }
    None
}

/// An engine monitor's component (conmon's): `crio-conmon-<64 hex>[.scope]`,
/// `libpod-conmon-<64 hex>.scope`.
fn monitor(part: &str) -> Option<Placement> {
    for (prefix, engine) in [
        ("crio-conmon-", Engine::CriO),
        ("libpod-conmon-", Engine::Podman),
    ] {
        let id = id_between(part, prefix, ".scope").or_else(|| id_between(part, prefix, ""));
        if let Some(id) = id {
            return Some(Placement::Monitor {
                engine,
                id: id.to_string(),
            });
        }
    }
    None
}

/// A component that names its engine and the container's ID.
fn engine_component(part: &str) -> Option<(Engine, &str)> {
    const SHAPES: &[(&str, &str, Engine)] = &[
        ("docker-", ".scope", Engine::Docker),
        ("cri-containerd-", ".scope", Engine::Containerd),
        ("nerdctl-", ".scope", Engine::Containerd),
        ("crio-", ".scope", Engine::CriO),
        ("crio-", "", Engine::CriO),
        ("libpod-payload-", "", Engine::Podman),
        ("libpod-", ".scope", Engine::Podman),
        ("libpod-", "", Engine::Podman),
    ];
    SHAPES
        .iter()
        .find_map(|(prefix, suffix, engine)| Some((*engine, id_between(part, prefix, suffix)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4a8bd2c1e0ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766";
    const UID: &str = "0e5e1d2c-84a1-4c7b-9f3e-2b1c7d6e5f40";

    fn container_of(cgroup: &str) -> Container {
        match identify(cgroup, &[]) {
            Some(Placement::Container(c)) => c,
            other => panic!("{cgroup}: {other:?}"),
        }
    }

    #[test]
    fn docker_both_drivers() {
        for cg in [
            format!("0::/docker/{ID}\n"),
            format!("12:pids:/docker/{ID}\n0::/docker/{ID}\n"),
            format!("0::/system.slice/docker-{ID}.scope\n"),
        ] {
            let c = container_of(&cg);
            assert_eq!(
                (c.engine, c.id.as_str(), &c.pod),
                (Engine::Docker, ID, &None)
            );
            assert_eq!(c.short_id(), &ID[..12]);
        }
    }

    #[test]
    fn kubernetes_pods_under_both_drivers_and_each_runtime() {
        let sys_uid = UID.replace('-', "_");
        let cases = [
            (
                format!("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{sys_uid}.slice/cri-containerd-{ID}.scope"),
                Engine::Containerd,
                "burstable",
            ),
            (
                format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{sys_uid}.slice/crio-{ID}.scope"),
                Engine::CriO,
                "besteffort",
            ),
            (
                format!("0::/kubepods.slice/kubepods-pod{sys_uid}.slice/cri-containerd-{ID}.scope"),
                Engine::Containerd,
                "guaranteed",
            ),
            (
                format!("0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{sys_uid}.slice/cri-containerd-{ID}.scope"),
                Engine::Containerd,
                "besteffort",
            ),
            (
                format!("11:memory:/kubepods/burstable/pod{UID}/{ID}\n"),
                Engine::Kubernetes,
                "burstable",
            ),
            (
                format!("0::/kubepods/pod{UID}/crio-{ID}"),
                Engine::CriO,
                "guaranteed",
            ),
            (
                format!("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{sys_uid}.slice/crio-{ID}.scope/container"),
                Engine::CriO,
                "burstable",
            ),
            (
                format!("10:blkio:/system.slice/containerd.service/kubepods-besteffort-pod{sys_uid}.slice:cri-containerd:{ID}"),
                Engine::Containerd,
                "besteffort",
            ),
        ];
        for (cg, engine, qos) in cases {
            let c = container_of(&cg);
            assert_eq!(c.engine, engine, "{cg}");
            assert_eq!(c.id, ID, "{cg}");
            assert_eq!(c.pod.as_deref(), Some(UID), "{cg}");
            assert_eq!(c.qos.as_deref(), Some(qos), "{cg}");
            assert_eq!(c.group().unwrap(), format!("pod {UID}"));
        }
    }

    #[test]
    fn kubernetes_names_from_environ() {
        let env = vec![
            ("HOSTNAME".to_string(), "web-7d9c".to_string()),
            (
                "KUBERNETES_SERVICE_HOST".to_string(),
                "10.0.0.1".to_string(),
            ),
        ];
        let cg = format!("0::/kubepods/besteffort/pod{UID}/{ID}");
        let Some(Placement::Container(c)) = identify(&cg, &env) else {
            panic!()
        };
        assert_eq!(c.name.as_deref(), Some("web-7d9c"));
        assert_eq!(
            c.to_string(),
            format!("kubernetes {} (web-7d9c)", &ID[..12])
        );
    }

    #[test]
    fn a_pod_cgroup_without_a_container_is_not_a_container() {
        assert_eq!(
            identify(&format!("0::/kubepods/besteffort/pod{UID}"), &[]),
            None
        );
    }

    #[test]
    fn podman_and_monitors() {
        for cg in [
            format!("0::/machine.slice/libpod-{ID}.scope"),
            format!(
                "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
            ),
            format!("0::/libpod_parent/libpod-{ID}"),
            // crun's systemd subgroup, and a container running systemd.
            format!("0::/machine.slice/libpod-{ID}.scope/container"),
            format!("0::/machine.slice/libpod-{ID}.scope/init.scope"),
            format!("0::/system.slice/web.service/libpod-payload-{ID}"),
        ] {
            let c = container_of(&cg);
            assert_eq!((c.engine, c.id.as_str()), (Engine::Podman, ID), "{cg}");
        }
        assert_eq!(
            identify(&format!("0::/machine.slice/libpod-conmon-{ID}.scope"), &[]),
            Some(Placement::Monitor {
                engine: Engine::Podman,
                id: ID.into()
            })
        );
        assert!(matches!(
            identify(&format!("0::/system.slice/crio-conmon-{ID}.scope"), &[]),
            Some(Placement::Monitor {
                engine: Engine::CriO,
                ..
            })
        ));
    }

    #[test]
    fn mesos_containers_nested_and_named() {
        let child = "5c1a0f2e-9b8d-4c3a-8e7f-6a5b4c3d2e1f";
        let env = vec![
            ("MESOS_TASK_ID".to_string(), "web.1234".to_string()),
            ("MARATHON_APP_ID".to_string(), "/prod/web".to_string()),
        ];
        let Some(Placement::Container(c)) =
            identify(&format!("4:cpu,cpuacct:/mesos/{UID}/mesos/{child}\n"), &env)
        else {
            panic!()
        };
        assert_eq!(c.engine, Engine::Mesos);
        assert_eq!(c.id, format!("{UID}.{child}"));
        assert_eq!(c.name.as_deref(), Some("web.1234"));
        assert_eq!(c.group().unwrap(), "app /prod/web");
        let Some(Placement::Container(c)) = identify(&format!("0::/mesos/{UID}/leaf"), &[]) else {
            panic!()
        };
        assert_eq!(c.id, UID);
    }

    #[test]
    fn hybrid_hosts_prefer_the_line_that_names_a_container() {
        // Docker on Debian 11: the unified line names containerd's service.
        let cg = format!("9:memory:/docker/{ID}\n0::/system.slice/containerd.service\n");
        assert_eq!(container_of(&cg).engine, Engine::Docker);
        let cg = format!("0::/system.slice/nerdctl-{ID}.scope");
        assert_eq!(container_of(&cg).engine, Engine::Containerd);
    }

    #[test]
    fn hostile_names_are_not_monitors_and_never_panic() {
        for cg in [
            "0::/user.slice/crio-conmon-\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "0::/libpod-conmon-x.scope",
            "0::/kubepods/pod\u{e9}/\u{e9}",
            "0::/mesos/\u{e9}",
        ] {
            assert_eq!(identify(cg, &[]), None, "{cg}");
        }
    }

    proptest::proptest! {
        /// Any text: an answer or none, never a panic; a recognised container's ID is
        /// ASCII (hex digits, UUIDs).
        #[test]
        fn any_cgroup_text(text in "\\PC{0,200}", path in "(/[a-z0-9_:.@-]{0,70}){0,8}") {
            let _ = identify(&text, &[]);
            if let Some(Placement::Container(c)) = identify(&format!("0::{path}"), &[]) {
                proptest::prop_assert!(c.id.is_ascii());
                let _ = c.to_string();
            }
        }
    }

    #[test]
    fn host_processes_are_not_containers() {
        for cg in [
            "0::/init.scope\n",
            "0::/system.slice/sshd.service\n",
            "0::/user.slice/user-0.slice/session-3.scope\n",
            "12:pids:/\n0::/\n",
            "0::/docker\n",
            "0::/system.slice/docker.service\n",
            "0::/system.slice/containerd.service\n",
            "",
            "garbage without colons\n",
        ] {
            assert_eq!(identify(cg, &[]), None, "{cg:?}");
        }
    }
}
