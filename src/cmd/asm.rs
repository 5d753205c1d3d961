//! `syscage asm`: a listing (as `syscage disasm` prints it) back to a raw filter.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use syscage_core::bpf;

/// Assemble a listing into a raw .bpf filter and validate it as the kernel would.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The listing (standard input when `-`).
    file: String,
    /// Where to write the .bpf.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: String,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let text = crate::input::read_text(&args.file, crate::input::Kind::Listing)?;
    let name = crate::input::display_name(&args.file);
    let prog = bpf::asm::assemble(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    bpf::validate(&prog)
        .map_err(|e| anyhow::anyhow!("{name}: the kernel would reject this filter: {e}"))?;
    std::fs::File::create(&args.output)
        .and_then(|mut f| f.write_all(&prog.to_raw()))
        .with_context(|| format!("cannot write {}", args.output))?;
    Ok(ExitCode::SUCCESS)
}
