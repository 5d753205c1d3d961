//! Trace readers: JSON Lines events, strace text and the kernel's seccomp audit records
//! in, [`Event`]s out.
//!
//! This module owns reading recorded syscall traces — format detection, the line
//! formats ([`jsonl`], [`strace`], [`audit`]), symbolic-argument decoding ([`decode`]) — and the
//! errors and warnings that name the line they come from; and the forms a recorder
//! writes ([`record`], [`jsonl::write_record`]). It does not record traces (the
//! enforcer does), evaluate them against a policy ([`crate::eval`]) or print verdicts.
//!
//! Readers take `&str` (use [`parse_bytes`] for raw bytes: it names the line of the first
//! invalid UTF-8 byte), work line by line without recursion, and never panic on any
//! input. An argument that cannot be decoded back into its register value is *unknown*
//! (`None` in [`Event::args`]); arguments a trace did not give at all are unknown too.

pub mod audit;
pub mod decode;
pub mod jsonl;
pub mod record;
pub mod strace;
pub mod stream;

use std::fmt;

use crate::arch::Arch;
use crate::event::Event;

pub use jsonl::parse_jsonl;
pub use strace::parse_strace;
pub use stream::TraceReader;

/// The trace formats syscage reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON object a line (see [`jsonl`]).
    Jsonl,
    /// `strace` text output (see [`strace`]).
    Strace,
    /// The kernel's SECCOMP audit records (see [`audit`]).
    Audit,
}

/// A parsed trace: the events in line order, and what was skipped or doubtful.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<Event>,
    pub warnings: Vec<TraceWarning>,
}

/// Something in a trace that was skipped or read with a caveat; parsing went on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceWarning {
    /// 1-based line.
    pub line: usize,
    pub kind: WarningKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// strace named a syscall that syscage's table for the arch does not have; skipped.
    UnknownSyscall { name: String, arch: Arch },
    /// A `<... NAME resumed>` line with no matching `<unfinished ...>` line; skipped
    /// (the syscall's arguments before the split are not in the trace).
    OrphanResumed { name: String },
    /// The last line stops in the middle of a call (a cut-off trace); the call is an
    /// event with the arguments it has, the rest unknown.
    TruncatedLastLine,
    /// An `<unfinished ...>` call was not resumed within this many later events; it was
    /// evaluated with the arguments its first half printed (the rest unknown).
    HeldTooLong { later: usize },
    /// More warnings than are reported one by one; the rest are counted.
    Suppressed { count: usize },
    /// A `[ Process PID=N runs in ... mode. ]` line syscage cannot map to an arch for the
    /// trace's default arch; that process keeps its previous arch.
    UnknownPersonality { pid: u32, mode: String },
    /// More than six arguments were printed; the extra ones were ignored.
    ExtraArguments { name: String, count: usize },
}

impl fmt::Display for TraceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let WarningKind::Suppressed { count } = &self.kind {
            return write!(f, "{count} more warnings not shown");
        }
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            WarningKind::UnknownSyscall { name, arch } => {
                write!(f, "syscall {name:?} is not in the {arch} table; skipped")
            }
            WarningKind::OrphanResumed { name } => write!(
                f,
                "\"<... {name} resumed>\" without a matching \"<unfinished ...>\" line; skipped"
            ),
            WarningKind::TruncatedLastLine => f.write_str(
                "the last line is cut off in the middle of a call; evaluated with the \
                 arguments it has (the rest unknown)",
            ),
            WarningKind::HeldTooLong { later } => write!(
                f,
                "call still unfinished {later} events later; evaluated with the arguments \
                 of its first half (the rest unknown)"
            ),
            WarningKind::Suppressed { .. } => Ok(()),
            WarningKind::UnknownPersonality { pid, mode } => write!(
                f,
                "process {pid} switched to {mode} mode, which has no syscage arch here; kept its previous arch"
            ),
            WarningKind::ExtraArguments { name, count } => write!(
                f,
                "{name} printed with {count} arguments; only the first 6 are used"
            ),
        }
    }
}

/// Why a trace could not be read. Every variant names the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("line {line}: invalid UTF-8 at column {column}")]
    InvalidUtf8 { line: usize, column: usize },
    #[error("line {line}: invalid JSON at column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}: {field}: {message}")]
    Field {
        line: usize,
        field: String,
        message: String,
    },
    #[error("line {line}: {source}")]
    UnknownArch {
        line: usize,
        source: crate::arch::UnknownArch,
    },
    #[error("line {line}: unknown syscall {name:?} on {arch}")]
    UnknownSyscall {
        line: usize,
        name: String,
        arch: Arch,
    },
    #[error("line {line}: no syscall table for {arch}, so {name:?} cannot be numbered; give \"nr\" instead")]
    NoTable {
        line: usize,
        name: String,
        arch: Arch,
    },
    #[error("line {line}: \"syscall\": {name:?} is {expected} on {arch}, but \"nr\" is {nr}")]
    NameNumberMismatch {
        line: usize,
        name: String,
        arch: Arch,
        expected: u32,
        nr: u32,
    },
    #[error("line {line}: event has neither \"syscall\" nor \"nr\"")]
    MissingSyscall { line: usize },
    #[error("line {line}: \"args\" has {count} entries; a syscall has at most 6")]
    TooManyArgs { line: usize, count: usize },
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}: call is cut off: no closing ')' and no \"<unfinished ...>\"")]
    Truncated { line: usize },
    #[error("line {line} is longer than {} MiB; not a trace line", limit >> 20)]
    LineTooLong { line: usize, limit: usize },
}

impl TraceError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            TraceError::InvalidUtf8 { line, .. }
            | TraceError::Json { line, .. }
            | TraceError::Field { line, .. }
            | TraceError::UnknownArch { line, .. }
            | TraceError::UnknownSyscall { line, .. }
            | TraceError::NoTable { line, .. }
            | TraceError::NameNumberMismatch { line, .. }
            | TraceError::MissingSyscall { line }
            | TraceError::TooManyArgs { line, .. }
            | TraceError::Syntax { line, .. }
            | TraceError::Truncated { line }
            | TraceError::LineTooLong { line, .. } => *line,
        }
    }
}

/// Sniffs the format from the first line that is neither blank nor a `#` comment: a
/// line starting with `{` is JSON Lines, a SECCOMP audit record (or `ausearch`'s
/// `----`/`time->`) audit output, anything else strace.
pub fn detect(text: &str) -> TraceFormat {
    for line in text.split('\n') {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return detect_line(t);
    }
    TraceFormat::Strace
}

/// The format a trace's first content line says.
pub(crate) fn detect_line(t: &str) -> TraceFormat {
    if t.starts_with('{') {
        TraceFormat::Jsonl
    } else if audit::looks_like(t) {
        TraceFormat::Audit
    } else {
        TraceFormat::Strace
    }
}

/// Parses a trace of any format (see [`detect`]). `default_arch` is the arch of events
/// that do not name one (JSON Lines without `"arch"`, every strace process until a
/// `runs in N bit mode` line says otherwise).
pub fn parse(text: &str, default_arch: Arch) -> Result<Trace, TraceError> {
    match detect(text) {
        TraceFormat::Jsonl => parse_jsonl(text, default_arch),
        TraceFormat::Strace => parse_strace(text, default_arch),
        TraceFormat::Audit => {
            let mut trace = Trace::default();
            for (n, l) in numbered_lines(text) {
                if let Some(e) = audit::parse_line(l, n)? {
                    trace.events.push(e);
                }
            }
            Ok(trace)
        }
    }
}

/// [`parse`] for raw bytes: invalid UTF-8 is an error naming its line and column.
pub fn parse_bytes(bytes: &[u8], default_arch: Arch) -> Result<Trace, TraceError> {
    parse(to_str(bytes)?, default_arch)
}

/// `bytes` as text, or the line and column (1-based, in bytes) of the first invalid byte.
pub fn to_str(bytes: &[u8]) -> Result<&str, TraceError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = 1 + good.iter().filter(|b| **b == b'\n').count();
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        TraceError::InvalidUtf8 {
            line,
            column: good.len() - line_start + 1,
        }
    })
}

/// Lines of `text` with their 1-based numbers, without the `\n` or a trailing `\r`.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().map(|(i, l)| {
        let l = l.strip_suffix('\r').unwrap_or(l);
        (i + 1, l)
    })
}

/// Byte scanning shared by the readers: word-at-a-time searches and whitespace trims
/// with an all-ASCII fast path (same results as `str::trim*`, which know Unicode).
pub(crate) mod scan {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;

    /// Marks the zero bytes of `x`. The lowest mark is always a true zero byte and every
    /// zero byte is marked; marks above the lowest may be false.
    #[inline(always)]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }

    /// The first index `>= from` of a byte equal to `c1` or `c2`, eight bytes at a time.
    #[inline(always)]
    pub(crate) fn find2(b: &[u8], from: usize, c1: u8, c2: u8) -> Option<usize> {
        let (p1, p2) = (ONES * u64::from(c1), ONES * u64::from(c2));
        let hay = b.get(from..)?;
        let mut chunks = hay.chunks_exact(8);
        let mut at = from;
        for w in chunks.by_ref() {
            let w = w.try_into().map_or(0, u64::from_le_bytes);
            let z = zero_bytes(w ^ p1) | zero_bytes(w ^ p2);
            if z != 0 {
                return Some(at + (z.trailing_zeros() / 8) as usize);
            }
            at += 8;
        }
        chunks
            .remainder()
            .iter()
            .position(|c| *c == c1 || *c == c2)
            .map(|k| at + k)
    }

    /// The first index `>= from` of byte `c`.
    #[inline(always)]
    pub(crate) fn find(b: &[u8], from: usize, c: u8) -> Option<usize> {
        find2(b, from, c, c)
    }

    /// The first position of `needle` in `hay` (a plain scan: the texts are short).
    pub(crate) fn find_str(hay: &[u8], needle: &[u8]) -> Option<usize> {
        let (&first, rest) = needle.split_first()?;
        let mut i = 0;
        while let Some(at) = find(hay, i, first) {
            if hay.get(at + 1..at + needle.len()) == Some(rest) {
                return Some(at);
            }
            i = at + 1;
        }
        None
    }

    /// ASCII whitespace as `char::is_whitespace` sees it (unlike
    /// `u8::is_ascii_whitespace`, it includes the vertical tab).
    #[inline(always)]
    fn ws(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
    }

    /// `s.trim_start()`.
    #[inline]
    pub(crate) fn trim_start(s: &str) -> &str {
        let b = s.as_bytes();
        let from = b.iter().position(|c| !ws(*c)).unwrap_or(b.len());
        match b.get(from) {
            Some(c) if *c >= 0x80 => s.trim_start(),
            _ => s.get(from..).unwrap_or(""),
        }
    }

    /// `s.trim_end()`.
    #[inline]
    pub(crate) fn trim_end(s: &str) -> &str {
        let b = s.as_bytes();
        let to = b.iter().rposition(|c| !ws(*c)).map_or(0, |i| i + 1);
        match to.checked_sub(1).and_then(|i| b.get(i)) {
            Some(c) if *c >= 0x80 => s.trim_end(),
            _ => s.get(..to).unwrap_or(""),
        }
    }

    /// `s.trim()`.
    #[inline]
    pub(crate) fn trim(s: &str) -> &str {
        trim_end(trim_start(s))
    }
}

#[cfg(test)]
mod tests;
