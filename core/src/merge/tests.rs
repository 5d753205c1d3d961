use proptest::prelude::*;

use super::*;
use crate::arch::Arch;
use crate::policy::{self, Target};
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

fn oci(text: &str, name: &str) -> Profile {
    parse(name, text, Runtime::Runc).unwrap()
}

fn resolve(p: &Profile) -> Policy {
    policy::resolve(p, &target()).unwrap()
}

#[test]
fn replicas_merge_into_their_union() {
    let a = oci(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
                        {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
        "a.json",
    );
    let b = oci(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["write","openat"],"action":"SCMP_ACT_ALLOW"},
                        {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
                        {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
        "b.json",
    );
    let m = merge(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(m.profile.syscalls[0].names, ["openat", "read", "write"]);
    assert_eq!(
        m.profile.syscalls.len(),
        3,
        "the repeated socket rule is dropped"
    );
    assert!(m.resolved.is_empty());
    let conflicts = check(&[resolve(&a), resolve(&b)], &resolve(&m.profile));
    assert_eq!(conflicts, []);
}

#[test]
fn a_deny_rule_another_input_overrides_is_a_conflict() {
    let a = oci(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ERRNO"}]}"#,
        "a.json",
    );
    let b = oci(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#,
        "b.json",
    );
    let m = merge(&[a.clone(), b.clone()]).unwrap();
    let conflicts = check(&[resolve(&a), resolve(&b)], &resolve(&m.profile));
    assert!(!conflicts.is_empty());
    let text = conflicts[0].describe();
    assert!(text.contains("ptrace") && text.contains("b.json"), "{text}");

    let c = oci(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[]}"#,
        "c.json",
    );
    let e = merge(&[a, c]).unwrap_err();
    assert!(e.to_string().contains("c.json"), "{e}");
}

#[test]
fn same_conditions_different_actions_keep_the_more_permissive() {
    let a = oci(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]}]}"#,
        "a.json",
    );
    let b = oci(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]}]}"#,
        "b.json",
    );
    let m = merge(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(m.resolved.len(), 1, "{:?}", m.resolved);
    assert_eq!(m.profile.syscalls.len(), 1);
    assert_eq!(m.profile.syscalls[0].action, ActionKind::Allow);
    assert_eq!(check(&[resolve(&a), resolve(&b)], &resolve(&m.profile)), []);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Allow-list profiles (one default, allow rules with or without one EQ condition)
    /// always merge verdict-exactly: on every boundary event, the merged profile gives
    /// the most permissive of the inputs' verdicts.
    #[test]
    fn allow_lists_merge_exactly(
        inputs in proptest::collection::vec(
            proptest::collection::vec((0usize..10, proptest::option::of(0u64..4)), 0..8),
            1..4),
    ) {
        let pool = ["read", "write", "openat", "close", "socket", "ioctl", "prctl", "mmap", "brk", "futex"];
        let profiles: Vec<Profile> = inputs.iter().enumerate().map(|(i, rules)| {
            let rules: Vec<String> = rules.iter().map(|(n, v)| match v {
                None => format!(r#"{{"names":["{}"],"action":"SCMP_ACT_ALLOW"}}"#, pool[*n]),
                Some(v) => format!(
                    r#"{{"names":["{}"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":{v},"op":"SCMP_CMP_EQ"}}]}}"#,
                    pool[*n]),
            }).collect();
            oci(&format!(r#"{{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{}]}}"#,
                rules.join(",")), &format!("p{i}.json"))
        }).collect();
        let m = merge(&profiles).unwrap();
        let policies: Vec<Policy> = profiles.iter().map(resolve).collect();
        let conflicts = check(&policies, &resolve(&m.profile));
        prop_assert!(conflicts.is_empty(), "{}", conflicts[0].describe());
    }
}
