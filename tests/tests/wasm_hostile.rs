//! Hostile inputs through the simulator: each ends with a clear error or a correct
//! answer inside the sandbox's limits, never a crash or a hang of the host.

use serde_json::{json, Value};
use syscage_simulator::{Limits, SimError, Simulator};
use syscage_tests::wasm::simulator;

fn check(sim: &Simulator, profile: Value, trace: Value) -> Result<Value, SimError> {
    sim.call(
        "check",
        &json!({"profiles": [profile], "traces": [trace], "target": {"kernel": "6.18"}}),
    )
}

fn guest_error(r: Result<Value, SimError>) -> syscage_simulator::GuestError {
    match r {
        Err(SimError::Guest(g)) => g,
        other => panic!("expected a guest error, got {other:?}"),
    }
}

/// A million conditional rules: libseccomp's rule tree for them costs more than any
/// sane budget (the native reference engine does not finish in minutes). The deadline
/// turns that into a clear error within seconds.
#[test]
fn a_million_rules_run_out_of_time_cleanly() {
    let names = ["read", "write", "openat", "close", "mmap"];
    let rules: Vec<String> = (0..1_000_000)
        .map(|i| {
            format!(
                r#"{{"names":["{}"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":{i},"op":"SCMP_CMP_EQ"}}]}}"#,
                names[i % names.len()]
            )
        })
        .collect();
    let profile = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{}]}}"#,
        rules.join(",")
    );
    drop(rules);
    let sim = Simulator::new(Limits {
        timeout: std::time::Duration::from_secs(5),
        ..Limits::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let r = check(
        &sim,
        json!({"source": "million.json", "text": profile}),
        json!({"text": "{\"syscall\":\"read\",\"args\":[7]}\n"}),
    );
    match r {
        Err(e @ (SimError::Timeout { .. } | SimError::OutOfMemory { .. })) => {
            let msg = e.to_string();
            assert!(msg.contains("raise --"), "{msg}");
        }
        Ok(v) => assert_eq!(v["events"][0]["action"], "SCMP_ACT_ALLOW"),
        Err(e) => panic!("{e}"),
    }
    eprintln!("a million rules: {:?}", started.elapsed());
}

/// A million rules the runtime merges (unconditional, repeated names): a correct
/// answer with the default limits, and a clear error with a small memory limit.
#[test]
fn a_million_plain_rules_answer_or_hit_the_memory_limit() {
    let profile = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{}]}}"#,
        vec![r#"{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}"#; 1_000_000].join(",")
    );
    let trace = json!({"text": "{\"syscall\":\"write\"}\n{\"syscall\":\"unshare\"}\n"});
    let r = check(simulator(), json!({"text": profile}), trace.clone()).unwrap();
    assert_eq!(r["events"][0]["action"], "SCMP_ACT_ALLOW");
    assert_eq!(r["events"][1]["action"], "SCMP_ACT_ERRNO");
    let small = Simulator::new(Limits {
        max_memory: 64 << 20,
        ..Limits::default()
    })
    .unwrap();
    let e = check(&small, json!({"text": profile}), trace).unwrap_err();
    assert!(
        matches!(e, SimError::OutOfMemory { limit } if limit == 64 << 20),
        "{e}"
    );
}

#[test]
fn deeply_nested_json_is_an_error_with_a_place() {
    let deep = "[".repeat(1_000_000) + &"]".repeat(1_000_000);
    // As a profile.
    let g = guest_error(check(
        simulator(),
        json!({"source": "deep.json", "text": deep}),
        json!({"text": ""}),
    ));
    assert_eq!(g.source.as_deref(), Some("deep.json"));
    assert!(g.message.contains("recursion limit"), "{}", g.message);
    // As a trace line.
    let line = format!("{{\"syscall\":\"read\",\"args\":{deep}}}\n");
    let g = guest_error(check(
        simulator(),
        json!({"builtin": "runtime/default"}),
        json!({"source": "deep.jsonl", "text": line}),
    ));
    assert_eq!((g.source.as_deref(), g.line), (Some("deep.jsonl"), Some(1)));
    // As the request itself.
    let r = simulator()
        .call_raw("check", deep.as_bytes(), |b| b.to_vec())
        .unwrap();
    let v: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["source"], "request");
}

#[test]
fn invalid_utf8_is_an_error_naming_line_and_column() {
    // In the request.
    let r = simulator()
        .call_raw("check", b"{\"profiles\":\n [\"\xc3\x28\"]}", |b| b.to_vec())
        .unwrap();
    let v: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!(
        (v["error"]["line"].clone(), v["error"]["column"].clone()),
        (json!(2), json!(4)),
        "{v}"
    );
    // In a trace and in a profile, sent as bytes.
    let g = guest_error(check(
        simulator(),
        json!({"builtin": "runtime/default"}),
        json!({"source": "t.strace", "bytes": b"read(3, \"\", 0) = 0\nwrite(1, \"\xff\", 1) = 1\n".to_vec()}),
    ));
    assert_eq!((g.line, g.column), (Some(2), Some(11)), "{g:?}");
    let g = guest_error(check(
        simulator(),
        json!({"source": "p.json", "bytes": b"{\"defaultAction\": \"\xfe\"}".to_vec()}),
        json!({"text": ""}),
    ));
    assert_eq!(
        (g.source.as_deref(), g.line, g.column),
        (Some("p.json"), Some(1), Some(20))
    );
}
