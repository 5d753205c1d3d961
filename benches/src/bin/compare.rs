//! Side-by-side comparison of compiled filters (issue 3): syscage's compiler against
//! libseccomp (optimize levels 1 and 2, built the way runc builds it) and seccompiler (the
//! allow-list part it can express), on `runtime/default` and a large hand-made profile.
//!
//! For each program: its length, and the mean/max number of instructions executed per
//! syscall, counted by syscage's kernel-exact interpreter, over
//!
//! * every syscall number of the x86_64 table (uniform, arguments zero),
//! * every syscall number of the x86 (i386) table (uniform, arguments zero),
//! * the events of the bundled real traces (`examples/*.strace`, unknown arguments zero).
//!
//! Every program is also checked against syscage's verdicts where it should agree.
//!
//! Run: `cargo run --release -p syscage-benches --bin compare`. Exits 1 when a target is
//! missed or a sanity check fails.

use std::collections::BTreeMap;
use std::process::ExitCode;

use syscage_benches::compare::{
    build_libseccomp, build_seccompiler, large_profile, runtime_default_profile, x86_64_only,
    Agreement, Mix, Row,
};
use syscage_core::arch::Arch;
use syscage_core::bpf;
use syscage_core::event::SeccompData;
use syscage_core::policy::{resolve, runtime_rules, Target};
use syscage_core::profile::{KernelVersion, Profile};

fn main() -> ExitCode {
    let target = Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    let mixes = Mix::all();
    for m in &mixes {
        println!("mix {}: {} samples ({})", m.name, m.events.len(), m.about);
    }
    let mut ok = true;
    let profiles: Vec<(&str, Profile)> = vec![
        ("runtime/default", runtime_default_profile()),
        ("large (benches/profiles/large.json)", large_profile()),
    ];
    for (label, profile) in &profiles {
        let policy = resolve(profile, &target).unwrap_or_else(|e| panic!("{label}: {e}"));
        let (arches, default, rules) = runtime_rules(profile, &target).expect("resolves");
        let ours = bpf::compile::compile(&policy).expect("syscage compiles");
        let ours = bpf::validate(&ours).expect("syscage's program validates");
        let all = |_: &SeccompData| true;
        let mut rows = vec![Row::new(
            "syscage",
            ours,
            &policy,
            Agreement::Exact,
            &mixes,
            &all,
        )];
        for level in [1, 2] {
            match build_libseccomp(&arches, default, &rules, level) {
                Ok(p) => rows.push(Row::new(
                    &format!("libseccomp opt{level}"),
                    p,
                    &policy,
                    Agreement::Libseccomp,
                    &mixes,
                    &all,
                )),
                Err(e) => {
                    println!("libseccomp opt{level}: {e}");
                    ok = false;
                }
            }
        }
        let (sc, left_out) = build_seccompiler(default, &rules);
        match sc {
            Ok((p, agreement)) => rows.push(Row::new(
                "seccompiler",
                p,
                &policy,
                agreement,
                &mixes,
                &x86_64_only,
            )),
            Err(e) => {
                println!("seccompiler: {e}");
                ok = false;
            }
        }
        println!();
        println!(
            "## {label}: {} rules after runc's conversion, filter arches {:?}",
            rules.len(),
            arches
        );
        println!();
        print!("| compiler | insns |");
        for m in &mixes {
            print!(" {} mean | max |", m.name);
        }
        println!(" agrees with syscage |");
        print!("|---|---:|");
        for _ in &mixes {
            print!("---:|---:|");
        }
        println!("---|");
        let mut means: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
        for r in &rows {
            print!("| {} | {} |", r.name, r.program.len());
            let mut ms = Vec::new();
            for e in &r.executed {
                match e {
                    Some(e) => {
                        print!(" {:.2} | {} |", e.mean, e.max);
                        ms.push(Some(e.mean));
                    }
                    None => {
                        print!(" n/a | n/a |");
                        ms.push(None);
                    }
                }
            }
            print!(" {} checked, {} skipped", r.checked, r.skipped);
            let bad = &r.disagreements;
            if !bad.is_empty() {
                print!(", {} DISAGREE (first: {})", bad.len(), bad[0]);
                ok = false;
            }
            println!(" |");
            means.insert(&r.name, ms);
        }
        println!();
        println!("seccompiler left out: {left_out}");
        // Targets: fewer executed instructions on average than libseccomp's binary tree
        // and than seccompiler, on every mix; never longer than libseccomp's program.
        let s = &means["syscage"];
        for other in ["libseccomp opt2", "seccompiler"] {
            let Some(o) = means.get(other) else { continue };
            for (i, m) in mixes.iter().enumerate() {
                if let (Some(a), Some(b)) = (s[i], o[i]) {
                    let verdict = if a < b { "met" } else { "MISSED" };
                    if a >= b {
                        ok = false;
                    }
                    println!(
                        "target: syscage {:.2} vs {other} {:.2} executed on {} ({:.2}x): {verdict}",
                        a,
                        b,
                        m.name,
                        b / a
                    );
                }
            }
        }
        let len = rows[0].program.len();
        for r in rows.iter().filter(|r| r.name.starts_with("libseccomp")) {
            let verdict = if len <= r.program.len() {
                "met"
            } else {
                ok = false;
                "MISSED"
            };
            println!(
                "target: syscage {len} insns vs {} {} insns: {verdict}",
                r.name,
                r.program.len()
            );
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
