//! Cross-format tests: detection, UTF-8 errors, the bundled example traces, and
//! no-panic property tests on arbitrary and mutated input.

use super::*;
use crate::syscalls::SyscallNr;
use proptest::prelude::*;

/// The bundled traces (see `examples/`), with the number of events each must give.
///
/// The counts were taken with grep, independently of the parser: every line that
/// *starts* a call — an optional `PID ` / `[pid N] ` prefix, an optional timestamp, then
/// `name(` — is one event (an `<unfinished ...>` line starts one, its `<... resumed>`
/// line does not), i.e.
/// `grep -cE '^(\[pid +[0-9]+\] +|[0-9]+ +)?([0-9]+[:.][0-9:.]* +)?[a-z_0-9]+\(' FILE`.
/// The other lines are `+++ exited ... +++`, `--- SIG... ---`, `<... NAME resumed>`
/// halves, and (in pid-prefix.strace) two `, child_tidptr=...` continuations of clone
/// lines that strace's "Process N attached" message cut. None of the traces names a
/// syscall outside the x86_64 table.
pub(crate) const EXAMPLES: &[(&str, &str, usize)] = &[
    // strace -f -o curl-version.strace curl --version: 583 lines, 1 "+++ exited".
    (
        "curl-version.strace",
        include_str!("../../../examples/curl-version.strace"),
        582,
    ),
    // strace -f -o git-status.strace git status: 436 lines, 1 "+++ exited".
    (
        "git-status.strace",
        include_str!("../../../examples/git-status.strace"),
        435,
    ),
    // strace -f sh -c 'echo hi | cat' 2> pid-prefix.strace: [pid N] prefixes, 18
    // unfinished/resumed pairs, two clone lines cut by "strace: Process N attached".
    (
        "pid-prefix.strace",
        include_str!("../../../examples/pid-prefix.strace"),
        196,
    ),
    // strace -f -o python3-pass.strace /usr/bin/python3 -c pass
    (
        "python3-pass.strace",
        include_str!("../../../examples/python3-pass.strace"),
        361,
    ),
    // strace -f -X raw -o raw-id.strace id
    (
        "raw-id.strace",
        include_str!("../../../examples/raw-id.strace"),
        191,
    ),
    // strace -f -tt -T -y -o tt-T-y-pipeline.strace sh -c 'ls / | wc -l': 255 pairs.
    (
        "tt-T-y-pipeline.strace",
        include_str!("../../../examples/tt-T-y-pipeline.strace"),
        349,
    ),
    // strace -f -ttt -o ttt-date.strace date
    (
        "ttt-date.strace",
        include_str!("../../../examples/ttt-date.strace"),
        119,
    ),
    // strace -f -yy -o yy-curl.strace curl -s -m 2 http://127.0.0.1:1/
    (
        "yy-curl.strace",
        include_str!("../../../examples/yy-curl.strace"),
        495,
    ),
    // Hand-written; `grep -c '^{'` = 13.
    (
        "denied.jsonl",
        include_str!("../../../examples/denied.jsonl"),
        13,
    ),
];

#[test]
fn bundled_examples_parse_cleanly_with_the_expected_counts() {
    for (name, text, want) in EXAMPLES {
        let t = parse(text, Arch::X86_64).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.events.len(), *want, "{name}");
        assert!(t.warnings.is_empty(), "{name}: {:?}", t.warnings);
        let expected_format = if name.ends_with(".jsonl") {
            TraceFormat::Jsonl
        } else {
            TraceFormat::Strace
        };
        assert_eq!(detect(text), expected_format, "{name}");
        // Events come in line order.
        assert!(t.events.windows(2).all(|w| w[0].line < w[1].line), "{name}");
    }
}

#[test]
fn raw_and_symbolic_traces_agree_on_the_same_call() {
    // raw-id.strace and the symbolic traces both open ld.so.cache the same way.
    let raw = parse(EXAMPLES[4].1, Arch::X86_64).unwrap();
    let sym = parse(EXAMPLES[0].1, Arch::X86_64).unwrap();
    let first_openat = |t: &Trace| {
        t.events
            .iter()
            .find(|e| e.syscall_name() == "openat")
            .map(|e| (e.args[0], e.args[2]))
    };
    // -X raw prints AT_FDCWD as -100, which decodes to the same two's complement.
    assert_eq!(first_openat(&raw), first_openat(&sym));
    assert_eq!(
        first_openat(&sym),
        Some((Some((-100i64) as u64), Some(0o2000000)))
    );
}

#[test]
fn denied_jsonl_contents() {
    let t = parse(EXAMPLES[8].1, Arch::X86_64).unwrap();
    let names: Vec<String> = t.events.iter().map(|e| e.syscall_name()).collect();
    assert_eq!(
        names[..7],
        [
            "ptrace",
            "unshare",
            "personality",
            "personality",
            "socket",
            "socket",
            "clone"
        ]
    );
    assert_eq!(t.events[0].line, 3);
    assert_eq!(t.events[4].args[..3], [Some(2), Some(0o2000001), Some(6)]);
    assert_eq!(t.events[8].syscall_name(), "seccomp");
    assert_eq!(
        t.events[11].sys,
        SyscallNr {
            arch: Arch::X32,
            nr: 0x4000_0202
        }
    );
}

#[test]
fn the_traces_have_few_unknown_arguments_where_profiles_look() {
    // Every socket() family, clone() flags and ioctl() request in the bundled traces
    // decodes to a number.
    for (name, text, _) in EXAMPLES {
        let t = parse(text, Arch::X86_64).unwrap();
        for e in &t.events {
            let idx = match e.syscall_name().as_str() {
                "socket" | "ioctl" => 1,
                "clone" => 0,
                _ => continue,
            };
            assert!(
                e.args[..=idx].iter().all(Option::is_some),
                "{name} line {}: {:?}",
                e.line,
                e.args
            );
        }
    }
}

#[test]
fn detect_sniffs_the_first_meaningful_line() {
    assert_eq!(detect("\n\n# c\n  {\"nr\":0}"), TraceFormat::Jsonl);
    assert_eq!(detect("123 read(0) = 0"), TraceFormat::Strace);
    assert_eq!(detect(""), TraceFormat::Strace);
    assert_eq!(parse("", Arch::X86_64).unwrap(), Trace::default());
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let bytes = b"close(0) = 0\nwrite(1, \"\xff\", 1) = 1\n";
    assert_eq!(
        parse_bytes(bytes, Arch::X86_64).unwrap_err(),
        TraceError::InvalidUtf8 {
            line: 2,
            column: 11
        }
    );
    assert_eq!(
        parse_bytes(b"\xc3", Arch::X86_64).unwrap_err().to_string(),
        "line 1: invalid UTF-8 at column 1"
    );
    assert_eq!(
        parse_bytes(b"close(0) = 0\n", Arch::X86_64)
            .unwrap()
            .events
            .len(),
        1
    );
}

#[test]
fn errors_from_both_formats_report_their_line() {
    let e = parse("{\"nr\":0}\n{\"nr\":0}\n{bad\n", Arch::X86_64).unwrap_err();
    assert_eq!(e.line(), 3);
    let e = parse("close(0) = 0\n\n\nfoo bar\n", Arch::X86_64).unwrap_err();
    assert_eq!(e.line(), 4);
}

/// A line of a bundled example, damaged in one of several ways.
fn mutated_line() -> impl Strategy<Value = String> {
    let lines: Vec<&'static str> = EXAMPLES.iter().flat_map(|(_, t, _)| t.lines()).collect();
    (
        prop::sample::select(lines),
        0usize..6,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(vec![
            "\"",
            "\\",
            "(",
            ")",
            "<",
            ">",
            "[",
            "]",
            "{",
            "}",
            ",",
            "/*",
            "*/",
            "|",
            "=",
            " <unfinished ...>",
            "<... read resumed>",
            "é",
            "\u{0}",
            "\n",
            "0x",
            "-",
            "...",
        ]),
    )
        .prop_map(|(line, op, i, j, junk)| {
            let chars: Vec<char> = line.chars().collect();
            let a = if chars.is_empty() {
                0
            } else {
                i.index(chars.len() + 1)
            };
            let b = if chars.is_empty() {
                0
            } else {
                j.index(chars.len() + 1)
            };
            let (lo, hi) = (a.min(b), a.max(b));
            let s: String = match op {
                0 => chars[..a].iter().collect(),
                1 => chars[a..].iter().collect(),
                2 => chars[..lo].iter().chain(chars[hi..].iter()).collect(),
                3 => {
                    let mut v = chars.clone();
                    v.splice(a..a, junk.chars());
                    v.into_iter().collect()
                }
                4 => format!("{line}{line}"),
                _ => chars[lo..hi].iter().rev().collect(),
            };
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse(&s, Arch::X86_64);
        let _ = parse_strace(&s, Arch::X86);
        let _ = parse_jsonl(&s, Arch::Aarch64);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_bytes(&b, Arch::X86_64);
    }

    #[test]
    fn strace_like_text_never_panics(s in "[0-9a-z_ \\[\\](){}<>\"\\\\,|=.:/*+-]{0,120}") {
        let _ = parse_strace(&s, Arch::X86_64);
        let _ = parse_strace(&format!("{s}\nclose(0) = 0\n"), Arch::Ppc64le);
    }

    #[test]
    fn mutated_example_lines_never_panic(
        lines in prop::collection::vec(mutated_line(), 1..6),
        arch in prop::sample::select(Arch::ALL.to_vec()),
    ) {
        let text = lines.join("\n");
        let _ = parse(&text, arch);
        let _ = parse_strace(&text, arch);
        let _ = parse_jsonl(&text, arch);
        // Errors always point into the text.
        if let Err(e) = parse(&text, arch) {
            prop_assert!(e.line() >= 1 && e.line() <= text.split('\n').count());
        }
        if let Ok(t) = parse(&text, arch) {
            for w in &t.warnings {
                prop_assert!(w.line >= 1 && w.line <= text.split('\n').count());
            }
        }
    }
}
