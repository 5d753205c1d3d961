//! Rule size against the real seccompiler: one `read` rule of n 64-bit `ne`
//! conditions (the two-way comparison that used to expand the rest of the rule), and
//! n rules of one such condition each; for each, seccompiler 0.5's program length and
//! compile time (`compile_from_json`) beside syscage's (parse, resolve, compile), in one
//! run, with where syscage's time goes. Times are the best of 5.
//!
//! Run: `cargo run --release -p syscage-benches --bin sweep` (BENCHMARKS.md).

use std::time::{Duration, Instant};

use seccompiler::TargetArch;
use syscage_core::arch::Arch;
use syscage_core::bpf::compile::compile;
use syscage_core::policy::{self, Target};
use syscage_core::profile::{parse_any, KernelVersion, Runtime};

fn best<T>(mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let v = f();
        fastest = fastest.min(t.elapsed());
        out = Some(v);
    }
    (out.expect("ran"), fastest)
}

fn file(rules: &[Vec<u64>]) -> String {
    let rules: Vec<String> = rules
        .iter()
        .map(|conds| {
            let c: Vec<String> = conds
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    format!(
                        r#"{{"index": {}, "type": "qword", "op": "ne", "val": {v}}}"#,
                        i % 6
                    )
                })
                .collect();
            format!(r#"{{"syscall": "read", "args": [{}]}}"#, c.join(","))
        })
        .collect();
    format!(
        r#"{{"main": {{"mismatch_action": "allow", "match_action": {{"errno": 1}}, "filter": [{}]}}}}"#,
        rules.join(",")
    )
}

fn row(what: &str, text: &str) {
    let (theirs, t_time) = best(|| {
        seccompiler::compile_from_json(text.as_bytes(), TargetArch::x86_64)
            .map(|m| m["main"].len())
            .map_err(|e| e.to_string())
    });
    let target = Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    let (ours, o_time) = best(|| {
        let p = parse_any("sweep.json", text, Runtime::Runc, Some("main"))
            .map_err(|e| e.to_string())?;
        let policy = policy::resolve_any(&p, &target).map_err(|e| e.to_string())?;
        compile(&policy).map(|p| p.len()).map_err(|e| e.to_string())
    });
    // Where syscage's time goes, when it compiles: parse (JSON, checks, locations),
    // resolve (the policy), compile (the program).
    let phases = match parse_any("sweep.json", text, Runtime::Runc, Some("main")) {
        Ok(p) => {
            let (_, tp) = best(|| parse_any("sweep.json", text, Runtime::Runc, Some("main")));
            match policy::resolve_any(&p, &target) {
                Ok(pol) => {
                    let (_, tr) = best(|| policy::resolve_any(&p, &target));
                    let (_, tc) = best(|| compile(&pol));
                    format!(
                        "{:.2} / {:.2} / {:.2} ms",
                        tp.as_secs_f64() * 1e3,
                        tr.as_secs_f64() * 1e3,
                        tc.as_secs_f64() * 1e3
                    )
                }
                Err(_) => "-".into(),
            }
        }
        Err(_) => "-".into(),
    };
    let show = |r: &Result<usize, String>| match r {
        Ok(n) => n.to_string(),
        Err(e) => format!("refused ({})", e.chars().take(40).collect::<String>()),
    };
    let ratio = match (&theirs, &ours) {
        (Ok(a), Ok(b)) => format!("{:.2}x", *b as f64 / *a as f64),
        _ => "-".into(),
    };
    println!(
        "| {what} | {} | {:.2} ms | {} | {:.2} ms | {ratio} | {:.1}x | {phases} |",
        show(&theirs),
        t_time.as_secs_f64() * 1e3,
        show(&ours),
        o_time.as_secs_f64() * 1e3,
        o_time.as_secs_f64() / t_time.as_secs_f64()
    );
}

fn main() {
    println!(
        "| x86_64 | seccompiler: instructions | time | syscage: instructions | time | length \
         ratio | time ratio | syscage parse / resolve / compile |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for n in [1usize, 2, 4, 8, 16, 17, 20, 32, 64, 256, 800] {
        let conds: Vec<u64> = (0..n as u64).map(|i| (i << 32) + 7).collect();
        row(&format!("one rule, {n} qword ne"), &file(&[conds]));
    }
    for n in [10usize, 100, 500, 900] {
        let rules: Vec<Vec<u64>> = (0..n as u64).map(|i| vec![(i << 32) + i]).collect();
        row(&format!("{n} rules, 1 qword ne each"), &file(&rules));
    }
}
