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

/// Mesos `src/tests/containerizer/linux_seccomp_parser_tests.cpp`,
/// `SECCOMP_ParseInvalidSeccompProfile`, translated: each broken profile and the text
/// Mesos' error must contain.
#[test]
fn mesos_parser_invalid_profiles_table() {
    let rule = |r: &str| {
        format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], "syscalls": [{r}]}}"#)
    };
    let ok_rule = r#""names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}"#;
    let arg = |a: &str| {
        rule(&format!(
            r#"{{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [{{{a}}}], "includes": {{}}, "excludes": {{}}}}"#
        ))
    };
    let cases: Vec<(String, &str)> = vec![
        (r#"{"defaultAction!!BUG": "SCMP_ACT_ERRNO", "archMap": [], "syscalls": []}"#.into(), "Cannot determine 'defaultAction'"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap!!BUG": [], "syscalls": []}"#.into(), "Cannot determine 'archMap'"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], "syscalls!!BUG": []}"#.into(), "Cannot determine 'syscalls'"),
        (r#"{"defaultAction": "SCMP_ACT_!!BUG", "archMap": [], "syscalls": []}"#.into(), "Unknown syscall action: 'SCMP_ACT_!!BUG'"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_!!BUG", "subArchitectures": []}], "syscalls": []}"#.into(), "Unknown architecture: 'SCMP_ARCH_!!BUG'"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_!!BUG"]}], "syscalls": []}"#.into(), "Unknown architecture: 'SCMP_ARCH_!!BUG'"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures!!BUG": []}], "syscalls": []}"#.into(), "Cannot determine 'subArchitectures'"),
        (rule(r#"{"names!!BUG": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}}"#), "Cannot determine 'names'"),
        (rule(r#"{"names": ["accept"], "action!!BUG": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}}"#), "Cannot determine 'action'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args!!BUG": [], "includes": {}, "excludes": {}}"#), "Cannot determine 'args'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes!!BUG": {}, "excludes": {}}"#), "Cannot determine 'includes'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes!!BUG": {}}"#), "Cannot determine 'excludes'"),
        (rule(r#"{"names": ["accept", "writev!!BUG"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}}"#), "Unrecognized syscall 'writev!!BUG'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_!!BUG", "args": [], "includes": {}, "excludes": {}}"#), "Unknown syscall action: 'SCMP_ACT_!!BUG'"),
        (arg(r#""index!!BUG": 0, "value": 2080505856, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ""#), "Cannot determine 'index'"),
        (arg(r#""index": 0, "value!!BUG": 2080505856, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ""#), "Cannot determine 'value'"),
        (arg(r#""index": 0, "value": 2080505856, "valueTwo!!BUG": 0, "op": "SCMP_CMP_MASKED_EQ""#), "Cannot determine 'valueTwo'"),
        (arg(r#""index": 0, "value": 2080505856, "valueTwo": 0, "op!!BUG": "SCMP_CMP_MASKED_EQ""#), "Cannot determine 'op'"),
        (arg(r#""index": 0, "value": 2080505856, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ!!BUG""#), "Unknown operator: 'SCMP_CMP_MASKED_EQ!!BUG'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {"arches": ["amd64!!SPECTRE"]}}"#), "Unknown architecture: 'amd64!!SPECTRE'"),
        (rule(r#"{"names": ["accept"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN!!BUG"]}}"#), "Unknown capability: 'CAP_SYS_ADMIN!!BUG'"),
    ];
    for (text, want) in &cases {
        let Err(e) = parser::check("p.json", text, &crate::libseccomp::Libseccomp::latest()) else {
            panic!("accepted, but Mesos refuses it with {want:?}:\n{text}");
        };
        assert!(e.to_string().contains(want), "{want}\nnot in: {e}\n{text}");
    }
    // SECCOMP_ParseSeccompProfile's valid profile parses.
    let good = rule(&format!("{{{ok_rule}}}"));
    assert!(parser::check("p.json", &good, &crate::libseccomp::Libseccomp::latest()).is_ok());
}

/// Mesos resolves every name in the agent's libseccomp and refuses what it cannot
/// (`seccomp.cpp` `SeccompFilter::create`), where runc would skip it: a profile naming
/// `cachestat` (Linux 6.5) fails on an agent whose libseccomp is 2.5.4.
#[test]
fn names_the_agents_libseccomp_does_not_know_are_refused() {
    use crate::libseccomp::Libseccomp;
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], "syscalls": [
        {"names": ["read", "cachestat"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}}]}"#;
    let old = Libseccomp::release("2.5.4".parse().unwrap()).unwrap();
    let e = parser::check("p.json", text, &old).unwrap_err();
    assert_eq!(e.location().pointer, "/syscalls/0/names/1");
    assert!(
        e.to_string().contains("Unrecognized syscall 'cachestat'"),
        "{e}"
    );
    assert!(parser::check("p.json", text, &Libseccomp::latest()).is_ok());
}
