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

/// seccompiler's actions as JSON (with data values around its and the kernel's limits).
pub fn seccompiler_action() -> impl Strategy<Value = String> {
    let data = || {
        prop_oneof![
            0u32..3,
            Just(38u32),
            Just(4095u32),
            Just(4096u32),
            Just(65537u32)
        ]
    };
    prop_oneof![
        Just("\"allow\"".to_string()),
        data().prop_map(|n| format!(r#"{{"errno": {n}}}"#)),
        Just("\"kill_thread\"".to_string()),
        Just("\"kill_process\"".to_string()),
        Just("\"log\"".to_string()),
        data().prop_map(|n| format!(r#"{{"trace": {n}}}"#)),
        Just("\"trap\"".to_string()),
    ]
}

fn seccompiler_cond() -> impl Strategy<Value = String> {
    (
        prop_oneof![0u8..3, 0u8..6],
        any::<bool>(),
        0usize..7,
        value(),
        value(),
    )
        .prop_map(|(i, qword, op, v, mask)| {
            let op = match op {
                0 => "\"eq\"".to_string(),
                1 => "\"ne\"".to_string(),
                2 => "\"lt\"".to_string(),
                3 => "\"le\"".to_string(),
                4 => "\"gt\"".to_string(),
                5 => "\"ge\"".to_string(),
                _ => format!(r#"{{"masked_eq": {mask}}}"#),
            };
            let ty = if qword { "qword" } else { "dword" };
            format!(r#"{{"index": {i}, "type": "{ty}", "op": {op}, "val": {v}}}"#)
        })
}

fn seccompiler_rule(max_conds: usize) -> impl Strategy<Value = String> {
    (
        0..NAMES.len(),
        proptest::option::weighted(
            0.7,
            proptest::collection::vec(seccompiler_cond(), 1..=max_conds),
        ),
    )
        .prop_map(|(n, args)| match args {
            None => format!(r#"{{"syscall": "{}"}}"#, NAMES[n]),
            Some(conds) => format!(
                r#"{{"syscall": "{}", "args": [{}]}}"#,
                NAMES[n],
                conds.join(",")
            ),
        })
}

/// A seccompiler JSON file with a filter named `main` (and sometimes a second one),
/// as text. `match_action` and `mismatch_action` may be equal: seccompiler refuses
/// that, and so must syscage.
pub fn seccompiler_file() -> impl Strategy<Value = String> {
    seccompiler_file_sized(10, 4)
}

/// [`seccompiler_file`] with up to `max_rules` rules of up to `max_conds` conditions.
pub fn seccompiler_file_sized(max_rules: usize, max_conds: usize) -> impl Strategy<Value = String> {
    let filter = move || {
        (
            seccompiler_action(),
            seccompiler_action(),
            proptest::collection::vec(seccompiler_rule(max_conds), 0..=max_rules),
        )
            .prop_map(|(mismatch, matched, rules)| {
                format!(
                    r#"{{"mismatch_action": {mismatch}, "match_action": {matched}, "filter": [{}]}}"#,
                    rules.join(",")
                )
            })
    };
    (filter(), proptest::option::weighted(0.2, filter())).prop_map(|(main, other)| match other {
        Some(o) => format!(r#"{{"other": {o}, "main": {main}}}"#),
        None => format!(r#"{{"main": {main}}}"#),
    })
}
