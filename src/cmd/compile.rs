//! `syscage compile`: a profile to a classic-BPF seccomp filter.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use syscage_core::bpf::{self, disasm::DisasmOptions, export::ExportOptions};

use crate::load::{self, TargetArgs};

/// Compile a seccomp profile to a classic-BPF filter.
///
/// The filter covers every architecture the profile resolves to for the target,
/// decides argument-free syscalls with instructions the kernel's action cache can
/// evaluate, and is at most 4096 instructions.
///
/// Examples:
///   syscage compile --profile runtime/default --format disasm
///   syscage compile --profile my.json -o my.bpf        # raw, for bwrap --seccomp
///   syscage compile --profile my.json --format c --stats
///   syscage compile --profile examples/firecracker-like.json#vcpu --format disasm
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A profile file (OCI, Docker, OCI bundle, seccompiler JSON) or builtin name
    /// (runtime/default). FILE#NAME picks the filter NAME of a seccompiler file.
    #[arg(long, short = 'p', value_name = "PROFILE")]
    profile: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Where to write the filter; standard output when absent.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<String>,
    /// raw: `struct sock_filter` array (.bpf); c / rust: source arrays; disasm:
    /// readable listing; json: instructions as objects.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    format: Format,
    /// Print figures about the filter to standard error: length, executed
    /// instructions per syscall, cacheable syscalls.
    #[arg(long)]
    stats: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Raw,
    C,
    Rust,
    Disasm,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let policy = load::policies(std::slice::from_ref(&args.profile), &args.target, false)?
        .pop()
        .expect("one profile in, one policy out");
    let prog = bpf::compile::compile(&policy)?;
    let valid = bpf::validate(&prog).context("internal error: the compiled filter is invalid")?;
    let disasm_opts = DisasmOptions {
        arch_hint: Some(policy.target.arch),
    };
    let export_opts = ExportOptions {
        name: "filter".into(),
        disasm: disasm_opts,
    };
    let bytes = match args.format {
        Format::Raw => {
            if args.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                anyhow::bail!(
                    "refusing to write a binary filter to a terminal: use -o FILE, or --format disasm"
                );
            }
            prog.to_raw()
        }
        Format::C => bpf::export::to_c(&prog, &export_opts).into_bytes(),
        Format::Rust => bpf::export::to_rust(&prog, &export_opts, "SockFilter").into_bytes(),
        Format::Disasm => bpf::disasm::disasm(&prog, &disasm_opts).into_bytes(),
        Format::Json => {
            let insns: Vec<_> = prog
                .insns()
                .iter()
                .map(|i| serde_json::json!({"code": i.code, "jt": i.jt, "jf": i.jf, "k": i.k}))
                .collect();
            let mut s = serde_json::to_string_pretty(&insns)?;
            s.push('\n');
            s.into_bytes()
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("cannot write {path}"))?
        }
        None => crate::cmd::print(&bytes)?,
    }
    if args.stats {
        let arches: Vec<_> = policy.arches.iter().map(|a| a.arch).collect();
        let stats = bpf::stats::measure(&valid, &arches, &|arch, nr| {
            policy.fixed_action(arch, nr) == Some(syscage_core::action::Action::ALLOW)
        });
        eprint!("{}", crate::cmd::render_stats(&stats));
    }
    Ok(ExitCode::SUCCESS)
}
