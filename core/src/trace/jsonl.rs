//! The JSON Lines trace format: one event object a line.
//!
//! ```text
//! {"arch":"x86_64","syscall":"openat","args":[4294967196,"0x7ffd0000",0],"pid":12,"ip":"0x7f00"}
//! {"nr":41,"args":["AF_INET","SOCK_STREAM",0]}
//! ```
//!
//! * `arch`: optional, anything [`Arch`]'s `FromStr` accepts (`x86_64`, `SCMP_ARCH_X86`,
//!   `amd64`, ...); defaults to the caller's arch.
//! * `syscall` (a name) and/or `nr` (a number); when both are given they must agree.
//!   x32: `"arch":"x32"` with the plain x32 number (the x32 bit is added) or a name, or
//!   `"arch":"x86_64"` with a number carrying 0x40000000 (the event becomes x32).
//!   A number with no name in the table is accepted (filters handle any number).
//! * `args`: at most 6; each a JSON integer (negative ones become the 64-bit two's
//!   complement, as the register holds them), a string holding an integer (`"0x1f"`,
//!   `"-100"`, `"0755"`) or a constant [`super::decode`] knows (`"AT_FDCWD"`,
//!   `"CLONE_NEWUSER|CLONE_NEWNS"`), or `null` for unknown. Missing ones are unknown.
//! * `pid` (u32), `ip` (alias `instruction_pointer`; integer or string): optional.
//!
//! * `event`: optional; absent or `"syscall"` for a syscall. Any other value is a record
//!   that is not a syscall, which the readers skip: `syscage record` writes process
//!   boundaries so (`{"event":"exec","pid":12,"tid":13,"path":"/usr/bin/ls"}`,
//!   `{"event":"exit","pid":12,"code":0}`, `{"event":"exit","pid":12,"signal":"SIGKILL"}`).
//!   A skipped line must still be a JSON object with a string `event`.
//!
//! Blank lines and lines starting with `#` are skipped; unknown fields are ignored
//! (`syscage record`'s `tid` and `ret` among them).
//! This module does not sniff formats ([`super::detect`]) or decode strace text. It
//! writes the lines `syscage record` makes ([`write_record`]): every syscall with its
//! arch, name (when the table numbers it back), number, six arguments as hex strings,
//! `pid`, `tid`, `ip` and, when known, `ret`.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::Value;

use super::decode;
use super::record::{signal_text, ExitKind, RecordKind, Recorded};
use super::{numbered_lines, Trace, TraceError};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::event::Event;
use crate::syscalls::{self, SyscallNr};

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(default, borrow)]
    event: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    arch: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    syscall: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    nr: Option<Value>,
    #[serde(default)]
    args: Option<Vec<Value>>,
    #[serde(default)]
    pid: Option<Value>,
    #[serde(default, alias = "instruction_pointer")]
    ip: Option<Value>,
}

/// Parses JSON Lines text. Stops at the first bad line.
pub fn parse_jsonl(text: &str, default_arch: Arch) -> Result<Trace, TraceError> {
    let mut trace = Trace::default();
    for (line, raw) in numbered_lines(text) {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(e) = parse_trace_line(t, line, default_arch)? {
            trace.events.push(e);
        }
    }
    Ok(trace)
}

/// One event line (already trimmed, not blank). A record that is not a syscall
/// (`"event":"exec"`) is an error here; trace readers use [`parse_trace_line`].
pub fn parse_line(text: &str, line: usize, default_arch: Arch) -> Result<Event, TraceError> {
    match parse_raw(text, line, default_arch)? {
        Ok(e) => Ok(e),
        Err(kind) => Err(TraceError::Field {
            line,
            field: "event".into(),
            message: format!("{kind:?} is not a syscall event"),
        }),
    }
}

/// One line of a trace (already trimmed, not blank): the event, or `None` for a record
/// that is not a syscall (an `"event"` other than `"syscall"`).
pub fn parse_trace_line(
    text: &str,
    line: usize,
    default_arch: Arch,
) -> Result<Option<Event>, TraceError> {
    Ok(parse_raw(text, line, default_arch)?.ok())
}

/// The event, or the `"event"` kind of a record that is not a syscall.
fn parse_raw(
    text: &str,
    line: usize,
    default_arch: Arch,
) -> Result<Result<Event, String>, TraceError> {
    let raw: RawEvent = serde_json::from_str(text).map_err(|e| TraceError::Json {
        line,
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    if let Some(kind) = raw.event.as_deref().filter(|k| *k != "syscall") {
        return Ok(Err(kind.to_string()));
    }
    let field = |field: &str, message: String| TraceError::Field {
        line,
        field: field.to_string(),
        message,
    };

    let mut arch = match &raw.arch {
        None => default_arch,
        Some(a) => a
            .parse::<Arch>()
            .map_err(|source| TraceError::UnknownArch { line, source })?,
    };

    let nr = match &raw.nr {
        None | Some(Value::Null) => None,
        Some(v) => Some(syscall_number(v).ok_or_else(|| {
            field(
                "nr",
                format!("expected a syscall number (an integer that fits in 32 bits), got {v}"),
            )
        })?),
    };
    // x32 as the kernel sees it: AUDIT_ARCH_X86_64 with the x32 bit in the number.
    let nr = match (arch, nr) {
        (Arch::X86_64, Some(n)) if n & X32_SYSCALL_BIT != 0 => {
            arch = Arch::X32;
            Some(n)
        }
        (Arch::X32, Some(n)) => Some(n | X32_SYSCALL_BIT),
        (_, n) => n,
    };

    let by_name = match &raw.syscall {
        None => None,
        Some(name) => Some(resolve_name(name, arch, nr, line)?),
    };
    let sys = match (by_name, nr) {
        (Some(s), Some(n)) if s.nr != n => {
            return Err(TraceError::NameNumberMismatch {
                line,
                name: raw.syscall.as_deref().unwrap_or_default().to_string(),
                arch,
                expected: s.nr,
                nr: n,
            })
        }
        (Some(s), _) => s,
        (None, Some(nr)) => SyscallNr { arch, nr },
        (None, None) => return Err(TraceError::MissingSyscall { line }),
    };

    let mut args = [None; 6];
    if let Some(list) = &raw.args {
        if list.len() > 6 {
            return Err(TraceError::TooManyArgs {
                line,
                count: list.len(),
            });
        }
        for (i, v) in list.iter().enumerate() {
            args[i] = match v {
                Value::Null => None,
                v => Some(arg_value(v, arch).ok_or_else(|| {
                    field(
                        &format!("args[{i}]"),
                        format!("expected an unsigned 64-bit integer, a negative 64-bit integer, a string holding one or a known constant, or null; got {v}"),
                    )
                })?),
            };
        }
    }

    let pid = match &raw.pid {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            integer(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| field("pid", format!("expected a 32-bit process id, got {v}")))?,
        ),
    };
    let instruction_pointer = match &raw.ip {
        None | Some(Value::Null) => 0,
        Some(v) => integer(v).ok_or_else(|| {
            field(
                "ip",
                format!("expected an unsigned 64-bit integer, got {v}"),
            )
        })?,
    };

    Ok(Ok(Event {
        sys,
        args,
        instruction_pointer,
        pid,
        // Kept only where the table would not give the name back (see `Event::name`).
        name: raw
            .syscall
            .filter(|s| sys.name() != Some(s.as_ref()))
            .map(|s| s.into_owned()),
        line,
    }))
}

/// Appends `r` as one line (with its `\n`) that [`parse_trace_line`] reads back: a
/// syscall as the event [`Recorded::event`] gives, an exec or exit as a record the
/// readers skip.
pub fn write_record(out: &mut String, r: &Recorded) {
    let _ = match &r.kind {
        RecordKind::Exec { path } => writeln!(
            out,
            r#"{{"event":"exec","pid":{},"tid":{},"path":{}}}"#,
            r.pid,
            r.tid,
            serde_json::to_string(path).unwrap_or_else(|_| "null".into())
        ),
        RecordKind::Exit {
            status: ExitKind::Code(c),
        } => writeln!(out, r#"{{"event":"exit","pid":{},"code":{c}}}"#, r.pid),
        RecordKind::Exit {
            status: ExitKind::Signal { signal, core },
        } => writeln!(
            out,
            r#"{{"event":"exit","pid":{},"signal":"{}"{}}}"#,
            r.pid,
            signal_text(*signal),
            if *core { r#","core":true"# } else { "" }
        ),
        RecordKind::Syscall => write_call(out, r),
    };
}

fn write_call(out: &mut String, r: &Recorded) -> std::fmt::Result {
    write!(out, r#"{{"arch":"{}","#, r.arch.name())?;
    if let Some(name) = r.name() {
        write!(out, r#""syscall":"{name}","#)?;
    }
    write!(out, r#""nr":{},"args":["#, r.nr)?;
    for (i, a) in r.args.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        write!(out, r#"{sep}"{a:#x}""#)?;
    }
    write!(
        out,
        r#"],"pid":{},"tid":{},"ip":"{:#x}""#,
        r.pid, r.tid, r.ip
    )?;
    if let Some(ret) = r.ret {
        write!(out, r#","ret":{ret}"#)?;
    }
    if r.trace_data != 0 {
        write!(out, r#","trace_data":{}"#, r.trace_data)?;
    }
    out.push_str("}\n");
    Ok(())
}

fn resolve_name(
    name: &str,
    arch: Arch,
    nr: Option<u32>,
    line: usize,
) -> Result<SyscallNr, TraceError> {
    if let Some(s) = syscalls::number_of(arch, name) {
        return Ok(s);
    }
    if !syscalls::has_table(arch) {
        // Without a table the name can only be carried along with an explicit number.
        return match nr {
            Some(nr) => Ok(SyscallNr { arch, nr }),
            None => Err(TraceError::NoTable {
                line,
                name: name.to_string(),
                arch,
            }),
        };
    }
    Err(TraceError::UnknownSyscall {
        line,
        name: name.to_string(),
        arch,
    })
}

/// serde_json appends " at line 1 column 17"; the caller reports the position itself.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A JSON integer (u64, or i64 as two's complement) or a string holding an integer.
fn integer(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|i| i as u64)),
        Value::String(s) => decode::parse_int(s.trim()),
        _ => None,
    }
}

/// A syscall number: 0..=u32::MAX, or a negative i32 as the kernel's `int nr` holds it.
fn syscall_number(v: &Value) -> Option<u32> {
    let n = integer(v)?;
    u32::try_from(n)
        .ok()
        .or_else(|| i32::try_from(n as i64).ok().map(|i| i as u32))
}

fn arg_value(v: &Value, arch: Arch) -> Option<u64> {
    match v {
        Value::String(s) => decode::decode_arg(s, arch),
        v => integer(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::SyscallNr;

    fn one(line: &str) -> Result<Event, TraceError> {
        parse_line(line, 1, Arch::X86_64)
    }

    #[test]
    fn name_and_number_forms() {
        let e = one(r#"{"arch":"x86_64","syscall":"openat","args":[1,2,3]}"#).unwrap();
        assert_eq!(
            e.sys,
            SyscallNr {
                arch: Arch::X86_64,
                nr: 257
            }
        );
        assert_eq!(e.args, [Some(1), Some(2), Some(3), None, None, None]);
        assert_eq!(e.syscall_name(), "openat");
        assert_eq!(e.name, None); // the table's own name is not repeated
        let e = one(r#"{"nr":257}"#).unwrap();
        assert_eq!(e.sys.nr, 257);
        assert_eq!(e.name, None);
        assert_eq!(e.args, [None; 6]);
        let e = one(r#"{"syscall":"openat","nr":257}"#).unwrap();
        assert_eq!(e.sys.nr, 257);
        let e = one(r#"{"nr":"0x101"}"#).unwrap();
        assert_eq!(e.sys.nr, 257);
        // A number without a name is still an event.
        assert_eq!(one(r#"{"nr":4000}"#).unwrap().sys.nr, 4000);
        assert_eq!(one(r#"{"nr":-1}"#).unwrap().sys.nr, u32::MAX);
    }

    #[test]
    fn arch_defaults_and_aliases() {
        let e = parse_line(r#"{"syscall":"openat"}"#, 1, Arch::Aarch64).unwrap();
        assert_eq!(
            e.sys,
            SyscallNr {
                arch: Arch::Aarch64,
                nr: 56
            }
        );
        assert_eq!(
            one(r#"{"arch":"SCMP_ARCH_X86","syscall":"socketcall"}"#)
                .unwrap()
                .sys
                .nr,
            102
        );
        assert_eq!(
            one(r#"{"arch":"i386","syscall":"socketcall"}"#)
                .unwrap()
                .arch(),
            Arch::X86
        );
        assert_eq!(
            one(r#"{"arch":"arm64","nr":1}"#).unwrap().arch(),
            Arch::Aarch64
        );
    }

    #[test]
    fn x32_three_ways() {
        let want = SyscallNr {
            arch: Arch::X32,
            nr: X32_SYSCALL_BIT | 514,
        };
        assert_eq!(one(r#"{"arch":"x32","nr":514}"#).unwrap().sys, want);
        assert_eq!(
            one(r#"{"arch":"x32","syscall":"ioctl"}"#).unwrap().sys,
            want
        );
        assert_eq!(
            one(r#"{"arch":"x86_64","nr":1073742338}"#).unwrap().sys,
            want
        );
        assert_eq!(one(r#"{"arch":"x32","nr":1073742338}"#).unwrap().sys, want);
        assert_eq!(
            one(r#"{"arch":"x86_64","syscall":"ioctl","nr":1073742338}"#)
                .unwrap()
                .sys,
            want
        );
    }

    #[test]
    fn argument_forms() {
        let e =
            one(r#"{"nr":0,"args":[18446744073709551615,-100,"0x10","-1","0755",null]}"#).unwrap();
        assert_eq!(
            e.args,
            [
                Some(u64::MAX),
                Some((-100i64) as u64),
                Some(16),
                Some(u64::MAX),
                Some(0o755),
                None
            ]
        );
        let e = one(
            r#"{"syscall":"socket","args":["AF_INET","SOCK_STREAM|SOCK_CLOEXEC","IPPROTO_TCP"]}"#,
        )
        .unwrap();
        assert_eq!(e.args[..3], [Some(2), Some(0o2000001), Some(6)]);
    }

    #[test]
    fn pid_ip_and_unknown_fields() {
        let e = one(r#"{"nr":0,"pid":42,"ip":"0x7f0000001000","extra":{"deep":[1,2]}}"#).unwrap();
        assert_eq!(e.pid, Some(42));
        assert_eq!(e.instruction_pointer, 0x7f00_0000_1000);
        let e = one(r#"{"nr":0,"instruction_pointer":5}"#).unwrap();
        assert_eq!(e.instruction_pointer, 5);
    }

    #[test]
    fn errors_name_line_and_field() {
        let t = "\n# comment\n{\"nr\":0}\n{\"nr\":0,\"args\":[1,2,1.5]}\n";
        let err = parse_jsonl(t, Arch::X86_64).unwrap_err();
        assert_eq!(
            err.to_string().split(';').next().unwrap(),
            "line 4: args[2]: expected an unsigned 64-bit integer, a negative 64-bit integer, a string holding one or a known constant, or null"
        );
        let err = parse_jsonl("{\"nr\":0}\n{\"nr\":0,,}", Arch::X86_64).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: invalid JSON at column 9: "),
            "{err}"
        );
        let err = one(r#"{"syscall":"fooat"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: unknown syscall \"fooat\" on x86_64"
        );
        let err = one(r#"{"syscall":"openat","nr":2}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: \"syscall\": \"openat\" is 257 on x86_64, but \"nr\" is 2"
        );
        let err = one(r#"{"nr":0,"args":[0,0,0,0,0,0,0]}"#).unwrap_err();
        assert_eq!(err, TraceError::TooManyArgs { line: 1, count: 7 });
        assert!(matches!(
            one(r#"{"arch":"vax","nr":1}"#),
            Err(TraceError::UnknownArch { line: 1, .. })
        ));
        assert_eq!(
            one(r#"{"args":[]}"#).unwrap_err(),
            TraceError::MissingSyscall { line: 1 }
        );
        assert!(one(r#"{"nr":4294967296}"#)
            .unwrap_err()
            .to_string()
            .starts_with("line 1: nr: "));
        assert!(one(r#"{"nr":1,"pid":-1}"#)
            .unwrap_err()
            .to_string()
            .starts_with("line 1: pid: "));
        assert!(one(r#"{"nr":1,"ip":[]}"#)
            .unwrap_err()
            .to_string()
            .starts_with("line 1: ip: "));
        assert!(one(r#"{"nr":1,"args":["\"/etc\""]}"#)
            .unwrap_err()
            .to_string()
            .starts_with("line 1: args[0]: "));
        assert!(matches!(one("[1]"), Err(TraceError::Json { .. })));
        assert!(matches!(
            one(r#"{"syscall":5}"#),
            Err(TraceError::Json { .. })
        ));
    }

    #[test]
    fn records_that_are_not_syscalls_are_skipped() {
        let t = concat!(
            "{\"event\":\"exec\",\"pid\":1,\"tid\":1,\"path\":\"/bin/true\"}\n",
            "{\"nr\":39,\"pid\":1}\n",
            "{\"event\":\"syscall\",\"nr\":39}\n",
            "{\"event\":\"exit\",\"pid\":1,\"signal\":\"SIGKILL\"}\n",
            "{\"event\":\"exit\",\"pid\":1,\"code\":0}\n",
            "{\"event\":\"something-new\"}\n",
        );
        let trace = parse_jsonl(t, Arch::X86_64).unwrap();
        let lines: Vec<usize> = trace.events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3]);
        // The streaming reader agrees.
        let mut r = crate::trace::TraceReader::new(Arch::X86_64);
        let mut out = Vec::new();
        r.feed(t.as_bytes(), &mut out).unwrap();
        r.finish(&mut out).unwrap();
        assert_eq!(out, trace.events);
        // One line asked for as an event says what it is instead.
        assert_eq!(
            one(r#"{"event":"exit","pid":1,"code":0}"#)
                .unwrap_err()
                .to_string(),
            "line 1: event: \"exit\" is not a syscall event"
        );
        // A skipped line is still JSON with a string "event".
        assert!(matches!(
            parse_jsonl("{\"event\":1}", Arch::X86_64),
            Err(TraceError::Json { line: 1, .. })
        ));
    }

    #[test]
    fn written_lines_read_back_exactly() {
        use crate::arch::X32_SYSCALL_BIT;
        let cases = [
            (Arch::X86_64, 257, Some(3)),
            (Arch::X86, 20, Some(42)),
            (Arch::X32, X32_SYSCALL_BIT | 39, Some(-38)),
            (Arch::X32, X32_SYSCALL_BIT | 16, None),
            (Arch::X86_64, 4000, Some(-1)),
        ];
        for (arch, nr, ret) in cases {
            let r = Recorded {
                ret,
                ..Recorded::syscall(
                    7,
                    8,
                    SyscallNr { arch, nr },
                    [0xffff_ff9c, 0x7ffd_1234_5678, 0, 1, u64::MAX, 1 << 63],
                    0x7f12_3456_789a,
                )
            };
            let mut line = String::new();
            write_record(&mut line, &r);
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            let e = parse_line(line.trim(), 1, Arch::X86_64).unwrap();
            assert_eq!(e.data_with(0), r.event().unwrap().data_with(0), "{line}");
            assert_eq!(e.pid, Some(7));
            assert_eq!(e.unknown_args().count(), 0);
            assert_eq!(Some(e), r.event().map(|e| Event { line: 1, ..e }));
        }
        let mut line = String::new();
        write_record(
            &mut line,
            &Recorded::syscall(
                1,
                1,
                SyscallNr {
                    arch: Arch::X86_64,
                    nr: 257,
                },
                [0xffff_ff9c, 0x10, 0x80000, 0, 0, 0],
                0x7f00,
            ),
        );
        assert_eq!(
            line,
            "{\"arch\":\"x86_64\",\"syscall\":\"openat\",\"nr\":257,\"args\":[\"0xffffff9c\",\
             \"0x10\",\"0x80000\",\"0x0\",\"0x0\",\"0x0\"],\"pid\":1,\"tid\":1,\"ip\":\"0x7f00\"}\n"
        );
        for (status, want) in [
            (ExitKind::Code(3), r#"{"event":"exit","pid":5,"code":3}"#),
            (
                ExitKind::Signal {
                    signal: 11,
                    core: true,
                },
                r#"{"event":"exit","pid":5,"signal":"SIGSEGV","core":true}"#,
            ),
            (
                ExitKind::Signal {
                    signal: 34,
                    core: false,
                },
                r#"{"event":"exit","pid":5,"signal":"SIG34"}"#,
            ),
        ] {
            let mut line = String::new();
            write_record(&mut line, &Recorded::exit(5, status));
            assert_eq!(line.trim_end(), want);
            assert_eq!(parse_trace_line(want, 1, Arch::X86_64), Ok(None));
        }
    }

    #[test]
    fn tables_missing_for_an_arch() {
        let err = one(r#"{"arch":"s390","syscall":"read"}"#).unwrap_err();
        assert!(matches!(err, TraceError::NoTable { .. }), "{err}");
        let e = one(r#"{"arch":"s390","syscall":"read","nr":3}"#).unwrap();
        assert_eq!(
            e.sys,
            SyscallNr {
                arch: Arch::S390,
                nr: 3
            }
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Ignored fields are skipped without recursing: the event just lacks a syscall.
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            one(&deep),
            Err(TraceError::MissingSyscall { line: 1 })
        ));
        // Inside "args", serde_json's recursion limit turns it into a JSON error.
        let deep = format!(
            "{{\"nr\":0,\"args\":[{}{}]}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(matches!(one(&deep), Err(TraceError::Json { .. })));
    }
}
