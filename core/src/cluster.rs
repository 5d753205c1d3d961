//! Many hosts' audits and many fuzz shards, merged into one view of a cluster: what
//! `syscage report` prints.
//!
//! Input is the JSON Lines the DaemonSet's and the indexed Job's pods print, gathered
//! any way (`kubectl logs --prefix`, a log store's export, files copied off nodes):
//! [`Inputs::read`] takes a file's text, skips what is not a syscage document (log
//! lines, `kubectl`'s `[pod/NAME/CONTAINER] ` prefixes) and refuses, with the file and
//! line, a syscage document it cannot read. The newest audit of each node is kept.
//!
//! The view ([`Cluster`]) holds the stacks seen across nodes with the nodes and
//! processes under each, the findings of every node (an `unknown-filter` once per
//! stack, with its nodes) plus `mixed-filters` across nodes (the tasks of one
//! Marathon app on agents that disagree: DC/OS asks that all agents be configured
//! alike), and per fuzz run the shards present and missing, the combined counts and
//! the combined digest ([`crate::shard`]). This module does not read files or print.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::audit::{self, ContainerSummary, Flag, FlagKind, HostAudit};
use crate::shard::{self, Found, FuzzSummary, Shard};

/// A document that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ReadError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// What the cluster view keeps of a node's audit: its stacks with their process
/// counts, a summary per container and its findings, not its processes (a cluster of
/// 10,000 nodes would otherwise hold millions of them).
#[derive(Clone, Debug)]
pub struct NodeSummary {
    pub node: String,
    pub time: u64,
    pub processes: usize,
    /// Each stack with the processes and containers under it.
    pub stacks: Vec<(audit::Stack, usize, usize)>,
    pub containers: Vec<ContainerSummary>,
    /// The node's findings, `unreadable` notes folded into one.
    pub flags: Vec<Flag>,
}

impl NodeSummary {
    pub fn of(a: HostAudit) -> NodeSummary {
        let views = a.containers();
        let containers: Vec<ContainerSummary> = views.iter().map(|c| c.summary()).collect();
        let stacks = a
            .stacks
            .iter()
            .map(|s| {
                let procs = a
                    .processes
                    .iter()
                    .filter(|p| p.stack.as_deref() == Some(&s.digest))
                    .count();
                let conts = containers.iter().filter(|c| c.key.is(&s.digest)).count();
                (s.clone(), procs, conts)
            })
            .collect();
        let (unreadable, mut flags): (Vec<Flag>, Vec<Flag>) = a
            .flags
            .iter()
            .cloned()
            .partition(|f| f.kind == FlagKind::Unreadable);
        if let Some(first) = unreadable.first() {
            let mut f = first.clone();
            f.pids = unreadable
                .iter()
                .flat_map(|f| f.pids.iter().copied())
                .collect();
            if unreadable.len() > 1 {
                f.message = format!(
                    "{} processes could not be read in full, e.g. {}",
                    unreadable.len(),
                    first.message
                );
            }
            flags.push(f);
        }
        NodeSummary {
            node: a.node.clone(),
            time: a.time,
            processes: a.processes.len(),
            stacks,
            containers,
            flags,
        }
    }
}

/// Everything read, before merging: the newest audit of each node (as a
/// [`NodeSummary`]) and every fuzz summary.
#[derive(Debug, Default)]
pub struct Inputs {
    pub nodes: BTreeMap<String, NodeSummary>,
    /// Older audits of a node, replaced by its newest.
    pub superseded: usize,
    pub fuzz: Vec<FuzzSummary>,
    /// Lines that were not syscage documents.
    pub skipped_lines: usize,
    /// Syscage lines that could not be used, each naming its file and line: a log line
    /// cut off (container runtimes split lines longer than 16 KiB, and `kubectl logs
    /// --tail` counts the pieces), an unknown version, an inconsistent summary, a time
    /// in the future. The rest is still merged.
    pub rejected: Vec<ReadError>,
    /// Unix time now, seconds; an audit from more than an hour later is rejected (it
    /// would replace the node's real audits for good). `None`: not checked.
    pub now: Option<u64>,
}

impl Inputs {
    /// Reads the documents of one file's text (`file` names it in errors).
    pub fn read(&mut self, file: &str, text: &str) {
        for (i, raw) in text.lines().enumerate() {
            self.read_line(file, i + 1, raw);
        }
    }

    /// Reads line `line` (1-based) of `file`: a document, something skipped, or
    /// something rejected.
    pub fn read_line(&mut self, file: &str, line: usize, raw: &str) {
        if let Err(message) = self.document(raw) {
            self.rejected.push(ReadError {
                file: file.to_string(),
                line,
                message,
            });
        }
    }

    fn document(&mut self, raw: &str) -> Result<(), String> {
        let text = strip_prefix(raw.trim());
        let looks_ours = text.contains("\"kind\":\"syscage.");
        if !text.starts_with('{') {
            if looks_ours {
                return Err(
                    "the middle or end of a syscage line (a log line split or cut off)".into(),
                );
            }
            if !text.is_empty() {
                self.skipped_lines += 1;
            }
            return Ok(());
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) if looks_ours => {
                return Err(format!(
                    "a syscage line that is not JSON: {e} (a log line split or cut off?)"
                ))
            }
            Err(_) => {
                self.skipped_lines += 1;
                return Ok(());
            }
        };
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let version = value.get("version").and_then(|k| k.as_u64());
        let check_version = |want: u32| match version {
            Some(v) if v == u64::from(want) => Ok(()),
            other => Err(format!(
                "{kind} version {other:?}: this syscage reads version {want}"
            )),
        };
        match kind {
            audit::KIND => {
                check_version(audit::VERSION)?;
                let a: HostAudit = serde_json::from_value(value)
                    .map_err(|e| format!("not an audit document: {e}"))?;
                if let Some(now) = self.now {
                    if a.time > now.saturating_add(3600) {
                        return Err(format!(
                            "node {}: an audit dated {} s in the future",
                            a.node,
                            a.time - now
                        ));
                    }
                }
                match self.nodes.get(&a.node) {
                    Some(old) if old.time >= a.time => self.superseded += 1,
                    old => {
                        self.superseded += usize::from(old.is_some());
                        self.nodes.insert(a.node.clone(), NodeSummary::of(a));
                    }
                }
            }
            shard::KIND => {
                check_version(shard::VERSION)?;
                let f: FuzzSummary = serde_json::from_value(value)
                    .map_err(|e| format!("not a fuzz summary: {e}"))?;
                f.consistent()?;
                self.fuzz.push(f);
            }
            _ => self.skipped_lines += 1,
        }
        Ok(())
    }
}

/// `kubectl logs --prefix` writes `[pod/NAME/CONTAINER] ` before each line.
fn strip_prefix(line: &str) -> &str {
    if line.starts_with("[pod/") {
        if let Some((_, rest)) = line.split_once("] ") {
            return rest.trim_start();
        }
    }
    line
}

/// One stack across the cluster.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterStack {
    pub digest: String,
    pub filters: usize,
    pub matches: Option<Vec<String>>,
    pub nodes: usize,
    pub processes: usize,
    pub containers: usize,
}

/// One fuzz run (a seed, a total, a syscage and its engines) across its shards.
#[derive(Clone, Debug, Serialize)]
pub struct FuzzRun {
    pub seed: u64,
    pub total: u64,
    pub syscage: String,
    pub engines: Vec<String>,
    pub shards: u64,
    /// How many shards reported.
    pub present: u64,
    /// Shard indices missing, as inclusive ranges `[first, last]` (a failed or
    /// unfinished pod: rerun exactly these).
    pub missing: Vec<(u64, u64)>,
    pub cases: u64,
    pub skipped: u64,
    pub events: u64,
    pub kernel_verdicts: u64,
    /// XOR of the present shards' digests: the unsharded run's digest once complete.
    pub digest: String,
    /// Every shard present, every case run.
    pub complete: bool,
    pub disagreements: Vec<Found>,
    /// Core-seconds spent, summed over shards.
    pub seconds: f64,
}

/// The merged view.
#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    pub nodes: Vec<String>,
    /// Older audits of a node, replaced by its newest.
    pub superseded: usize,
    pub processes: usize,
    pub containers: usize,
    pub stacks: Vec<ClusterStack>,
    pub flags: Vec<Flag>,
    pub fuzz: Vec<FuzzRun>,
    /// What makes the inputs inconsistent (a shard reported twice with different
    /// results, a shard count that changes within a run).
    pub problems: Vec<String>,
    pub skipped_lines: usize,
}

impl Cluster {
    /// Whether an operator must act: an error finding, a fuzz disagreement, a missing
    /// shard or inconsistent inputs.
    pub fn needs_action(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f.severity == audit::Severity::Error)
            || self
                .fuzz
                .iter()
                .any(|r| !r.disagreements.is_empty() || !r.complete)
            || !self.problems.is_empty()
    }
}

/// Merges what was read.
pub fn merge(inputs: Inputs) -> Cluster {
    let mut problems: Vec<String> = inputs.rejected.iter().map(|e| e.to_string()).collect();
    let nodes: Vec<NodeSummary> = inputs.nodes.into_values().collect();

    let mut stacks: BTreeMap<String, ClusterStack> = BTreeMap::new();
    for n in &nodes {
        for (s, processes, containers) in &n.stacks {
            let e = stacks
                .entry(s.digest.clone())
                .or_insert_with(|| ClusterStack {
                    digest: s.digest.clone(),
                    filters: s.filters.len(),
                    matches: s.matches.clone(),
                    nodes: 0,
                    processes: 0,
                    containers: 0,
                });
            e.nodes += 1;
            e.processes += processes;
            e.containers += containers;
            if e.matches.is_none() {
                e.matches = s.matches.clone();
            }
        }
    }
    let mut stacks: Vec<ClusterStack> = stacks.into_values().collect();
    stacks.sort_by_key(|s| std::cmp::Reverse((s.nodes, s.processes)));

    // Findings: each node's own, an unknown stack once with all its nodes, and the
    // groups compared across nodes.
    let mut flags: Vec<Flag> = Vec::new();
    let mut unknown: BTreeMap<String, Flag> = BTreeMap::new();
    for n in &nodes {
        for f in &n.flags {
            match f.kind {
                FlagKind::MixedFilters => {}
                FlagKind::UnknownFilter => {
                    let key = f.stack.clone().unwrap_or_default();
                    match unknown.get_mut(&key) {
                        Some(u) => {
                            u.nodes.extend(f.nodes.iter().cloned());
                            u.pids.clear();
                        }
                        None => {
                            unknown.insert(key, f.clone());
                        }
                    }
                }
                _ => flags.push(f.clone()),
            }
        }
    }
    for (_, mut f) in unknown {
        if f.nodes.len() > 1 {
            f.message = format!(
                "stack {} matches no candidate profile; seen on {} nodes",
                audit::short(f.stack.as_deref().unwrap_or("")),
                f.nodes.len()
            );
        }
        flags.push(f);
    }
    flags.extend(audit::mixed_groups(
        "cluster",
        nodes
            .iter()
            .flat_map(|n| n.containers.iter().map(move |c| (&n.node, c))),
    ));
    flags.sort_by_key(|f| std::cmp::Reverse(f.severity));

    let fuzz = merge_fuzz(inputs.fuzz, &mut problems);
    Cluster {
        nodes: nodes.iter().map(|n| n.node.clone()).collect(),
        superseded: inputs.superseded,
        processes: nodes.iter().map(|n| n.processes).sum(),
        containers: nodes.iter().map(|n| n.containers.len()).sum(),
        stacks,
        flags,
        fuzz,
        problems,
        skipped_lines: inputs.skipped_lines,
    }
}

fn merge_fuzz(summaries: Vec<FuzzSummary>, problems: &mut Vec<String>) -> Vec<FuzzRun> {
    type RunKey = (u64, u64, String, Vec<String>);
    let mut runs: BTreeMap<RunKey, BTreeMap<Shard, FuzzSummary>> = BTreeMap::new();
    for s in summaries {
        let key = (s.seed, s.total, s.syscage.clone(), s.engines.clone());
        let shards = runs.entry(key).or_default();
        match shards.get(&s.shard) {
            Some(old) if old.digest == s.digest && old.cases == s.cases => {}
            Some(old) => problems.push(format!(
                "seed {} shard {}: reported twice with different results (digest {} and {})",
                s.seed, s.shard, old.digest, s.digest
            )),
            None => {
                shards.insert(s.shard, s);
            }
        }
    }
    let mut out: Vec<FuzzRun> = Vec::new();
    for ((seed, total, syscage, engines), shards) in runs {
        let counts: BTreeSet<u64> = shards.keys().map(|s| s.count).collect();
        for count in counts {
            let mine: Vec<&FuzzSummary> =
                shards.values().filter(|s| s.shard.count == count).collect();
            // `mine` is in shard order (a BTreeMap's values): the gaps between them.
            let mut missing = Vec::new();
            let mut next = 0u64;
            for s in &mine {
                if s.shard.index > next {
                    missing.push((next, s.shard.index - 1));
                }
                next = s.shard.index + 1;
            }
            if next < count {
                missing.push((next, count - 1));
            }
            let present = mine.len() as u64;
            let mut digest = 0u64;
            for s in &mine {
                match s.digest_value() {
                    Some(d) => digest ^= d,
                    None => problems.push(format!(
                        "seed {seed} shard {}: digest {:?} is not 16 hex digits",
                        s.shard, s.digest
                    )),
                }
            }
            let all_ran = mine.iter().all(|s| s.cases == s.end - s.first);
            out.push(FuzzRun {
                seed,
                total,
                syscage: syscage.clone(),
                engines: engines.clone(),
                shards: count,
                complete: missing.is_empty() && all_ran,
                missing,
                present,
                cases: mine.iter().map(|s| s.cases).sum(),
                skipped: mine.iter().map(|s| s.skipped).sum(),
                events: mine.iter().map(|s| s.events).sum(),
                kernel_verdicts: mine.iter().map(|s| s.kernel_verdicts).sum(),
                digest: shard::digest_text(digest),
                disagreements: mine
                    .iter()
                    .flat_map(|s| s.disagreements.iter().cloned())
                    .collect(),
                seconds: mine.iter().map(|s| s.seconds).sum(),
            });
        }
    }
    // Complete runs of one seed and total split differently must agree.
    for (i, a) in out.iter().enumerate() {
        for b in &out[i + 1..] {
            let same = (a.seed, a.total, &a.syscage, &a.engines)
                == (b.seed, b.total, &b.syscage, &b.engines);
            if same && a.complete && b.complete && a.digest != b.digest {
                problems.push(format!(
                    "seed {}: the {}-shard and {}-shard runs of the same cases differ \
                     (digest {} and {})",
                    a.seed, a.shards, b.shards, a.digest, b.digest
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Mode, Process, Stack};
    use crate::container::{Container, Engine};

    fn summary(index: u64, count: u64, digest: u64) -> FuzzSummary {
        let r = Shard { index, count }.range(100);
        FuzzSummary {
            kind: shard::KIND.into(),
            version: shard::VERSION,
            syscage: "0.1.0".into(),
            seed: 7,
            total: 100,
            shard: Shard { index, count },
            first: r.start,
            end: r.end,
            engines: vec!["reference".into(), "bpf".into()],
            cases: r.end - r.start,
            skipped: 1,
            events: 10,
            kernel_verdicts: 0,
            digest: shard::digest_text(digest),
            seconds: 1.0,
            disagreements: vec![],
        }
    }

    fn text(docs: &[serde_json::Value]) -> String {
        docs.iter().map(|d| format!("[pod/x/c] {d}\n")).collect()
    }

    #[test]
    fn shards_combine_and_missing_ones_are_named() {
        let docs: Vec<serde_json::Value> = [(0, 0x1), (1, 0x2), (3, 0x8)]
            .iter()
            .map(|&(i, d)| serde_json::to_value(summary(i, 4, d)).unwrap())
            .collect();
        let mut inputs = Inputs::default();
        let mut t = text(&docs);
        t.push_str("syscage fuzz: seed 7, 100 cases\n");
        // The same shard twice, identical: counted once.
        t.push_str(&format!("{}\n", docs[0]));
        inputs.read("logs", &t);
        assert_eq!(inputs.skipped_lines, 1);
        let c = merge(inputs);
        assert_eq!(c.fuzz.len(), 1);
        let run = &c.fuzz[0];
        assert_eq!((run.present, run.missing.clone()), (3, vec![(2, 2)]));
        assert_eq!(run.digest, shard::digest_text(0xb));
        assert_eq!(run.cases, 75);
        assert!(!run.complete);
        assert!(c.needs_action());
        assert!(c.problems.is_empty());
    }

    #[test]
    fn a_shard_reported_twice_differently_is_a_problem() {
        let mut inputs = Inputs::default();
        let a = serde_json::to_value(summary(0, 1, 1)).unwrap();
        let b = serde_json::to_value(summary(0, 1, 2)).unwrap();
        inputs.read("a", &format!("{a}\n{b}\n"));
        let c = merge(inputs);
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
    }

    #[test]
    fn bad_documents_are_rejected_at_their_line_and_the_rest_merged() {
        let mut inputs = Inputs {
            now: Some(1000),
            ..Inputs::default()
        };
        let good = serde_json::to_string(&task("n2", 5, "a", "sha256:aaaa")).unwrap();
        let mut future = task("n3", 5, "a", "sha256:aaaa");
        future.time = 1_000_000;
        let mut case = summary(0, 1, 1);
        (case.first, case.end, case.total) = (7, 8, 8);
        let text = format!(
            "hello\n{}\n{}\n{good}\n{}\n{}\n{}\n",
            r#"{"kind":"syscage.audit","version":9}"#,
            r#"{"kind":"syscage.audit","version":1,"node":"#,
            r#""kind":"syscage.audit","version":1}"#,
            serde_json::to_string(&future).unwrap(),
            serde_json::to_string(&case).unwrap(),
        );
        inputs.read("n1.log", &text);
        let lines: Vec<(usize, &str)> = inputs
            .rejected
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[0].1.contains("version"));
        assert!(lines[1].1.contains("not JSON"));
        assert_eq!(lines[2].0, 5);
        assert!(lines[2].1.contains("split or cut off"));
        assert!(lines[3].1.contains("future"));
        assert!(lines[4].1.contains("not a shard of a run"));
        let c = merge(inputs);
        assert_eq!(c.nodes, vec!["n2"]);
        assert_eq!(c.problems.len(), 5);
        assert!(c.problems[0].starts_with("n1.log:2: "), "{}", c.problems[0]);
        assert!(c.needs_action());
        // A shard count or index out of range does not deserialize.
        let mut bad = serde_json::to_value(summary(0, 4, 1)).unwrap();
        bad["shard"]["count"] = 0.into();
        let mut inputs = Inputs::default();
        inputs.read("x", &bad.to_string());
        assert_eq!(inputs.rejected.len(), 1);
    }

    fn task(node: &str, pid: i32, id: &str, stack: &str) -> HostAudit {
        let mut a = HostAudit::new(node, 10, "6.18");
        let mut c = Container::from_runtime_state(Engine::Mesos, id);
        c.app = Some("/prod/web".into());
        a.stacks.push(Stack {
            digest: stack.into(),
            filters: vec!["f".into()],
            instructions: vec![3],
            matches: Some(vec!["docker/default".into()]),
            layers: None,
        });
        a.processes.push(Process {
            pid,
            name: "web".into(),
            start: 1,
            mode: Some(Mode::Filter),
            filters: Some(1),
            no_new_privs: Some(true),
            stack: Some(stack.into()),
            container: Some(c),
            monitor: None,
            threads_differ: false,
            auditor: false,
            unreadable: vec![],
        });
        a.analyse();
        a
    }

    #[test]
    fn an_app_split_across_agents_is_flagged_once_newest_audit_wins() {
        let mut old = task("agent-2", 5, "b", "sha256:aaaa");
        old.time = 1;
        let docs = [
            task("agent-1", 5, "a", "sha256:aaaa"),
            old,
            task("agent-2", 5, "b", "sha256:bbbb"),
        ];
        let mut inputs = Inputs::default();
        let t: String = docs
            .iter()
            .map(|d| format!("{}\n", serde_json::to_string(d).unwrap()))
            .collect();
        inputs.read("audit.jsonl", &t);
        let c = merge(inputs);
        assert_eq!(c.nodes, vec!["agent-1", "agent-2"]);
        assert_eq!(c.superseded, 1);
        let mixed: Vec<&Flag> = c
            .flags
            .iter()
            .filter(|f| f.kind == FlagKind::MixedFilters)
            .collect();
        assert_eq!(mixed.len(), 1, "{:#?}", c.flags);
        assert_eq!(mixed[0].nodes, vec!["agent-1", "agent-2"]);
        assert!(
            mixed[0].message.contains("app /prod/web"),
            "{}",
            mixed[0].message
        );
        assert_eq!(c.stacks.len(), 2);
        assert!(!c.needs_action());
    }
}
