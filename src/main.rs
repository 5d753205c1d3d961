//! `syscage`: the command-line front end. Thin glue: it reads files, parses flags, and
//! hands everything to `syscage-core` (and, on Linux, `syscage-enforcer`).

mod cmd;
mod load;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A seccomp policy workbench: see what a profile does before it ships.
///
/// syscage reads the seccomp profiles real platforms use (OCI/runc, Docker/moby,
/// Kubernetes, OCI bundles), replays a program's syscall trace against them with the
/// exact semantics of runc + libseccomp + the kernel, and explains every verdict down to
/// the rule that decided it.
#[derive(Parser)]
#[command(name = "syscage", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(cmd::check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("syscage: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
