//! Differential: for random policies, the compiled filter run by the kernel-exact
//! interpreter returns exactly what the reference evaluator returns, every compiled
//! filter passes the validator, and every argument-free ALLOW is kernel-cacheable.

use proptest::prelude::*;
use syscage_core::action::{describe_ret, Action};
use syscage_core::arch::Arch;
use syscage_core::bpf::{self, cache, compile::compile};
use syscage_core::eval::Evaluator;
use syscage_core::policy::{resolve, Origin, Policy, Target};
use syscage_core::profile::{parse, KernelVersion, Runtime};
use syscage_core::syscalls;
use syscage_tests::{gen, sample_events};

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

fn check(policy: &Policy, args: [u64; 6]) -> Result<(), String> {
    let prog = compile(policy).map_err(|e| e.to_string())?;
    let valid = bpf::validate(&prog).map_err(|e| format!("invalid program: {e}"))?;
    let reference = Evaluator::new(policy);
    for data in sample_events(&[policy], args) {
        let (want, origin) = reference.decide(&data);
        if *origin == Origin::Bypass {
            continue; // the kernel never runs the filter for these
        }
        let got = bpf::run(&valid, &data).ret;
        if got != want {
            return Err(format!(
                "{data:?}: reference {} (by {origin}), bpf {}",
                describe_ret(want),
                describe_ret(got)
            ));
        }
    }
    for part in &policy.arches {
        if !cache::has_cache(part.arch) {
            continue;
        }
        for (sys, name) in syscalls::all(part.arch) {
            if policy.fixed_action(part.arch, sys.nr) == Some(Action::ALLOW)
                && !cache::is_const_allow(&prog, part.arch.audit_arch(), sys.nr)
            {
                return Err(format!(
                    "{} {name}: argument-free ALLOW not cacheable",
                    part.arch
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compiled_filters_agree_with_the_reference(
        text in gen::profile(gen::Shape::default()),
        native in prop_oneof![Just(Arch::X86_64), Just(Arch::Aarch64), Just(Arch::X86)],
        crun in any::<bool>(),
        args in proptest::array::uniform6(gen::value()),
    ) {
        let rt = if crun { Runtime::Crun } else { Runtime::Runc };
        // A profile the runtime refuses (runc: NOTIFY on write or as the default) never
        // reaches a kernel.
        let Ok(p) = parse("random.json", &text, rt) else { return Ok(()) };
        let mut target = Target::new(native, K);
        target.runtime = rt;
        // Profiles libseccomp refuses (EEXIST) never reach a kernel: nothing to compare.
        let Ok(policy) = resolve(&p, &target) else { return Ok(()) };
        if !policy.unconfined {
            if let Err(e) = check(&policy, args) {
                prop_assert!(false, "{}\n{}", text, e);
            }
        }
    }
}

/// Regression cases found by the property above, kept as plain tests.
#[test]
fn regressions() {
    let cases: &[(&str, Arch)] = &[
        // x86 numbers with bit 30 set are not x32 numbers.
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
            Arch::X86,
        ),
        // An x32-only filter (native aarch64) takes 0x80000000..0xbfffffff on x86_64's
        // arch value: libseccomp's x32 check is `JGE 0x40000000`, not bit 30.
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X32"], "syscalls": []}"#,
            Arch::Aarch64,
        ),
        // Greater-than on a 64-bit datum whose low word is zero.
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967296, "op": "SCMP_CMP_GT"}]}]}"#,
            Arch::X86_64,
        ),
    ];
    for (text, arch) in cases {
        let p = parse("regression.json", text, Runtime::Runc).unwrap();
        let policy = resolve(&p, &Target::new(*arch, K)).unwrap();
        for args in [[0; 6], [1 << 32; 6], [u64::MAX; 6], [0x1_0000_0001; 6]] {
            check(&policy, args).unwrap();
        }
    }
}
