//! `syscage fuzz --shard K/N`: shards are disjoint, cover the run, reproduce exactly,
//! and their union equals an unsharded run of the same seed and total (counts and
//! digest); `syscage report` merges them and names a missing shard.

use std::process::Command;

use serde_json::Value;
use syscage_tests::syscage_bin;

fn fuzz(extra: &[&str]) -> Value {
    fuzz_seeded(4242, extra)
}

fn fuzz_seeded(seed: u64, extra: &[&str]) -> Value {
    let o = Command::new(syscage_bin())
        .args([
            "fuzz",
            "-q",
            "--format",
            "json",
            "--seed",
            &seed.to_string(),
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "fuzz {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn digest(v: &Value) -> u64 {
    u64::from_str_radix(v["digest"].as_str().unwrap(), 16).unwrap()
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap()
}

/// The union of N shards is the unsharded run, for even and uneven splits.
fn union_equals_whole(total: u64, engines: &str, splits: &[u64]) {
    let cases = total.to_string();
    let whole = fuzz(&["--cases", &cases, "--engines", engines]);
    assert_eq!((u(&whole, "first"), u(&whole, "end")), (0, total));
    assert_eq!(u(&whole, "cases"), total);
    for &n in splits {
        let shards: Vec<Value> = (0..n)
            .map(|k| {
                fuzz(&[
                    "--cases",
                    &cases,
                    "--engines",
                    engines,
                    "--shard",
                    &format!("{k}/{n}"),
                ])
            })
            .collect();
        // Disjoint and covering: each starts where the previous ended.
        let mut next = 0;
        for s in &shards {
            assert_eq!(u(s, "first"), next, "{s}");
            assert_eq!(u(s, "cases"), u(s, "end") - u(s, "first"));
            next = u(s, "end");
        }
        assert_eq!(next, total);
        for k in ["cases", "skipped", "events", "kernel_verdicts"] {
            let sum: u64 = shards.iter().map(|s| u(s, k)).sum();
            assert_eq!(sum, u(&whole, k), "{k} over {n} shards");
        }
        let xor = shards.iter().fold(0, |x, s| x ^ digest(s));
        assert_eq!(xor, digest(&whole), "digest over {n} shards");

        // report agrees: complete, the whole run's digest, exit 0.
        let dir = std::env::temp_dir().join(format!("syscage-shards-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("fuzz.log");
        let lines: String = shards
            .iter()
            .enumerate()
            .map(|(k, s)| format!("[pod/syscage-fuzz-{k}/fuzz] {s}\n"))
            .collect();
        std::fs::write(&file, &lines).unwrap();
        let o = Command::new(syscage_bin())
            .args(["report", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        let run = &r["fuzz"][0];
        assert_eq!(run["complete"], true, "{r}");
        assert_eq!(run["digest"], whole["digest"]);
        assert_eq!(run["events"], whole["events"]);

        // Without one shard: incomplete, the shard named, exit 1.
        let partial: String = lines.lines().skip(1).map(|l| format!("{l}\n")).collect();
        std::fs::write(&file, partial).unwrap();
        let o = Command::new(syscage_bin())
            .arg("report")
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{text}");
        assert!(
            text.contains(&format!("present {}/{n}, missing 0", n - 1)),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn shards_union_equals_an_unsharded_run() {
    union_equals_whole(60, "reference,bpf", &[4, 7, 60]);
}

#[test]
fn shards_union_equals_an_unsharded_run_in_the_kernel() {
    if !syscage_tests::kernel_oracle_usable() {
        return;
    }
    union_equals_whole(12, "reference,bpf,kernel", &[3]);
}

/// A shard runs exactly its cases: the XOR of `--case I` over its range is its digest,
/// and a shard run again prints the same line (but for its time).
#[test]
fn a_shard_is_its_cases_and_reproduces_itself() {
    let shard = fuzz(&[
        "--cases",
        "50",
        "--engines",
        "reference,bpf",
        "--shard",
        "3/5",
    ]);
    let (first, end) = (u(&shard, "first"), u(&shard, "end"));
    assert_eq!((first, end), (30, 40));
    let by_case = (first..end).fold(0, |x, i| {
        let one = fuzz(&["--case", &i.to_string(), "--engines", "reference,bpf"]);
        assert_eq!((u(&one, "first"), u(&one, "end")), (i, i + 1));
        x ^ digest(&one)
    });
    assert_eq!(by_case, digest(&shard));
    // A neighbouring case is not one of them: its digest changes the XOR.
    let outside = fuzz(&["--case", "40", "--engines", "reference,bpf"]);
    assert_ne!(by_case ^ digest(&outside), digest(&shard));

    let mut again = fuzz(&[
        "--cases",
        "50",
        "--engines",
        "reference,bpf",
        "--shard",
        "3/5",
    ]);
    let mut first_run = shard.clone();
    again["seconds"] = Value::Null;
    first_run["seconds"] = Value::Null;
    assert_eq!(again, first_run);
    // Another seed draws other cases.
    let other = fuzz_seeded(
        4243,
        &[
            "--cases",
            "50",
            "--engines",
            "reference,bpf",
            "--shard",
            "3/5",
        ],
    );
    assert_ne!(digest(&other), digest(&shard));
}

#[test]
fn bad_shards_are_refused() {
    for (args, want) in [
        (vec!["--shard", "5/5", "--seed", "1"], "K must be below N"),
        (
            vec!["--shard", "1/0", "--seed", "1"],
            "N must be at least 1",
        ),
        (vec!["--shard", "x", "--seed", "1"], "write K/N"),
        (vec!["--shard", "0/2"], "need --seed"),
    ] {
        let o = Command::new(syscage_bin())
            .args(["fuzz", "-q", "--cases", "4", "--engines", "reference,bpf"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
