//! `syscage platform`: the profile a platform applies, on the bundled examples, as a
//! user runs it (output, exit statuses, errors that name the place).

use std::process::{Command, Output};

use syscage_tests::{repo_root, syscage_bin};

fn syscage(args: &[&str]) -> Output {
    Command::new(syscage_bin())
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

const ROOT: &str = "examples/platform/seccomp";

#[test]
fn kubernetes_pod_every_container() {
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--seccomp-root",
        ROOT,
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("init container setup: containerd/default@2.3\n  decided by /spec/securityContext/seccompProfile (examples/platform/pod.json:12:25)"), "{out}");
    // The node below: the default one, containerd, says what RuntimeDefault is.
    assert!(out.contains("  chain: the platform asks for RuntimeDefault -> containerd 2.3 (newest modelled) default profile (containerd/default@2.3) -> runc"), "{out}");
    assert!(out.contains("  check: syscage check --pod examples/platform/pod.json --seccomp-root examples/platform/seccomp --container setup TRACE"), "{out}");
    assert!(out.contains("container app: examples/platform/seccomp/profiles/app.json (Localhost)\n  decided by /spec/containers/0/securityContext/seccompProfile"), "{out}");
    assert!(
        out.contains("container sidecar: containerd/default@2.3"),
        "{out}"
    );
    assert!(
        out.contains("container.seccomp.security.alpha.kubernetes.io~1sidecar is ignored"),
        "{out}"
    );
}

#[test]
fn kubernetes_legacy_annotations() {
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--seccomp-root",
        ROOT,
        "--legacy-annotations",
        "-c",
        "sidecar",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("container sidecar: unconfined\n  decided by /metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1sidecar (examples/platform/pod.json:7:"), "{out}");
    assert!(!out.contains("container app"), "{out}");
}

#[test]
fn kubernetes_deployment_seccomp_default_and_privileged() {
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/deployment.json",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains(
            "container api: unconfined\n  decided by kubelet default (no --seccomp-default)"
        ),
        "{out}"
    );
    assert!(out.contains("container debug: unconfined\n  decided by /spec/template/spec/containers/1/securityContext/seccompProfile"), "{out}");
    assert!(out.contains("  chain: the platform asks for RuntimeDefault -> privileged: containerd sets no seccomp filter\n"), "{out}");
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/deployment.json",
        "--seccomp-default",
    ]);
    assert!(text(&o.stdout)
        .contains("container api: containerd/default@2.3\n  decided by kubelet --seccomp-default"));
}

#[test]
fn kubernetes_print_profile_feeds_check() {
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--seccomp-root",
        ROOT,
        "-c",
        "app",
        "--print-profile",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let spec = text(&o.stdout).trim().to_string();
    assert_eq!(spec, "examples/platform/seccomp/profiles/app.json");
    let c = syscage(&["check", "-q", "--profile", &spec, "examples/denied.jsonl"]);
    assert_eq!(c.status.code(), Some(1), "{}", text(&c.stderr));
    assert!(text(&c.stdout).contains("examples/platform/seccomp/profiles/app.json"));
    // Several containers: --print-profile refuses to guess.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--seccomp-root",
        ROOT,
        "--print-profile",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("pick one with --container (setup, app, sidecar)"));
}

#[test]
fn kubernetes_errors() {
    // The Localhost profile is not under the default seccomp root.
    let o = syscage(&["platform", "kubernetes", "examples/platform/pod.json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("container app: profile /var/lib/kubelet/seccomp/profiles/app.json does not exist (examples/platform/pod.json:22:29: /spec/containers/0/securityContext/seccompProfile)"), "{err}");
    assert!(err.contains("CreateContainerError"), "{err}");
    // Unknown container.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "-c",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no container named \"nope\""));
    // Not a workload.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/seccomp/profiles/app.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("examples/platform/seccomp/profiles/app.json:1:1: no \"kind\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn openshift_restricted_v2_defaults_and_forbids() {
    let scc = "examples/platform/scc-restricted-v2.json";
    let o = syscage(&[
        "platform",
        "openshift",
        "--scc",
        scc,
        "examples/platform/deployment.json",
        "-c",
        "api",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("admitted under SCC restricted-v2 (seccompProfiles [runtime/default]); pod profile defaulted to runtime/default"), "{out}");
    assert!(out.contains("container api: containerd/default@2.3\n  decided by examples/platform/scc-restricted-v2.json /seccompProfiles/0 (examples/platform/scc-restricted-v2.json:10:23)"), "{out}");
    // The pod's Localhost profile is not in the SCC's list: forbidden, with both places.
    let o = syscage(&[
        "platform",
        "openshift",
        "--scc",
        scc,
        "examples/platform/pod.json",
        "--seccomp-root",
        ROOT,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("examples/platform/pod.json:22:29: /spec/containers/0/securityContext/seccompProfile: forbidden by SCC restricted-v2 (examples/platform/scc-restricted-v2.json:10:22: /seccompProfiles): container app: localhost/profiles/app.json is not an allowed seccomp profile. Valid values are [runtime/default]"), "{err}");
}

#[test]
fn mesos_profile_name_default_and_errors() {
    let o = syscage(&[
        "platform",
        "mesos",
        "examples/platform/marathon-app.json",
        "--profiles-dir",
        ROOT,
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("app /web: examples/platform/seccomp/web.json (Localhost)\n  decided by /container/linuxInfo/seccomp/profileName (examples/platform/marathon-app.json:10:35)"), "{out}");
    let o = syscage(&[
        "platform",
        "mesos",
        "examples/platform/marathon-app.json",
        "--profiles-dir",
        ROOT,
        "--print-profile",
    ]);
    assert_eq!(text(&o.stdout).trim(), "examples/platform/seccomp/web.json");
    // Each of these fails (exit 2), saying why.
    let fails = |extra: &[&str], why: &str| {
        let mut args = vec!["platform", "mesos", "examples/platform/marathon-app.json"];
        args.extend_from_slice(extra);
        let o = syscage(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains(why),
            "{args:?}: {}",
            text(&o.stderr)
        );
    };
    // The profile directory has no web.json: the agent fails the task.
    fails(
        &["--profiles-dir", "examples/platform", "--no-default"],
        "profile examples/platform/web.json does not exist",
    );
    // Nor a default.json: the agent does not even start.
    fails(
        &["--profiles-dir", "examples/platform"],
        "the Mesos agent does not start",
    );
    // A profile Mesos' parser refuses (an OCI `architectures` list, no archMap: the
    // Kubernetes example's app.json, as the agent's default) stops the agent, with its
    // place, though runc would take it.
    fails(
        &["--profiles-dir", ROOT, "--default", "profiles/app.json"],
        "examples/platform/seccomp/profiles/app.json:1:1: /archMap: forbidden by the Mesos seccomp profile parser",
    );
}

/// `--format json` says what the text says, for every platform: each container's
/// line in the text (`ROLE NAME: PROFILE`, `decided by POINTER (FILE:LINE:COL)`) is
/// rebuilt from the JSON and found in the text output of the same command.
#[test]
fn json_output_carries_what_the_text_says() {
    let cases: &[&[&str]] = &[
        &[
            "platform",
            "kubernetes",
            "examples/platform/pod.json",
            "--seccomp-root",
            ROOT,
        ],
        &[
            "platform",
            "kubernetes",
            "examples/platform/deployment.json",
            "--seccomp-default",
        ],
        &[
            "platform",
            "mesos",
            "examples/platform/marathon-app.json",
            "--profiles-dir",
            ROOT,
        ],
    ];
    for args in cases {
        let t = syscage(args);
        assert_eq!(t.status.code(), Some(0), "{}", text(&t.stderr));
        let out = text(&t.stdout);
        let mut with_json = args.to_vec();
        with_json.extend(["--format", "json"]);
        let j = syscage(&with_json);
        assert_eq!(j.status.code(), Some(0), "{}", text(&j.stderr));
        let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
        let containers: Vec<&serde_json::Value> = v["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| w["containers"].as_array().unwrap())
            .collect();
        assert!(!containers.is_empty());
        assert_eq!(containers.len(), out.matches("  decided by ").count());
        for c in containers {
            // With a node below the platform (Kubernetes, OpenShift) the head names the
            // filter the chain ends with; Mesos names the platform's answer.
            let profile = match (c["chain"].as_object(), c["applied"].as_str().unwrap()) {
                (Some(chain), applied) => match chain["filter"].as_str() {
                    None => "unconfined".to_string(),
                    Some(f) if applied == "Localhost" => format!("{f} (Localhost)"),
                    Some(f) => f.to_string(),
                },
                (None, "Localhost") => format!("{} (Localhost)", c["path"].as_str().unwrap()),
                (None, "RuntimeDefault") => "runtime/default".to_string(),
                (None, _) => "unconfined".to_string(),
            };
            if let Some(chain) = c["chain"].as_object() {
                let steps: Vec<&str> = chain["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["what"].as_str().unwrap())
                    .collect();
                let line = format!("  chain: {}\n", steps.join(" -> "));
                assert!(out.contains(&line), "{line:?} not in\n{out}");
            }
            let head = format!(
                "{} {}: {profile}\n",
                c["role"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            );
            assert!(out.contains(&head), "{head:?} not in\n{out}");
            let decided = match c["location"].as_object() {
                Some(l) => format!(
                    "  decided by {} ({}:{}:{})\n",
                    c["decided_by"].as_str().unwrap(),
                    l["source"].as_str().unwrap(),
                    l["line"],
                    l["column"]
                ),
                None => format!("  decided by {}\n", c["decided_by"].as_str().unwrap()),
            };
            assert!(out.contains(&decided), "{decided:?} not in\n{out}");
            assert!(out.contains(c["reason"].as_str().unwrap()));
        }
    }
}

/// YAML with several documents (a Service, a Deployment, a CronJob): every workload is
/// resolved, non-workloads are skipped, and places are the YAML file's lines and
/// columns (checked by hand against the file).
#[test]
fn yaml_manifests_with_several_documents() {
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/manifests.yaml",
        "--seccomp-root",
        ROOT,
        "--seccomp-default",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(!out.contains("Service"), "{out}");
    for want in [
        "document 2: Deployment web:\ncontainer app: examples/platform/seccomp/profiles/app.json (Localhost)\n  decided by /spec/template/spec/containers/0/securityContext/seccompProfile (examples/platform/manifests.yaml:28:13)",
        "container sidecar: containerd/default@2.3\n  decided by /spec/template/spec/securityContext/seccompProfile (examples/platform/manifests.yaml:22:11)",
        "document 3: CronJob cleanup:\ncontainer job: unconfined\n  decided by kubelet --seccomp-default",
        "  chain: the platform asks for RuntimeDefault -> privileged: containerd sets no seccomp filter",
    ] {
        assert!(out.contains(want), "{want}\nnot in\n{out}");
    }
    // --container picks across documents; a bad one lists every container.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/manifests.yaml",
        "--seccomp-root",
        ROOT,
        "-c",
        "job",
        "--print-profile",
    ]);
    assert_eq!(text(&o.stdout).trim(), "unconfined", "{}", text(&o.stderr));
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/manifests.yaml",
        "--seccomp-root",
        ROOT,
        "-c",
        "nope",
    ]);
    assert!(
        text(&o.stderr).contains("no container named \"nope\" (the file has: app, sidecar, job)"),
        "{}",
        text(&o.stderr)
    );
    // A YAML error names its line.
    let dir = std::env::temp_dir().join(format!("syscage-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "kind: Pod\nspec:\n  containers: [a, b\n").unwrap();
    let o = syscage(&["platform", "kubernetes", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("bad.yaml:4:1: invalid YAML: while parsing a flow sequence"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_pod_evaluates_the_filter_the_node_installs() {
    // The bundled pod's sidecar on the bundled node (containerd 1.6): the chain ends in
    // containerd's 1.6 default with Docker's fourteen capabilities. `check --pod` must
    // give, event for event, what `check --profile` gives for that filter and those
    // capabilities (the real containerd's filter is compared in real_engines.rs).
    let trace = "examples/denied.jsonl";
    let pod = syscage(&[
        "check",
        "--pod",
        "examples/platform/pod.json",
        "--container",
        "sidecar",
        "--node",
        "examples/platform/node.yaml",
        "--format",
        "json",
        trace,
    ]);
    assert_eq!(pod.status.code(), Some(1), "{}", text(&pod.stderr));
    assert!(
        text(&pod.stderr).contains("container sidecar on containerd 1.6: the platform asks for RuntimeDefault -> containerd 1.6 default profile (containerd/default@1.6)"),
        "{}",
        text(&pod.stderr)
    );
    let direct = syscage(&[
        "check",
        "--profile",
        "containerd/default@1.6",
        "--caps",
        "default",
        "--format",
        "json",
        trace,
    ]);
    assert_eq!(text(&pod.stdout), text(&direct.stdout));
    // Another engine, another filter: Podman's default (with its eleven capabilities)
    // allows unshare, which containerd's denies.
    let podman = syscage(&[
        "check",
        "--pod",
        "examples/platform/pod.json",
        "-c",
        "sidecar",
        "--node",
        "examples/platform/node.yaml",
        "--container-engine",
        "podman@4.3",
        trace,
    ]);
    let out = text(&podman.stdout);
    assert!(out.starts_with("builtin:podman/default@4.3 on "), "{out}");
    assert!(out.contains(", 11 capabilities;"), "{out}");
    assert!(!out.contains("unshare("), "{out}");
    // A pod of several containers needs --container.
    let many = syscage(&["check", "--pod", "examples/platform/pod.json", trace]);
    assert_eq!(many.status.code(), Some(2));
    assert!(
        text(&many.stderr)
            .contains("has 3 containers; pick one with --container (setup, app, sidecar)"),
        "{}",
        text(&many.stderr)
    );
}

#[test]
fn node_files_and_flags() {
    let dir = std::env::temp_dir().join(format!("syscage-node-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("node.yaml");
    std::fs::write(
        &bad,
        "containerEngine:\n  name: containerd\n  version: \"1.9\"\n",
    )
    .unwrap();
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--node",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("node.yaml:3:12") && err.contains("(modelled: 1.6, 2.3)"),
        "{err}"
    );
    // A node without seccomp: containerd refuses RuntimeDefault, CRI-O runs unconfined.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/deployment.json",
        "--seccomp-default",
        "--no-seccomp",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("seccomp is not supported"),
        "{}",
        text(&o.stderr)
    );
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/deployment.json",
        "--seccomp-default",
        "--no-seccomp",
        "--container-engine",
        "cri-o",
        "-c",
        "api",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("container api: unconfined"),
        "{}",
        text(&o.stdout)
    );
    // CRI-O settings on another engine are refused.
    let o = syscage(&[
        "platform",
        "kubernetes",
        "examples/platform/pod.json",
        "--crio-seccomp-profile",
        "/x.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("CRI-O settings"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dcos_agents_compared_by_verdicts() {
    // Three agents: a and b carry the bundled profiles (b's web.json re-serialized, the
    // same verdicts in other bytes); c's web.json lacks `write`, and c has no extra.json
    // (a copy of default.json, a profile Mesos' parser takes).
    let dir = std::env::temp_dir().join(format!("syscage-agents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let web =
        std::fs::read_to_string(repo_root().join("examples/platform/seccomp/web.json")).unwrap();
    let default =
        std::fs::read_to_string(repo_root().join("examples/platform/seccomp/default.json"))
            .unwrap();
    let extra = default.clone();
    let reformatted =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&web).unwrap()).unwrap();
    assert_ne!(reformatted, web);
    let without_write = web.replacen("\"write\", ", "", 1);
    assert_ne!(without_write, web);
    for (agent, files) in [
        (
            "a",
            vec![
                ("default.json", &default),
                ("web.json", &web),
                ("extra.json", &extra),
            ],
        ),
        (
            "b",
            vec![
                ("default.json", &default),
                ("web.json", &reformatted),
                ("extra.json", &extra),
            ],
        ),
        (
            "c",
            vec![("default.json", &default), ("web.json", &without_write)],
        ),
    ] {
        std::fs::create_dir_all(dir.join(agent)).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(agent).join(name), text).unwrap();
        }
    }
    let agent = |a: &str| dir.join(a).display().to_string();
    let (a, b, c) = (agent("a"), agent("b"), agent("c"));
    let o = syscage(&[
        "platform",
        "mesos",
        "examples/platform/marathon-app.json",
        "--agent",
        &a,
        "--agent",
        &b,
        "--agent",
        &c,
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("  default.json: same verdicts on 3 agents\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  extra.json: same verdicts on 2 agents; missing on {c} (tasks naming it fail there)\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  web.json: verdicts differ (variant 1: {a}, {b}; variant 2: {c}); e.g. x86_64 write("
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("    on {a}: web.json (variant 1 of 2)\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("    on {c}: web.json (variant 2 of 2)\n")),
        "{out}"
    );
    // The same as JSON; and two identical agents agree (exit 0).
    let j = syscage(&[
        "platform",
        "mesos",
        "examples/platform/marathon-app.json",
        "--agent",
        &a,
        "--agent",
        &b,
        "--format",
        "json",
    ]);
    assert_eq!(j.status.code(), Some(0), "{}", text(&j.stderr));
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["consistent"], true);
    assert_eq!(v["apps"][0]["agents"][1]["runs"], "web.json");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kubernetes_pod_security_policy() {
    let dir = std::env::temp_dir().join(format!("syscage-psp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let psp = dir.join("psp.yaml");
    std::fs::write(
        &psp,
        "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: restricted\n  annotations:\n    seccomp.security.alpha.kubernetes.io/allowedProfileNames: \"runtime/default\"\n    seccomp.security.alpha.kubernetes.io/defaultProfileName: \"runtime/default\"\n",
    )
    .unwrap();
    let pod = dir.join("pod.yaml");
    std::fs::write(
        &pod,
        "kind: Pod\nmetadata:\n  name: legacy\nspec:\n  containers:\n  - name: app\n",
    )
    .unwrap();
    let (psp, pod_path) = (psp.to_str().unwrap(), pod.to_str().unwrap());
    let o = syscage(&["platform", "kubernetes", pod_path, "--psp", psp]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.contains("admitted under PSP restricted (allowedProfileNames runtime/default; defaultProfileName runtime/default); pod annotation defaulted to runtime/default"), "{out}");
    assert!(
        out.contains("container app: containerd/default@2.3\n  decided by "),
        "{out}"
    );
    assert!(
        out.contains("defaultProfileName (") && out.contains("psp.yaml:7:"),
        "{out}"
    );
    // A pod annotation the PSP does not list is forbidden, with both places.
    std::fs::write(
        &pod,
        "kind: Pod\nmetadata:\n  name: legacy\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\nspec:\n  containers:\n  - name: app\n",
    )
    .unwrap();
    let o = syscage(&["platform", "kubernetes", pod_path, "--psp", psp]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("pod.yaml:5:") && err.contains("forbidden by PSP restricted"),
        "{err}"
    );
    assert!(
        err.contains(
            "unconfined is not an allowed seccomp profile. Valid values are runtime/default"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_marathon_evaluates_the_agents_choice() {
    let o = syscage(&[
        "check",
        "--marathon",
        "examples/platform/marathon-app.json",
        "--profiles-dir",
        ROOT,
        "--format",
        "json",
        "examples/denied.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("app /web on the Mesos agent: examples/platform/seccomp/web.json"),
        "{}",
        text(&o.stderr)
    );
    // `platform mesos` names this very command.
    let p = syscage(&[
        "platform",
        "mesos",
        "examples/platform/marathon-app.json",
        "--profiles-dir",
        ROOT,
    ]);
    assert!(
        text(&p.stdout).contains("  check: syscage check --marathon examples/platform/marathon-app.json --profiles-dir examples/platform/seccomp TRACE\n"),
        "{}",
        text(&p.stdout)
    );
    // The same verdicts as the file read as Mesos reads it, without a runtime stub.
    let direct = syscage(&[
        "check",
        "--profile",
        "examples/platform/seccomp/web.json",
        "--read-as",
        "mesos",
        "--runtime",
        "crun",
        "--format",
        "json",
        "examples/denied.jsonl",
    ]);
    assert_eq!(text(&o.stdout), text(&direct.stdout));
    // An agent whose default profile Mesos cannot read does not start.
    let o = syscage(&[
        "check",
        "--marathon",
        "examples/platform/marathon-app.json",
        "--profiles-dir",
        ROOT,
        "--default",
        "profiles/app.json",
        "examples/denied.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the agent does not start"),
        "{}",
        text(&o.stderr)
    );
}
