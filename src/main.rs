//! `syscage`: the command-line front end. Thin glue: it reads files, parses flags, and
//! hands everything to `syscage-core` (and, on Linux, `syscage-enforcer`).

#[cfg(target_os = "linux")]
mod candidates;
mod cmd;
mod input;
mod load;
mod node;

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
    /// The most syscage reads of any one input file other than a trace (traces are
    /// streamed). Defaults: profiles 64M, manifests and listings 16M, raw filters 1M.
    #[arg(long, global = true, value_name = "SIZE", value_parser = input::parse_size)]
    max_input: Option<u64>,
    /// Read FIFOs and devices named as input files too (normally refused: a FIFO
    /// blocks, a device may never end). `-` always reads standard input.
    #[arg(long, global = true)]
    allow_special_files: bool,
}

#[derive(Subcommand)]
enum Command {
    Check(cmd::check::Args),
    Compile(cmd::compile::Args),
    Disasm(cmd::disasm::Args),
    Asm(cmd::asm::Args),
    Platform(cmd::platform::Args),
    Diff(cmd::diff::Args),
    Generate(cmd::generate::Args),
    Merge(cmd::merge::Args),
    Lint(cmd::lint::Args),
    Serve(cmd::serve::Args),
    #[cfg(target_os = "linux")]
    Enforce(cmd::enforce::Args),
    #[cfg(target_os = "linux")]
    Status(cmd::status::Args),
    #[cfg(target_os = "linux")]
    Dump(cmd::dump::Args),
    #[cfg(target_os = "linux")]
    Audit(cmd::audit::Args),
    Report(cmd::report::Args),
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    Fuzz(cmd::fuzz::Args),
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    Record(cmd::record::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    input::configure(input::Options {
        max_input: cli.max_input,
        allow_special: cli.allow_special_files,
    });
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Compile(args) => cmd::compile::run(args),
        Command::Disasm(args) => cmd::disasm::run(args),
        Command::Asm(args) => cmd::asm::run(args),
        Command::Platform(args) => cmd::platform::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Merge(args) => cmd::merge::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        #[cfg(target_os = "linux")]
        Command::Enforce(args) => cmd::enforce::run(args),
        #[cfg(target_os = "linux")]
        Command::Status(args) => cmd::status::run(args),
        #[cfg(target_os = "linux")]
        Command::Dump(args) => cmd::dump::run(args),
        #[cfg(target_os = "linux")]
        Command::Audit(args) => cmd::audit::run(args),
        Command::Report(args) => cmd::report::run(args),
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        Command::Fuzz(args) => cmd::fuzz::run(args),
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        Command::Record(args) => cmd::record::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syscage: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints clap's error, help or version. Usage errors exit 2, except for `enforce` and
/// `record`, which promise 125 for anything that fails before the command starts (so a
/// caller can tell syscage's failure from the command's own status).
fn usage(e: &clap::Error) -> ExitCode {
    let printed = e.print();
    if !e.use_stderr() {
        // --help, --version: on standard output, where a write error is one like any other.
        return match printed {
            Err(io) if io.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("syscage: error: cannot write to standard output: {io}");
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let args: Vec<_> = std::env::args_os().collect();
    if subcommand(&args).is_some_and(|s| s == "enforce" || s == "record") {
        return ExitCode::from(125);
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// The subcommand `args` (the program name first) name: the first word that is neither
/// a global option nor its value.
fn subcommand(args: &[std::ffi::OsString]) -> Option<&std::ffi::OsStr> {
    let mut words = args.iter().skip(1);
    while let Some(w) = words.next() {
        if w == "--max-input" {
            words.next();
        } else if !w.as_encoded_bytes().starts_with(b"-") {
            return Some(w);
        }
    }
    None
}

/// `syscage check ... | head` closes the pipe early: not an error worth reporting.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
