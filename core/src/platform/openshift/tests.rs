use super::*;
use crate::platform::Applied;

fn scc(profiles: &str) -> String {
    format!(
        "{{\"kind\":\"SecurityContextConstraints\",\"metadata\":{{\"name\":\"s\"}},\n\"seccompProfiles\":{profiles}}}"
    )
}

fn pod(spec: &str, annotations: &str) -> String {
    format!(
        r#"{{"kind":"Pod","metadata":{{"name":"p","annotations":{{{annotations}}}}},"spec":{spec}}}"#
    )
}

fn run(scc_text: &str, pod_text: &str) -> Result<Admitted, PlatformError> {
    resolve(
        "scc.json",
        scc_text,
        "pod.json",
        pod_text,
        &Options::default(),
        None,
    )
}

const BARE: &str = r#"{"containers":[{"name":"a"}]}"#;

#[test]
fn restricted_v2_defaults_to_runtime_default() {
    let a = run(&scc(r#"["runtime/default"]"#), &pod(BARE, "")).unwrap();
    assert_eq!(a.defaulted.as_deref(), Some("runtime/default"));
    let c = &a.workload.containers[0];
    assert_eq!(c.applied, Applied::RuntimeDefault);
    assert_eq!(c.decided_by, "scc.json /seccompProfiles/0");
    assert_eq!(c.location.as_ref().unwrap().line, 2);
}

#[test]
fn restricted_v2_forbids_unconfined_and_localhost() {
    for spec in [
        r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}"#,
        r#"{"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"x.json"}},"containers":[{"name":"a"}]}"#,
    ] {
        let e = run(&scc(r#"["runtime/default"]"#), &pod(spec, "")).unwrap_err();
        assert!(matches!(e, PlatformError::Forbidden { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("is not an allowed seccomp profile. Valid values are [runtime/default]"),
            "{e}"
        );
        assert!(e.location().pointer.ends_with("seccompProfile"), "{e}");
    }
}

#[test]
fn docker_default_and_runtime_default_are_one() {
    let spec = r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"RuntimeDefault"}}}]}"#;
    let a = run(&scc(r#"["docker/default"]"#), &pod(spec, "")).unwrap();
    assert_eq!(a.workload.containers[0].applied, Applied::RuntimeDefault);
}

#[test]
fn the_pods_own_choice_stands_when_allowed() {
    let spec = r#"{"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"p.json"}},"containers":[{"name":"a"}]}"#;
    let a = run(
        &scc(r#"["runtime/default","localhost/p.json"]"#),
        &pod(spec, ""),
    )
    .unwrap();
    assert_eq!(a.defaulted, None);
    assert_eq!(
        a.workload.containers[0].applied,
        Applied::Localhost {
            path: "/var/lib/kubelet/seccomp/p.json".into()
        }
    );
    assert_eq!(
        a.workload.containers[0].decided_by,
        "/spec/securityContext/seccompProfile"
    );
}

#[test]
fn wildcard_allows_anything_and_defaults_to_first_named() {
    let spec = r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Unconfined"}}},{"name":"b"}]}"#;
    let a = run(&scc(r#"["*","runtime/default"]"#), &pod(spec, "")).unwrap();
    assert_eq!(a.workload.containers[0].applied, Applied::Unconfined);
    assert_eq!(a.workload.containers[1].applied, Applied::RuntimeDefault);
    // Only "*": nothing generated, the kubelet default applies.
    let a = run(&scc(r#"["*"]"#), &pod(BARE, "")).unwrap();
    assert_eq!(a.defaulted, None);
    assert_eq!(a.workload.containers[0].applied, Applied::Unconfined);
}

#[test]
fn no_seccomp_profiles_means_seccomp_may_not_be_set() {
    let a = run(r#"{"kind":"SecurityContextConstraints"}"#, &pod(BARE, "")).unwrap();
    assert_eq!(a.workload.containers[0].applied, Applied::Unconfined);
    let spec = r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"RuntimeDefault"}}}]}"#;
    let e = run(r#"{"seccompProfiles":[]}"#, &pod(spec, "")).unwrap_err();
    assert!(e.to_string().contains("seccomp may not be set"), "{e}");
}

#[test]
fn pod_annotation_becomes_the_field() {
    let a = run(
        &scc(r#"["runtime/default","unconfined"]"#),
        &pod(
            BARE,
            r#""seccomp.security.alpha.kubernetes.io/pod":"unconfined""#,
        ),
    )
    .unwrap();
    let c = &a.workload.containers[0];
    assert_eq!(c.applied, Applied::Unconfined);
    assert_eq!(
        c.decided_by,
        "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod"
    );
}

#[test]
fn container_annotation_is_validated() {
    let e = run(
        &scc(r#"["runtime/default"]"#),
        &pod(
            BARE,
            r#""container.seccomp.security.alpha.kubernetes.io/a":"unconfined""#,
        ),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("container a: unconfined is not an allowed"),
        "{e}"
    );
}

#[test]
fn scc_errors_name_the_place() {
    let e = run(r#"{"kind":"Pod"}"#, &pod(BARE, "")).unwrap_err();
    assert_eq!(e.location().pointer, "/kind");
    assert!(e.to_string().starts_with("scc.json:1:"), "{e}");
    let e = run("{\"seccompProfiles\":\n [1]}", &pod(BARE, "")).unwrap_err();
    assert_eq!(e.location().pointer, "/seccompProfiles/0");
    assert_eq!(e.location().line, 2);
    let e = run("{", &pod(BARE, "")).unwrap_err();
    assert!(matches!(e, PlatformError::Syntax { .. }));
}

/// apiserver-library-go `sccmatching/provider.go`: `CreatePodSecurityContext` writes what
/// `Generate` chose (the pod annotation first) into the pod field, over a different
/// field; `CreateContainerSecurityContext` copies a container annotation over the
/// container field. So on OpenShift annotations still decide, whatever the kubelet
/// version, and the API server sees field and annotation agree.
#[test]
fn admission_writes_annotations_into_the_fields() {
    let any = scc(r#"["*"]"#);
    // Pod annotation unconfined, pod field RuntimeDefault: plain Kubernetes refuses the
    // pod; under the SCC the annotation wins.
    let t = pod(
        r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"a"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"unconfined""#,
    );
    assert!(
        crate::platform::kubernetes::resolve("pod.json", &t, &Options::default(), None).is_err()
    );
    let c = &run(&any, &t).unwrap().workload.containers[0];
    assert_eq!(c.applied, Applied::Unconfined);
    assert!(
        c.reason.contains("CreatePodSecurityContext"),
        "{}",
        c.reason
    );
    // A container annotation replaces the container's field, and beats the pod's.
    let t = pod(
        r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[
            {"name":"a","securityContext":{"seccompProfile":{"type":"RuntimeDefault"}}},{"name":"b"}]}"#,
        r#""container.seccomp.security.alpha.kubernetes.io/a":"unconfined""#,
    );
    let w = run(&any, &t).unwrap().workload;
    assert_eq!(w.containers[0].applied, Applied::Unconfined);
    assert_eq!(
        w.containers[0].decided_by,
        "/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1a"
    );
    assert_eq!(w.containers[1].applied, Applied::RuntimeDefault);
    // The SCC validates what admission wrote: the annotation, not the field.
    let only_rd = scc(r#"["runtime/default"]"#);
    let e = run(&only_rd, &t).unwrap_err();
    assert!(
        e.to_string()
            .contains("container a: unconfined is not an allowed seccomp profile"),
        "{e}"
    );
}

/// openshift/apiserver-library-go `pkg/securitycontextconstraints/seccomp/
/// strategy_test.go`, `TestValidatePod` and `TestValidateContainer`, translated: (case,
/// SCC seccompProfiles, pod annotation, pod or container field, expected refusal text
/// or "" when admitted). The Go cases' free-form names `foo`/`bar` are written
/// `localhost/foo`/`localhost/bar` here, since the API server refuses other annotation
/// values before admission; the strategy matches the strings the same way.
#[test]
fn scc_strategy_validate_tables() {
    let field_lf = r#"{"type":"Localhost","localhostProfile":"foo"}"#;
    let field_lb = r#"{"type":"Localhost","localhostProfile":"bar"}"#;
    let field_rd = r#"{"type":"RuntimeDefault"}"#;
    let field_u = r#"{"type":"Unconfined"}"#;
    // (case, allowed, annotation, field, expected)
    let pod_cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
        ("empty allowed profiles, no pod profile", "[]", "", None, ""),
        (
            "empty allowed profiles, pod profile",
            "[]",
            "localhost/foo",
            None,
            "seccomp may not be set",
        ),
        (
            "good pod profile",
            r#"["localhost/foo"]"#,
            "localhost/foo",
            None,
            "",
        ),
        (
            "bad pod profile",
            r#"["localhost/foo"]"#,
            "localhost/bar",
            None,
            "localhost/bar is not an allowed seccomp profile. Valid values are [localhost/foo]",
        ),
        (
            "wildcard allows pod profile",
            r#"["*"]"#,
            "localhost/foo",
            None,
            "",
        ),
        ("wildcard allows no profile", r#"["*"]"#, "", None, ""),
        (
            "valid profile in both the pod annotations and field",
            r#"["localhost/foo"]"#,
            "localhost/foo",
            Some(field_lf),
            "",
        ),
        (
            "invalid pod field and no annotation",
            r#"["foo"]"#,
            "",
            Some(field_lf),
            "localhost/foo is not an allowed seccomp profile. Valid values are [foo]",
        ),
        (
            "valid pod field and no annotation",
            r#"["localhost/foo"]"#,
            "",
            Some(field_lf),
            "",
        ),
        (
            "docker/default policy allows runtime/default in pod annotation",
            r#"["docker/default"]"#,
            "runtime/default",
            None,
            "",
        ),
        (
            "docker/default policy allows runtime/default in pod field",
            r#"["docker/default"]"#,
            "",
            Some(field_rd),
            "",
        ),
        (
            "runtime/default policy allows docker/default in pod annotation",
            r#"["runtime/default"]"#,
            "docker/default",
            None,
            "",
        ),
        (
            "specific profile does not allow any other profiles",
            r#"["runtime/default"]"#,
            "",
            Some(field_u),
            "unconfined is not an allowed seccomp profile. Valid values are [runtime/default]",
        ),
    ];
    for (case, allowed, annotation, field, want) in pod_cases {
        let ann = if annotation.is_empty() {
            String::new()
        } else {
            format!(r#""seccomp.security.alpha.kubernetes.io/pod":"{annotation}""#)
        };
        let sc = field.map_or(String::new(), |f| {
            format!(r#""securityContext":{{"seccompProfile":{f}}},"#)
        });
        let spec = format!(r#"{{{sc}"containers":[{{"name":"test"}}]}}"#);
        crate::platform::assert_admission(case, &run(&scc(allowed), &pod(&spec, &ann)), want);
    }
    let container_cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
        (
            "empty allowed profiles, no container profile",
            "[]",
            "",
            None,
            "",
        ),
        (
            "empty allowed profiles, container profile",
            "[]",
            "localhost/foo",
            None,
            "seccomp may not be set",
        ),
        (
            "good container profile",
            r#"["localhost/foo"]"#,
            "localhost/foo",
            None,
            "",
        ),
        (
            "bad container profile",
            r#"["localhost/foo"]"#,
            "localhost/bar",
            None,
            "localhost/bar is not an allowed seccomp profile. Valid values are [localhost/foo]",
        ),
        (
            "wildcard allows container profile",
            r#"["*"]"#,
            "localhost/foo",
            None,
            "",
        ),
        ("wildcard allows no profile", r#"["*"]"#, "", None, ""),
        (
            "valid container field and no annotation",
            r#"["localhost/foo"]"#,
            "",
            Some(field_lf),
            "",
        ),
        (
            "invalid container field and no annotation",
            r#"["localhost/foo"]"#,
            "",
            Some(field_lb),
            "localhost/bar is not an allowed seccomp profile. Valid values are [localhost/foo]",
        ),
        (
            "runtime/default allows the profile of that type",
            r#"["runtime/default"]"#,
            "",
            Some(field_rd),
            "",
        ),
        (
            "specific profile does not allow any other profiles",
            r#"["runtime/default"]"#,
            "",
            Some(field_u),
            "unconfined is not an allowed seccomp profile. Valid values are [runtime/default]",
        ),
    ];
    for (case, allowed, annotation, field, want) in container_cases {
        let ann = if annotation.is_empty() {
            String::new()
        } else {
            format!(r#""container.seccomp.security.alpha.kubernetes.io/test":"{annotation}""#)
        };
        let sc = field.map_or(String::new(), |f| {
            format!(r#","securityContext":{{"seccompProfile":{f}}}"#)
        });
        let spec = format!(r#"{{"containers":[{{"name":"test"{sc}}}]}}"#);
        crate::platform::assert_admission(case, &run(&scc(allowed), &pod(&spec, &ann)), want);
    }
}
