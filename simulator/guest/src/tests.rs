//! The request handling, natively: every method's happy path and its errors.

use serde_json::{json, Value};

use crate::call;

fn ask(method: &str, request: &Value) -> Value {
    let out = call(method.as_bytes(), request.to_string().as_bytes());
    serde_json::from_slice(&out).expect("the response is JSON")
}

fn ok(method: &str, request: &Value) -> Value {
    let r = ask(method, request);
    assert_eq!(r["ok"], json!(true), "{r}");
    r["result"].clone()
}

fn err(method: &str, request: &Value) -> Value {
    let r = ask(method, request);
    assert_eq!(r["ok"], json!(false), "{r}");
    r["error"].clone()
}

const TRACE: &str = concat!(
    "{\"arch\":\"x86_64\",\"syscall\":\"read\",\"args\":[0,0,0]}\n",
    "{\"arch\":\"x86_64\",\"syscall\":\"unshare\",\"args\":[268566528]}\n",
);

const PROFILE: &str = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
  {"names":["read"],"action":"SCMP_ACT_ALLOW"},
  {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
  {"names":["no_such_call"],"action":"SCMP_ACT_ALLOW"}]}"#;

#[test]
fn version_names_the_abi() {
    let v = ok("version", &json!({}));
    assert_eq!(v["abi"], json!(crate::ABI_VERSION));
    assert!(v["methods"].as_array().unwrap().contains(&json!("check")));
}

#[test]
fn check_returns_events_counts_and_summary() {
    let r = ok(
        "check",
        &json!({
            "profiles": [{"builtin": "runtime/default"}],
            "traces": [{"source": "t.jsonl", "text": TRACE}],
            "target": {"arch": "x86_64", "kernel": "6.8"},
        }),
    );
    assert_eq!(r["engine"], "reference");
    assert_eq!(r["counts"]["events"], 2);
    assert_eq!(r["counts"]["not_permitted"], 1);
    assert_eq!(r["events"][1]["syscall"], "unshare");
    assert_eq!(r["events"][1]["action"], "SCMP_ACT_ERRNO");
    assert_eq!(
        r["events"][0]["rule"].as_str().unwrap().chars().next(),
        Some('/')
    );
    assert!(r["summary"].as_str().unwrap().starts_with("2 events\n"));
    assert_eq!(r["arches"], json!(["x86_64", "x86", "x32"]));
}

#[test]
fn inputs_can_be_ranges_of_the_data_buffer() {
    use crate::call_with_data;
    let ask = |request: &Value, data: &[u8]| -> Value {
        let out = call_with_data(b"check", request.to_string().as_bytes(), data);
        serde_json::from_slice(&out).expect("the response is JSON")
    };
    // Two traces and a profile in one buffer, the same answer as with "text".
    let data = [TRACE.as_bytes(), PROFILE.as_bytes(), TRACE.as_bytes()].concat();
    let (t, p) = (TRACE.len(), PROFILE.len());
    let r = ask(
        &json!({
            "profiles": [{"source": "p.json", "data": {"offset": t, "length": p}}],
            "traces": [{"source": "a.jsonl", "data": {"offset": 0, "length": t}},
                       {"source": "b.jsonl", "data": {"offset": t + p, "length": t}}],
        }),
        &data,
    );
    assert_eq!(r["ok"], json!(true), "{r}");
    let text = ok(
        "check",
        &json!({
            "profiles": [{"source": "p.json", "text": PROFILE}],
            "traces": [{"source": "a.jsonl", "text": TRACE}, {"source": "b.jsonl", "text": TRACE}],
        }),
    );
    assert_eq!(r["result"], text);
    assert_eq!(r["result"]["counts"]["events"], 4);
    // Out of range, on a call without a buffer, or with another content: errors.
    for (range, data) in [
        (json!({"offset": 1, "length": t}), TRACE.as_bytes()),
        (json!({"offset": u64::MAX, "length": 2}), TRACE.as_bytes()),
    ] {
        let r = ask(
            &json!({"profiles": [{"builtin": "runtime/default"}],
                    "traces": [{"data": range}]}),
            data,
        );
        assert_eq!(r["error"]["pointer"], "/traces/0/data", "{r}");
    }
    let e = err(
        "check",
        &json!({"profiles": [{"builtin": "runtime/default"}],
                "traces": [{"data": {"offset": 0, "length": 0}}]}),
    );
    assert_eq!(e["pointer"], "/traces/0/data", "{e}");
    let r = ask(
        &json!({"profiles": [{"builtin": "runtime/default"}],
                "traces": [{"text": "", "data": {"offset": 0, "length": 0}}]}),
        b"",
    );
    assert_eq!(r["ok"], json!(false), "{r}");
}

#[test]
fn check_without_events_and_with_the_bpf_engine_agrees() {
    let req = |engine: &str| {
        json!({
            "profiles": [{"source": "p.json", "text": PROFILE}],
            "traces": [{"text": TRACE}],
            "engine": engine,
            "events": false,
            "stats": true,
        })
    };
    let (a, b) = (ok("check", &req("reference")), ok("check", &req("bpf")));
    assert!(a.get("events").is_none());
    assert!(a.get("stats").is_none());
    assert_eq!(b["stats"][0]["arches"][0]["arch"], "x86_64");
    assert_eq!(a["counts"], b["counts"]);
    assert_eq!(a["warnings"][0]["source"], "p.json");
}

#[test]
fn raw_programs_come_as_base64_bytes_or_listings() {
    let compiled = ok(
        "compile",
        &json!({"profile": {"source": "p.json", "text": PROFILE}}),
    );
    let b64 = compiled["base64"].as_str().unwrap();
    assert_eq!(
        compiled["length"],
        compiled["instructions"].as_array().unwrap().len()
    );
    let bytes = crate::base64::decode(b64).unwrap();
    let listing = compiled["disasm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    for input in [
        json!({"base64": b64}),
        json!({"bytes": bytes}),
        json!({"text": listing}),
    ] {
        let r = ok(
            "check",
            &json!({"bpf": [input], "traces": [{"text": TRACE}]}),
        );
        assert_eq!(r["engine"], "bpf");
        assert_eq!(r["events"][0]["action"], "SCMP_ACT_ALLOW");
        assert_eq!(r["events"][1]["action"], "SCMP_ACT_ERRNO");
        assert_eq!(r["events"][1]["rule"], "bpf");
    }
    let e = err(
        "check",
        &json!({"bpf": [{"bytes": [1, 2, 3]}], "traces": []}),
    );
    assert!(
        e["message"].as_str().unwrap().contains("multiple of 8"),
        "{e}"
    );
}

#[test]
fn disasm_marks_the_executed_path() {
    let r = ok(
        "disasm",
        &json!({
            "profile": {"text": PROFILE},
            "event": {"syscall": "personality", "args": [8]},
        }),
    );
    assert_eq!(r["run"]["action"], "SCMP_ACT_ALLOW");
    let path = r["run"]["path"].as_array().unwrap();
    assert_eq!(r["run"]["executed"], path.len());
    let lines = r["lines"].as_array().unwrap();
    let marked = lines
        .iter()
        .filter(|l| l["executed"] == json!(true))
        .count();
    assert_eq!(marked, path.len());
    assert_eq!(lines[0]["index"], 0);
    let e = err(
        "disasm",
        &json!({"profile": {"text": PROFILE}, "event": {"syscall": "nope"}}),
    );
    assert_eq!(e["pointer"], "/event");
}

#[test]
fn resolve_explain_and_lint() {
    let req = json!({"profile": {"source": "p.json", "text": PROFILE}, "syscall": "personality"});
    let r = ok("resolve", &req);
    let x86_64 = &r["arches"][0];
    assert_eq!(x86_64["arch"], "x86_64");
    assert_eq!(x86_64["syscalls"].as_array().unwrap().len(), 1);
    let tree = &x86_64["syscalls"][0]["tree"];
    assert!(tree.is_array(), "{r}");
    assert_eq!(r["default"]["action"], "SCMP_ACT_ERRNO");
    let text = ok("explain", &req)["text"].as_str().unwrap().to_string();
    assert!(text.contains("personality ("), "{text}");
    assert!(text.contains("if args[0]"), "{text}");
    let w = ok("lint", &req);
    let msg = w["warnings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("no_such_call"), "{msg}");
    assert_eq!(w["warnings"][0]["source"], "p.json");
}

#[test]
fn profile_errors_carry_their_location() {
    let bad = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQUAL"}]}]}"#;
    let e = err(
        "lint",
        &json!({"profile": {"source": "p.json", "text": bad}}),
    );
    assert_eq!(e["source"], "p.json");
    assert_eq!(e["pointer"], "/syscalls/0/args/0/op");
    assert_eq!(e["line"], 1);
    assert!(e["column"].as_u64().unwrap() > 1);
}

#[test]
fn hostile_requests_are_errors_not_panics() {
    // Not UTF-8.
    let r: Value = serde_json::from_slice(&call(b"check", b"{\"a\":\"\xff\"}")).unwrap();
    assert_eq!(r["error"]["column"], 7, "{r}");
    // Deeply nested.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r: Value = serde_json::from_slice(&call(b"check", deep.as_bytes())).unwrap();
    assert_eq!(r["ok"], false, "{r}");
    let deep_event = format!(
        r#"{{"bpf":{{"text":"ret #0"}},"event":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r: Value = serde_json::from_slice(&call(b"disasm", deep_event.as_bytes())).unwrap();
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("recursion"),
        "{r}"
    );
    let deep_field = format!(r#"{{"profiles":[{{"text":"{}"}}]}}"#, "[".repeat(10_000));
    let r: Value = serde_json::from_slice(&call(b"lint", deep_field.as_bytes())).unwrap();
    assert_eq!(r["ok"], false);
    // A deeply nested profile.
    let r = ask("lint", &json!({"profile": {"text": "[".repeat(100_000)}}));
    assert_eq!(r["ok"], false, "{r}");
    // Unknown method, unknown field, missing input, not base64, non-UTF-8 profile.
    assert!(err("nope", &json!({}))["message"]
        .as_str()
        .unwrap()
        .contains("unknown method"));
    let e = err("check", &json!({"profile": []}));
    assert!(
        e["message"].as_str().unwrap().contains("unknown field"),
        "{e}"
    );
    err("check", &json!({"traces": []}));
    let e = err("lint", &json!({"profile": {"base64": "!!"}}));
    assert_eq!(e["pointer"], "/profile/base64");
    let e = err(
        "lint",
        &json!({"profile": {"source": "x", "bytes": [123, 10, 255]}}),
    );
    assert_eq!(
        (e["line"].clone(), e["column"].clone()),
        (json!(2), json!(1))
    );
    let e = err("check", &json!({"profiles": [{"builtin": "nope"}]}));
    assert_eq!(e["pointer"], "/profiles/0/builtin");
    let e = err(
        "check",
        &json!({"profiles": [{"builtin": "unconfined"}], "target": {"arch": "vax"}}),
    );
    assert_eq!(e["pointer"], "/target/arch");
    let e = err(
        "check",
        &json!({"profiles": [{"builtin": "unconfined"}], "traces": [{"source": "t", "bytes": [b'{', 0xff]}]}),
    );
    assert_eq!(e["source"], "t");
}

const SECCOMPILER: &str = r#"{
  "a": {"mismatch_action": {"errno": 1}, "match_action": "allow",
        "filter": [{"syscall": "read"}]},
  "b": {"mismatch_action": "allow", "match_action": "trap",
        "filter": [{"syscall": "unshare", "args": [{"index": 0, "type": "dword", "op": {"masked_eq": 268435456}, "val": 268435456}]}]}
}"#;

#[test]
fn seccompiler_profiles_take_a_filter_name() {
    let check = |profile: Value| {
        ask(
            "check",
            &json!({
                "profiles": [profile],
                "traces": [{"source": "t.jsonl", "text": TRACE}],
                "target": {"arch": "x86_64", "kernel": "6.8"},
            }),
        )
    };
    let r = check(json!({"source": "fc.json", "text": SECCOMPILER, "filter": "b"}));
    assert_eq!(r["ok"], json!(true), "{r}");
    let r = &r["result"];
    assert_eq!(r["events"][0]["action"], "SCMP_ACT_ALLOW");
    assert_eq!(r["events"][0]["rule"], "/b/mismatch_action");
    assert_eq!(r["events"][1]["action"], "SCMP_ACT_TRAP");
    assert_eq!(r["events"][1]["rule"], "/b/filter/0");
    let e = check(json!({"source": "fc.json", "text": SECCOMPILER}));
    assert_eq!(e["ok"], json!(false), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 filters (a, b)"),
        "{e}"
    );
    let e = check(json!({"builtin": "runtime/default", "filter": "a"}));
    assert_eq!(e["ok"], json!(false), "{e}");
    assert_eq!(e["error"]["pointer"], "/profiles/0/filter", "{e}");
}

/// `check_begin` / `check_feed` / `check_end` with the data buffer cut into chunks.
fn streamed(head: &Value, traces: &[(&str, &[u8])], sizes: &[usize]) -> Value {
    let begun = ok("check_begin", head);
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let mut take = |r: &Value| {
        events.extend(r["events"].as_array().cloned().unwrap_or_default());
        warnings.extend(r["trace_warnings"].as_array().cloned().unwrap_or_default());
    };
    let mut k = 0;
    for (source, bytes) in traces {
        let mut at = 0;
        loop {
            let n = sizes[k % sizes.len()].max(1);
            k += 1;
            let end = (at + n).min(bytes.len());
            let last = end == bytes.len();
            let req = json!({"source": source, "last": last});
            let out =
                crate::call_with_data(b"check_feed", req.to_string().as_bytes(), &bytes[at..end]);
            let r: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(r["ok"], json!(true), "{r}");
            take(&r["result"]);
            at = end;
            if last {
                break;
            }
        }
    }
    let end = ok("check_end", &json!({}));
    take(&end);
    let mut r = begun;
    r["events"] = Value::Array(events);
    r["trace_warnings"] = Value::Array(warnings);
    r["counts"] = end["counts"].clone();
    r["summary"] = end["summary"].clone();
    r
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

    /// The streamed check answers exactly what `check` answers, whatever the chunks.
    #[test]
    fn streamed_check_equals_check(sizes in proptest::collection::vec(1usize..5000, 1..8)) {
        let strace = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/curl-version.strace")).unwrap();
        let jsonl = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/denied.jsonl")).unwrap();
        // A cut-off last call, too.
        let cut = b"1  getpid() = 1\n1  clone(child_stack=NULL, flags=CLONE_NEWUSER".to_vec();
        let head = json!({"profiles": [{"builtin": "runtime/default"}], "target": {"arch": "x86_64", "kernel": "6.18"}});
        let whole = ok("check", &json!({
            "profiles": [{"builtin": "runtime/default"}],
            "target": {"arch": "x86_64", "kernel": "6.18"},
            "traces": [
                {"source": "curl.strace", "text": String::from_utf8(strace.clone()).unwrap()},
                {"source": "denied.jsonl", "text": String::from_utf8(jsonl.clone()).unwrap()},
                {"source": "cut.strace", "text": String::from_utf8(cut.clone()).unwrap()},
            ],
        }));
        let chunked = streamed(&head, &[("curl.strace", &strace), ("denied.jsonl", &jsonl), ("cut.strace", &cut)], &sizes);
        proptest::prop_assert_eq!(&whole, &chunked);
    }
}

#[test]
fn streaming_errors_name_the_trace_and_end_the_check() {
    ok(
        "check_begin",
        &json!({"profiles": [{"builtin": "runtime/default"}]}),
    );
    let out = crate::call_with_data(
        b"check_feed",
        br#"{"source": "a.strace"}"#,
        b"1  getpid() = 1\n1  get",
    );
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["ok"], json!(true), "{r}");
    // Another trace before the first said "last".
    let out = crate::call_with_data(b"check_feed", br#"{"source": "b.strace"}"#, b"");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("still open"),
        "{r}"
    );
    // The check is over.
    let e = err("check_end", &json!({}));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no check is in progress"),
        "{e}"
    );
    // A syntax error names the trace and line.
    ok(
        "check_begin",
        &json!({"profiles": [{"builtin": "runtime/default"}]}),
    );
    let out = crate::call_with_data(
        b"check_feed",
        br#"{"source": "c.strace", "last": true}"#,
        b"1  getpid() = 1\nhello world\n",
    );
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["error"]["source"], "c.strace", "{r}");
    assert_eq!(r["error"]["line"], 2, "{r}");
    // check_begin takes no traces.
    let e = err(
        "check_begin",
        &json!({"profiles": [{"builtin": "runtime/default"}], "traces": [{"text": ""}]}),
    );
    assert!(e["message"].as_str().unwrap().contains("check_feed"), "{e}");
}
