//! `syscage report`: the audits of many nodes and the summaries of many fuzz shards,
//! merged into one view of a cluster.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use syscage_core::audit;
use syscage_core::cluster::{self, Cluster, Inputs};

use crate::input::{self, Kind};

/// Merge `audit --format json` and `fuzz --format json` output into one cluster view.
///
/// Reads the JSON lines syscage printed on many nodes or in many shards, however they
/// were gathered (`kubectl logs -n syscage ... --prefix`, files copied off nodes, a
/// log store's export filtered to the syscage namespace: any line of the right shape
/// is believed; `-` reads standard input). Other lines are skipped and counted; a
/// syscage line that is cut off (container runtimes split lines over 16 KiB, and
/// `--tail` counts the pieces: use --since), of an unknown version, inconsistent or
/// dated in the future is rejected, named by file and line, and the rest merged. The
/// newest audit of each node counts.
///
/// The view: nodes, the filter stacks seen with how many nodes, containers and
/// processes run under each and the profiles they are; every node's findings, an
/// unknown stack once with all its nodes, and the tasks of one Marathon app under
/// different stacks on different agents. Per fuzz run (seed, total, syscage,
/// engines): the shards present and missing (rerun exactly those), the summed counts,
/// the combined digest (equal to an unsharded run's once complete), and every
/// disagreement with the command that reproduces it.
///
/// Exit status: 0; 1 when something needs action (an error finding, a disagreement,
/// a missing shard, a rejected line); 2 when a file cannot be read.
///
/// Examples:
///   kubectl logs -n syscage -l app.kubernetes.io/component=audit --prefix --since=75m > audit.log
///   kubectl logs -n syscage -l job-name=syscage-fuzz --prefix > fuzz.log
///   syscage report audit.log fuzz.log
///   syscage report --format json shard-*.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Files of audit and fuzz JSON lines (`-`: standard input).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// Output: text for people, json for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

use crate::cmd::TextOrJson as Format;

/// The longest line read (an audit of a node with very many processes is one line).
const MAX_LINE: usize = 256 << 20;

pub fn run(args: Args) -> Result<ExitCode> {
    let mut inputs = Inputs {
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
        ..Inputs::default()
    };
    for path in &args.files {
        let name = input::display_name(path).to_string();
        let mut r = BufReader::new(input::open(path, Kind::Log)?);
        let mut line = Vec::new();
        let mut n = 0;
        loop {
            line.clear();
            let read = r
                .by_ref()
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .with_context(|| format!("cannot read {name}"))?;
            if read == 0 {
                break;
            }
            n += 1;
            if line.len() > MAX_LINE {
                anyhow::bail!(
                    "{name}:{n}: a line longer than {}",
                    input::human(MAX_LINE as u64)
                );
            }
            let text = String::from_utf8_lossy(&line);
            inputs.read_line(&name, n, &text);
        }
    }
    let c = cluster::merge(inputs);
    crate::cmd::stdout(|out| {
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&c)?)?,
            Format::Text => out.write_all(render(&c).as_bytes())?,
        }
        Ok(())
    })?;
    Ok(if c.needs_action() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(c: &Cluster) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if !c.nodes.is_empty() {
        let _ = writeln!(
            s,
            "audit: {} node(s), {} containers, {} processes, {} distinct filter stacks{}",
            c.nodes.len(),
            c.containers,
            c.processes,
            c.stacks.len(),
            if c.superseded > 0 {
                format!(" ({} older audits superseded)", c.superseded)
            } else {
                String::new()
            }
        );
        for st in &c.stacks {
            let named = match &st.matches {
                Some(m) if m.is_empty() => "no candidate profile".to_string(),
                Some(m) => m.join("; "),
                None => "not compared".to_string(),
            };
            let _ = writeln!(
                s,
                "  {}  {} filter(s): {} node(s), {} containers, {} processes\n      = {named}",
                audit::short(&st.digest),
                st.filters,
                st.nodes,
                st.containers,
                st.processes
            );
        }
        let _ = writeln!(s, "\nfindings:");
        if c.flags.is_empty() {
            let _ = writeln!(s, "  none");
        }
        let notes = c
            .flags
            .iter()
            .filter(|f| f.kind == audit::FlagKind::Unreadable)
            .count();
        for f in c
            .flags
            .iter()
            .filter(|f| f.kind != audit::FlagKind::Unreadable)
        {
            let _ = writeln!(
                s,
                "  {:<7} {} [{}]: {}",
                f.severity,
                f.kind.name(),
                f.nodes.join(", "),
                f.message
            );
        }
        if notes > 0 {
            let _ = writeln!(
                s,
                "  note    unreadable: {notes} process(es) could not be read in full (--format json for each)"
            );
        }
    }
    for r in &c.fuzz {
        if !s.is_empty() {
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "fuzz: seed {}, {} cases in {} shard(s), syscage {}, engines {}",
            r.seed,
            r.total,
            r.shards,
            r.syscage,
            r.engines.join(",")
        );
        let _ = writeln!(
            s,
            "  shards present {}/{}{}; {} cases run ({} skipped), {} events, {} kernel verdicts, {:.1} core-seconds",
            r.present,
            r.shards,
            if r.missing.is_empty() {
                String::new()
            } else {
                format!(
                    ", missing {}",
                    r.missing
                        .iter()
                        .map(|&(a, b)| if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                )
            },
            r.cases,
            r.skipped,
            r.events,
            r.kernel_verdicts,
            r.seconds
        );
        let _ = writeln!(
            s,
            "  digest {}{}",
            r.digest,
            if r.complete {
                " (complete: the digest an unsharded run of these cases prints)"
            } else {
                " (incomplete)"
            }
        );
        for d in &r.disagreements {
            let _ = writeln!(
                s,
                "  DISAGREEMENT in case {} ({}): {}\n    reproduce: {}",
                d.case,
                d.runtime,
                d.verdicts
                    .iter()
                    .map(|(e, v)| format!("{e} {v}"))
                    .collect::<Vec<_>>()
                    .join(" / "),
                d.reproduce
            );
        }
    }
    for p in &c.problems {
        let _ = writeln!(s, "problem: {p}");
    }
    if c.nodes.is_empty() && c.fuzz.is_empty() {
        let _ = writeln!(s, "no syscage audit or fuzz lines found");
    }
    if c.skipped_lines > 0 {
        let _ = writeln!(s, "({} other lines skipped)", c.skipped_lines);
    }
    s
}
