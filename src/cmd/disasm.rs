//! `syscage disasm`: a raw `.bpf` filter as a readable listing.

use std::process::ExitCode;

use anyhow::{Context, Result};
use syscage_core::arch::Arch;
use syscage_core::bpf::{self, disasm::DisasmOptions, Program};

/// Disassemble a raw seccomp filter (.bpf: an array of 8-byte struct sock_filter, as
/// written by `syscage compile`, libseccomp's seccomp_export_bpf, bwrap's --seccomp
/// input, or `syscage dump`).
///
/// Each line: index, raw fields (code jt jf k), and pseudo-C with syscall names
/// resolved for the architecture the filter has checked on that path. The listing
/// assembles back with `syscage asm`.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The .bpf file.
    file: String,
    /// Architecture to name syscalls for where the filter does not check `arch`.
    #[arg(long, value_name = "ARCH")]
    arch: Option<Arch>,
    /// Also validate the filter as the kernel would, and print figures about it.
    #[arg(long)]
    stats: bool,
}

pub fn load_program(path: &str) -> Result<Program> {
    let bytes = crate::input::read(path, crate::input::Kind::Bpf)?;
    Program::from_raw(&bytes).with_context(|| format!("{path}: not a raw BPF filter"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    let prog = load_program(&args.file)?;
    let opts = DisasmOptions {
        arch_hint: args.arch,
    };
    crate::cmd::print(bpf::disasm::disasm(&prog, &opts))?;
    if args.stats {
        let valid = bpf::validate(&prog)
            .with_context(|| format!("{}: the kernel would reject this filter", args.file))?;
        let arches = args.arch.map_or_else(|| vec![Arch::host()], |a| vec![a]);
        let stats = bpf::stats::measure(&valid, &arches, &|_, _| false);
        eprint!("{}", crate::cmd::render_stats(&stats));
    }
    Ok(ExitCode::SUCCESS)
}
