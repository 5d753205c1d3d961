//! A host's seccomp state, as an operator reviews it: every process's mode, filter
//! stack and container, the stacks grouped by digest and named after the profiles
//! they are equivalent to, and the findings an operator must act on.
//!
//! This module owns the audit document ([`HostAudit`], one JSON line per host and
//! round: what `syscage audit --format json` prints and `syscage report` reads), the
//! digest of a filter stack ([`stack_digest`]), and the analysis of one host
//! ([`HostAudit::analyse`]). It does not read `/proc` (the enforcer's `audit` does),
//! compare filters with profiles (the caller fills [`Stack::matches`] with
//! [`crate::identify`]), nor merge hosts (that is [`crate::cluster`]).
//!
//! The findings:
//!
//! * `unconfined-container` (error): a process of a container runs with `Seccomp: 0`,
//!   so the profile the platform promised is not on it (DC/OS asks that tasks be
//!   restarted after seccomp is enabled on an agent; a pod may say `Unconfined`).
//! * `mixed-filters` (warning): the containers of one Kubernetes pod, or the tasks of
//!   one Marathon app, run under different filter stacks. Infrastructure containers
//!   (the pod sandbox's `pause`) are left out.
//! * `unknown-filter` (warning): a stack equivalent to none of the candidate profiles.
//! * `threads-differ` (note): the threads of one process hold different numbers of
//!   filters (a filter installed without `SECCOMP_FILTER_FLAG_TSYNC`).
//! * `unreadable` (note): what could not be read, per process, and why (reading
//!   another process's environment needs CAP_SYS_PTRACE, its filters CAP_SYS_ADMIN).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::bpf::Program;
use crate::container::{Container, Engine};

/// `kind` of an audit document.
pub const KIND: &str = "syscage.audit";
/// The document's format version; a reader refuses versions it does not know.
pub const VERSION: u32 = 1;

/// `Seccomp:` in `/proc/PID/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Disabled,
    Strict,
    Filter,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Disabled => "disabled",
            Mode::Strict => "strict",
            Mode::Filter => "filter",
        })
    }
}

/// The SHA-256 of one filter as the kernel holds it (its instructions, 8 bytes each
/// in `struct sock_filter` layout, little-endian), as `sha256:` and 64 hex digits.
pub fn filter_digest(p: &Program) -> String {
    hex(&Sha256::digest(p.to_raw()))
}

/// The digest of a stack of filters, oldest first: the SHA-256 of the filters'
/// digests in order, so two processes have one digest exactly when they hold the same
/// programs in the same order.
pub fn stack_digest(filters: &[Program]) -> String {
    let mut h = Sha256::new();
    for p in filters {
        h.update(Sha256::digest(p.to_raw()));
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(7 + 2 * bytes.len());
    s.push_str("sha256:");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A digest as people read it: 12 hex digits (of whatever a document read back
/// holds, at most 12 characters).
pub fn short(digest: &str) -> &str {
    let d = digest.strip_prefix("sha256:").unwrap_or(digest);
    let end = d.char_indices().nth(12).map_or(d.len(), |(i, _)| i);
    &d[..end]
}

/// One distinct filter stack found on the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    pub digest: String,
    /// Each filter's digest, oldest first.
    pub filters: Vec<String>,
    /// Each filter's length in instructions.
    pub instructions: Vec<usize>,
    /// The candidate profiles the stack is verdict-equivalent to, each as "NAME as
    /// RUNTIME installs it (...)"; `None` when the stack was not compared.
    pub matches: Option<Vec<String>>,
    /// For a stack of several filters that matches nothing whole: each filter's
    /// matches alone, oldest first (a container whose program narrows itself further
    /// holds the engine's profile and its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<Vec<String>>>,
}

impl Stack {
    /// Compared, and neither the whole stack nor every one of its filters is a
    /// candidate.
    pub fn unknown(&self) -> bool {
        self.matches.as_ref().is_some_and(Vec::is_empty)
            && self
                .layers
                .as_ref()
                .is_none_or(|l| l.iter().any(Vec::is_empty))
    }
}

/// One process (thread group) of the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: i32,
    /// `Name:` of `/proc/PID/status`.
    pub name: String,
    /// Start time, in clock ticks after boot (`/proc/PID/stat` field 22).
    pub start: u64,
    /// `None` when `/proc/PID/status` could not be read (see `unreadable`).
    pub mode: Option<Mode>,
    pub filters: Option<u32>,
    pub no_new_privs: Option<bool>,
    /// The digest of its stack (a [`Stack`] of the document), when it has filters and
    /// they could be read.
    pub stack: Option<String>,
    pub container: Option<Container>,
    /// The engine monitor (conmon) this process is, as "ENGINE ID".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
    /// The threads hold different numbers of filters.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub threads_differ: bool,
    /// This is the auditing process itself (confined or not by design).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auditor: bool,
    /// What could not be read, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// How urgent a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// What kind of finding (the module documentation explains each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    UnconfinedContainer,
    MixedFilters,
    UnknownFilter,
    ThreadsDiffer,
    Unreadable,
}

impl FlagKind {
    pub fn severity(self) -> Severity {
        match self {
            FlagKind::UnconfinedContainer => Severity::Error,
            FlagKind::MixedFilters | FlagKind::UnknownFilter => Severity::Warning,
            FlagKind::ThreadsDiffer | FlagKind::Unreadable => Severity::Note,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FlagKind::UnconfinedContainer => "unconfined-container",
            FlagKind::MixedFilters => "mixed-filters",
            FlagKind::UnknownFilter => "unknown-filter",
            FlagKind::ThreadsDiffer => "threads-differ",
            FlagKind::Unreadable => "unreadable",
        }
    }
}

/// A finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The nodes it was seen on.
    pub nodes: Vec<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<i32>,
    /// The stack digest it is about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

impl Flag {
    fn new(kind: FlagKind, node: &str, message: String) -> Flag {
        Flag {
            kind,
            severity: kind.severity(),
            nodes: vec![node.to_string()],
            message,
            pids: Vec::new(),
            stack: None,
        }
    }
}

/// One host's audit: what `syscage audit --format json` prints, one line per round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAudit {
    pub kind: String,
    pub version: u32,
    pub node: String,
    /// Unix time of the audit, seconds.
    pub time: u64,
    /// `uname -r`.
    pub kernel: String,
    /// Kernel threads, counted and not listed (they never hold a filter).
    pub kernel_threads: usize,
    pub stacks: Vec<Stack>,
    pub processes: Vec<Process>,
    /// [`HostAudit::analyse`]'s findings.
    pub flags: Vec<Flag>,
    /// What limits the whole audit (cgroup paths read from a private cgroup
    /// namespace, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Infrastructure containers left out of the pod/app comparison: the pod sandbox
/// holder every CRI runtime starts (`pause`, Kubernetes `build/pause`).
fn is_infrastructure(p: &Process) -> bool {
    p.name == "pause"
}

/// A container's processes, and the stack its first process runs under.
pub struct ContainerView<'a> {
    pub container: &'a Container,
    pub processes: Vec<&'a Process>,
}

impl ContainerView<'_> {
    /// The process the container started with (the oldest; the lowest pid on ties).
    pub fn first(&self) -> &Process {
        self.processes
            .iter()
            .min_by_key(|p| (p.start, p.pid))
            .expect("a view holds a process")
    }

    /// What the container runs under: its first process's.
    pub fn stack_key(&self) -> StackKey {
        let p = self.first();
        match (p.mode, &p.stack) {
            (Some(Mode::Disabled), _) => StackKey::Unconfined,
            (Some(Mode::Strict), _) => StackKey::Strict,
            (_, Some(d)) => StackKey::Stack(d.clone()),
            _ => StackKey::Unread,
        }
    }
}

/// What a container runs under, as containers are compared across a pod or an app.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackKey {
    /// A filter stack, by digest.
    Stack(String),
    /// `Seccomp: 0`.
    Unconfined,
    /// Seccomp strict mode.
    Strict,
    /// Filtered, but the filters could not be read.
    Unread,
}

impl StackKey {
    /// Whether this is the stack `digest`.
    pub fn is(&self, digest: &str) -> bool {
        matches!(self, StackKey::Stack(d) if d == digest)
    }
}

impl fmt::Display for StackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackKey::Stack(d) => f.write_str(short(d)),
            StackKey::Unconfined => f.write_str("unconfined"),
            StackKey::Strict => f.write_str("strict"),
            StackKey::Unread => f.write_str("unread"),
        }
    }
}

/// What comparing containers across a pod, an app or a cluster needs of one
/// container: a few hundred bytes, where its processes can be thousands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSummary {
    pub container: Container,
    /// Its first process's pid.
    pub first: i32,
    /// An infrastructure container (the pod sandbox's `pause`): left out of the
    /// comparison.
    pub infrastructure: bool,
    /// [`ContainerView::stack_key`].
    pub key: StackKey,
    pub processes: usize,
}

impl ContainerView<'_> {
    pub fn summary(&self) -> ContainerSummary {
        ContainerSummary {
            container: self.container.clone(),
            first: self.first().pid,
            infrastructure: is_infrastructure(self.first()),
            key: self.stack_key(),
            processes: self.processes.len(),
        }
    }
}

impl HostAudit {
    pub fn new(node: &str, time: u64, kernel: &str) -> HostAudit {
        HostAudit {
            kind: KIND.into(),
            version: VERSION,
            node: node.into(),
            time,
            kernel: kernel.into(),
            kernel_threads: 0,
            stacks: Vec::new(),
            processes: Vec::new(),
            flags: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn stack(&self, digest: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.digest == digest)
    }

    /// Containers and their processes, in the order of their first process's pid.
    pub fn containers(&self) -> Vec<ContainerView<'_>> {
        let mut by: BTreeMap<(Engine, &str), ContainerView<'_>> = BTreeMap::new();
        for p in &self.processes {
            if let Some(c) = &p.container {
                by.entry((c.engine, c.id.as_str()))
                    .or_insert_with(|| ContainerView {
                        container: c,
                        processes: Vec::new(),
                    })
                    .processes
                    .push(p);
            }
        }
        let mut v: Vec<_> = by.into_values().collect();
        v.sort_by_key(|c| c.first().pid);
        v
    }

    /// Processes grouped by stack digest (`None`: no filter, or not read), largest
    /// group first.
    pub fn groups(&self) -> Vec<(Option<&str>, Vec<&Process>)> {
        let mut by: BTreeMap<Option<&str>, Vec<&Process>> = BTreeMap::new();
        for p in &self.processes {
            by.entry(p.stack.as_deref()).or_default().push(p);
        }
        let mut v: Vec<_> = by.into_iter().collect();
        v.sort_by_key(|(d, ps)| (d.is_none(), std::cmp::Reverse(ps.len())));
        v
    }

    /// Computes [`HostAudit::flags`] from the processes and stacks.
    pub fn analyse(&mut self) {
        let node = self.node.clone();
        let mut flags = Vec::new();
        let containers = self.containers();
        for c in &containers {
            let unconfined: Vec<i32> = c
                .processes
                .iter()
                .filter(|p| p.mode == Some(Mode::Disabled) && !p.auditor)
                .map(|p| p.pid)
                .collect();
            // A pod sandbox's `pause` runs unconfined whenever the pod sets no profile
            // (containerd and CRI-O give the sandbox the pod-level setting); it runs no
            // workload, so it is not an error.
            if !unconfined.is_empty() && !is_infrastructure(c.first()) {
                let mut f = Flag::new(
                    FlagKind::UnconfinedContainer,
                    &node,
                    format!(
                        "container {}: {} of {} process(es) run without seccomp (Seccomp: 0)",
                        c.container,
                        unconfined.len(),
                        c.processes.len()
                    ),
                );
                f.pids = unconfined;
                flags.push(f);
            }
        }
        let summaries: Vec<ContainerSummary> = containers.iter().map(|c| c.summary()).collect();
        flags.extend(mixed_groups(&node, summaries.iter().map(|c| (&node, c))));
        for s in &self.stacks {
            if s.unknown() {
                let pids: Vec<i32> = self
                    .processes
                    .iter()
                    .filter(|p| p.stack.as_deref() == Some(&s.digest))
                    .map(|p| p.pid)
                    .collect();
                let mut f = Flag::new(
                    FlagKind::UnknownFilter,
                    &node,
                    format!(
                        "stack {} ({} filter(s)) matches no candidate profile; {} process(es) run under it",
                        short(&s.digest),
                        s.filters.len(),
                        pids.len()
                    ),
                );
                f.pids = pids;
                f.stack = Some(s.digest.clone());
                flags.push(f);
            }
        }
        for p in &self.processes {
            if p.threads_differ {
                let mut f = Flag::new(
                    FlagKind::ThreadsDiffer,
                    &node,
                    format!(
                        "process {} ({}): its threads hold different numbers of filters",
                        p.pid, p.name
                    ),
                );
                f.pids = vec![p.pid];
                flags.push(f);
            }
            if !p.unreadable.is_empty() {
                let mut f = Flag::new(
                    FlagKind::Unreadable,
                    &node,
                    format!(
                        "process {} ({}): {}",
                        p.pid,
                        p.name,
                        p.unreadable.join("; ")
                    ),
                );
                f.pids = vec![p.pid];
                flags.push(f);
            }
        }
        for w in &self.warnings {
            flags.push(Flag::new(FlagKind::Unreadable, &node, w.clone()));
        }
        flags.sort_by_key(|f| std::cmp::Reverse(f.severity));
        self.flags = flags;
    }
}

/// `mixed-filters` findings over containers (on one node or many): the containers of
/// one pod or app whose stacks differ.
pub(crate) fn mixed_groups<'a>(
    scope: &str,
    containers: impl Iterator<Item = (&'a String, &'a ContainerSummary)>,
) -> Vec<Flag> {
    let mut groups: BTreeMap<String, Vec<(&String, &ContainerSummary)>> = BTreeMap::new();
    for (node, c) in containers {
        if c.infrastructure {
            continue;
        }
        if let Some(g) = c.container.group() {
            groups.entry(g).or_default().push((node, c));
        }
    }
    let mut flags = Vec::new();
    for (group, members) in groups {
        let keys: BTreeSet<&StackKey> = members.iter().map(|(_, c)| &c.key).collect();
        if keys.len() < 2 {
            continue;
        }
        let nodes: BTreeSet<&String> = members.iter().map(|(n, _)| *n).collect();
        let detail: Vec<String> = members
            .iter()
            .map(|(n, c)| {
                let key = &c.key;
                if nodes.len() > 1 {
                    format!("{} on {n}: {key}", c.container)
                } else {
                    format!("{}: {key}", c.container)
                }
            })
            .collect();
        let mut f = Flag::new(
            FlagKind::MixedFilters,
            scope,
            format!(
                "{group}: {} containers under {} different stacks ({})",
                members.len(),
                keys.len(),
                detail.join(", ")
            ),
        );
        f.nodes = nodes.into_iter().cloned().collect();
        f.pids = members.iter().map(|(_, c)| c.first).collect();
        flags.push(f);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::Insn;

    fn program(k: u32) -> Program {
        Program::new(vec![Insn {
            code: 0x06,
            jt: 0,
            jf: 0,
            k,
        }])
    }

    #[test]
    fn stack_digests_tell_order_and_content_apart() {
        let (a, b) = (program(0x7fff_0000), program(0x0005_0001));
        let ab = stack_digest(&[a.clone(), b.clone()]);
        assert_eq!(ab, stack_digest(&[a.clone(), b.clone()]));
        assert_ne!(ab, stack_digest(&[b.clone(), a.clone()]));
        assert_ne!(ab, stack_digest(std::slice::from_ref(&a)));
        assert_ne!(filter_digest(&a), filter_digest(&b));
        // Checked against Python's hashlib over the same `struct sock_filter` bytes.
        assert_eq!(
            filter_digest(&a),
            "sha256:40b2a31e1a78576bb4afdf1433867d0cc67b769635ef549fba81c7d37570520f"
        );
        assert_eq!(
            ab,
            "sha256:91c0cd217067ba1a49cd3f189061a749bf773921d56edc8b58119951e2fe1dd6"
        );
        assert_eq!(short(&ab).len(), 12);
        assert_eq!(short(&"\u{e9}".repeat(20)).chars().count(), 12);
    }

    fn process(pid: i32, mode: Mode, stack: Option<&str>, c: Option<Container>) -> Process {
        Process {
            pid,
            name: "app".into(),
            start: pid as u64,
            mode: Some(mode),
            filters: Some(u32::from(stack.is_some())),
            no_new_privs: Some(true),
            stack: stack.map(str::to_string),
            container: c,
            monitor: None,
            threads_differ: false,
            auditor: false,
            unreadable: Vec::new(),
        }
    }

    fn in_pod(id: &str, pod: &str) -> Container {
        let mut c = Container::from_runtime_state(Engine::Containerd, id);
        c.pod = Some(pod.into());
        c
    }

    #[test]
    fn flags_unconfined_containers_mixed_pods_and_unknown_stacks() {
        let mut a = HostAudit::new("n1", 0, "6.18");
        a.stacks = vec![
            Stack {
                digest: "sha256:aaaa".into(),
                filters: vec!["sha256:f1".into()],
                instructions: vec![1],
                matches: Some(vec!["runtime/default as runc 1.1 installs it".into()]),
                layers: None,
            },
            Stack {
                digest: "sha256:bbbb".into(),
                filters: vec!["sha256:f2".into()],
                instructions: vec![1],
                matches: Some(vec![]),
                layers: None,
            },
            // Two known profiles stacked: not unknown.
            Stack {
                digest: "sha256:cccc".into(),
                filters: vec!["sha256:f1".into(), "sha256:f3".into()],
                instructions: vec![1, 1],
                matches: Some(vec![]),
                layers: Some(vec![vec!["a".into()], vec!["b".into()]]),
            },
        ];
        a.processes = vec![
            // A host process without seccomp: normal, not flagged.
            process(1, Mode::Disabled, None, None),
            // Pod p: two containers, one under each stack.
            process(
                10,
                Mode::Filter,
                Some("sha256:aaaa"),
                Some(in_pod("c1", "p")),
            ),
            process(
                11,
                Mode::Filter,
                Some("sha256:aaaa"),
                Some(in_pod("c1", "p")),
            ),
            process(
                20,
                Mode::Filter,
                Some("sha256:bbbb"),
                Some(in_pod("c2", "p")),
            ),
            // Pod q: one confined and one unconfined container.
            process(
                30,
                Mode::Filter,
                Some("sha256:aaaa"),
                Some(in_pod("c3", "q")),
            ),
            process(40, Mode::Disabled, None, Some(in_pod("c4", "q"))),
        ];
        // The pause container of pod q runs unconfined too: infrastructure, left out of
        // both the comparison and the unconfined findings.
        let mut pause = process(50, Mode::Disabled, None, Some(in_pod("c5", "q")));
        pause.name = "pause".into();
        a.processes.push(pause);
        a.analyse();
        let kinds: Vec<(FlagKind, Vec<i32>)> =
            a.flags.iter().map(|f| (f.kind, f.pids.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (FlagKind::UnconfinedContainer, vec![40]),
                (FlagKind::MixedFilters, vec![10, 20]),
                (FlagKind::MixedFilters, vec![30, 40]),
                (FlagKind::UnknownFilter, vec![20]),
            ],
            "{:#?}",
            a.flags
        );
        assert!(a.flags[1]
            .message
            .contains("pod p: 2 containers under 2 different stacks"));
        let groups = a.groups();
        assert_eq!(groups[0].0, Some("sha256:aaaa"));
        assert_eq!(groups[0].1.len(), 3);
        assert_eq!(groups.last().unwrap().0, None);
        // The document survives its JSON.
        let text = serde_json::to_string(&a).unwrap();
        let back: HostAudit = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a);
    }
}
