//! proptest strategies for random profiles biased toward the corners of seccomp
//! semantics: every action and operator, 64-bit values around 2^32, several
//! architectures, repeated and overlapping conditions, rules equal to the default.
//! What they draw from (names, actions, operators, architectures, `errnoRet` ranges,
//! [`Shape`]) is [`syscage_enforcer::random_profile`], which `syscage fuzz` shares.

use proptest::prelude::*;
use syscage_enforcer::random_profile::ERRNO_RETS;
pub use syscage_enforcer::random_profile::{Shape, ACTIONS, ARCHES, EXTRA_EVENT_NAMES, NAMES, OPS};

/// Argument values: small numbers, values around 2^32, and anything.
pub fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..8,
        Just(u32::MAX as u64),
        Just(1u64 << 32),
        (0u64..4).prop_map(|d| (1u64 << 32) + d - 2),
        any::<u64>(),
        (0u64..8).prop_map(|d| d << 32 | 3),
    ]
}

fn cond() -> impl Strategy<Value = String> {
    (0u32..3, 0..OPS.len(), value(), value()).prop_map(|(i, op, v, v2)| {
        format!(
            r#"{{"index": {i}, "value": {v}, "valueTwo": {v2}, "op": "{}"}}"#,
            OPS[op]
        )
    })
}

fn rule(shape: Shape) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0..NAMES.len(), 1..3),
        0..shape.actions.len(),
        proptest::option::of(prop_oneof![
            ERRNO_RETS[0].clone(),
            ERRNO_RETS[1].clone(),
            ERRNO_RETS[2].clone(),
        ]),
        proptest::collection::vec(cond(), 0..=shape.max_conds),
    )
        .prop_map(move |(names, a, errno, conds)| {
            let names: Vec<String> = names.iter().map(|n| format!("\"{}\"", NAMES[*n])).collect();
            let action = shape.actions[a];
            let errno = match (errno, action) {
                (Some(e), "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE") => format!(r#", "errnoRet": {e}"#),
                _ => String::new(),
            };
            format!(
                r#"{{"names": [{}], "action": "{action}"{errno}, "args": [{}]}}"#,
                names.join(","),
                conds.join(",")
            )
        })
}

/// An OCI profile as JSON text.
pub fn profile(shape: Shape) -> impl Strategy<Value = String> {
    (
        0..shape.actions.len(),
        proptest::collection::vec(0..shape.arches.len(), 0..3),
        proptest::collection::vec(rule(shape), 0..=shape.max_rules),
    )
        .prop_map(move |(d, arches, rules)| {
            let mut arches: Vec<String> =
                arches.iter().map(|a| format!("\"{}\"", shape.arches[*a])).collect();
            arches.dedup();
            format!(
                r#"{{"defaultAction": "{}", "listenerPath": "/run/l.sock", "architectures": [{}], "syscalls": [{}]}}"#,
                shape.actions[d],
                arches.join(","),
                rules.join(",")
            )
        })
}
