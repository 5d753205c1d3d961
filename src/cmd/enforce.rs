//! `syscage enforce`: run a command under one or more compiled profiles.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use syscage_core::action::{describe_ret, Action};
use syscage_core::arch::Arch;
use syscage_core::bpf;
use syscage_core::policy::Policy;
use syscage_core::profile::Runtime;
use syscage_enforcer::exec;
use syscage_enforcer::install::{self, Filter, InstallOptions};

use crate::load::{self, TargetArgs};

/// Run a command under seccomp profiles.
///
/// Resolves and compiles each profile for this machine, sets no_new_privs, installs the
/// filters in the order given (the last is the newest), and executes the command in
/// place of syscage, so its exit status and signals are its own. If anything fails
/// before the command starts, the command does not run: syscage prints why and exits
/// 125 (126 when the command cannot be executed, 127 when it is not found).
///
/// Profiles that use SCMP_ACT_NOTIFY are refused: the command would have no supervisor.
///
/// --permissive (complain mode): the command runs under the profiles' own compiled
/// filters with every stopping action turned into a trace stop, and syscage stays as
/// its tracer: each call a profile would deny is allowed, and reported (pid, syscall,
/// arguments, the verdict and the rule that would have decided it) with a summary at
/// the end. The kernel decides which calls stop; syscage's reference engine names the
/// rule, and any disagreement between the two is reported as a syscage bug. The
/// command's exit status and signals are syscage's, as with record. --record FILE
/// writes the would-be-denied calls as a trace (`generate --base PROFILE FILE` widens
/// the profile for them); --record-all FILE writes every call, so `check` can be run on
/// the very trace the kernel judged.
///
/// Examples:
///   syscage enforce --profile runtime/default -- python3 -c 'print(1)'
///   syscage enforce -p runtime/default -p extra.json --runtime crun -- ./app
///   syscage enforce --profile my.json --dry-run
///   syscage enforce --permissive -p my.json --record denied.jsonl -- ./app
///   syscage generate --base my.json denied.jsonl -o my-widened.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A profile file or builtin name (FILE#NAME: the filter NAME of a seccompiler
    /// JSON file). Repeat to stack filters, oldest first.
    #[arg(long, short = 'p', value_name = "PROFILE", required = true)]
    profile: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// Install with SECCOMP_FILTER_FLAG_LOG (the kernel audits every action but ALLOW).
    #[arg(long)]
    log: bool,
    /// Install with SECCOMP_FILTER_FLAG_TSYNC (every thread of the process).
    #[arg(long)]
    tsync: bool,
    /// Print what would be installed (per filter: instructions, actions, cacheable
    /// syscalls) and run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Complain mode: allow every call, report those the profiles would deny.
    #[arg(long, conflicts_with = "dry_run")]
    permissive: bool,
    /// With --permissive: write the calls the profiles would deny to FILE (JSON Lines).
    #[arg(long, value_name = "FILE", requires = "permissive")]
    record: Option<std::path::PathBuf>,
    /// With --permissive: write every call to FILE (JSON Lines), each marked by the
    /// kernel's verdict in `trace_data` (1: a profile would deny it).
    #[arg(long, value_name = "FILE", requires = "permissive")]
    record_all: Option<std::path::PathBuf>,
    /// Don't print profile warnings (with --permissive: nor each would-be denial, only
    /// the summary).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// The command and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required_unless_present = "dry_run"
    )]
    command: Vec<OsString>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (policies, filters, text) = match prepare(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("syscage: enforce: {e:#}; the command was not run");
            return Ok(ExitCode::from(125));
        }
    };
    if args.dry_run {
        crate::cmd::print(text)?;
        return Ok(ExitCode::SUCCESS);
    }
    #[cfg(target_arch = "x86_64")]
    if args.permissive {
        return crate::cmd::complain::run(&args.command, &policies, &filters, &args.complain());
    }
    #[cfg(not(target_arch = "x86_64"))]
    if args.permissive {
        bail!("--permissive needs the ptrace recorder, which is x86_64 only");
    }
    let _ = &policies;
    let opts = install_options(&args)?;
    let e = exec::run(&filters, opts, &args.command);
    eprintln!(
        "syscage: enforce: {e}{}",
        if e.exit_code() == 125 {
            "; the command was not run"
        } else {
            ""
        }
    );
    Ok(ExitCode::from(e.exit_code()))
}

impl Args {
    #[cfg(target_arch = "x86_64")]
    fn complain(&self) -> crate::cmd::complain::Options {
        crate::cmd::complain::Options {
            record: self.record.clone(),
            record_all: self.record_all.clone(),
            quiet: self.quiet,
        }
    }
}

/// Compiles every profile and checks the stack; returns the policies (unconfined ones
/// left out, as they install nothing), their filters and the dry-run text.
fn prepare(args: &Args) -> Result<(Vec<Policy>, Vec<Filter>, String)> {
    let target = args.target.target()?;
    if target.arch != Arch::host() {
        bail!(
            "--arch {} is not this machine's architecture ({})",
            target.arch,
            Arch::host()
        );
    }
    let policies = load::policies(&args.profile, &args.target, args.quiet)?;
    let mut filters = Vec::new();
    let mut installed = Vec::new();
    let mut text = String::new();
    for p in policies {
        if p.unconfined {
            let _ = writeln!(text, "{}: unconfined, installs no filter", p.source);
            continue;
        }
        let program = bpf::compile::compile(&p)?;
        let valid = bpf::validate(&program)
            .map_err(|e| anyhow::anyhow!("internal error: {}: invalid filter: {e}", p.source))?;
        let mut rets: Vec<u32> = program
            .insns()
            .iter()
            .filter(|i| i.is_ret())
            .map(|i| i.k)
            .collect();
        rets.sort_unstable();
        rets.dedup();
        let arches: Vec<Arch> = p.arches.iter().map(|a| a.arch).collect();
        let stats = bpf::stats::measure(&valid, &arches, &|arch, nr| {
            p.fixed_action(arch, nr) == Some(Action::ALLOW)
        });
        let _ = writeln!(
            text,
            "filter {} ({}): {} instructions",
            filters.len(),
            p.source,
            program.len()
        );
        let _ = writeln!(
            text,
            "  actions: {}",
            rets.iter()
                .map(|r| describe_ret(*r))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for a in &stats.arches {
            let _ = writeln!(
                text,
                "  {:<8} cacheable syscalls {} (argument-free ALLOW {}); executed per syscall \
                 min {} / mean {:.1} / max {}",
                a.arch.name(),
                a.cacheable,
                a.allowed_argument_free,
                a.executed.min,
                a.executed.mean,
                a.executed.max
            );
        }
        filters.push(Filter {
            source: p.source.clone(),
            program,
        });
        installed.push(p);
    }
    install::check(&filters)?;
    let opts = install_options(args)?;
    let _ = writeln!(
        text,
        "would set no_new_privs and install {} filter(s) as {} does: {}",
        filters.len(),
        target.runtime,
        opts.describe()
    );
    Ok((installed, filters, text))
}

/// How to install: as the target runtime does (runc 1.1: `prctl`, no flags; crun:
/// `seccomp()` with `SECCOMP_FILTER_FLAG_SPEC_ALLOW`), plus what was asked for.
fn install_options(args: &Args) -> Result<InstallOptions> {
    Ok(InstallOptions {
        tsync: args.tsync,
        log: args.log,
        spec_allow: args.target.runtime.unwrap_or_default().runtime == Runtime::Crun,
    })
}
