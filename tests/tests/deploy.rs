//! `deploy/`: the Kubernetes manifests validate against the API schema of a current
//! release (kubernetes-validate from PyPI, which ships the schemas: offline), say what
//! the audit and the fuzzing need and nothing more, and their command lines run with
//! the real binary; the image definition's build command builds a static binary that
//! runs alone in an empty root (a runc container whose rootfs holds only it, as the
//! scratch image does).
//!
//! Needs `kubernetes-validate` (`pip install kubernetes-validate`, with PyYAML), the
//! musl target (rust-toolchain.toml names it) and musl-tools, and runc for the empty
//! root; outside CI a missing piece skips with the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use syscage_tests::{containers, repo_root, skip_unless_ci, syscage_bin};

/// The Kubernetes release validated against (the newest the installed
/// kubernetes-validate ships).
const KUBERNETES: &str = "1.37.0";

fn manifests() -> Vec<PathBuf> {
    let dir = repo_root().join("deploy/kubernetes");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 2, "{v:?}");
    v
}

fn validator() -> bool {
    match Command::new("python3")
        .args(["-m", "kubernetes_validate", "--version"])
        .output()
    {
        Ok(o) if o.status.success() => true,
        _ => {
            skip_unless_ci(
                "manifest validation",
                "kubernetes-validate is not installed (pip install kubernetes-validate)",
            );
            false
        }
    }
}

fn validate(files: &[PathBuf]) -> std::process::Output {
    Command::new("python3")
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "--no-warn",
            "-k",
            KUBERNETES,
        ])
        .args(files)
        .output()
        .unwrap()
}

/// The documents of a YAML file as JSON (PyYAML, which kubernetes-validate brings).
fn documents(path: &Path) -> Vec<Value> {
    let o = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Vec<Value>>(&o.stdout).unwrap()
}

fn workload(kind: &str) -> Value {
    manifests()
        .iter()
        .flat_map(|p| documents(p))
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/kubernetes"))
}

/// A container's args with `$(VAR)` references replaced as the kubelet expands them.
fn expand(args: &Value, vars: &[(&str, &str)]) -> Vec<String> {
    args.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut s = a.as_str().unwrap().to_string();
            for (k, v) in vars {
                s = s.replace(&format!("$({k})"), v);
            }
            s
        })
        .collect()
}

#[test]
fn manifests_validate_against_the_kubernetes_schema() {
    if !validator() {
        return;
    }
    let files = manifests();
    let o = validate(&files);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Every resource was checked: the Namespace, the DaemonSet and the Job.
    for r in [
        "namespace/syscage",
        "daemonset/syscage-audit",
        "job/syscage-fuzz",
    ] {
        assert!(out.contains(&format!("passed for resource {r}")), "{out}");
    }
    // The validator bites: a misspelt field fails strict validation.
    let dir = std::env::temp_dir().join(format!("syscage-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    let text = std::fs::read_to_string(repo_root().join("deploy/kubernetes/audit-daemonset.yaml"))
        .unwrap()
        .replace("hostPID: true", "hostPid: true");
    std::fs::write(&bad, text).unwrap();
    let o = validate(&[bad]);
    assert!(!o.status.success(), "a misspelt field passed validation");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_audit_daemonset_asks_for_what_the_audit_needs() {
    if !validator() {
        return;
    }
    let ds = workload("DaemonSet");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));
    let c = &pod["containers"][0];
    let sc = &c["securityContext"];
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    let mut add: Vec<&str> = sc["capabilities"]["add"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    add.sort();
    assert_eq!(add, ["SYS_ADMIN", "SYS_PTRACE"]);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["privileged"], false);
    // PTRACE_SECCOMP_GET_FILTER answers only an unconfined tracer.
    assert_eq!(sc["seccompProfile"]["type"], "Unconfined");
    // The API server refuses allowPrivilegeEscalation: false with CAP_SYS_ADMIN
    // (pkg/apis/core/validation: "cannot set allowPrivilegeEscalation to false and
    // capabilities.Add CAP_SYS_ADMIN").
    assert_ne!(sc["allowPrivilegeEscalation"], false);
    for k in ["cpu", "memory"] {
        assert!(c["resources"]["limits"][k].is_string(), "limit {k}");
    }
    // NODE_NAME comes from the downward API.
    assert_eq!(
        c["env"][0],
        json!({"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    );

    // syscage reads its own manifest: the container runs unconfined, on purpose.
    let o = Command::new(syscage_bin())
        .args(["platform", "kubernetes", "--format", "json"])
        .arg(repo_root().join("deploy/kubernetes/audit-daemonset.yaml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"applied\": \"Unconfined\""), "{text}");

    // The container's command line runs (one round: without --every).
    let mut args = expand(&c["args"], &[("NODE_NAME", "node-7")]);
    let at = args.iter().position(|a| a == "--every").expect("--every");
    args.drain(at..at + 2);
    let o = Command::new(syscage_bin()).args(&args).output().unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["kind"], "syscage.audit");
    assert_eq!(doc["node"], "node-7");
}

#[test]
fn the_fuzz_job_shards_as_its_completions_say() {
    if !validator() {
        return;
    }
    let job = workload("Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let n = job["spec"]["completions"].as_u64().unwrap();
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    // Shard K/N with N = completions; the last index is a valid shard.
    let mut args = expand(&c["args"], &[("SHARD_INDEX", &(n - 1).to_string())]);
    let shard = &args[args.iter().position(|a| a == "--shard").unwrap() + 1];
    assert_eq!(shard, &format!("{}/{n}", n - 1));
    // The same command on a small run prints one summary line report reads.
    let at = args.iter().position(|a| a == "--cases").unwrap();
    args[at + 1] = (3 * n).to_string();
    let o = Command::new(syscage_bin()).args(&args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["kind"], "syscage.fuzz");
    assert_eq!(
        (s["first"].as_u64(), s["end"].as_u64()),
        (Some(3 * n - 3), Some(3 * n))
    );
}

/// The first `RUN cargo build ...` of the Containerfile, and the path its `COPY
/// --from=build` takes the binary from (relative to the target directory).
fn image_build() -> (Vec<String>, String) {
    let text = std::fs::read_to_string(repo_root().join("deploy/image/Containerfile")).unwrap();
    let build = text
        .lines()
        .find_map(|l| l.strip_prefix("RUN cargo build "))
        .expect("a RUN cargo build line");
    let mut argv: Vec<String> = vec!["build".into()];
    argv.extend(build.split_whitespace().map(str::to_string));
    let copy = text
        .lines()
        .find_map(|l| l.strip_prefix("COPY --from=build /src/target/"))
        .expect("COPY --from=build /src/target/...");
    (argv, copy.split_whitespace().next().unwrap().to_string())
}

/// Whether an ELF file asks for a program interpreter (PT_INTERP): a static binary
/// does not.
fn has_interpreter(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(bytes[4], 2, "ELF64");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let o = phoff + i * size;
        u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) == 3
    })
}

#[test]
fn the_image_builds_a_static_binary_that_runs_alone() {
    let musl = Command::new("x86_64-linux-musl-gcc")
        .arg("--version")
        .output();
    if musl.is_err() {
        skip_unless_ci(
            "the image build",
            "x86_64-linux-musl-gcc is not installed (Debian: musl-tools)",
        );
        return;
    }
    let (argv, binary) = image_build();
    // Its own target directory: the test's cargo holds the workspace's.
    let target = repo_root().join("target/image");
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&argv)
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cargo {argv:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bin = target.join(&binary);
    let bytes = std::fs::read(&bin).unwrap();
    assert!(!has_interpreter(&bytes), "{} is not static", bin.display());
    assert!(
        has_interpreter(&std::fs::read("/bin/ls").unwrap()),
        "the ELF check bites"
    );

    if let Some(why) = containers::unavailable() {
        skip_unless_ci("the image binary in an empty root", &why);
        return;
    }
    // A bundle whose rootfs holds the binary and nothing else, read-only (runc spec's
    // default), as the scratch image runs it.
    let dir = std::env::temp_dir().join(format!("syscage-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::copy(&bin, rootfs.join("syscage")).unwrap();
    assert!(Command::new("runc")
        .arg("spec")
        .current_dir(&dir)
        .status()
        .unwrap()
        .success());
    let state = dir.join("state");
    let run = |id: &str, args: &[&str]| -> Value {
        let path = dir.join("config.json");
        let mut config: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        config["process"]["terminal"] = json!(false);
        let mut a = vec!["/syscage"];
        a.extend(args);
        config["process"]["args"] = json!(a);
        assert_eq!(config["root"]["readonly"], true);
        std::fs::write(&path, config.to_string()).unwrap();
        let o = Command::new("runc")
            .arg("--root")
            .arg(&state)
            .args(["run", "--bundle"])
            .arg(&dir)
            .arg(id)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let _ = Command::new("runc")
            .arg("--root")
            .arg(&state)
            .args(["delete", "-f", id])
            .output();
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?} in an empty root: {:?} {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stdout)))
    };
    let tag = std::process::id();
    let s = run(
        &format!("image-fuzz-{tag}"),
        &[
            "fuzz",
            "-q",
            "--format",
            "json",
            "--seed",
            "1",
            "--cases",
            "6",
            "--engines",
            "reference,bpf,kernel",
        ],
    );
    assert_eq!(s["kind"], "syscage.fuzz");
    assert!(s["kernel_verdicts"].as_u64().unwrap() > 0, "{s}");
    // The same cases and verdicts as the glibc build's.
    let o = Command::new(syscage_bin())
        .args([
            "fuzz", "-q", "--format", "json", "--seed", "1", "--cases", "6",
        ])
        .args(["--engines", "reference,bpf,kernel"])
        .output()
        .unwrap();
    let native: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["digest"], native["digest"]);
    assert_eq!(s["events"], native["events"]);
    let a = run(
        &format!("image-audit-{tag}"),
        &["audit", "--format", "json", "--node", "c"],
    );
    assert_eq!(a["kind"], "syscage.audit");
    let _ = std::fs::remove_dir_all(&dir);
}
