//! `syscage platform mesos --agent DIR ...`: DC/OS agents' profile directories side by
//! side (`syscage_core::platform::mesos::agents`), and where each app would run under
//! which filter. Reads the directories; the comparing is core's.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use syscage_core::action::describe_ret;
use syscage_core::arch::Arch;
use syscage_core::platform::mesos::{self, agents::AcrossAgents};
use syscage_core::platform::Applied;
use syscage_core::policy::{Policy, Target};
use syscage_core::syscalls;

use crate::load::{self, TargetArgs};

/// Deepest directory level searched for profiles under an agent's directory.
const MAX_DEPTH: usize = 4;

/// One agent's directory, read: its valid profiles and the files it could not use.
struct Agent {
    dir: String,
    valid: BTreeMap<String, Policy>,
    invalid: BTreeMap<String, String>,
}

/// The `.json` files under `dir` (names relative to it), sorted.
fn profile_files(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<String>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read agent directory {}: {e}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let kind = e.file_type()?;
        if kind.is_dir() && depth < MAX_DEPTH {
            profile_files(&e.path(), &format!("{rel}/"), depth + 1, out)?;
        } else if kind.is_file() && name.ends_with(".json") {
            out.push(rel);
        }
    }
    Ok(())
}

fn read_agent(dir: &str, target: &Target) -> Result<Agent> {
    let mut files = Vec::new();
    profile_files(Path::new(dir), "", 0, &mut files)?;
    let mut agent = Agent {
        dir: dir.to_string(),
        valid: BTreeMap::new(),
        invalid: BTreeMap::new(),
    };
    for name in files {
        let path = Path::new(dir).join(&name).display().to_string();
        let policy = crate::cmd::platform::mesos_profile(&path)
            .and_then(|_| load::profile(&path, target.runtime))
            .and_then(|p| Ok(syscage_core::policy::resolve_any(&p, target)?));
        match policy {
            Ok(p) => {
                agent.valid.insert(name, p);
            }
            Err(e) => {
                agent.invalid.insert(name, format!("{e:#}"));
            }
        }
    }
    Ok(agent)
}

/// `seccomp_data` in a line: `x86_64 openat(0x0, ...)`.
fn describe_event(d: &syscage_core::event::SeccompData) -> String {
    let arch = Arch::from_audit(d.arch, d.nr);
    let name = arch
        .and_then(|a| syscalls::name_of(a, d.nr))
        .map_or(format!("nr {:#x}", d.nr), str::to_string);
    let args: Vec<String> = d.args.iter().map(|a| format!("{a:#x}")).collect();
    format!(
        "{} {name}({})",
        arch.map_or("?".to_string(), |a| a.name().to_string()),
        args.join(", ")
    )
}

/// Where one app runs on one agent.
fn on_agent(
    app: &str,
    text: &str,
    agent: &Agent,
    default: Option<&str>,
    across: &[AcrossAgents],
    index: usize,
) -> String {
    let opts = mesos::Options {
        profiles_dir: agent.dir.clone(),
        default_profile: default.map(str::to_string),
    };
    if let Some(d) = default {
        if !agent.valid.contains_key(d) {
            return format!(
                "the agent does not start: its default profile {d} is {}",
                agent
                    .invalid
                    .get(d)
                    .map_or("missing".to_string(), |e| format!("invalid ({e})"))
            );
        }
    }
    let r = match mesos::resolve(app, text, &opts) {
        Ok(r) => r,
        Err(e) => return format!("the task fails: {e}"),
    };
    match &r.applied {
        Applied::Unconfined => "no filter (unconfined)".to_string(),
        Applied::RuntimeDefault => "dockerd's default profile (container.type DOCKER)".to_string(),
        Applied::Localhost { path } => {
            let name = Path::new(path)
                .strip_prefix(&agent.dir)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| path.clone());
            if let Some(e) = agent.invalid.get(&name) {
                return format!("{name}: the task fails, the profile is invalid here ({e})");
            }
            match across.iter().find(|a| a.name == name) {
                Some(a) => match a.group_of(index) {
                    Some(_) if a.groups.len() == 1 => name.clone(),
                    Some(g) => format!("{name} (variant {} of {})", g + 1, a.groups.len()),
                    None => format!("{name}: the task fails, the profile is missing here"),
                },
                None => format!("{name}: the task fails, no agent has it"),
            }
        }
    }
}

pub fn run(
    apps: &[String],
    dirs: &[String],
    default: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let target = TargetArgs::default().target()?;
    let agents: Vec<Agent> = dirs
        .iter()
        .map(|d| read_agent(d, &target))
        .collect::<Result<_>>()?;
    let valid: Vec<BTreeMap<String, Policy>> = agents.iter().map(|a| a.valid.clone()).collect();
    let across = mesos::agents::across(&valid);
    let texts: Vec<(String, String)> = apps
        .iter()
        .map(|a| {
            Ok((
                a.clone(),
                crate::input::read_text(a, crate::input::Kind::Manifest)?,
            ))
        })
        .collect::<Result<_>>()?;
    let placements: Vec<Vec<String>> = texts
        .iter()
        .map(|(app, text)| {
            agents
                .iter()
                .enumerate()
                .map(|(i, ag)| on_agent(app, text, ag, default, &across, i))
                .collect()
        })
        .collect();
    let consistent = across
        .iter()
        .all(|a| a.missing_on.is_empty() && a.groups.len() <= 1)
        && agents.iter().all(|a| a.invalid.is_empty());
    if json {
        let doc = serde_json::json!({
            "agents": dirs,
            "default_profile": default,
            "consistent": consistent,
            "profiles": across.iter().map(|a| serde_json::json!({
                "name": a.name,
                "missing_on": a.missing_on.iter().map(|&i| &dirs[i]).collect::<Vec<_>>(),
                "variants": a.groups.iter().map(|g| g.iter().map(|&i| &dirs[i]).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "difference": a.difference.as_ref().map(|d| serde_json::json!({
                    "event": describe_event(&d.event),
                    "first": describe_ret(d.a),
                    "second": describe_ret(d.b),
                })),
            })).collect::<Vec<_>>(),
            "invalid": agents.iter().flat_map(|a| a.invalid.iter().map(move |(n, e)| serde_json::json!({
                "agent": a.dir, "name": n, "error": e,
            }))).collect::<Vec<_>>(),
            "apps": texts.iter().zip(&placements).map(|((app, _), p)| serde_json::json!({
                "app": app,
                "agents": dirs.iter().zip(p).map(|(d, w)| serde_json::json!({"agent": d, "runs": w})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        crate::cmd::print(format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        return Ok(if consistent {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    crate::cmd::stdout(|out| {
        writeln!(
            out,
            "{} agents: {} (default profile {})",
            dirs.len(),
            dirs.join(", "),
            default.unwrap_or("none")
        )?;
        writeln!(out, "profiles:")?;
        for a in &across {
            let mut line = format!("  {}: ", a.name);
            if a.groups.len() <= 1 {
                line += &format!(
                    "same verdicts on {} agents",
                    a.groups.first().map_or(0, Vec::len)
                );
            } else {
                let groups: Vec<String> = a
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(k, g)| {
                        format!(
                            "variant {}: {}",
                            k + 1,
                            g.iter()
                                .map(|&i| dirs[i].as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                line += &format!("verdicts differ ({})", groups.join("; "));
                if let Some(d) = &a.difference {
                    line += &format!(
                        "; e.g. {}: {} under variant 1, {} under variant 2",
                        describe_event(&d.event),
                        describe_ret(d.a),
                        describe_ret(d.b)
                    );
                }
            }
            if !a.missing_on.is_empty() {
                line += &format!(
                    "; missing on {} (tasks naming it fail there)",
                    a.missing_on
                        .iter()
                        .map(|&i| dirs[i].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            writeln!(out, "{line}")?;
        }
        for ag in &agents {
            for (n, e) in &ag.invalid {
                writeln!(out, "  {n} on {}: invalid: {e}", ag.dir)?;
            }
        }
        writeln!(out, "apps:")?;
        for ((app, _), p) in texts.iter().zip(&placements) {
            writeln!(out, "  {app}:")?;
            for (d, w) in dirs.iter().zip(p) {
                writeln!(out, "    on {d}: {w}")?;
            }
        }
        writeln!(
            out,
            "{}",
            if consistent {
                "the agents agree"
            } else {
                "the agents do not agree (exit status 1)"
            }
        )?;
        Ok(if consistent {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
