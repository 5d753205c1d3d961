//! The host against the real guest and against hand-assembled modules that break the
//! ABI in each way a guest can: every failure is a `SimError`, never a panic or a hang.

use serde_json::json;
use syscage_simulator::{cache, Limits, SimError, Simulator, GUEST_WASM};

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(mut n: i64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        let done = (n == 0 && b & 0x40 == 0) || (n == -1 && b & 0x40 != 0);
        out.push(if done { b } else { b | 0x80 });
        if done {
            return;
        }
    }
}

fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len() as u64, out);
    out.extend_from_slice(body);
}

fn name(s: &str, out: &mut Vec<u8>) {
    leb(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// A module with the ABI's exports: `abi_version` returns `version`, `alloc` returns
/// 1024, `free` does nothing, and `call`'s body is `call_body` (instructions, without
/// the final `end`). One page of memory.
fn module(version: i32, call_body: &[u8]) -> Vec<u8> {
    const I32: u8 = 0x7f;
    const I64: u8 = 0x7e;
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // Types: 0 () -> i32, 1 (i32) -> i32, 2 (i32 i32) -> (), 3 (i32 x4) -> i64.
    let types: [(&[u8], &[u8]); 4] = [
        (&[], &[I32]),
        (&[I32], &[I32]),
        (&[I32, I32], &[]),
        (&[I32, I32, I32, I32], &[I64]),
    ];
    let mut body = Vec::new();
    leb(types.len() as u64, &mut body);
    for (params, results) in types {
        body.push(0x60);
        leb(params.len() as u64, &mut body);
        body.extend_from_slice(params);
        leb(results.len() as u64, &mut body);
        body.extend_from_slice(results);
    }
    section(1, &body, &mut m);
    section(3, &[4, 0, 1, 2, 3], &mut m);
    section(5, &[1, 0, 1], &mut m); // one memory, min 1 page
    let mut body = vec![5];
    for (i, n) in [
        "syscage_abi_version",
        "syscage_alloc",
        "syscage_free",
        "syscage_call",
    ]
    .iter()
    .enumerate()
    {
        name(n, &mut body);
        body.extend_from_slice(&[0, i as u8]);
    }
    name("memory", &mut body);
    body.extend_from_slice(&[2, 0]);
    section(7, &body, &mut m);
    let mut version_body = vec![0x41];
    sleb(i64::from(version), &mut version_body);
    let funcs: [Vec<u8>; 4] = [
        version_body,
        vec![0x41, 0x80, 0x08], // i32.const 1024
        vec![],
        call_body.to_vec(),
    ];
    let mut body = Vec::new();
    leb(funcs.len() as u64, &mut body);
    for f in funcs {
        let mut code = vec![0]; // no locals
        code.extend_from_slice(&f);
        code.push(0x0b);
        leb(code.len() as u64, &mut body);
        body.extend_from_slice(&code);
    }
    section(10, &body, &mut m);
    m
}

fn returns(packed: i64) -> Vec<u8> {
    let mut b = vec![0x42];
    sleb(packed, &mut b);
    b
}

fn run(wasm: &[u8], limits: Limits) -> Result<serde_json::Value, SimError> {
    Simulator::from_wasm(wasm, limits, None)?.call("version", &json!({}))
}

#[test]
fn broken_guests_are_errors() {
    let l = Limits::default();
    // A trap.
    let e = run(&module(1, &[0x00]), l).unwrap_err();
    assert!(matches!(e, SimError::Trap(_)), "{e}");
    // An endless loop: stopped by the deadline, within it plus the ticker's slack.
    let timeout = std::time::Duration::from_millis(300);
    let looping = Simulator::from_wasm(
        &module(1, &[0x03, 0x40, 0x0c, 0x00, 0x0b, 0x00]),
        Limits { timeout, ..l },
        None,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = looping.call("version", &json!({})).unwrap_err();
    assert!(
        matches!(e, SimError::Timeout { timeout: t } if t == timeout),
        "{e}"
    );
    let took = started.elapsed();
    // (Generous: other tests compile the guest on the same cores meanwhile.)
    assert!(
        took >= timeout && took < timeout + std::time::Duration::from_secs(5),
        "{took:?}"
    );
    // A response outside memory.
    let e = run(&module(1, &returns(0x7fff_0000 << 32 | 16)), l).unwrap_err();
    assert!(matches!(e, SimError::Malformed(_)), "{e}");
    // A response that is not JSON (four zero bytes).
    let e = run(&module(1, &returns(1024 << 32 | 4)), l).unwrap_err();
    assert!(matches!(e, SimError::Malformed(_)), "{e}");
    // Another ABI version, and not a module at all.
    let e = run(&module(2, &returns(0)), l).unwrap_err();
    assert!(e.to_string().contains("ABI version 2"), "{e}");
    let e = run(b"\0asm\x01\0\0\0\x01", l).unwrap_err();
    assert!(matches!(e, SimError::Load(_)), "{e}");
}

#[test]
fn the_guest_answers_and_the_limits_hold() {
    let sim = Simulator::new(Limits::default()).unwrap();
    let v = sim.call("version", &json!({})).unwrap();
    assert_eq!(v["abi"], json!(syscage_simulator::host::ABI_VERSION));
    // A guest error keeps its location.
    let e = sim
        .call(
            "lint",
            &json!({"profile": {"source": "p.json", "text": "{\n  \"defaultAction\": 7}"}}),
        )
        .unwrap_err();
    let SimError::Guest(g) = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (g.source.as_deref(), g.line),
        (Some("p.json"), Some(2)),
        "{g:?}"
    );
    // Not enough time, not enough memory.
    // (A trace of 400,000 events takes far longer than one tick of the deadline.)
    let long = "{\"syscall\":\"read\",\"args\":[0]}\n".repeat(400_000);
    let small = |timeout, max_memory| {
        Simulator::new(Limits {
            timeout,
            max_memory,
            ..Limits::default()
        })
        .unwrap()
        .call(
            "check",
            &json!({"profiles": [{"builtin": "runtime/default"}], "traces": [{"text": long}]}),
        )
        .unwrap_err()
    };
    let instant = std::time::Duration::from_nanos(1);
    let e = small(instant, 1 << 30);
    assert!(matches!(e, SimError::Timeout { .. }), "{e}");
    // A trace in the data buffer: raw bytes, no JSON string.
    let trace = b"{\"syscall\":\"read\",\"args\":[0]}\n{\"syscall\":\"unshare\",\"args\":[0]}\n";
    let request = json!({
        "profiles": [{"builtin": "runtime/default"}],
        "traces": [{"source": "t.jsonl", "data": {"offset": 0, "length": trace.len()}}],
        "events": false,
    });
    let answer = sim
        .call_raw_with_data("check", request.to_string().as_bytes(), trace, |bytes| {
            let result = syscage_simulator::host::parse_envelope(bytes)?
                .into_result()?
                .expect("a result");
            Ok::<serde_json::Value, SimError>(serde_json::from_str(result.get()).unwrap())
        })
        .unwrap()
        .unwrap();
    assert_eq!(answer["counts"]["events"], 2, "{answer}");
    assert_eq!(answer["counts"]["not_permitted"], 1, "{answer}");
    assert!(answer.get("events").is_none());
    // A module without the export says so.
    let e = Simulator::from_wasm(&module(1, &returns(0)), Limits::default(), None)
        .unwrap()
        .call_raw_with_data("version", b"{}", b"", |_| ())
        .unwrap_err();
    assert!(e.to_string().contains("syscage_call_with_data"), "{e}");
    assert!(matches!(
        small(Limits::DEFAULT_TIMEOUT, 1 << 20),
        SimError::OutOfMemory { .. }
    ));
}

#[test]
fn the_module_cache_is_reused_and_survives_garbage() {
    let dir = std::env::temp_dir().join(format!("syscage-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A small module keeps this quick (compiling the guest takes seconds in debug).
    let wasm = module(1, &returns(0));
    let load = || Simulator::from_wasm(&wasm, Limits::default(), Some(dir.clone())).unwrap();
    let first = load();
    assert!(!first.from_cache());
    let second = load();
    assert!(second.from_cache());
    assert!(matches!(
        second.call("version", &json!({})),
        Err(SimError::OutOfMemory { .. })
    ));
    // A damaged file is recompiled and replaced, not trusted.
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    std::fs::write(&file, b"garbage").unwrap();
    assert!(!load().from_cache());
    assert!(load().from_cache());
    // The cache is keyed by the module's bytes.
    let other = module(1, &returns(1));
    assert!(
        !Simulator::from_wasm(&other, Limits::default(), Some(dir.clone()))
            .unwrap()
            .from_cache()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(GUEST_WASM.starts_with(b"\0asm"));
    let _ = cache::dir();
}

#[test]
fn the_module_cache_keeps_the_newest_modules_only() {
    use std::time::{Duration, SystemTime};
    let dir = std::env::temp_dir().join(format!("syscage-prune-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let now = SystemTime::now();
    let touch = |name: &str, age_secs: u64| {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_modified(now - Duration::from_secs(age_secs)).unwrap();
    };
    for (i, age) in [50, 10, 40, 20, 30].into_iter().enumerate() {
        touch(&format!("simulator-{i:016x}.cwasm"), age);
    }
    touch(".simulator-0000000000000009.cwasm.1.tmp", 7200); // a dead writer's
    touch(".simulator-0000000000000008.cwasm.2.tmp", 10); // a live writer's
    touch("unrelated.txt", 99_999);
    // Keep 3: the one just stored (the oldest here, as with a coarse clock) and 2 more.
    cache::prune(&dir, 3, &dir.join("simulator-0000000000000000.cwasm"));
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".simulator-0000000000000008.cwasm.2.tmp",
            "simulator-0000000000000000.cwasm", // just stored
            "simulator-0000000000000001.cwasm", // 10 s old
            "simulator-0000000000000003.cwasm", // 20 s old
            "unrelated.txt",
        ]
    );

    // Storing through the simulator prunes too: many guest versions leave at most KEEP.
    let _ = std::fs::remove_dir_all(&dir);
    for i in 0..cache::KEEP as i32 + 2 {
        let wasm = module(1, &returns(i.into()));
        Simulator::from_wasm(&wasm, Limits::default(), Some(dir.clone())).unwrap();
    }
    let modules = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "cwasm")
        })
        .count();
    assert_eq!(modules, cache::KEEP);
    let _ = std::fs::remove_dir_all(&dir);
}
