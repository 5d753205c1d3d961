//! The strace text format: what `strace -f` writes, with any of `-tt`, `-ttt`, `-r`,
//! `-T`, `-y`, `-yy`, `-i`, `-X raw`/`-e raw=all`, to a file (`-o`: `PID  syscall(...)`)
//! or to stderr (`[pid  PID] syscall(...)`, interleaved with `strace: Process N attached`).
//!
//! This module owns the line grammar: pid and timestamp prefixes, argument splitting that
//! respects strings (with escapes), nesting, `/* ... */` comments and `-y` `<...>` paths,
//! joining `<unfinished ...>` / `<... NAME resumed>` halves (one event, at the line of
//! the unfinished half, with the arguments of both), signal (`--- SIG... ---`) and exit
//! (`+++ ... +++`) lines, and per-process `[ Process PID=N runs in 32 bit mode. ]`
//! switches. What one printed argument is worth is [`super::decode`]'s business.
//!
//! Choices, for the record:
//! * A syscall strace names that is not in syscage's table for the process's arch is a
//!   warning, and the call is skipped (`syscall_0x1b4(...)` is always numbered).
//! * A call that strace entered but never resumed (the process died, strace detached, a
//!   thread's `execve` is reported in another pid) is still an event — seccomp checked it
//!   at entry — with the arguments the first half printed.
//! * A `<... NAME resumed>` without its first half is a warning and skipped.
//! * A line cut off inside a call (no `)` and no `<unfinished ...>`) is an error naming
//!   the line, except on the last non-blank line, where it is a warning (a trace cut off
//!   while strace was still writing); a line cut by strace's own `strace: Process N
//!   attached` message is joined with the next line, as strace meant it.
//! * Mode switches apply to the process they name and to lines without a pid prefix;
//!   other processes keep the default arch (strace prints the line again for each process
//!   that is in a non-default mode).
//! * i386 `mmap` (old_mmap: one pointer to a struct) has all arguments unknown.
//! * The return value, timings and anything after the closing `)` are ignored.

use std::collections::{HashMap, HashSet, VecDeque};

use super::decode::{clone_arg_position, decode_arg, parse_int, NameIndex};
use super::scan;
use super::{Trace, TraceError, TraceWarning, WarningKind};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::event::Event;
use crate::syscalls::{self, SyscallNr};

const UNFINISHED: &str = "<unfinished ...>";
const DETACHED: &str = "<detached ...>";

/// Parses strace output. Stops at the first error.
pub fn parse_strace(text: &str, default_arch: Arch) -> Result<Trace, TraceError> {
    let mut r = StraceReader::new(default_arch);
    let mut trace = Trace::default();
    // About one event per 100 bytes in real traces (the bundled ones: 99); the estimate
    // only saves regrowing, and untouched capacity costs no memory on large traces.
    trace.events.reserve(text.len() / 96);
    for (line, raw) in super::numbered_lines(text) {
        r.line(raw, line)?;
        r.drain(&mut trace.events);
    }
    r.finish()?;
    r.drain(&mut trace.events);
    trace.warnings = r.take_warnings();
    Ok(trace)
}

/// The strace reader, a line at a time: what [`parse_strace`] and the streaming
/// [`super::stream::TraceReader`] drive.
///
/// Events come out in line order ([`StraceReader::drain`]). A call whose
/// `<unfinished ...>` half has been read holds its event (and every later one) back
/// until its `<... resumed>` half completes its arguments, but never more than
/// [`MAX_HELD`] events: past that the oldest unfinished call is let go with the
/// arguments its first half printed (the others unknown) and a warning, so memory stays
/// bounded whatever the trace.
pub struct StraceReader {
    p: Parser,
    /// A line cut by strace's own "strace: Process N attached" message, and its number.
    carry: Option<(String, usize)>,
    /// A line that stops inside a call: an error if anything but blank lines follows;
    /// at the end of the trace, a call with the arguments it has.
    cut: Option<(String, usize)>,
}

/// How many events an unfinished call may hold back (see [`StraceReader`]).
pub const MAX_HELD: usize = 1 << 16;

impl StraceReader {
    pub fn new(default_arch: Arch) -> StraceReader {
        StraceReader {
            p: Parser::new(default_arch),
            carry: None,
            cut: None,
        }
    }

    /// One line (without its `\n`; a trailing `\r` is dropped), numbered from 1.
    pub fn line(&mut self, raw: &str, line: usize) -> Result<(), TraceError> {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim_ascii().is_empty() {
            return Ok(());
        }
        if let Some((_, at)) = self.cut.take() {
            return Err(TraceError::Truncated { line: at });
        }
        let mut cut = None;
        if let Some((mut joined, at)) = self.carry.take() {
            joined.push_str(raw);
            self.p.line(&joined, at, &mut self.carry, &mut cut)?;
        } else {
            self.p.line(raw, line, &mut self.carry, &mut cut)?;
        }
        self.cut = cut;
        self.p.bound();
        Ok(())
    }

    /// The end of the trace: a line cut off at the end becomes a call with the
    /// arguments it has (the rest unknown), as if strace had printed
    /// `<unfinished ...>` there.
    pub fn finish(&mut self) -> Result<(), TraceError> {
        if let Some((joined, at)) = self.carry.take() {
            let mut cut = None;
            self.p.line(&joined, at, &mut None, &mut cut)?;
            if cut.is_some() {
                self.cut = cut;
            }
        }
        if let Some((text, at)) = self.cut.take() {
            self.p.warn(at, WarningKind::TruncatedLastLine);
            let unfinished = format!("{text} {UNFINISHED}");
            self.p.line(&unfinished, at, &mut None, &mut None)?;
        }
        // Calls never resumed are events as they are.
        self.p.pending.clear();
        self.p.held.clear();
        Ok(())
    }

    /// Moves the events that are complete, in line order, to `out`.
    pub fn drain(&mut self, out: &mut Vec<Event>) {
        while !self.p.held.contains(&self.p.base) {
            let Some(e) = self.p.queue.pop_front() else {
                break;
            };
            out.push(e);
            self.p.base += 1;
        }
    }

    /// The warnings so far (taken: each is returned once).
    pub fn take_warnings(&mut self) -> Vec<TraceWarning> {
        std::mem::take(&mut self.p.warnings)
    }
}

/// A call whose `<unfinished ...>` half has been seen.
struct Pending {
    name: String,
    /// The argument text of the first half (and of any further unfinished halves).
    args: String,
    /// Its event's number (0-based, in line order); `None` if the call was skipped or
    /// its event has been let go.
    event: Option<usize>,
    arch: Arch,
}

struct Parser {
    default_arch: Arch,
    /// Events not yet drained; the front one is event number `base`.
    queue: VecDeque<Event>,
    base: usize,
    /// Numbers of the queued events an unfinished call holds back.
    held: HashSet<usize>,
    warnings: Vec<TraceWarning>,
    pending: HashMap<Option<u32>, Pending>,
    modes: HashMap<u32, Arch>,
    /// The latest mode switch, for lines without a pid prefix.
    unprefixed_mode: Option<Arch>,
}

/// The parts of a line in front of the call.
struct Prefix<'a> {
    pid: Option<u32>,
    ip: u64,
    body: &'a str,
}

impl Parser {
    fn new(default_arch: Arch) -> Parser {
        Parser {
            default_arch,
            queue: VecDeque::new(),
            base: 0,
            held: HashSet::new(),
            warnings: Vec::new(),
            pending: HashMap::new(),
            modes: HashMap::new(),
            unprefixed_mode: None,
        }
    }

    fn warn(&mut self, line: usize, kind: WarningKind) {
        self.warnings.push(TraceWarning { line, kind });
    }

    /// Keeps what an unfinished call holds back, and what is remembered about processes,
    /// within bounds: the oldest held event is let go (with the arguments it has) when
    /// too many wait behind it; pending calls without an event and per-process modes
    /// are forgotten past the same bound.
    fn bound(&mut self) {
        if self.queue.len() > MAX_HELD && self.held.remove(&self.base) {
            let at = self.base;
            for p in self.pending.values_mut() {
                if p.event == Some(at) {
                    p.event = None;
                }
            }
            let line = self.queue.front().map_or(0, |e| e.line);
            self.warn(line, WarningKind::HeldTooLong { later: MAX_HELD });
            // Drain now moves it (and what follows, up to the next held one).
        }
        if self.pending.len() > MAX_HELD {
            let stale: Vec<Option<u32>> = self
                .pending
                .iter()
                .filter(|(_, p)| p.event.is_none())
                .map(|(k, _)| *k)
                .take(self.pending.len() - MAX_HELD)
                .collect();
            for k in stale {
                self.pending.remove(&k);
            }
        }
        if self.modes.len() > MAX_HELD * 16 {
            // A process that switched modes and was forgotten reverts to the default
            // arch; only a hostile trace has this many processes at once.
            self.modes.clear();
        }
    }

    fn arch_of(&self, pid: Option<u32>) -> Arch {
        if self.modes.is_empty() && self.unprefixed_mode.is_none() {
            return self.default_arch;
        }
        match pid {
            Some(p) => self.modes.get(&p).copied().unwrap_or(self.default_arch),
            None => self.unprefixed_mode.unwrap_or(self.default_arch),
        }
    }

    /// One line; a call cut off inside goes to `cut` (the caller decides whether that is
    /// an error: only at the end of the trace is it not).
    fn line(
        &mut self,
        text: &str,
        line: usize,
        carry: &mut Option<(String, usize)>,
        cut: &mut Option<(String, usize)>,
    ) -> Result<(), TraceError> {
        let t = text.trim_ascii();
        if t.is_empty() || t.starts_with('>') {
            // Blank, or a `-k` stack frame.
            return Ok(());
        }
        if let Some(msg) = t.strip_prefix("strace: ") {
            return self.strace_message(msg, line);
        }
        let pre = prefix(t, text, line)?;
        let body = pre.body;
        if body.starts_with("---") {
            return Ok(());
        }
        if let Some(exit) = body.strip_prefix("+++") {
            if !self.pending.is_empty() && (exit.contains("exited") || exit.contains("killed")) {
                if let Some(n) = self.pending.remove(&pre.pid).and_then(|p| p.event) {
                    self.held.remove(&n);
                }
            }
            return Ok(());
        }
        if let Some(msg) = body.strip_prefix("[ Process PID=") {
            return self.mode_switch(msg, line);
        }
        let outcome = match body.strip_prefix("<... ") {
            Some(rest) => self.resumed(rest, &pre, text, line)?,
            None => self.call(&pre, text, line)?,
        };
        if outcome == Outcome::Done {
            return Ok(());
        }
        // strace's own stderr messages can land in the middle of a call line: the call
        // goes on on the next line.
        if let Some(i) = t.find("strace: Process ") {
            let head = &t[..i];
            if !head.trim().is_empty() {
                *carry = Some((head.to_string(), line));
                return Ok(());
            }
        }
        *cut = Some((text.to_string(), line));
        Ok(())
    }

    /// A line of strace's own: only mode switches matter.
    fn strace_message(&mut self, msg: &str, line: usize) -> Result<(), TraceError> {
        if let Some(m) = msg.trim_start().strip_prefix("[ Process PID=") {
            return self.mode_switch(m, line);
        }
        Ok(())
    }

    /// `N runs in 32 bit mode. ]`
    fn mode_switch(&mut self, msg: &str, line: usize) -> Result<(), TraceError> {
        let digits = msg.bytes().take_while(u8::is_ascii_digit).count();
        let pid: Option<u32> = msg[..digits].parse().ok();
        let mode = msg[digits..]
            .trim_start()
            .strip_prefix("runs in ")
            .and_then(|m| m.split(" mode").next());
        let (Some(pid), Some(mode)) = (pid, mode) else {
            return Err(TraceError::Syntax {
                line,
                column: 1,
                message: "expected \"[ Process PID=N runs in ... mode. ]\"".to_string(),
            });
        };
        match personality_arch(self.default_arch, mode) {
            Some(arch) => {
                self.modes.insert(pid, arch);
                self.unprefixed_mode = Some(arch);
            }
            None => self.warn(
                line,
                WarningKind::UnknownPersonality {
                    pid,
                    mode: mode.to_string(),
                },
            ),
        }
        Ok(())
    }

    /// `NAME(args) = ret`, or `NAME(args <unfinished ...>`.
    fn call(&mut self, pre: &Prefix<'_>, text: &str, line: usize) -> Result<Outcome, TraceError> {
        let body = pre.body;
        let name_len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'?')
            .count();
        let name = &body[..name_len];
        let after = &body[name_len..];
        if name.is_empty() || !after.starts_with('(') {
            return Err(TraceError::Syntax {
                line,
                column: column(text, after),
                message: if name.is_empty() {
                    "expected a syscall name, a signal (---) or exit (+++) line".to_string()
                } else {
                    format!("expected '(' after {name:?}")
                },
            });
        }
        let inner = &after[1..];
        let arch = self.arch_of(pre.pid);
        let (args_text, state) = match split_unfinished(inner) {
            Some((a, s)) => (a, s),
            None => (inner, Ending::Complete),
        };
        let split = match split_args(args_text) {
            Ok(s) => s,
            Err(Unclosed(partial)) if state != Ending::Complete => partial,
            Err(Unclosed(_)) => return Ok(Outcome::Truncated),
        };
        if state == Ending::Complete && !split.closed {
            return Ok(Outcome::Truncated);
        }

        let event = match self.resolve(name, arch, line) {
            Some(sys) => {
                let mut args = [None; 6];
                self.fill_args_for(name, &mut args, args_text, &split, line, sys.arch);
                // The trace's spelling is kept only where the table would not give it
                // back (an alias, `syscall_0x...`): no allocation per event.
                let name = (sys.name() != Some(name)).then(|| name.to_string());
                self.queue.push_back(Event {
                    sys,
                    args,
                    instruction_pointer: pre.ip,
                    pid: pre.pid,
                    name,
                    line,
                });
                Some(self.base + self.queue.len() - 1)
            }
            None => None,
        };
        if state == Ending::Unfinished {
            if let Some(n) = event {
                self.held.insert(n);
            }
            if let Some(old) = self.pending.get(&pre.pid).and_then(|p| p.event) {
                // A second unfinished call of the same process: the first is never
                // resumed.
                self.held.remove(&old);
            }
            self.pending.insert(
                pre.pid,
                Pending {
                    name: name.to_string(),
                    args: args_text.to_string(),
                    event,
                    arch,
                },
            );
        }
        Ok(Outcome::Done)
    }

    /// `NAME resumed>rest-of-args) = ret`
    fn resumed(
        &mut self,
        rest: &str,
        pre: &Prefix<'_>,
        text: &str,
        line: usize,
    ) -> Result<Outcome, TraceError> {
        let Some(end) = scan::find_str(rest.as_bytes(), b" resumed>") else {
            return Err(TraceError::Syntax {
                line,
                column: column(text, rest),
                message: "expected \"<... NAME resumed>\"".to_string(),
            });
        };
        let name = &rest[..end];
        let tail = &rest[end + " resumed>".len()..];
        let key = if self.pending.contains_key(&pre.pid) {
            Some(pre.pid)
        } else {
            // strace drops the `[pid N]` prefix while only one process is traced, and adds
            // it back when there are more; a thread's execve resumes in the leader's pid.
            // If exactly one call of this name is pending, it is the one resuming.
            let mut same = self.pending.iter().filter(|(_, p)| p.name == name);
            match (same.next(), same.next()) {
                (Some((k, _)), None) => Some(*k),
                _ => None,
            }
        };
        let Some((key, mut p)) = key.and_then(|k| self.pending.remove(&k).map(|p| (k, p))) else {
            self.warn(
                line,
                WarningKind::OrphanResumed {
                    name: name.to_string(),
                },
            );
            return Ok(Outcome::Done);
        };
        if p.name != name {
            if let Some(n) = p.event {
                self.held.remove(&n);
            }
            self.warn(
                line,
                WarningKind::OrphanResumed {
                    name: name.to_string(),
                },
            );
            return Ok(Outcome::Done);
        }
        let (more, state) = match split_unfinished(tail) {
            Some((a, s)) => (a, s),
            None => (tail, Ending::Complete),
        };
        let before = p.args.len();
        p.args.push_str(more);
        let split = match split_args(&p.args) {
            Ok(s) if s.closed || state != Ending::Complete => s,
            Err(Unclosed(partial)) if state != Ending::Complete => partial,
            _ => {
                // Cut off: the call stays pending as it was, for the end of the trace.
                p.args.truncate(before);
                self.pending.insert(key, p);
                return Ok(Outcome::Truncated);
            }
        };
        if let Some(idx) = p.event {
            let slot = idx.checked_sub(self.base);
            if let Some(first_line) = slot.and_then(|k| self.queue.get(k)).map(|e| e.line) {
                // The event was made from the first half, under the same name.
                let mut args = [None; 6];
                self.fill_args_for(&p.name, &mut args, &p.args, &split, first_line, p.arch);
                if let Some(ev) = slot.and_then(|k| self.queue.get_mut(k)) {
                    ev.args = args;
                }
            }
        }
        if state == Ending::Unfinished {
            self.pending.insert(pre.pid, p);
        } else if let Some(idx) = p.event {
            self.held.remove(&idx);
        }
        Ok(Outcome::Done)
    }

    /// The syscall strace named, on `arch`; `None` (with a warning) if syscage's table
    /// does not have it.
    fn resolve(&mut self, name: &str, arch: Arch, line: usize) -> Option<SyscallNr> {
        if let Some(num) = name.strip_prefix("syscall_") {
            let nr = if num.starts_with("0x") {
                parse_int(num)
            } else {
                num.parse::<u64>().ok()
            };
            if let Some(nr) = nr.and_then(|n| u32::try_from(n).ok()) {
                let nr = if arch == Arch::X32 {
                    nr | X32_SYSCALL_BIT
                } else {
                    nr
                };
                return Some(SyscallNr { arch, nr });
            }
        }
        match number_of(arch, name) {
            Some(s) => Some(s),
            None => {
                self.warn(
                    line,
                    WarningKind::UnknownSyscall {
                        name: name.to_string(),
                        arch,
                    },
                );
                None
            }
        }
    }

    /// Decodes the arguments of a call named `name` (as the trace spells it) into `args`.
    fn fill_args_for(
        &mut self,
        name: &str,
        args: &mut [Option<u64>; 6],
        text: &str,
        split: &Split,
        line: usize,
        arch: Arch,
    ) {
        if arch == Arch::X86 && name == "mmap" {
            // old_mmap takes one pointer to a struct; strace prints the struct's fields.
            return;
        }
        let is_clone = name == "clone";
        let mut pos = 0usize;
        let mut extra = 0usize;
        let count = split.count;
        for (k, piece) in split.pieces(text).enumerate() {
            let piece = piece.trim_ascii();
            if piece.is_empty() && k + 1 == count {
                break; // `read(3,  <unfinished ...>`: nothing after the last comma yet.
            }
            let (slot, value) = match named_arg(piece) {
                Some((n, v)) => match is_clone.then(|| clone_arg_position(arch, n)).flatten() {
                    Some(slot) => (slot, v),
                    None => (pos, v),
                },
                None => (pos, piece),
            };
            pos = slot + 1;
            match args.get_mut(slot) {
                Some(a) => *a = decode_arg(value, arch),
                None => extra += 1,
            }
        }
        if extra > 0 {
            self.warn(
                line,
                WarningKind::ExtraArguments {
                    name: name.to_string(),
                    count: 6 + extra,
                },
            );
        }
    }
}

/// [`syscalls::number_of`] through a per-arch hash index built on first use: strace
/// files name a syscall on every line, and this keeps that lookup off the profile.
fn number_of(arch: Arch, name: &str) -> Option<SyscallNr> {
    use std::sync::OnceLock;
    type Index = NameIndex<Option<SyscallNr>>;
    static INDEX: [OnceLock<Index>; Arch::ALL.len()] = [const { OnceLock::new() }; Arch::ALL.len()];
    let slot = Arch::ALL.iter().position(|a| *a == arch)?;
    let index = INDEX.get(slot)?.get_or_init(|| {
        // A name may have two numbers (x32's compat entries): the table's own lookup
        // decides which.
        NameIndex::new(syscalls::all(arch).map(|(_, n)| (n, syscalls::number_of(arch, n))))
    });
    index.get(name).flatten()
}

/// Splits the pid, `-t`/`-tt`/`-ttt`/`-r` timestamp and `-i` instruction pointer off a
/// (trimmed) line.
fn prefix<'a>(t: &'a str, text: &str, line: usize) -> Result<Prefix<'a>, TraceError> {
    let mut s = t;
    let mut pid = None;
    if let Some(rest) = s.strip_prefix("[pid") {
        let rest = scan::trim_start(rest);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n = digits_u32(&rest.as_bytes()[..digits]);
        match (n, rest[digits..].strip_prefix(']')) {
            (Some(n), Some(after)) => {
                pid = Some(n);
                s = scan::trim_start(after);
            }
            _ => {
                return Err(TraceError::Syntax {
                    line,
                    column: column(text, rest),
                    message: "expected \"[pid N]\"".to_string(),
                })
            }
        }
    } else {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(s.as_bytes().get(digits), Some(b' ' | b'\t')) {
            pid = digits_u32(&s.as_bytes()[..digits]);
            if pid.is_none() {
                return Err(TraceError::Syntax {
                    line,
                    column: column(text, s),
                    message: "process id does not fit in 32 bits".to_string(),
                });
            }
            s = scan::trim_start(&s[digits..]);
        }
    }
    // Timestamp: 1700000000.123456 (-ttt), 12:34:56[.123456] (-t/-tt), 0.000123 (-r).
    let ts = s
        .bytes()
        .take_while(|b| matches!(b, b'.' | b'0'..=b':'))
        .count();
    if ts > 0 && matches!(s.as_bytes().get(ts), Some(b' ' | b'\t')) {
        s = scan::trim_start(&s[ts..]);
    }
    // -i: [00007f1234567890]
    let mut ip = 0;
    if let Some(rest) = s.strip_prefix('[') {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex > 0 && rest[hex..].starts_with(']') {
            if let Ok(v) = u64::from_str_radix(&rest[..hex], 16) {
                ip = v;
                s = scan::trim_start(&rest[hex + 1..]);
            }
        }
    }
    Ok(Prefix { pid, ip, body: s })
}

/// ASCII digits as a `u32` (`str::parse` on them); `None` if empty or too large.
fn digits_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        v = v
            .checked_mul(10)?
            .checked_add(u32::from(c.wrapping_sub(b'0')))?;
    }
    Some(v)
}

/// 1-based byte column of `part` (a subslice of `text`) in `text`.
fn column(text: &str, part: &str) -> usize {
    let start = text.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= start && at <= start + text.len() {
        at - start + 1
    } else {
        1
    }
}

/// `x86_64` strace says "32 bit" for i386 processes, "x32" for x32 ones.
fn personality_arch(default: Arch, mode: &str) -> Option<Arch> {
    use Arch::*;
    Some(match (mode.trim(), default) {
        ("64 bit", X86_64 | X86 | X32) => X86_64,
        ("32 bit", X86_64 | X86 | X32) => X86,
        ("x32", X86_64 | X86 | X32) => X32,
        ("64 bit", Aarch64 | Arm) => Aarch64,
        ("32 bit", Aarch64 | Arm) => Arm,
        ("64 bit", Ppc64le) => Ppc64le,
        ("64 bit", Ppc64 | Ppc) => Ppc64,
        ("32 bit", Ppc64le | Ppc64 | Ppc) => Ppc,
        ("64 bit", S390x | S390) => S390x,
        ("32 bit", S390x | S390) => S390,
        _ => return None,
    })
}

/// Whether a call line was complete, or stopped inside the call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Done,
    Truncated,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ending {
    Complete,
    Unfinished,
    Detached,
}

/// Cuts a trailing `<unfinished ...>` / `<detached ...>` off.
fn split_unfinished(s: &str) -> Option<(&str, Ending)> {
    let t = scan::trim_end(s);
    if let Some(a) = t.strip_suffix(UNFINISHED) {
        return Some((a, Ending::Unfinished));
    }
    t.strip_suffix(DETACHED).map(|a| (a, Ending::Detached))
}

/// `flags=CLONE_VM` -> `("flags", "CLONE_VM")`: a lower-case identifier and `=`.
fn named_arg(piece: &str) -> Option<(&str, &str)> {
    let b = piece.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_lowercase() || *c == b'_')
    {
        return None;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || **c == b'_')
        .count();
    if b.get(n) == Some(&b'=') {
        Some((&piece[..n], &piece[n + 1..]))
    } else {
        None
    }
}

/// An argument list was not closed (the line ends inside a string, comment or nesting,
/// or before the `)`).
#[derive(Debug)]
/// Carries the arguments found before the unclosed one: its piece ends where the
/// unclosed string, comment or nesting starts, so it reads as unknown.
struct Unclosed(Split);

/// Top-level argument boundaries of a call.
#[derive(Clone, Copy, Debug)]
struct Split {
    /// Byte offsets of top-level commas (at most 8 recorded; `count` is exact).
    commas: [usize; 8],
    count: usize,
    /// Offset of the closing `)` (or the text's length).
    end: usize,
    closed: bool,
}

impl Split {
    fn pieces<'t>(&'t self, text: &'t str) -> impl Iterator<Item = &'t str> + 't {
        let recorded = (self.count - 1).min(self.commas.len());
        let end = self.end.min(text.len());
        (0..=recorded).map(move |k| {
            let from = if k == 0 { 0 } else { self.commas[k - 1] + 1 };
            let to = if k < recorded { self.commas[k] } else { end };
            text.get(from..to).unwrap_or("")
        })
    }
}

/// Bytes the splitter has to look at; everything else is skipped in a tight loop.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let s = b"\"()[]{},/<";
    let mut i = 0;
    while i < s.len() {
        t[s[i] as usize] = true;
        i += 1;
    }
    t
};

/// Finds the top-level commas and the closing `)` of an argument list (the text after
/// the opening `(`). `Ok` with `closed: false` when the text ends at depth 0 without `)`.
fn split_args(s: &str) -> Result<Split, Unclosed> {
    let b = s.as_bytes();
    let n = b.len();
    let mut split = Split {
        commas: [0; 8],
        count: 1,
        end: n,
        closed: false,
    };
    let mut depth = 0usize;
    // Where the outermost open nesting started.
    let mut opened = 0usize;
    let mut angles_ok = true;
    let unclosed = |mut split: Split, at: usize| {
        split.end = at;
        Unclosed(split)
    };
    let mut i = 0usize;
    while i < n {
        let c = b[i];
        if !SPECIAL[c as usize] {
            i += 1;
            continue;
        }
        match c {
            b'"' => i = skip_string(b, i + 1).ok_or_else(|| unclosed(split, i))?,
            b'(' | b'[' | b'{' => {
                if depth == 0 {
                    opened = i;
                }
                depth += 1;
                i += 1;
            }
            b')' if depth == 0 => {
                split.end = i;
                split.closed = true;
                return Ok(split);
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b',' => {
                if depth == 0 {
                    if split.count - 1 < split.commas.len() {
                        split.commas[split.count - 1] = i;
                    }
                    split.count += 1;
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, i + 2, b"*/").ok_or_else(|| unclosed(split, i))? + 2;
            }
            b'<' if b.get(i + 1) == Some(&b'<') => i += 2,
            b'<' if angles_ok => match skip_angle(b, i + 1) {
                Some(j) => i = j,
                None => {
                    // Not a `<...>` group after all; never try again on this line, so
                    // hostile input cannot make this quadratic.
                    angles_ok = false;
                    i += 1;
                }
            },
            _ => i += 1,
        }
    }
    if depth == 0 {
        Ok(split)
    } else {
        Err(unclosed(split, opened))
    }
}

/// Index just past the closing quote of a string starting at `i` (after the `"`).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = scan::find2(b, i, b'"', b'\\')?;
        if b.get(i) == Some(&b'"') {
            return Some(i + 1);
        }
        i += 2; // a backslash and the byte it escapes
    }
}

/// Index just past the `>` closing a `-y` group (`3</path>`, `5<TCP:[a->b]>`,
/// `1</dev/pts/0<char 136:0>>`, `<... resuming interrupted read ...>`).
fn skip_angle(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 1usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_string(b, i + 1)?;
                continue;
            }
            b'<' => depth += 1,
            // `->` inside socket descriptions is an arrow, not a closer.
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Trace {
        parse_strace(t, Arch::X86_64).unwrap_or_else(|e| panic!("{e}"))
    }

    fn one(t: &str) -> Event {
        let tr = parse(t);
        assert_eq!(tr.events.len(), 1, "{tr:?}");
        tr.events.into_iter().next().unwrap()
    }

    const AT_FDCWD: u64 = (-100i64) as u64;

    #[test]
    fn hashed_syscall_index_agrees_with_the_tables() {
        for arch in Arch::ALL {
            for (sys, name) in syscalls::all(arch) {
                // A name may have two numbers (x32's compat entries); the table's own
                // lookup decides which, and so must the index.
                assert_eq!(
                    number_of(arch, name),
                    syscalls::number_of(arch, name),
                    "{arch} {name}"
                );
                assert_eq!(number_of(arch, name).map(|s| s.arch), Some(sys.arch));
            }
            assert_eq!(number_of(arch, "no_such_call"), None);
        }
    }

    #[test]
    fn plain_call() {
        let e = one("openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n");
        assert_eq!(
            e.sys,
            SyscallNr {
                arch: Arch::X86_64,
                nr: 257
            }
        );
        assert_eq!(
            e.args,
            [Some(AT_FDCWD), None, Some(0o2000000), None, None, None]
        );
        assert_eq!(e.pid, None);
        assert_eq!(e.line, 1);
        assert_eq!(e.syscall_name(), "openat");
    }

    #[test]
    fn pid_prefixes() {
        assert_eq!(one("6032  close(3) = 0").pid, Some(6032));
        assert_eq!(one("[pid  7498] close(3) = 0").pid, Some(7498));
        assert_eq!(one("[pid 7498] close(3) = 0").pid, Some(7498));
        let err = parse_strace("[pid x] close(3) = 0", Arch::X86_64).unwrap_err();
        assert!(matches!(err, TraceError::Syntax { line: 1, .. }), "{err}");
    }

    #[test]
    fn timestamps_and_timings() {
        let e = one("6045  04:40:20.728988 close(4<pipe:[8499]>) = 0 <0.000014>");
        assert_eq!((e.pid, e.args[0]), (Some(6045), Some(4)));
        let e = one("6055  1795408820.757322 brk(NULL)       = 0x55e80931f000");
        assert_eq!((e.pid, e.args[0]), (Some(6055), Some(0)));
        let e = one("1795408820.757322 brk(NULL) = 0x55e80931f000");
        assert_eq!((e.pid, e.args[0]), (None, Some(0)));
        let e = one("04:40:20 brk(0x1000) = 0x55e80931f000");
        assert_eq!((e.pid, e.args[0]), (None, Some(0x1000)));
        let e = one("     0.000123 brk(0x10) = 0");
        assert_eq!(e.args[0], Some(0x10));
    }

    #[test]
    fn instruction_pointer_prefix() {
        let e = one("[pid 5] [00007f8e2c1b4e6b] close(3) = 0");
        assert_eq!(e.instruction_pointer, 0x7f8e_2c1b_4e6b);
        assert_eq!(e.pid, Some(5));
    }

    #[test]
    fn yy_fds_and_paths_with_parens() {
        let e =
            one("6059  connect(5<TCP:[7959]>, {sa_family=AF_INET, sin_port=htons(1)}, 16) = -1");
        assert_eq!(e.args[..3], [Some(5), None, Some(16)]);
        let e = one("read(3</tmp/a)b,c>, \"x\", 1) = 1");
        assert_eq!(e.args[..3], [Some(3), None, Some(1)]);
        let e = one("socketpair(AF_UNIX, SOCK_STREAM, 0, [3<UNIX-STREAM:[7957->7958]>, 4<UNIX-STREAM:[7958->7957]>]) = 0");
        assert_eq!(e.args[..4], [Some(1), Some(1), Some(0), None]);
        let e = one("dup2(4<pipe:[8499]>, 1</dev/pts/0<char 136:0>>) = 1");
        assert_eq!(e.args[..2], [Some(4), Some(1)]);
    }

    #[test]
    fn strings_comments_nesting_and_ellipses() {
        let e = one(r#"write(1, "a), \"b\", (c\\", 7) = 7"#);
        assert_eq!(e.args[..3], [Some(1), None, Some(7)]);
        let e = one("execve(\"/usr/bin/id\", [\"id\"], 0x7ffc381522d8 /* 35 vars */) = 0");
        assert_eq!(e.args[..3], [None, None, Some(0x7ffc_3815_22d8)]);
        let e = one(
            "newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=33699, ...}, AT_EMPTY_PATH) = 0",
        );
        assert_eq!(e.args[..4], [Some(3), None, None, Some(0x1000)]);
        let e = one("read(3, \"\\177ELF\\2\\1\\1\"..., 832) = 832");
        assert_eq!(e.args[..3], [Some(3), None, Some(832)]);
        let e = one("wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 1");
        assert_eq!(e.args[..4], [Some(u64::MAX), None, Some(0), Some(0)]);
        let e = one("ioctl(1, TCGETS /* x), y */, 0x7ffe) = 0");
        assert_eq!(e.args[..3], [Some(1), Some(0x5401), Some(0x7ffe)]);
    }

    #[test]
    fn unfinished_and_resumed_are_joined_at_the_first_line() {
        let t = "\
6045  wait4(-1,  <unfinished ...>
6046  close(3) = 0
6045  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 6046
";
        let tr = parse(t);
        assert_eq!(tr.events.len(), 2);
        let w = &tr.events[0];
        assert_eq!((w.line, w.pid), (1, Some(6045)));
        assert_eq!(w.syscall_name(), "wait4");
        assert_eq!(w.args[..4], [Some(u64::MAX), None, Some(0), Some(0)]);
        assert_eq!(tr.events[1].line, 2);
        assert!(tr.warnings.is_empty());
    }

    #[test]
    fn clone_split_in_the_middle_of_its_named_args() {
        let t = "\
6045  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
6045  <... clone resumed>, child_tidptr=0x7fb476598a10) = 6047
";
        let e = one(t);
        assert_eq!(
            e.args,
            [
                Some(0x0120_0011),
                Some(0),
                None,
                Some(0x7fb4_7659_8a10),
                None,
                None
            ]
        );
    }

    #[test]
    fn clone_named_args_go_to_the_kernel_positions() {
        let t = "clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_SETTLS|CLONE_PARENT_SETTID, parent_tid=0x10, tls=0x20, child_tidptr=0x30) = 5";
        let e = one(t);
        assert_eq!(
            e.args,
            [
                Some(0x0018_0100),
                Some(0x7f00),
                Some(0x10),
                Some(0x30),
                Some(0x20),
                None
            ]
        );
        let e = parse_strace(t, Arch::X86).unwrap().events.remove(0);
        assert_eq!(e.args[3..5], [Some(0x20), Some(0x30)]);
    }

    #[test]
    fn never_resumed_calls_are_still_events() {
        let t = "\
[pid 10] exit_group(0 <unfinished ...>
[pid 11] read(0,  <detached ...>
[pid 11] +++ exited with 0 +++
+++ exited with 0 +++
";
        let tr = parse(t);
        assert_eq!(tr.events.len(), 2);
        assert_eq!(tr.events[0].args[0], Some(0));
        assert_eq!(tr.events[1].args[..2], [Some(0), None]);
        assert!(tr.warnings.is_empty());
    }

    #[test]
    fn resumed_without_prefix_finds_the_only_pending_call_of_that_name() {
        // strace stops prefixing once a single process is left.
        let t = "\
[pid  7497] wait4(-1,  <unfinished ...>
[pid  7499] exit_group(0)               = ?
[pid  7499] +++ exited with 0 +++
<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7499
";
        let tr = parse(t);
        assert!(tr.warnings.is_empty(), "{:?}", tr.warnings);
        assert_eq!(
            tr.events[0].args[..4],
            [Some(u64::MAX), None, Some(0), Some(0)]
        );
        // Two candidates: ambiguous, so it is an orphan.
        let t = "[pid 1] read(0,  <unfinished ...>\n[pid 2] read(0,  <unfinished ...>\n<... read resumed>\"\", 1) = 0\n";
        assert_eq!(parse(t).warnings.len(), 1);
    }

    #[test]
    fn orphan_resumed_is_a_warning() {
        let tr = parse("5  <... read resumed>\"x\", 1) = 1\n5  close(0) = 0\n");
        assert_eq!(tr.events.len(), 1);
        assert_eq!(tr.warnings.len(), 1);
        assert_eq!(tr.warnings[0].line, 1);
        assert!(matches!(
            tr.warnings[0].kind,
            WarningKind::OrphanResumed { .. }
        ));
    }

    #[test]
    fn signal_exit_and_strace_lines_are_not_events() {
        let t = "\
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7498} ---
6032  --- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_syscall=__NR_ptrace} ---
6032  +++ exited with 0 +++
[pid 6] +++ killed by SIGSYS (core dumped) +++
+++ superseded by execve in pid 7 +++
strace: Process 7498 attached
 > /usr/lib/libc.so.6(read+0x12) [0x1234]
6032  exit_group(0)                     = ?
";
        let e = one(t);
        assert_eq!((e.line, e.args[0]), (8, Some(0)));
    }

    #[test]
    fn odd_return_values() {
        assert_eq!(one("exit_group(0) = ?").args[0], Some(0));
        assert_eq!(one("exit(0) = ? <unavailable>").args[0], Some(0));
        let e = one("access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT (No such file or directory)");
        assert_eq!(e.args[1], Some(4));
        let e = one("restart_syscall(<... resuming interrupted read ...>) = 0");
        assert_eq!(e.syscall_name(), "restart_syscall");
        assert_eq!(e.args, [None; 6]);
        let e = one("read(0, 0x7ffc, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
        assert_eq!(e.args[1], Some(0x7ffc));
    }

    #[test]
    fn unknown_numbers_and_names() {
        let e = one("syscall_0x1b4(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS");
        assert_eq!(e.sys.nr, 0x1b4);
        assert_eq!(e.args, [1, 2, 3, 4, 5, 6].map(Some));
        assert_eq!(one("syscall_436() = -1").sys.nr, 436);
        let tr = parse("fooat(1) = 0\nclose(1) = 0\n");
        assert_eq!(tr.events.len(), 1);
        assert_eq!(tr.warnings.len(), 1);
        assert_eq!(
            tr.warnings[0].to_string(),
            "line 1: syscall \"fooat\" is not in the x86_64 table; skipped"
        );
    }

    #[test]
    fn raw_output() {
        let e = one("6051  openat(0xffffff9c, 0x7f07c04f1e4e, 0x80000) = 0x3");
        assert_eq!(
            e.args[..3],
            [Some(0xffff_ff9c), Some(0x7f07_c04f_1e4e), Some(0x80000)]
        );
        let e = one("6051  mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7f07c04ee000");
        assert_eq!(
            e.args,
            [
                Some(0),
                Some(8192),
                Some(3),
                Some(0x22),
                Some(u64::MAX),
                Some(0)
            ]
        );
    }

    #[test]
    fn personality_switches_are_per_pid() {
        let t = "\
[pid 10] execve(\"./a32\", [\"./a32\"], 0x7ffd /* 1 var */) = 0
[ Process PID=10 runs in 32 bit mode. ]
[pid 10] socketcall(0x1, 0xffd0) = 3
[pid 11] close(3) = 0
strace: [ Process PID=10 runs in 64 bit mode. ]
[pid 10] close(3) = 0
[ Process PID=12 runs in x32 mode. ]
[pid 12] ioctl(1, TCGETS, 0x1000) = 0
";
        let tr = parse(t);
        let got: Vec<_> = tr.events.iter().map(|e| (e.sys.arch, e.sys.nr)).collect();
        assert_eq!(
            got,
            vec![
                (Arch::X86_64, 59),
                (Arch::X86, 102),
                (Arch::X86_64, 3),
                (Arch::X86_64, 3),
                (Arch::X32, X32_SYSCALL_BIT | 514),
            ]
        );
        let tr = parse("[ Process PID=1 runs in 16 bit mode. ]\nclose(1) = 0\n");
        assert!(matches!(
            tr.warnings[0].kind,
            WarningKind::UnknownPersonality { pid: 1, .. }
        ));
    }

    #[test]
    fn attached_message_inside_a_call_is_joined() {
        let t = "\
clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 7498 attached
, child_tidptr=0x7f7bfd9e0a10) = 7498
[pid  7498] close(3) = 0
";
        let tr = parse(t);
        assert_eq!(tr.events.len(), 2);
        assert_eq!(tr.events[0].line, 1);
        assert_eq!(
            tr.events[0].args[..4],
            [Some(0x0120_0011), Some(0), None, Some(0x7f7b_fd9e_0a10)]
        );
        assert_eq!(tr.events[1].line, 3);
    }

    #[test]
    fn truncated_lines() {
        let err = parse_strace(
            "openat(AT_FDCWD, \"/etc/ld.so\nclose(3) = 0\n",
            Arch::X86_64,
        )
        .unwrap_err();
        assert_eq!(err, TraceError::Truncated { line: 1 });
        assert_eq!(
            err.to_string(),
            "line 1: call is cut off: no closing ')' and no \"<unfinished ...>\""
        );
        // Cut off at the end: an event with the arguments it has, the rest unknown.
        let tr = parse("close(3) = 0\nopenat(AT_FDCWD, \"/etc/ld.so\n\n");
        assert_eq!(tr.events.len(), 2);
        assert_eq!(tr.events[1].line, 2);
        assert_eq!(tr.events[1].args[0], Some(-100i64 as u64)); // AT_FDCWD
        assert_eq!(tr.events[1].args[1..], [None; 5]);
        assert_eq!(tr.warnings[0].line, 2);
        assert_eq!(tr.warnings[0].kind, WarningKind::TruncatedLastLine);
        let err = parse_strace("close(3\nclose(4) = 0", Arch::X86_64).unwrap_err();
        assert_eq!(err.line(), 1);
        let err = parse_strace(
            "close(0) = 0\n[pid 3] <... read resumed>0, 1\nclose(1) = 0\n",
            Arch::X86_64,
        );
        // orphan resumed: warned and skipped before its own truncation matters
        assert!(err.is_ok());
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse_strace("close(0) = 0\nhello world\n", Arch::X86_64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2, column 6: expected '(' after \"hello\""
        );
        let err = parse_strace("6032  = 0\n", Arch::X86_64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 7: expected a syscall name, a signal (---) or exit (+++) line"
        );
        let err = parse_strace("<... read resumed\n", Arch::X86_64).unwrap_err();
        assert_eq!(err.line(), 1);
    }

    #[test]
    fn socket_personality_ioctl_decoding_in_context() {
        let e = one("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3");
        assert_eq!(e.args[..3], [Some(2), Some(0o2000001), Some(6)]);
        assert_eq!(
            one("personality(0xffffffff /* PER_??? */) = 0").args[0],
            Some(0xffff_ffff)
        );
        assert_eq!(one("personality(PER_LINUX) = 0").args[0], Some(0));
        let e = one("ioctl(0, SNDCTL_TMR_TIMEBASE or TCGETS, 0x7ffc) = 0");
        assert_eq!(e.args[..3], [Some(0), Some(0x5401), Some(0x7ffc)]);
        let e = one("ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0x94, 0x3a, 0x18), 0x7ffc) = 0");
        assert_eq!(e.args[1], Some(0xc018_943a));
        let e = one("unshare(CLONE_NEWUSER|CLONE_NEWNS) = 0");
        assert_eq!(e.args[0], Some(0x1002_0000));
    }

    #[test]
    fn old_mmap_on_i386_is_unknown() {
        let e = parse_strace(
            "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0) = 0",
            Arch::X86,
        )
        .unwrap()
        .events
        .remove(0);
        assert_eq!(e.args, [None; 6]);
    }

    #[test]
    fn extra_arguments_warn() {
        let tr = parse("syscall_0x1b4(1, 2, 3, 4, 5, 6, 7, 8) = 0");
        assert_eq!(tr.events[0].args[5], Some(6));
        assert!(matches!(
            tr.warnings[0].kind,
            WarningKind::ExtraArguments { count: 8, .. }
        ));
    }

    #[test]
    fn hostile_angles_are_linear_and_safe() {
        let s = format!("read({}) = 0", "<a".repeat(50_000));
        let tr = parse_strace(&s, Arch::X86_64).unwrap();
        assert_eq!(tr.events.len(), 1);
        let s = format!("read({}", "(".repeat(50_000));
        assert!(parse_strace(&format!("{s}\nclose(1) = 0"), Arch::X86_64).is_err());
    }
}
