use super::*;

fn opts(default: Option<&str>) -> Options {
    Options {
        profiles_dir: "/opt/mesos/seccomp".into(),
        default_profile: default.map(str::to_string),
    }
}

fn app(container: &str) -> String {
    format!("{{\"id\": \"/web\",\n \"container\": {container}}}")
}

#[test]
fn unconfined_true_means_no_filter() {
    let r = resolve(
        "a.json",
        &app(r#"{"type":"MESOS","linuxInfo":{"seccomp":{"unconfined":true}}}"#),
        &opts(Some("default.json")),
    )
    .unwrap();
    assert_eq!(r.applied, Applied::Unconfined);
    assert_eq!(r.decided_by, "/container/linuxInfo/seccomp/unconfined");
    assert_eq!(r.location.unwrap().line, 2);
}

#[test]
fn profile_name_is_a_file_in_the_directory() {
    let r = resolve(
        "a",
        &app(r#"{"linuxInfo":{"seccomp":{"profileName":"strict.json","unconfined":false}}}"#),
        &opts(Some("default.json")),
    )
    .unwrap();
    assert_eq!(
        r.applied,
        Applied::Localhost {
            path: "/opt/mesos/seccomp/strict.json".into()
        }
    );
    assert_eq!(r.decided_by, "/container/linuxInfo/seccomp/profileName");
}

#[test]
fn no_block_is_the_agent_default_or_nothing() {
    let r = resolve(
        "a",
        r#"{"id":"/x","cmd":"sleep 1"}"#,
        &opts(Some("default.json")),
    )
    .unwrap();
    assert_eq!(
        r.applied,
        Applied::Localhost {
            path: "/opt/mesos/seccomp/default.json".into()
        }
    );
    assert!(r.location.is_none());
    let r = resolve("a", r#"{"id":"/x"}"#, &opts(None)).unwrap();
    assert_eq!(r.applied, Applied::Unconfined);
}

#[test]
fn invalid_blocks_fail_the_task() {
    let e = resolve(
        "a",
        &app(r#"{"linuxInfo":{"seccomp":{"profileName":"p.json","unconfined":true}}}"#),
        &opts(None),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("'profile_name' given even though 'unconfined'"),
        "{e}"
    );
    assert_eq!(e.location().pointer, "/container/linuxInfo/seccomp");
    let e = resolve(
        "a",
        &app(r#"{"linuxInfo":{"seccomp":{"unconfined":false}}}"#),
        &opts(None),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("Missing Seccomp profile name"),
        "{e}"
    );
    let e = resolve(
        "a",
        &app(r#"{"linuxInfo":{"seccomp":{"profileName":""}}}"#),
        &opts(None),
    )
    .unwrap_err();
    assert_eq!(
        e.location().pointer,
        "/container/linuxInfo/seccomp/profileName"
    );
    let e = resolve(
        "a",
        &app(r#"{"linuxInfo":{"seccomp":{"unconfined":"yes"}}}"#),
        &opts(None),
    )
    .unwrap_err();
    assert_eq!(
        e.location().pointer,
        "/container/linuxInfo/seccomp/unconfined"
    );
}

/// The isolator joins `profileName` with stout's `path::join` (isolators/linux/seccomp.cpp
/// `prepare`): no `..` check, one leading `/` dropped. Modelled as Mesos does it, and
/// reported.
#[test]
fn profile_names_are_joined_as_mesos_does() {
    let at = |name: &str| {
        resolve(
            "a",
            &app(&format!(
                r#"{{"linuxInfo":{{"seccomp":{{"profileName":"{name}"}}}}}}"#
            )),
            &opts(None),
        )
        .unwrap()
    };
    let r = at("/strict.json");
    assert_eq!(
        r.applied,
        Applied::Localhost {
            path: "/opt/mesos/seccomp/strict.json".into()
        }
    );
    assert!(r.notes.is_empty());
    let r = at("../../../etc/p.json");
    assert_eq!(
        r.applied,
        Applied::Localhost {
            path: "/opt/mesos/seccomp/../../../etc/p.json".into()
        }
    );
    assert!(
        r.notes[0].contains("leaves the profile directory"),
        "{:?}",
        r.notes
    );
    assert!(at("x/../y.json").notes.is_empty());
}

/// DC/OS documentation: seccomp applies to UCR (MESOS) containers; a DOCKER container
/// gets dockerd's default profile, and its linuxInfo.seccomp is ignored.
#[test]
fn docker_containers_get_the_docker_default() {
    let r = resolve(
        "a",
        &app(r#"{"type":"DOCKER","linuxInfo":{"seccomp":{"unconfined":true}}}"#),
        &opts(Some("default.json")),
    )
    .unwrap();
    assert_eq!(r.applied, Applied::RuntimeDefault);
    assert_eq!(r.decided_by, "/container/type");
    assert!(r.notes[0].contains("is ignored"), "{:?}", r.notes);
}

#[test]
fn other_shapes_are_refused_with_the_place() {
    let e = resolve("a", &app(r#"{"type":"PODMAN"}"#), &opts(None)).unwrap_err();
    assert_eq!(e.location().pointer, "/container/type");
    let e = resolve("a", r#"{"cmd":"x"}"#, &opts(None)).unwrap_err();
    assert!(e.to_string().contains("needs an \"id\""), "{e}");
    let e = resolve("a", r#"{"id":"/p","containers":[]}"#, &opts(None)).unwrap_err();
    assert_eq!(e.location().pointer, "/containers");
    let e = resolve("a", "[1,", &opts(None)).unwrap_err();
    assert!(matches!(e, PlatformError::Syntax { .. }));
}
