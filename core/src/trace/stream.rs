//! Reading a trace as it arrives: bytes in, in chunks of any size, [`Event`]s out in
//! line order, with memory bounded by the longest line and a few fixed limits rather
//! than by the trace.
//!
//! This module owns the cutting of a byte stream into lines (a line may span any
//! number of chunks), the per-line UTF-8 check, format detection on the first line that
//! is neither blank nor a `#` comment, and the limits: a line longer than
//! [`MAX_LINE`] is an error naming it, and warnings past [`MAX_WARNINGS`] are counted
//! rather than kept. What a line means is [`super::jsonl`]'s and [`super::strace`]'s
//! business; state that spans lines (unfinished/resumed pairs, mode switches) lives in
//! the strace reader and is therefore indifferent to where the chunks were cut.
//! [`super::parse`] is this reader fed one chunk.

use super::jsonl;
use super::strace::StraceReader;
use super::{scan, TraceError, TraceFormat, TraceWarning, WarningKind};
use crate::arch::Arch;
use crate::event::Event;

/// The longest line read (16 MiB): far past any real strace or JSON Lines line.
pub const MAX_LINE: usize = 16 << 20;

/// Warnings reported one by one; past this a trace's further warnings are counted and
/// reported as one [`WarningKind::Suppressed`] at the end.
pub const MAX_WARNINGS: usize = 1000;

enum Format {
    /// No content line yet.
    Unknown,
    Jsonl,
    Strace(Box<StraceReader>),
    Audit,
}

/// An incremental trace reader (see the module documentation).
pub struct TraceReader {
    default_arch: Arch,
    format: Format,
    /// The bytes of a line not yet ended by a `\n`.
    partial: Vec<u8>,
    /// Lines completed so far.
    lines: usize,
    warnings: Vec<TraceWarning>,
    warned: usize,
    finished: bool,
}

impl TraceReader {
    /// A reader for a trace whose events default to `default_arch` (see
    /// [`super::parse`]).
    pub fn new(default_arch: Arch) -> TraceReader {
        TraceReader {
            default_arch,
            format: Format::Unknown,
            partial: Vec::new(),
            lines: 0,
            warnings: Vec::new(),
            warned: 0,
            finished: false,
        }
    }

    /// The format, once a content line has been seen.
    pub fn format(&self) -> Option<TraceFormat> {
        match self.format {
            Format::Unknown => None,
            Format::Jsonl => Some(TraceFormat::Jsonl),
            Format::Strace(_) => Some(TraceFormat::Strace),
            Format::Audit => Some(TraceFormat::Audit),
        }
    }

    /// Reads `chunk`, appending the events it completes to `out` in line order. After
    /// an error the reader is spent: the error names the line.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<(), TraceError> {
        let mut from = 0;
        while let Some(nl) = scan::find(chunk, from, b'\n') {
            let piece = &chunk[from..nl];
            from = nl + 1;
            if self.partial.is_empty() {
                self.complete_line(piece, out)?;
            } else {
                self.grow(piece)?;
                let line = std::mem::take(&mut self.partial);
                self.complete_line(&line, out)?;
                self.partial = line;
                self.partial.clear();
                if self.partial.capacity() > 1 << 20 {
                    self.partial = Vec::new(); // a long line's buffer is not kept
                }
            }
        }
        self.grow(&chunk[from..])
    }

    /// The end of the trace: the last line (if it has no `\n`) and whatever the readers
    /// held back. The reader is spent afterwards.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<(), TraceError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.complete_line(&line, out)?;
        }
        if let Format::Strace(r) = &mut self.format {
            r.finish()?;
            r.drain(out);
            let w = r.take_warnings();
            self.add_warnings(w);
        }
        if self.warned > MAX_WARNINGS {
            let count = self.warned - MAX_WARNINGS;
            self.warnings.push(TraceWarning {
                line: self.lines,
                kind: WarningKind::Suppressed { count },
            });
        }
        Ok(())
    }

    /// The warnings so far (each returned once).
    pub fn take_warnings(&mut self) -> Vec<TraceWarning> {
        std::mem::take(&mut self.warnings)
    }

    fn add_warnings(&mut self, ws: Vec<TraceWarning>) {
        for w in ws {
            if self.warned < MAX_WARNINGS {
                self.warnings.push(w);
            }
            self.warned += 1;
        }
    }

    /// Adds `bytes` to the unfinished line, within [`MAX_LINE`].
    fn grow(&mut self, bytes: &[u8]) -> Result<(), TraceError> {
        if self.partial.len() + bytes.len() > MAX_LINE {
            return Err(TraceError::LineTooLong {
                line: self.lines + 1,
                limit: MAX_LINE,
            });
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    fn complete_line(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), TraceError> {
        self.lines += 1;
        let line = self.lines;
        if bytes.len() > MAX_LINE {
            return Err(TraceError::LineTooLong {
                line,
                limit: MAX_LINE,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| TraceError::InvalidUtf8 {
            line,
            column: e.valid_up_to() + 1,
        })?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if matches!(self.format, Format::Unknown) {
            let t = scan::trim_start(text);
            if t.is_empty() || t.starts_with('#') {
                return Ok(());
            }
            self.format = match super::detect_line(t) {
                TraceFormat::Jsonl => Format::Jsonl,
                TraceFormat::Audit => Format::Audit,
                TraceFormat::Strace => {
                    Format::Strace(Box::new(StraceReader::new(self.default_arch)))
                }
            };
        }
        match &mut self.format {
            Format::Unknown => Ok(()),
            Format::Jsonl => {
                let t = scan::trim(text);
                if !t.is_empty() && !t.starts_with('#') {
                    if let Some(e) = jsonl::parse_trace_line(t, line, self.default_arch)? {
                        out.push(e);
                    }
                }
                Ok(())
            }
            Format::Audit => {
                if let Some(e) = super::audit::parse_line(text, line)? {
                    out.push(e);
                }
                Ok(())
            }
            Format::Strace(r) => {
                r.line(text, line)?;
                r.drain(out);
                let w = r.take_warnings();
                if !w.is_empty() {
                    self.add_warnings(w);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Events and warnings from reading `text` in the given chunk sizes.
    fn read_chunked(
        text: &[u8],
        sizes: &[usize],
    ) -> Result<(Vec<Event>, Vec<TraceWarning>), TraceError> {
        let mut r = TraceReader::new(Arch::X86_64);
        let mut events = Vec::new();
        let mut warnings = Vec::new();
        let mut at = 0;
        let mut k = 0;
        while at < text.len() {
            let n = sizes
                .get(k % sizes.len().max(1))
                .copied()
                .unwrap_or(1)
                .max(1);
            let end = (at + n).min(text.len());
            r.feed(&text[at..end], &mut events)?;
            warnings.extend(r.take_warnings());
            at = end;
            k += 1;
        }
        r.finish(&mut events)?;
        warnings.extend(r.take_warnings());
        Ok((events, warnings))
    }

    const STRACE: &str = "\
1234  execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 3 vars */) = 0
1234  brk(NULL)                         = 0x55d0
[ Process PID=1235 runs in 32 bit mode. ]
1235  getpid()                          = 1235
1234  read(3,  <unfinished ...>
1235  socket(AF_INET, SOCK_STREAM, 0 <unfinished ...>
1234  <... read resumed>\"abc\", 4096) = 3
1236  clone(child_stack=NULL, flags=CLONE_NEWUSER|SIGCHLD <unfinished ...>
1235  <... socket resumed>)             = 3
1234  nosuchcall(1) = 0
1234  +++ exited with 0 +++
1236  <... clone resumed>, child_tidptr=0x7f) = 99
1237  openat(AT_FDCWD, \"/etc/pa";

    const JSONL: &str = "# a comment\n\n{\"syscall\":\"openat\",\"args\":[1,2]}\r\n{\"nr\":39}\n{\"arch\":\"x86\",\"syscall\":\"socket\",\"args\":[\"AF_INET\"]}";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any chunking gives the same events, warnings and errors as one chunk: across
        /// unfinished/resumed pairs, mode switches, `\r\n`, a last line without `\n`
        /// and a call cut off at the end.
        #[test]
        fn any_chunking_reads_the_same(sizes in proptest::collection::vec(1usize..40, 1..12), which in 0..3usize) {
            let bad: &[u8] = b"1234  getpid() = 1\n\xc3\xa9t\xc3\n";
            let text: &[u8] = match which {
                0 => STRACE.as_bytes(),
                1 => JSONL.as_bytes(),
                _ => bad,
            };
            let whole = read_chunked(text, &[text.len().max(1)]);
            let chunked = read_chunked(text, &sizes);
            prop_assert_eq!(whole, chunked);
        }
    }

    #[test]
    fn a_call_cut_off_at_the_end_is_an_event_with_what_it_has() {
        let (events, warnings) = read_chunked(STRACE.as_bytes(), &[7]).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.line, 13);
        assert_eq!(last.syscall_name(), "openat");
        assert_eq!(last.args[0], Some(-100i64 as u64)); // AT_FDCWD
        assert_eq!(last.args[2], None);
        assert!(warnings
            .iter()
            .any(|w| w.line == 13 && w.kind == WarningKind::TruncatedLastLine));
        // Order is line order, although read (line 5) completed at line 7.
        let lines: Vec<usize> = events.iter().map(|e| e.line).collect();
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(lines, sorted);
        // The resumed halves completed their events.
        let clone = events.iter().find(|e| e.syscall_name() == "clone").unwrap();
        assert_eq!(clone.line, 8);
        assert!(clone.args.iter().filter(|a| a.is_some()).count() >= 2);
    }

    #[test]
    fn a_cut_line_followed_by_more_is_an_error() {
        let text = "1  openat(AT_FDCWD, \"/x\n2  getpid() = 2\n";
        assert_eq!(
            read_chunked(text.as_bytes(), &[3]).unwrap_err(),
            TraceError::Truncated { line: 1 }
        );
        // Blank lines after it are still the end.
        assert!(read_chunked(b"1  openat(AT_FDCWD, \"/x\n\n  \n", &[2]).is_ok());
    }

    #[test]
    fn long_lines_and_invalid_utf8_name_their_line() {
        let mut r = TraceReader::new(Arch::X86_64);
        let mut out = Vec::new();
        r.feed(b"{\"nr\":39}\n", &mut out).unwrap();
        let big = vec![b'x'; 1 << 20];
        let mut err = None;
        for _ in 0..17 {
            if let Err(e) = r.feed(&big, &mut out) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(
            err,
            Some(TraceError::LineTooLong {
                line: 2,
                limit: MAX_LINE
            })
        );
        let e = read_chunked(b"1 getpid() = 1\n2 get\xffpid() = 1\n", &[5]).unwrap_err();
        assert_eq!(e, TraceError::InvalidUtf8 { line: 2, column: 6 });
    }

    #[test]
    fn an_unresumed_call_holds_back_a_bounded_number_of_events() {
        use super::super::strace::MAX_HELD;
        let mut text = String::from("1  read(3,  <unfinished ...>\n");
        for _ in 0..MAX_HELD + 10 {
            text.push_str("2  getpid() = 2\n");
        }
        text.push_str("1  <... read resumed>\"x\", 1) = 1\n");
        let mut r = TraceReader::new(Arch::X86_64);
        let mut out = Vec::new();
        for line in text.split_inclusive('\n') {
            r.feed(line.as_bytes(), &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), MAX_HELD + 11);
        assert_eq!(out[0].syscall_name(), "read");
        // Let go before its resumption: only the first half's arguments.
        assert_eq!(out[0].args[0], Some(3));
        assert_eq!(out[0].args[2], None);
        let w = r.take_warnings();
        assert!(
            w.iter()
                .any(|w| matches!(w.kind, WarningKind::HeldTooLong { .. })),
            "{w:?}"
        );
    }

    #[test]
    fn warnings_are_capped_and_counted() {
        let mut text = String::new();
        for _ in 0..MAX_WARNINGS + 5 {
            text.push_str("1  nosuchcall() = 0\n");
        }
        let (_, warnings) = read_chunked(text.as_bytes(), &[4096]).unwrap();
        assert_eq!(warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            warnings.last().unwrap().kind,
            WarningKind::Suppressed { count: 5 }
        );
    }
}
