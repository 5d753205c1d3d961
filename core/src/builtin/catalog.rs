//! Each container engine's default profile (what `RuntimeDefault` is), release line by
//! release line: which engines there are ([`ContainerEngine`]), which of their default
//! profiles are modelled ([`DEFAULTS`]), where each comes from upstream, and how its text
//! is made.
//!
//! A modelled default is either a Docker-format text of its own (`docker-29.7.json`,
//! `podman-4.3.json`, `podman-5.8.json`) or an earlier or sibling one with [`Edit`]s
//! applied, so that what differs between engines and releases reads as a short list.
//! Every default is a Docker-format profile because every engine filters the same way
//! (by the container's capabilities, the host architecture and, for Docker, the
//! kernel): moby and containers/common by the profile's `includes`/`excludes`,
//! containerd in the Go code of `contrib/seccomp`, which the edits spell the same way.
//!
//! This module does not parse or resolve profiles ([`crate::profile`],
//! [`crate::policy`]) and does not know which engine a node runs (the platform chain).
//! The tests that run the real dockerd, containerd and Podman against these models are
//! in `tests/tests/real_engines.rs`.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::runtime::Release;

/// A container engine: what decides `RuntimeDefault` and reads `Localhost` files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerEngine {
    /// dockerd (moby): the profile compiled into the daemon.
    Docker,
    /// containerd's CRI plugin and `ctr --seccomp`: `contrib/seccomp`'s generator.
    Containerd,
    /// CRI-O: containers/common's profile with CRI-O's namespace changes.
    CriO,
    /// Podman: containers/common's `seccomp.json`.
    Podman,
}

impl ContainerEngine {
    pub const ALL: [ContainerEngine; 4] = [
        ContainerEngine::Docker,
        ContainerEngine::Containerd,
        ContainerEngine::CriO,
        ContainerEngine::Podman,
    ];

    /// The name builtins use: `docker`, `containerd`, `cri-o`, `podman`.
    pub fn name(self) -> &'static str {
        match self {
            ContainerEngine::Docker => "docker",
            ContainerEngine::Containerd => "containerd",
            ContainerEngine::CriO => "cri-o",
            ContainerEngine::Podman => "podman",
        }
    }
}

impl fmt::Display for ContainerEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ContainerEngine {
    type Err = String;
    fn from_str(s: &str) -> Result<ContainerEngine, String> {
        match s.to_ascii_lowercase().as_str() {
            "docker" | "dockerd" | "moby" => Ok(ContainerEngine::Docker),
            "containerd" => Ok(ContainerEngine::Containerd),
            "cri-o" | "crio" => Ok(ContainerEngine::CriO),
            "podman" => Ok(ContainerEngine::Podman),
            _ => Err(format!(
                "unknown container engine {s:?} (expected docker, containerd, cri-o or podman)"
            )),
        }
    }
}

/// A change to a Docker-format profile.
#[derive(Clone, Copy, Debug)]
pub enum Edit {
    /// Takes these names out of every rule (a rule left without names goes).
    Remove(&'static [&'static str]),
    /// Appends one rule, Docker-format JSON.
    Append(&'static str),
}

/// How a default's text is made.
#[derive(Clone, Copy, Debug)]
pub enum Text {
    /// A Docker-format profile of its own.
    Own(&'static str),
    /// Another modelled default with edits applied in order.
    Edited {
        from: (ContainerEngine, Release),
        edits: &'static [Edit],
    },
}

/// One engine release line's default profile.
#[derive(Clone, Copy, Debug)]
pub struct EngineDefault {
    pub engine: ContainerEngine,
    /// The engine's `major.minor` line.
    pub line: Release,
    /// Where the upstream profile is, at which tag.
    pub source: &'static str,
    pub text: Text,
}

const fn line(major: u32, minor: u32) -> Release {
    Release {
        major,
        minor,
        patch: None,
    }
}

/// moby's profile as dockerd 29.7 embeds it; `runtime/default` outside a platform.
pub const DOCKER_29_7: &str = include_str!("docker-29.7.json");

/// Every modelled default, oldest first within an engine.
pub const DEFAULTS: &[EngineDefault] = &[
    EngineDefault {
        engine: ContainerEngine::Docker,
        line: line(20, 10),
        source: "moby v20.10.24 profiles/seccomp/default.json (dockerd 20.10 embeds it)",
        text: Text::Edited {
            from: (ContainerEngine::Docker, line(29, 7)),
            edits: DOCKER_20_10,
        },
    },
    EngineDefault {
        engine: ContainerEngine::Docker,
        line: line(29, 7),
        source: "moby docker-v29.7.2 vendor/github.com/moby/profiles/seccomp/default.json",
        text: Text::Own(DOCKER_29_7),
    },
    EngineDefault {
        engine: ContainerEngine::Containerd,
        line: line(1, 6),
        source: "containerd v1.6.20 contrib/seccomp/seccomp_default.go (DefaultProfile)",
        text: Text::Edited {
            from: (ContainerEngine::Docker, line(20, 10)),
            edits: CONTAINERD_1_6,
        },
    },
    EngineDefault {
        engine: ContainerEngine::Containerd,
        line: line(2, 3),
        source: "containerd v2.3.4 contrib/seccomp/seccomp_default.go (DefaultProfile)",
        text: Text::Edited {
            from: (ContainerEngine::Docker, line(29, 7)),
            edits: CONTAINERD_2_3,
        },
    },
    EngineDefault {
        engine: ContainerEngine::CriO,
        line: line(1, 36),
        source: "cri-o v1.36.3 internal/config/seccomp/seccomp.go (DefaultProfile) over \
                 go.podman.io/common v0.66.2-0.20260126213724-1e46b0756b39 pkg/seccomp",
        text: Text::Edited {
            from: (ContainerEngine::Podman, line(5, 8)),
            edits: CRIO_1_36,
        },
    },
    EngineDefault {
        engine: ContainerEngine::Podman,
        line: line(4, 3),
        source: "containers/common v0.50.1 pkg/seccomp/seccomp.json (Podman 4.3; Debian 12's \
                 /usr/share/containers/seccomp.json)",
        text: Text::Own(include_str!("podman-4.3.json")),
    },
    EngineDefault {
        engine: ContainerEngine::Podman,
        line: line(5, 8),
        source: "go.podman.io/common v0.67.0 pkg/seccomp/seccomp.json (vendored by Podman \
                 v5.8.2)",
        text: Text::Own(include_str!("podman-5.8.json")),
    },
];

/// dockerd 20.10 against 29.7: io_uring and every socket family allowed; pkey_*,
/// newer syscalls (cachestat, futex2, mseal, the *xattrat family, listmount/statmount,
/// lsm_*, map_shadow_stack, uretprobe, ...) not listed; bpf and perf_event_open only
/// with CAP_SYS_ADMIN (no CAP_BPF, CAP_PERFMON); name_to_handle_at only with
/// CAP_SYS_ADMIN; process_vm_readv/writev only with CAP_SYS_PTRACE.
const DOCKER_20_10: &[Edit] = &[
    Edit::Remove(&[
        "bpf",
        "cachestat",
        "clock_settime64",
        "fchmodat2",
        "futex_requeue",
        "futex_wait",
        "futex_wake",
        "getxattrat",
        "listmount",
        "listxattrat",
        "lsm_get_self_attr",
        "lsm_list_modules",
        "lsm_set_self_attr",
        "map_shadow_stack",
        "mseal",
        "name_to_handle_at",
        "perf_event_open",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "process_vm_readv",
        "process_vm_writev",
        "removexattrat",
        "riscv_flush_icache",
        "riscv_hwprobe",
        "set_mempolicy_home_node",
        "setxattrat",
        "socket",
        "statmount",
        "swapcontext",
        "uretprobe",
    ]),
    Edit::Append(
        r#"{"comment": "20.10: io_uring and every socket family", "names": ["io_uring_enter", "io_uring_register", "io_uring_setup", "socket"], "action": "SCMP_ACT_ALLOW"}"#,
    ),
    Edit::Append(
        r#"{"comment": "20.10: only with CAP_SYS_ADMIN", "names": ["bpf", "name_to_handle_at", "perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}"#,
    ),
    Edit::Append(
        r#"{"comment": "20.10: only with CAP_SYS_PTRACE", "names": ["process_vm_readv", "process_vm_writev"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}}"#,
    ),
];

/// containerd 1.6's generator against dockerd 20.10's profile: pkey_* allowed; bpf with
/// CAP_BPF, perf_event_open with CAP_PERFMON and clock_settime64 with CAP_SYS_TIME (Go
/// `case` arms moby's 20.10 list lacks). Otherwise moby's lists of the time, written as
/// Go; `ptrace` on kernels from 4.8 as moby's `minKernel`.
const CONTAINERD_1_6: &[Edit] = &[
    Edit::Append(
        r#"{"comment": "containerd 1.6: memory protection keys", "names": ["pkey_alloc", "pkey_free", "pkey_mprotect"], "action": "SCMP_ACT_ALLOW"}"#,
    ),
    Edit::Append(
        r#"{"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_BPF"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_PERFMON"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["clock_settime64"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_TIME"]}}"#,
    ),
];

/// containerd 2.3's generator against dockerd 29.7's profile: the lsm_* calls are
/// allowed without CAP_SYS_ADMIN.
const CONTAINERD_2_3: &[Edit] = &[
    Edit::Remove(&["lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr"]),
    Edit::Append(
        r#"{"comment": "containerd 2.3: LSM attributes for everyone", "names": ["lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr"], "action": "SCMP_ACT_ALLOW"}"#,
    ),
];

/// CRI-O 1.36: containers/common at the commit it vendors (which, unlike Podman 5.8's
/// v0.67.0, allows perf_event_open with CAP_SYS_ADMIN), then CRI-O's own change: no
/// namespaces without CAP_SYS_ADMIN (clone with namespace flags EPERM, clone3 ENOSYS,
/// unshare not listed).
const CRIO_1_36: &[Edit] = &[
    Edit::Remove(&["perf_event_open"]),
    Edit::Append(
        r#"{"comment": "common 1e46b07: perf_event_open with CAP_SYS_ADMIN or CAP_PERFMON", "names": ["perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["perf_event_open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_PERFMON"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_PERFMON"]}}"#,
    ),
    Edit::Remove(&["clone", "clone3", "unshare"]),
    Edit::Append(
        r#"{"comment": "CRI-O: namespaces only with CAP_SYS_ADMIN", "names": ["clone", "clone3", "unshare"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}"#,
    ),
    Edit::Append(
        r#"{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [
            {"index": 0, "value": 131072, "valueTwo": 131072, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 67108864, "valueTwo": 67108864, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 134217728, "valueTwo": 134217728, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 536870912, "valueTwo": 536870912, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 1073741824, "valueTwo": 1073741824, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 33554432, "valueTwo": 33554432, "op": "SCMP_CMP_MASKED_EQ"}],
          "excludes": {"caps": ["CAP_SYS_ADMIN"]}}"#,
    ),
    Edit::Append(
        r#"{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}"#,
    ),
];

/// Why a default is not modelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{engine}/default is not modelled for {engine} {asked} (modelled: {known})")]
pub struct UnknownLine {
    pub engine: ContainerEngine,
    pub asked: Release,
    pub known: String,
}

/// The default of `engine` at `release`'s line (its `major.minor`; the patch is not
/// looked at), or the newest modelled when `release` is `None`.
pub fn find(
    engine: ContainerEngine,
    release: Option<Release>,
) -> Result<&'static EngineDefault, UnknownLine> {
    let mut lines = DEFAULTS.iter().filter(|d| d.engine == engine);
    let found = match release {
        None => lines.next_back(),
        Some(r) => lines.find(|d| (d.line.major, d.line.minor) == (r.major, r.minor)),
    };
    found.ok_or_else(|| UnknownLine {
        engine,
        asked: release.unwrap_or(line(0, 0)),
        known: DEFAULTS
            .iter()
            .filter(|d| d.engine == engine)
            .map(|d| d.line.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Two defaults are the same when they are the same engine's same line.
impl PartialEq for EngineDefault {
    fn eq(&self, other: &EngineDefault) -> bool {
        (self.engine, self.line) == (other.engine, other.line)
    }
}

impl Eq for EngineDefault {}

impl EngineDefault {
    /// The builtin's name: `docker/default@20.10`.
    pub fn name(&self) -> String {
        format!("{}/default@{}", self.engine, self.line)
    }

    /// The Docker-format text of this default.
    pub fn text(&self) -> String {
        match self.text {
            Text::Own(t) => t.to_string(),
            Text::Edited { from, edits } => {
                let base = find(from.0, Some(from.1))
                    .expect("an edited default names a modelled one")
                    .text();
                let mut v: Value =
                    serde_json::from_str(&base).expect("a modelled default is valid JSON");
                for e in edits {
                    apply(&mut v, e);
                }
                serde_json::to_string_pretty(&v).expect("JSON values serialize")
            }
        }
    }
}

fn apply(profile: &mut Value, edit: &Edit) {
    let rules = profile
        .get_mut("syscalls")
        .and_then(Value::as_array_mut)
        .expect("a modelled default has a syscalls array");
    match edit {
        Edit::Remove(names) => {
            for rule in rules.iter_mut() {
                if let Some(list) = rule.get_mut("names").and_then(Value::as_array_mut) {
                    list.retain(|n| !n.as_str().is_some_and(|n| names.contains(&n)));
                }
            }
            rules.retain(|r| {
                r.get("names")
                    .and_then(Value::as_array)
                    .is_none_or(|l| !l.is_empty())
            });
        }
        Edit::Append(rule) => {
            rules.push(serde_json::from_str(rule).expect("an appended rule is valid JSON"))
        }
    }
}
