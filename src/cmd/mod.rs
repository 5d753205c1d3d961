//! One module a subcommand, plus the figures they share.

pub mod agents;
pub mod asm;
#[cfg(target_os = "linux")]
pub mod audit;
pub mod check;
pub mod compile;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod complain;
pub mod diff;
pub mod disasm;
#[cfg(target_os = "linux")]
pub mod dump;
#[cfg(target_os = "linux")]
pub mod enforce;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod fuzz;
pub mod generate;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod kernel;
pub mod lint;
pub mod merge;
pub mod platform;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod record;
pub mod report;
pub mod serve;
#[cfg(target_os = "linux")]
pub mod status;

use std::fmt::Write as _;
use std::io::{self, BufWriter, StdoutLock, Write};

use syscage_core::bpf::stats::Stats;

/// `--format text|json`, for the commands that print one or the other.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOrJson {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// Standard output for a command's results: locked, buffered, and every write error
/// names what failed ("cannot write to standard output: No space left on device"). The
/// error keeps its kind, so `main` still tells a closed pipe (the reader is done: exit
/// 0) from a real failure (exit 2). Get one through [`stdout`], which flushes it.
pub struct Out(BufWriter<StdoutLock<'static>>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(cannot_write)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(cannot_write)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(cannot_write)
    }
}

fn cannot_write(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write to standard output: {e}"))
}

/// Runs `f` with standard output, then flushes it, so that no write error is lost
/// (a `BufWriter` dropped unflushed ignores its last error). `f`'s own error wins.
pub fn stdout<T>(f: impl FnOnce(&mut Out) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut out = Out(BufWriter::with_capacity(64 << 10, io::stdout().lock()));
    let value = f(&mut out)?;
    out.flush()?;
    Ok(value)
}

/// Writes `bytes` to standard output (see [`stdout`]).
pub fn print(bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    stdout(|out| Ok(out.write_all(bytes.as_ref())?))
}

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
