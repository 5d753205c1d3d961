//! `syscage dump`: the filters installed on a live process, and the layers
//! `syscage check --pid` evaluates.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use syscage_core::bpf::{self, disasm::DisasmOptions};
use syscage_core::engine::Layer;
use syscage_enforcer::dump;

/// Dump the seccomp filters installed on a process.
///
/// Reads every filter with PTRACE_SECCOMP_GET_FILTER (needs CAP_SYS_ADMIN), oldest
/// first. Without -o, prints each one's disassembly; with -o DIR, writes
/// DIR/filter-N.bpf (raw, byte-identical to what was installed) and DIR/filter-N.txt.
/// --match [PROFILE...] then names the profiles the filters are equivalent to, as
/// `syscage status --match` does.
///
/// Examples:
///   syscage dump 1234
///   syscage dump 1234 -o filters/ && syscage check --bpf filters/filter-0.bpf trace.txt
///   syscage dump 1234 -o filters/ --match
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(value_name = "PID")]
    pid: String,
    /// Write the filters to this directory instead of printing them.
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<String>,
    /// Also name the profiles the filters are equivalent to (default candidates: the
    /// builtins).
    #[arg(long = "match", value_name = "PROFILE", num_args = 0..)]
    matches: Option<Vec<String>>,
    #[command(flatten)]
    target: crate::load::TargetArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let pid = crate::cmd::status::parse_pid(&args.pid)?;
    let programs = dump::dump(pid)?;
    let opts = DisasmOptions::default();
    crate::cmd::stdout(|out| {
        for (i, p) in programs.iter().enumerate() {
            let listing = bpf::disasm::disasm(p, &opts);
            match &args.output {
                Some(dir) => {
                    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
                    let base = std::path::Path::new(dir).join(format!("filter-{i}"));
                    std::fs::write(base.with_extension("bpf"), p.to_raw())
                        .with_context(|| format!("cannot write {}.bpf", base.display()))?;
                    std::fs::write(base.with_extension("txt"), listing)
                        .with_context(|| format!("cannot write {}.txt", base.display()))?;
                    writeln!(out, "{}.bpf: {} instructions", base.display(), p.len())?;
                }
                None => {
                    writeln!(
                        out,
                        "# filter {i} of {} ({} instructions)",
                        programs.len(),
                        p.len()
                    )?;
                    out.write_all(listing.as_bytes())?;
                }
            }
        }
        if let Some(names) = &args.matches {
            write!(
                out,
                "{}",
                crate::cmd::status::matching(pid, names, &args.target)?
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The live process's filters as layers, oldest first (for `check --pid`).
pub fn live_layers(pid: &str) -> Result<Vec<Layer>> {
    let pid = crate::cmd::status::parse_pid(pid)?;
    dump::dump(pid)?
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let program = bpf::validate(&p)
                .map_err(|e| anyhow::anyhow!("pid {pid} filter {i} does not validate: {e}"))?;
            Ok(Layer::Program {
                source: format!("pid {pid} filter {i}"),
                program,
            })
        })
        .collect()
}
