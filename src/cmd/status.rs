//! `syscage status`: the seccomp state of live processes.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use syscage_enforcer::status;

/// Show the seccomp state of processes (from /proc/PID/status).
///
/// Prints the mode (disabled, strict or filter), how many filters are installed, and
/// whether no_new_privs is set. `syscage dump PID` shows the filters themselves.
///
/// --match [PROFILE...] also says which profile the process runs: its installed
/// filters (read with ptrace, which needs CAP_SYS_ADMIN) are compared, verdict by
/// verdict, with each profile resolved for the target (--runtime, --libseccomp,
/// --caps, --kernel; without --runtime both runc and crun are tried), and every
/// profile they are equivalent to is named. Without profiles, every builtin (each
/// engine's default by release, runtime/default) is a candidate.
///
/// Examples:
///   syscage status 1234
///   syscage status --match -- 1234
///   syscage status 1234 --match my.json --caps none
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Process ids (`self` for syscage itself).
    #[arg(value_name = "PID", required = true)]
    pids: Vec<String>,
    /// Name the profiles the process's filters are equivalent to (default candidates:
    /// the builtins).
    #[arg(long = "match", value_name = "PROFILE", num_args = 0..)]
    matches: Option<Vec<String>>,
    #[command(flatten)]
    target: crate::load::TargetArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    crate::cmd::stdout(|out| {
        for p in &args.pids {
            let pid = parse_pid(p)?;
            let s = status::read(pid)?;
            let filters = match s.filters {
                Some(n) => format!("{n} filter{}", if n == 1 { "" } else { "s" }),
                None => "filter count unknown (kernel before 5.9)".into(),
            };
            writeln!(
                out,
                "{} ({}): seccomp {}, {}, no_new_privs {}",
                s.pid,
                s.name,
                s.mode,
                filters,
                if s.no_new_privs { "on" } else { "off" }
            )?;
            if let Some(names) = &args.matches {
                write!(out, "{}", matching(pid, names, &args.target)?)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The `--match` lines for one process.
pub fn matching(pid: i32, names: &[String], target: &crate::load::TargetArgs) -> Result<String> {
    use std::fmt::Write as _;
    let programs = syscage_enforcer::dump::dump(pid)?;
    if programs.is_empty() {
        return Ok("  match: no filter installed\n".into());
    }
    let names: Vec<String> = if names.is_empty() {
        crate::candidates::builtins()
    } else {
        names.to_vec()
    };
    let candidates = crate::candidates::resolve(&names, target)?;
    let found = crate::candidates::identify(&programs, &candidates)?;
    let mut s = String::new();
    if found.matches.is_empty() {
        let _ = writeln!(s, "  match: none of {} candidate(s)", names.len());
        if let Some((what, m)) = found.closest {
            let _ = writeln!(
                s,
                "    e.g. {what}: nr {} on arch {:#x} args {:x?}: installed {}, profile {}",
                m.event.nr,
                m.event.arch,
                m.event.args,
                syscage_core::action::describe_ret(m.installed),
                syscage_core::action::describe_ret(m.policy)
            );
        }
    } else {
        for f in found.matches {
            let _ = writeln!(s, "  match: {f}");
        }
    }
    Ok(s)
}

pub fn parse_pid(p: &str) -> Result<i32> {
    if p == "self" {
        return Ok(std::process::id() as i32);
    }
    match p.parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => anyhow::bail!("{p:?} is not a process id"),
    }
}
