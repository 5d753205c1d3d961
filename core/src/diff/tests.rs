use proptest::prelude::*;

use super::*;
use crate::policy::{resolve, Target};
use crate::profile::{parse, KernelVersion, Runtime};

fn target() -> Target {
    Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    )
}

fn policy(text: &str, name: &str) -> Policy {
    resolve(&parse(name, text, Runtime::Runc).unwrap(), &target()).unwrap()
}

fn builtin(name: &str) -> Policy {
    resolve(
        &crate::builtin::lookup(name, Runtime::Runc)
            .unwrap()
            .unwrap(),
        &target(),
    )
    .unwrap()
}

#[test]
fn a_profile_equals_itself_and_a_condition_is_a_region() {
    let d = builtin("docker/default");
    let one = std::slice::from_ref(&d);
    assert_eq!(diff(one, one).changes, []);

    let a = policy(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#,
        "a.json",
    );
    let b = policy(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
            {"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
            {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_LE"}]}]}"#,
        "b.json",
    );
    let d = diff(&[a], &[b]);
    let text: Vec<String> = d.changes.iter().map(Change::describe).collect();
    // write: allowed in B, whatever the arguments.
    let w = d.changes.iter().find(|c| c.nrs.0 == 1).unwrap();
    assert_eq!(w.region, Region::All, "{text:?}");
    assert!(w.widens());
    // personality: 0..=7 newly allowed; 8 allowed in both; above 8 denied in both.
    let p: Vec<&Change> = d.changes.iter().filter(|c| c.nrs.0 == 135).collect();
    assert_eq!(p.len(), 1, "{text:?}");
    assert_eq!(
        p[0].region,
        Region::Arg {
            index: 0,
            lo: 0,
            hi: 7
        },
        "{text:?}"
    );
    assert!(!d.approximated);
    assert!(
        p[0].describe().contains("args[0] in 0x0..=0x7"),
        "{}",
        p[0].describe()
    );
}

#[test]
fn engines_defaults_differ_where_their_files_do() {
    // Docker 29.7 vs Podman 4.3 (containers/common 0.50.1), read from the two files:
    // Podman allows these unconditionally where Docker needs a capability or denies.
    let docker = builtin("docker/default@29.7");
    let podman = builtin("podman/default@4.3");
    let d = diff(&[docker], &[podman]);
    let changed = |name: &str| {
        let sys = crate::syscalls::number_of(Arch::X86_64, name).unwrap();
        d.changes
            .iter()
            .filter(|c| c.arch == Arch::X86_64 && c.nrs.0 <= sys.nr && sys.nr <= c.nrs.1)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(!d.changes.is_empty());
    // Same in both: read, write.
    assert!(changed("read").is_empty() && changed("write").is_empty());
    for c in &d.changes {
        // Every reported change is real at its witness.
        let w = c.witness();
        let a = Evaluator::new(&builtin("docker/default@29.7")).decide(&w).0;
        let b = Evaluator::new(&builtin("podman/default@4.3")).decide(&w).0;
        assert_ne!(a, b, "{}", c.describe());
    }
}

/// (name index, optional (arg, value, operator), action).
type RandomRule = (usize, Option<(u8, u64, u8)>, u8);

fn random_profile(rules: &[RandomRule], default: u8) -> String {
    let pool = [
        "read", "write", "openat", "socket", "ioctl", "prctl", "clone", "mmap",
    ];
    let action = |a: u8| {
        [
            "SCMP_ACT_ALLOW",
            "SCMP_ACT_ERRNO",
            "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_LOG",
        ][a as usize % 4]
    };
    let ops = ["SCMP_CMP_EQ", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_NE"];
    let rules: Vec<String> = rules
        .iter()
        .map(|(n, cond, a)| {
            let args = match cond {
                None => String::new(),
                Some((i, v, op)) => format!(
                    r#","args":[{{"index":{},"value":{v},"op":"{}"}}]"#,
                    i % 3,
                    ops[*op as usize % 4]
                ),
            };
            format!(
                r#"{{"names":["{}"],"action":"{}"{args}}}"#,
                pool[*n % 8],
                action(*a)
            )
        })
        .collect();
    format!(
        r#"{{"defaultAction":"{}","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{}]}}"#,
        action(default + 1),
        rules.join(",")
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `diff` is empty exactly when the reference verdicts agree on every boundary
    /// event, and every reported change really differs at a point inside it.
    #[test]
    fn diff_is_empty_iff_the_verdicts_agree(
        ra in proptest::collection::vec((0usize..8, proptest::option::of((0u8..3, 0u64..6, 0u8..4)), 0u8..4), 0..6),
        rb in proptest::collection::vec((0usize..8, proptest::option::of((0u8..3, 0u64..6, 0u8..4)), 0u8..4), 0..6),
        da in 0u8..2, same in any::<bool>(),
    ) {
        // Profiles libseccomp would refuse (same conditions, different actions) are not
        // filters: skip them.
        let resolved = |t: &str, n: &str| resolve(&parse(n, t, Runtime::Runc).unwrap(), &target()).ok();
        let Some(a) = resolved(&random_profile(&ra, da), "a.json") else { return Ok(()) };
        let b = if same { Some(a.clone()) } else { resolved(&random_profile(&rb, da), "b.json") };
        let Some(b) = b else { return Ok(()) };
        let d = diff(std::slice::from_ref(&a), std::slice::from_ref(&b));
        let differs = distinguish::first_difference(&a, &b).is_some();
        prop_assert_eq!(d.changes.is_empty(), !differs, "{:?}", d.changes.iter().map(Change::describe).collect::<Vec<_>>());
        for c in &d.changes {
            let w = c.witness();
            prop_assert_ne!(Evaluator::new(&a).decide(&w).0, Evaluator::new(&b).decide(&w).0, "{}", c.describe());
            if let Region::Arg { index, hi, .. } = c.region {
                // The region's last point differs too (the intervals are exact for
                // these single-word ordered tests).
                let mut e = w;
                e.args[index as usize] = hi;
                prop_assert_ne!(Evaluator::new(&a).decide(&e).0, Evaluator::new(&b).decide(&e).0, "{} at {:#x}", c.describe(), hi);
            }
        }
    }
}
