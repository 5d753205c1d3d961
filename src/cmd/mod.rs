//! One module a subcommand, plus the figures they share.

pub mod asm;
pub mod check;
pub mod compile;
pub mod disasm;
#[cfg(target_os = "linux")]
pub mod dump;
#[cfg(target_os = "linux")]
pub mod enforce;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod fuzz;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod kernel;
pub mod platform;
pub mod serve;
#[cfg(target_os = "linux")]
pub mod status;

use std::fmt::Write as _;

use syscage_core::bpf::stats::Stats;

/// `--stats` output.
pub fn render_stats(s: &Stats) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "filter: {} instructions", s.instructions);
    for a in &s.arches {
        let _ = writeln!(
            out,
            "  {:<8} executed per syscall min {} / mean {:.2} / max {} over {} syscalls; \
             cacheable {} (argument-free ALLOW: {})",
            a.arch.name(),
            a.executed.min,
            a.executed.mean,
            a.executed.max,
            a.executed.samples,
            a.cacheable,
            a.allowed_argument_free
        );
    }
    out
}
