//! Fixed workloads for instruction counting (`valgrind --tool=callgrind`), where the
//! machine has no hardware counters and wall-clock figures are noisy:
//!
//! ```text
//! cargo build --release -p syscage-benches --bin probe
//! valgrind --tool=callgrind --toggle-collect='probe::work*' target/release/probe strace 2
//! ```
//!
//! Modes: `strace N` (every bundled `.strace` file parsed N times), `stracebig N` (the
//! `trace_parse` bench's input: the bundled traces repeated to about N MiB, parsed once), `interp20 N` (the
//! `interp` bench's 20-instruction filter over its 1024 events, N times),
//! `interpcompiled N` (compiled runtime/default over the bundled traces' events, N times).
//! Prints a checksum so the work cannot be optimised away; divide the collected
//! instruction count by the bytes or runs printed.

use std::hint::black_box;

use syscage_benches::bundled_traces;
use syscage_benches::interp::Workload;
use syscage_core::arch::Arch;
use syscage_core::trace;

const DUMP_ARCHES: &[Arch] = &[
    Arch::X86_64,
    Arch::X86,
    Arch::X32,
    Arch::Aarch64,
    Arch::Arm,
    Arch::Ppc64le,
    Arch::Mips,
    Arch::S390x,
];

#[inline(never)]
fn work_strace(texts: &[String], n: usize) -> usize {
    let mut acc = 0;
    for _ in 0..n {
        for t in texts {
            acc += trace::parse_strace(black_box(t), Arch::X86_64)
                .map(|t| t.events.len())
                .unwrap_or(0);
        }
    }
    acc
}

#[inline(never)]
fn work_interp(w: &Workload, n: usize) -> u32 {
    let mut acc = 0u32;
    for _ in 0..n {
        acc = acc.wrapping_add(w.run_once());
    }
    acc
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("strace");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    match mode {
        "strace" => {
            let texts: Vec<String> = bundled_traces()
                .into_iter()
                .filter(|(name, _)| name.ends_with(".strace"))
                .map(|(_, t)| t)
                .collect();
            let bytes: usize = texts.iter().map(String::len).sum::<usize>() * n;
            let events = work_strace(&texts, n);
            println!("strace: {bytes} bytes, {events} events");
        }
        // The `trace_parse` bench's input shape: the bundled traces repeated into one text
        // of about N MiB, parsed once.
        "stracebig" => {
            let parts: Vec<String> = bundled_traces()
                .into_iter()
                .filter(|(name, _)| name.ends_with(".strace"))
                .map(|(_, t)| t)
                .collect();
            let mut text = String::new();
            while text.len() < n << 20 {
                for p in &parts {
                    text.push_str(p);
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                }
            }
            let events = work_strace(std::slice::from_ref(&text), 1);
            println!("stracebig: {} bytes, {events} events", text.len());
        }
        "interp20" => {
            let w = Workload::binary_search_20();
            let acc = work_interp(&w, n);
            println!("interp20: {} runs, checksum {acc}", w.events.len() * n);
        }
        "interpcompiled" => {
            let w = Workload::runtime_default_compiled();
            let acc = work_interp(&w, n);
            println!(
                "interpcompiled: {} runs, checksum {acc}",
                w.events.len() * n
            );
        }
        // Golden outputs for refactoring checks: diff these before and after a change.
        "dumpargs" => {
            let corpus = std::fs::read_to_string(&args[2]).expect("corpus file");
            for line in corpus.lines() {
                let got: Vec<_> = DUMP_ARCHES
                    .iter()
                    .map(|a| trace::decode::decode_arg(line, *a))
                    .collect();
                println!("{line:?} {got:?} {:?}", trace::decode::parse_int(line));
            }
        }
        "dumptraces" => {
            for (name, text) in bundled_traces() {
                if !name.ends_with(".strace") {
                    continue;
                }
                let crlf = text.replace('\n', "\r\n");
                let mut variants = vec![text.clone(), crlf];
                for cut in [1, 7, 100, 1000, 5000] {
                    let mut at = text.len() * cut / 10007;
                    while !text.is_char_boundary(at) {
                        at += 1;
                    }
                    variants.push(text[..at].to_string());
                    let mut to = (at + at / 3 + 1).min(text.len());
                    while !text.is_char_boundary(to) {
                        to += 1;
                    }
                    variants.push(format!("{}{}", &text[..at], &text[to..]));
                }
                for (i, v) in variants.iter().enumerate() {
                    for a in DUMP_ARCHES {
                        println!("{name} {i} {a}: {:?}", trace::parse_strace(v, *a));
                    }
                }
            }
        }
        other => panic!("unknown mode {other}"),
    }
}
