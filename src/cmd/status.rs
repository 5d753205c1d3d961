//! `syscage status`: the seccomp state of live processes.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use syscage_enforcer::status;

/// Show the seccomp state of processes (from /proc/PID/status).
///
/// Prints the mode (disabled, strict or filter), how many filters are installed, and
/// whether no_new_privs is set. `syscage dump PID` shows the filters themselves.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Process ids (`self` for syscage itself).
    #[arg(value_name = "PID", required = true)]
    pids: Vec<String>,
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
        }
        Ok(ExitCode::SUCCESS)
    })
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
