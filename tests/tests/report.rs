//! `syscage report` over real `audit` output: rounds of `audit --every` on two "nodes"
//! (this host under two names) merged with fuzz shards; bad lines are errors that name
//! their file and line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use syscage_tests::syscage_bin;

fn audit_rounds(node: &str, rounds: usize) -> Vec<String> {
    let mut child = Command::new(syscage_bin())
        .args([
            "audit",
            "--format",
            "json",
            "--no-filters",
            "--every",
            "1s",
            "--node",
            node,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..rounds {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        lines.push(l);
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

fn report(files: &[&std::path::Path], json: bool) -> (Option<i32>, String, String) {
    let mut c = Command::new(syscage_bin());
    c.arg("report");
    if json {
        c.args(["--format", "json"]);
    }
    let o = c.args(files).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn rounds_and_nodes_and_shards_merge() {
    let n1 = audit_rounds("node-1", 2);
    let (a, b): (Value, Value) = (
        serde_json::from_str(&n1[0]).unwrap(),
        serde_json::from_str(&n1[1]).unwrap(),
    );
    assert_eq!(a["node"], "node-1");
    assert!(
        b["time"].as_u64() > a["time"].as_u64(),
        "one round a second"
    );
    let n2 = audit_rounds("node-2", 1);
    let shards: Vec<String> = (0..2)
        .map(|k| {
            let o = Command::new(syscage_bin())
                .args([
                    "fuzz", "-q", "--format", "json", "--seed", "5", "--cases", "10",
                ])
                .args(["--engines", "reference,bpf", "--shard", &format!("{k}/2")])
                .output()
                .unwrap();
            String::from_utf8(o.stdout).unwrap()
        })
        .collect();

    let dir = std::env::temp_dir().join(format!("syscage-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audits = dir.join("audit.log");
    let fuzz = dir.join("fuzz.log");
    std::fs::write(
        &audits,
        format!("some other log line\n{}{}{}", n1[0], n1[1], n2[0]),
    )
    .unwrap();
    std::fs::write(&fuzz, shards.concat()).unwrap();
    let (code, out, err) = report(&[&audits, &fuzz], true);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["nodes"], serde_json::json!(["node-1", "node-2"]));
    assert_eq!(r["superseded"], 1);
    assert_eq!(r["skipped_lines"], 1);
    assert_eq!(
        r["processes"].as_u64().unwrap(),
        b["processes"].as_array().unwrap().len() as u64
            + serde_json::from_str::<Value>(&n2[0]).unwrap()["processes"]
                .as_array()
                .unwrap()
                .len() as u64
    );
    assert_eq!(r["fuzz"][0]["complete"], true);
    assert_eq!(r["fuzz"][0]["cases"], 10);

    let (_, text, _) = report(&[&audits, &fuzz], false);
    assert!(text.starts_with("audit: 2 node(s)"), "{text}");
    assert!(text.contains("(1 older audits superseded)"), "{text}");
    assert!(
        text.contains("fuzz: seed 5, 10 cases in 2 shard(s)"),
        "{text}"
    );

    // A cut-off audit line, and a document of an unknown version: rejected at their
    // line, the rest merged, exit 1.
    let half = (n2[0].len() / 2..)
        .find(|&i| n2[0].is_char_boundary(i))
        .unwrap();
    std::fs::write(&audits, format!("{}{}\n", n1[0], &n2[0][..half])).unwrap();
    let (code, out, err) = report(&[&audits], false);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.starts_with("audit: 1 node(s)"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("problem: ")
            && l.contains("audit.log:2:")
            && l.contains("cut off")),
        "{out}"
    );
    std::fs::write(&audits, n1[0].replace("\"version\":1", "\"version\":7")).unwrap();
    let (code, out, err) = report(&[&audits], false);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.contains("audit.log:1:") && out.contains("version"),
        "{out}"
    );
    // A file that cannot be read: exit 2.
    let (code, _, err) = report(&[&dir.join("missing.log")], false);
    assert_eq!(code, Some(2), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
