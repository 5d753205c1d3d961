use super::*;
use crate::runtime::Release;

fn pod(spec: &str, annotations: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p","annotations":{{{annotations}}}}},"spec":{spec}}}"#
    )
}

fn one(text: &str, opts: &Options, name: &str) -> Resolution {
    let w = resolve("pod.json", text, opts, Some(name)).unwrap();
    assert_eq!(w.containers.len(), 1);
    w.containers.into_iter().next().unwrap()
}

fn err(text: &str, opts: &Options) -> PlatformError {
    resolve("pod.json", text, opts, None).unwrap_err()
}

const TWO: &str = r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},
 "initContainers":[{"name":"init"}],
 "containers":[{"name":"a"},{"name":"b","securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"profiles/b.json"}}}]}"#;

#[test]
fn container_field_overrides_pod_field() {
    let t = pod(TWO, "");
    let o = Options::default();
    let b = one(&t, &o, "b");
    assert_eq!(
        b.applied,
        Applied::Localhost {
            path: "/var/lib/kubelet/seccomp/profiles/b.json".into()
        }
    );
    assert_eq!(
        b.decided_by,
        "/spec/containers/1/securityContext/seccompProfile"
    );
    assert_eq!(b.location.unwrap().line, 3);
    let a = one(&t, &o, "a");
    assert_eq!(a.applied, Applied::RuntimeDefault);
    assert_eq!(a.decided_by, "/spec/securityContext/seccompProfile");
}

#[test]
fn every_container_in_init_regular_ephemeral_order() {
    let spec = r#"{"containers":[{"name":"a"}],"initContainers":[{"name":"i"}],"ephemeralContainers":[{"name":"e"}]}"#;
    let w = resolve("p", &pod(spec, ""), &Options::default(), None).unwrap();
    let got: Vec<_> = w
        .containers
        .iter()
        .map(|c| (c.container.as_str(), c.role))
        .collect();
    assert_eq!(
        got,
        [
            ("i", "init container"),
            ("a", "container"),
            ("e", "ephemeral container")
        ]
    );
    assert_eq!(w.containers[2].pointer, "/spec/ephemeralContainers/0");
}

#[test]
fn nothing_set_is_unconfined_unless_seccomp_default() {
    let t = pod(r#"{"containers":[{"name":"a"}]}"#, "");
    let r = one(&t, &Options::default(), "a");
    assert_eq!(r.applied, Applied::Unconfined);
    assert!(r.location.is_none());
    let o = Options {
        seccomp_default: true,
        ..Options::default()
    };
    let r = one(&t, &o, "a");
    assert_eq!(r.applied, Applied::RuntimeDefault);
    assert_eq!(r.decided_by, "kubelet --seccomp-default");
}

#[test]
fn explicit_unconfined_beats_seccomp_default() {
    let t = pod(
        r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}"#,
        "",
    );
    let o = Options {
        seccomp_default: true,
        ..Options::default()
    };
    assert_eq!(one(&t, &o, "a").applied, Applied::Unconfined);
}

#[test]
fn seccomp_root_is_overridable() {
    let t = pod(TWO, "");
    let o = Options {
        seccomp_root: "/etc/sc/".into(),
        ..Options::default()
    };
    assert_eq!(
        one(&t, &o, "b").applied.profile_spec(),
        "/etc/sc/profiles/b.json"
    );
}

#[test]
fn annotations_ignored_by_default_with_a_note() {
    let t = pod(
        r#"{"containers":[{"name":"a"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"runtime/default""#,
    );
    let r = one(&t, &Options::default(), "a");
    assert_eq!(r.applied, Applied::Unconfined);
    assert!(r.notes[0].contains("ignored"), "{:?}", r.notes);
}

#[test]
fn legacy_order_container_field_container_annotation_pod_field_pod_annotation() {
    let o = Options {
        kubelet: Some(Release::new(1, 24, 0)),
        ..Options::default()
    };
    // (An annotation and the field at the same level must agree, or the API server
    // refuses the pod: see `annotation_and_field_must_match`.)
    let ann = r#""seccomp.security.alpha.kubernetes.io/pod":"runtime/default",
        "container.seccomp.security.alpha.kubernetes.io/b":"unconfined",
        "container.seccomp.security.alpha.kubernetes.io/c":"unconfined""#;
    let spec = r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[
        {"name":"a"},
        {"name":"b"},
        {"name":"c","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}"#;
    let t = pod(spec, ann);
    // a: no container field or annotation -> pod field beats pod annotation.
    assert_eq!(one(&t, &o, "a").applied, Applied::RuntimeDefault);
    // b: container annotation beats the pod field.
    let b = one(&t, &o, "b");
    assert_eq!(b.applied, Applied::Unconfined);
    assert_eq!(
        b.decided_by,
        "/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1b"
    );
    // c: container field beats container annotation.
    assert_eq!(one(&t, &o, "c").applied, Applied::Unconfined);
    // pod annotation last.
    let t = pod(
        r#"{"containers":[{"name":"a"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"localhost/x/p.json""#,
    );
    assert_eq!(
        one(&t, &o, "a").applied,
        Applied::Localhost {
            path: "/var/lib/kubelet/seccomp/x/p.json".into()
        }
    );
}

/// Cases of kubernetes `pkg/apis/core/validation/validation_test.go` ("must match
/// seccomp profile type and pod annotation", "... container annotation", "... localhost
/// profile", and the matching ones), for `validateSeccompAnnotationsAndFieldsMatch`.
#[test]
fn annotation_and_field_must_match() {
    let o = Options::default();
    let refused = |spec: &str, ann: &str, at: &str, what: &str| {
        let e = err(&pod(spec, ann), &o);
        assert!(matches!(e, PlatformError::Forbidden { .. }), "{e}");
        assert_eq!(e.location().pointer, at, "{e}");
        assert!(e.to_string().contains(what), "{e}");
    };
    let pod_rd = r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"ctr"}]}"#;
    refused(
        pod_rd,
        r#""seccomp.security.alpha.kubernetes.io/pod":"unconfined""#,
        "/spec/securityContext/seccompProfile/type",
        "seccomp type in annotation and field must match",
    );
    refused(
        r#"{"containers":[{"name":"ctr","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}"#,
        r#""container.seccomp.security.alpha.kubernetes.io/ctr":"runtime/default""#,
        "/spec/containers/0/securityContext/seccompProfile/type",
        "seccomp type in annotation and field must match",
    );
    refused(
        r#"{"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"a.json"}},"containers":[{"name":"ctr"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"localhost/b.json""#,
        "/spec/securityContext/seccompProfile/localhostProfile",
        "seccomp profile in annotation and field must match",
    );
    // Matching pairs are accepted; docker/default is RuntimeDefault.
    for ann in [
        r#""seccomp.security.alpha.kubernetes.io/pod":"runtime/default""#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"docker/default""#,
        // A container annotation for another container, or at the other level, is no
        // conflict.
        r#""container.seccomp.security.alpha.kubernetes.io/ctr":"unconfined""#,
    ] {
        assert_eq!(
            one(&pod(pod_rd, ann), &o, "ctr").applied,
            Applied::RuntimeDefault,
            "{ann}"
        );
    }
}

/// Who honours the annotations, by release (kubernetes PRs #109819 and #114947).
#[test]
fn annotations_by_kubelet_and_api_server_release() {
    let t = pod(
        r#"{"containers":[{"name":"a"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"unconfined""#,
    );
    let at = |kubelet: Option<(u32, u32)>, api: Option<(u32, u32)>| {
        let o = Options {
            seccomp_default: true,
            kubelet: kubelet.map(|(a, b)| Release::new(a, b, 0)),
            api_server: api.map(|(a, b)| Release::new(a, b, 0)),
            ..Options::default()
        };
        one(&t, &o, "a")
    };
    // Kubelet 1.24 reads it; a 1.26 API server copies it into the field; from 1.27 on
    // nothing does, and --seccomp-default decides.
    assert!(at(Some((1, 24)), Some((1, 28)))
        .reason
        .contains("read by the kubelet"));
    let copied = at(Some((1, 30)), Some((1, 26)));
    assert_eq!(copied.applied, Applied::Unconfined);
    assert!(copied
        .reason
        .contains("copied into empty fields by the API server"));
    assert_eq!(at(Some((1, 26)), None).applied, Applied::Unconfined);
    let current = at(Some((1, 27)), None);
    assert_eq!(current.applied, Applied::RuntimeDefault);
    assert!(
        current.notes[0].contains("is ignored"),
        "{:?}",
        current.notes
    );
    assert_eq!(at(None, None).applied, Applied::RuntimeDefault);
}

#[test]
fn bad_annotation_value_is_an_error_with_its_place() {
    let o = Options {
        kubelet: Some(Release::new(1, 24, 0)),
        ..Options::default()
    };
    let t = pod(
        r#"{"containers":[{"name":"a"}]}"#,
        r#""seccomp.security.alpha.kubernetes.io/pod":"runtime/defualt""#,
    );
    let e = err(&t, &o);
    assert_eq!(
        e.location().pointer,
        "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod"
    );
    assert!(e.to_string().contains("invalid seccomp annotation"), "{e}");
}

#[test]
fn privileged_and_capabilities_are_recorded_for_the_engine() {
    let t = pod(
        r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"a","securityContext":{"privileged":true,"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]}}}]}"#,
        "",
    );
    let r = one(&t, &Options::default(), "a");
    // The kubelet still asks for RuntimeDefault; what a privileged container gets is
    // the engine's call (crate::chain).
    assert_eq!(r.applied, Applied::RuntimeDefault);
    assert_eq!(
        r.privileged.unwrap().pointer,
        "/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(r.capabilities.add, ["NET_ADMIN"]);
    assert_eq!(r.capabilities.drop, ["ALL"]);
    let bad = pod(
        r#"{"containers":[{"name":"a","securityContext":{"capabilities":{"add":[1]}}}]}"#,
        "",
    );
    let e = resolve("pod.json", &bad, &Options::default(), None).unwrap_err();
    assert!(
        e.to_string()
            .contains("/securityContext/capabilities/add/0"),
        "{e}"
    );
}

#[test]
fn workload_templates() {
    let tpl = r#"{"metadata":{},"spec":{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"RuntimeDefault"}}}]}}"#;
    for (kind, spec, pointer) in [
        (
            "Deployment",
            format!(r#"{{"template":{tpl}}}"#),
            "/spec/template/spec/containers/0/securityContext/seccompProfile",
        ),
        (
            "StatefulSet",
            format!(r#"{{"template":{tpl}}}"#),
            "/spec/template/spec/containers/0/securityContext/seccompProfile",
        ),
        (
            "DaemonSet",
            format!(r#"{{"template":{tpl}}}"#),
            "/spec/template/spec/containers/0/securityContext/seccompProfile",
        ),
        (
            "Job",
            format!(r#"{{"template":{tpl}}}"#),
            "/spec/template/spec/containers/0/securityContext/seccompProfile",
        ),
        (
            "CronJob",
            format!(r#"{{"jobTemplate":{{"spec":{{"template":{tpl}}}}}}}"#),
            "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/seccompProfile",
        ),
    ] {
        let t = format!(r#"{{"kind":"{kind}","spec":{spec}}}"#);
        let w = resolve("w", &t, &Options::default(), None).unwrap();
        assert_eq!(w.kind, kind);
        assert_eq!(w.containers[0].decided_by, pointer, "{kind}");
    }
}

#[test]
fn errors_name_the_place() {
    let o = Options::default();
    let e = err("{\"kind\":\"Pod\",\n\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{\"seccompProfile\":{\"type\":\"Localhost\"}}}]}}", &o);
    assert_eq!(
        e.location().pointer,
        "/spec/containers/0/securityContext/seccompProfile"
    );
    assert_eq!(e.location().line, 2);
    assert!(
        e.to_string().contains("localhostProfile must be set"),
        "{e}"
    );

    let e = err(
        &pod(
            r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"runtimedefault"}}}]}"#,
            "",
        ),
        &o,
    );
    assert_eq!(
        e.location().pointer,
        "/spec/containers/0/securityContext/seccompProfile/type"
    );

    let e = err(
        &pod(
            r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"../etc/x"}}}]}"#,
            "",
        ),
        &o,
    );
    assert!(e.to_string().contains("without '..'"), "{e}");

    let e = err(
        &pod(
            r#"{"containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"RuntimeDefault","localhostProfile":"x"}}}]}"#,
            "",
        ),
        &o,
    );
    assert_eq!(
        e.location().pointer,
        "/spec/containers/0/securityContext/seccompProfile/localhostProfile"
    );

    let e = err(&pod(r#"{"containers":{"name":"a"}}"#, ""), &o);
    assert_eq!(e.location().pointer, "/spec/containers");
    let e = err(&pod(r#"{"containers":[{"image":"x"}]}"#, ""), &o);
    assert!(e.to_string().contains("needs a \"name\""), "{e}");
    let e = err(r#"{"kind":"Service","spec":{}}"#, &o);
    assert_eq!(e.location().pointer, "/kind");
    let e = err("{\"kind\": \"Pod\",\n  \"spec\": [}", &o);
    assert!(matches!(e, PlatformError::Syntax { .. }));
    assert_eq!(e.location().line, 2);
    let e = err("[]", &o);
    assert!(e.to_string().starts_with("pod.json:1:1"), "{e}");
    let e = err(
        &pod(
            r#"{"containers":[{"name":"a","securityContext":{"privileged":"yes"}}]}"#,
            "",
        ),
        &o,
    );
    assert_eq!(
        e.location().pointer,
        "/spec/containers/0/securityContext/privileged"
    );
}

#[test]
fn unknown_container_lists_the_names() {
    let e = resolve("p", &pod(TWO, ""), &Options::default(), Some("zz")).unwrap_err();
    assert!(
        e.to_string()
            .contains("no container named \"zz\" (the pod has: init, a, b)"),
        "{e}"
    );
}

#[test]
fn a_bare_pod_without_kind_is_accepted() {
    let w = resolve(
        "p",
        r#"{"spec":{"containers":[{"name":"a"}]}}"#,
        &Options::default(),
        None,
    )
    .unwrap();
    assert_eq!(w.kind, "Pod");
}

/// kubernetes `pkg/kubelet/kuberuntime/helpers_test.go`, `TestGetSeccompProfile` and
/// `TestGetSeccompProfileDefaultSeccomp`, translated: (description, pod field,
/// container field, expected without and with `--seccomp-default`; `Err` is the
/// kubelet's "localhostProfile must be set if seccompProfile type is Localhost.").
/// (description, pod field, container field, without and with `--seccomp-default`).
type KubeletCase<'a> = (
    &'a str,
    Option<String>,
    Option<String>,
    Result<Applied, ()>,
    Result<Applied, ()>,
);

#[test]
fn kubelet_get_seccomp_profile_table() {
    const U: &str = r#"{"type":"Unconfined"}"#;
    const RD: &str = r#"{"type":"RuntimeDefault"}"#;
    const LOCAL_NONE: &str = r#"{"type":"Localhost"}"#;
    let local = |f: &str| format!(r#"{{"type":"Localhost","localhostProfile":"{f}"}}"#);
    let root = "/var/lib/kubelet/seccomp";
    let l = |f: &str| {
        Ok::<Applied, ()>(Applied::Localhost {
            path: format!("{root}/{f}"),
        })
    };
    let cases: Vec<KubeletCase> = vec![
        (
            "no seccomp",
            None,
            None,
            Ok(Applied::Unconfined),
            Ok(Applied::RuntimeDefault),
        ),
        (
            "pod unconfined",
            Some(U.into()),
            None,
            Ok(Applied::Unconfined),
            Ok(Applied::Unconfined),
        ),
        (
            "container unconfined",
            None,
            Some(U.into()),
            Ok(Applied::Unconfined),
            Ok(Applied::Unconfined),
        ),
        (
            "pod RuntimeDefault",
            Some(RD.into()),
            None,
            Ok(Applied::RuntimeDefault),
            Ok(Applied::RuntimeDefault),
        ),
        (
            "container RuntimeDefault",
            None,
            Some(RD.into()),
            Ok(Applied::RuntimeDefault),
            Ok(Applied::RuntimeDefault),
        ),
        (
            "pod Localhost",
            Some(local("filename")),
            None,
            l("filename"),
            l("filename"),
        ),
        (
            "pod Localhost without a file",
            Some(LOCAL_NONE.into()),
            None,
            Err(()),
            Err(()),
        ),
        (
            "container Localhost without a file",
            None,
            Some(LOCAL_NONE.into()),
            Err(()),
            Err(()),
        ),
        (
            "container Localhost",
            None,
            Some(local("filename2")),
            l("filename2"),
            l("filename2"),
        ),
        (
            "container field over pod field",
            Some(U.into()),
            Some(RD.into()),
            Ok(Applied::RuntimeDefault),
            Ok(Applied::RuntimeDefault),
        ),
        (
            "container Localhost over pod Localhost",
            Some(local("field-pod-profile.json")),
            Some(local("field-cont-profile.json")),
            l("field-cont-profile.json"),
            l("field-cont-profile.json"),
        ),
    ];
    for (what, pod_field, container_field, want, want_default) in cases {
        let pod_sc = pod_field.map_or(String::new(), |f| {
            format!(r#""securityContext":{{"seccompProfile":{f}}},"#)
        });
        let c_sc = container_field.map_or(String::new(), |f| {
            format!(r#","securityContext":{{"seccompProfile":{f}}}"#)
        });
        let text = pod(
            &format!(r#"{{{pod_sc}"containers":[{{"name":"container1"{c_sc}}}]}}"#),
            "",
        );
        for (seccomp_default, want) in [(false, &want), (true, &want_default)] {
            let opts = Options {
                seccomp_default,
                ..Options::default()
            };
            let got =
                resolve("pod.json", &text, &opts, None).map(|w| w.containers[0].applied.clone());
            match (got, want) {
                (Ok(a), Ok(w)) => assert_eq!(&a, w, "{what} (seccomp-default {seccomp_default})"),
                (Err(e), Err(())) => {
                    assert!(e.to_string().contains("localhostProfile"), "{what}: {e}")
                }
                (got, want) => {
                    panic!("{what} (seccomp-default {seccomp_default}): {got:?}, want {want:?}")
                }
            }
        }
    }
}
