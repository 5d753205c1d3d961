//! Parity: the simulator in wasmtime answers exactly what the native reference engine
//! answers — every verdict, its provenance (`rule`, and the summary's explanations),
//! the possible verdicts of events with unknown arguments — for every bundled trace
//! against the builtins on several targets, and for random profiles (the property
//! corpus of `gen`) on boundary events. Errors must agree too.

use std::path::PathBuf;

use proptest::prelude::*;
use syscage_core::arch::Arch;
use syscage_core::engine::EngineKind;
use syscage_core::policy::Target;
use syscage_core::profile::{KernelVersion, Runtime};
use syscage_tests::wasm::{native, wasm, Spec};
use syscage_tests::{gen, sample_events};

fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a UTF-8 trace");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 9, "the bundled traces are missing");
    out
}

fn targets() -> Vec<Target> {
    let k = |major, minor| KernelVersion { major, minor };
    let mut crun = Target::new(Arch::Aarch64, k(5, 10));
    crun.runtime = Runtime::Crun;
    let mut no_caps = Target::new(Arch::X86_64, k(4, 14));
    no_caps.caps.clear();
    let mut admin = Target::new(Arch::X86_64, k(6, 18));
    admin.caps.insert("CAP_SYS_ADMIN".into());
    vec![Target::new(Arch::X86_64, k(6, 18)), crun, no_caps, admin]
}

#[test]
fn bundled_traces_agree_with_the_reference() {
    let stacks: Vec<Vec<Spec>> = vec![
        vec![Spec::Builtin("runtime/default")],
        vec![Spec::Builtin("unconfined")],
        vec![
            Spec::Builtin("runtime/default"),
            Spec::Text(
                "deny-net.json".into(),
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket","connect"],"action":"SCMP_ACT_ERRNO","errnoRet":13},{"names":["openat"],"action":"SCMP_ACT_LOG","args":[{"index":2,"value":64,"valueTwo":64,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#.into(),
            ),
        ],
        // A seccompiler JSON file with one filter (no name needed), stacked.
        vec![
            Spec::Builtin("runtime/default"),
            Spec::Text(
                "fc.json".into(),
                r#"{"vmm": {"mismatch_action": {"errno": 38}, "match_action": "allow", "filter": [{"syscall": "read"}, {"syscall": "openat", "args": [{"index": 2, "type": "qword", "op": {"masked_eq": 64}, "val": 0}]}, {"syscall": "mmap", "args": [{"index": 1, "type": "qword", "op": "le", "val": 4294967296}]}]}}"#.into(),
            ),
        ],
    ];
    // All the traces in one call, as `syscage check` does with several files.
    let traces = examples();
    let mut compared = 0;
    for target in targets() {
        for stack in &stacks {
            let want = native(stack, &traces, &target, EngineKind::Reference);
            let got = wasm(stack, &traces, &target, "reference");
            match (&want, &got) {
                (Ok(w), Ok(g)) => {
                    assert_eq!(w.events.len(), g.events.len(), "{target:?}");
                    for (i, (a, b)) in w.events.iter().zip(&g.events).enumerate() {
                        assert_eq!(a, b, "event {i} on {target:?}");
                    }
                    assert_eq!(w.summary, g.summary, "{target:?}");
                    compared += w.events.len();
                }
                (Err(w), Err(g)) => assert_eq!(w, g),
                _ => panic!("{target:?}: native {want:?}, wasm {got:?}"),
            }
        }
        // The bpf engine inside the sandbox agrees with the bpf engine outside (on a
        // small filter: with unknown arguments the bpf engine probes the program with
        // every constant it compares, which takes long for runtime/default in a
        // debug build).
        let small = &stacks[2][1..];
        let want = native(small, &traces, &target, EngineKind::Bpf);
        let got = wasm(small, &traces, &target, "bpf");
        assert_eq!(want, got, "{target:?} (bpf)");
    }
    assert!(compared > 1000, "only {compared} verdicts compared");
}

/// A JSON Lines trace of `events`, with the arguments `unknown` masks out as `null`.
fn jsonl(events: &[syscage_core::event::SeccompData], unknown: &[bool]) -> String {
    let mut out = String::new();
    for (i, d) in events.iter().enumerate() {
        let arch = Arch::from_audit(d.arch, d.nr)
            .map(|a| if a == Arch::X32 { Arch::X86_64 } else { a })
            .expect("a known arch");
        let args: Vec<String> = d
            .args
            .iter()
            .enumerate()
            .map(|(j, a)| {
                if unknown.get((i * 7 + j) % unknown.len().max(1)) == Some(&true) {
                    "null".into()
                } else {
                    a.to_string()
                }
            })
            .collect();
        out.push_str(&format!(
            "{{\"arch\":\"{}\",\"nr\":{},\"args\":[{}]}}\n",
            arch.name(),
            d.nr,
            args.join(",")
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_profiles_agree_with_the_reference(
        profiles in proptest::collection::vec(gen::profile(gen::Shape::default()), 1..=2),
        args in proptest::array::uniform6(gen::value()),
        unknown in proptest::collection::vec(proptest::bool::weighted(0.1), 1..16),
        crun in any::<bool>(),
    ) {
        let mut target = Target::new(Arch::X86_64, KernelVersion { major: 6, minor: 18 });
        if crun {
            target.runtime = Runtime::Crun;
        }
        let specs: Vec<Spec> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| Spec::Text(format!("p{i}.json"), p.clone()))
            .collect();
        // The events: boundary values of every condition, on every arch, for the
        // policies the native side resolves (none if a profile is rejected).
        let resolved: Vec<_> = profiles
            .iter()
            .filter_map(|p| {
                let prof = syscage_core::profile::parse("p", p, target.runtime).ok()?;
                syscage_core::policy::resolve(&prof, &target).ok()
            })
            .collect();
        let refs: Vec<_> = resolved.iter().collect();
        let trace = jsonl(&sample_events(&refs, args), &unknown);
        let traces = [("t.jsonl".to_string(), trace)];
        let want = native(&specs, &traces, &target, EngineKind::Reference);
        let got = wasm(&specs, &traces, &target, "reference");
        prop_assert_eq!(want, got);
    }
}
