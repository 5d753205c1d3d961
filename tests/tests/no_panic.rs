//! No input makes syscage panic: arbitrary bytes and mutated real profiles go through
//! the parser, resolution, the compiler and the evaluator; each step either answers or
//! returns an error. (The trace readers have their own such tests in core.)

use proptest::prelude::*;
use syscage_core::arch::Arch;
use syscage_core::bpf::compile::compile;
use syscage_core::builtin::RUNTIME_DEFAULT_JSON;
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;
use syscage_core::policy::{resolve, Target};
use syscage_core::profile::{parse, KernelVersion, Runtime};

fn seeds() -> Vec<String> {
    let mut v = vec![RUNTIME_DEFAULT_JSON.to_string()];
    if let Some(p) = syscage_tests::shared_profile("docker-default.json") {
        v.push(std::fs::read_to_string(p).unwrap());
    }
    v
}

/// Parses, resolves, compiles and evaluates; only panics are failures.
fn exercise(text: &str) {
    for rt in [Runtime::Runc, Runtime::Crun] {
        let Ok(p) = parse("fuzz.json", text, rt) else {
            continue;
        };
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let Ok(policy) = resolve(
                &p,
                &Target::new(
                    arch,
                    KernelVersion {
                        major: 6,
                        minor: 18,
                    },
                ),
            ) else {
                continue;
            };
            let _ = compile(&policy);
            let e = Evaluator::new(&policy);
            for nr in [0, 41, 59, 102, 0x4000_0000, u32::MAX] {
                let _ = e.decide(&SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    ..Default::default()
                });
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just("\"SCMP_ACT_TRACE\"".to_string()),
                Just("-1".to_string()),
                Just("18446744073709551615".to_string()),
                Just("{\"index\": 7}".to_string()),
                Just("null".to_string()),
                Just("[[[[[[".to_string()),
                "[ -~]{0,12}",
            ]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut b = text.as_bytes().to_vec();
    for m in muts {
        let len = b.len().max(1);
        match m {
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Flip(i, x) => {
                if !b.is_empty() {
                    let i = i % b.len();
                    b[i] ^= x;
                }
            }
            Mutation::Insert(i, s) => {
                let i = i % len.min(b.len() + 1);
                b.splice(i..i, s.bytes());
            }
            Mutation::Delete(i, n) => {
                if !b.is_empty() {
                    let i = i % b.len();
                    let end = (i + n).min(b.len());
                    b.drain(i..end);
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        exercise(&text);
    }

    #[test]
    fn mutated_real_profiles_never_panic(
        which in 0usize..2,
        muts in proptest::collection::vec(mutation(), 1..4),
    ) {
        let seeds = seeds();
        let text = apply(&seeds[which % seeds.len()], &muts);
        exercise(&text);
    }

    #[test]
    fn random_valid_profiles_never_panic(text in syscage_tests::gen::profile(syscage_tests::gen::Shape::default())) {
        exercise(&text);
    }
}
