use super::*;
use crate::platform::kubernetes::{self, Options};

fn pod(container_sc: &str) -> String {
    format!(
        r#"{{"kind":"Pod","metadata":{{"name":"p"}},"spec":{{"securityContext":{{"seccompProfile":{{"type":"RuntimeDefault"}}}},"containers":[{{"name":"a","securityContext":{container_sc}}}]}}}}"#
    )
}

fn resolution(container_sc: &str) -> Resolution {
    kubernetes::resolve(
        "pod.json",
        &pod(container_sc),
        &Options::default(),
        Some("a"),
    )
    .unwrap()
    .containers
    .remove(0)
}

fn node(yaml: &str) -> Node {
    Node::parse("node.yaml", yaml).unwrap()
}

#[test]
fn runtime_default_is_the_node_engines_default() {
    let r = resolution("{}");
    let c = follow(&r, &Node::default()).unwrap();
    assert_eq!(c.filter.profile_spec(), "containerd/default@2.3");
    let c = follow(
        &r,
        &node("containerEngine: {name: containerd, version: '1.6'}"),
    )
    .unwrap();
    assert_eq!(c.filter.profile_spec(), "containerd/default@1.6");
    assert!(c.line().starts_with(
        "the platform asks for RuntimeDefault -> containerd 1.6 default profile (containerd/default@1.6) -> runc"
    ), "{}", c.line());
    // The engine step names the place in the node file.
    assert_eq!(c.steps[1].decided_by, "node.yaml:1:25");
    let c = follow(
        &r,
        &node("containerEngine:\n  name: cri-o\n  version: 1.36\n"),
    )
    .unwrap();
    assert_eq!(c.filter.profile_spec(), "cri-o/default@1.36");
    let c = follow(
        &r,
        &node("containerEngine: {name: cri-o, seccompProfile: /etc/crio/seccomp.json}"),
    )
    .unwrap();
    assert_eq!(
        c.filter,
        Filter::File {
            path: "/etc/crio/seccomp.json".into()
        }
    );
}

#[test]
fn privileged_containers_by_engine() {
    let r = resolution(r#"{"privileged":true}"#);
    let c = follow(&r, &Node::default()).unwrap();
    assert_eq!(c.filter, Filter::None);
    assert!(c.steps[1]
        .what
        .contains("containerd sets no seccomp filter"));
    assert_eq!(c.caps.len(), crate::caps::NAMES.len());
    let crio = node("containerEngine: {name: cri-o}");
    assert_eq!(follow(&r, &crio).unwrap().filter, Filter::None);
    let crio = node("containerEngine: {name: cri-o, privilegedSeccompProfile: /p.json}");
    assert_eq!(
        follow(&r, &crio).unwrap().filter,
        Filter::File {
            path: "/p.json".into()
        }
    );
}

#[test]
fn a_node_without_seccomp() {
    let r = resolution("{}");
    let e = follow(&r, &node("seccomp: false")).unwrap_err();
    assert_eq!(e.engine, ContainerEngine::Containerd);
    assert!(e.message.contains("seccomp is not supported"), "{e}");
    let c = follow(&r, &node("seccomp: false\ncontainerEngine: {name: cri-o}")).unwrap();
    assert_eq!(c.filter, Filter::None);
    let unconfined = resolution(r#"{"seccompProfile":{"type":"Unconfined"}}"#);
    assert_eq!(
        follow(&unconfined, &node("seccomp: false")).unwrap().filter,
        Filter::None
    );
}

#[test]
fn capabilities_follow_the_engine() {
    let r = resolution(r#"{"capabilities":{"add":["SYS_ADMIN"],"drop":["KILL"]}}"#);
    let c = follow(&r, &Node::default()).unwrap();
    assert!(c.caps.contains(&"CAP_SYS_ADMIN".to_string()));
    assert!(!c.caps.contains(&"CAP_KILL".to_string()));
    assert_eq!(c.caps.len(), crate::caps::DOCKER_DEFAULT.len());
    let c = follow(&r, &node("containerEngine: {name: cri-o}")).unwrap();
    assert_eq!(c.caps.len(), crate::caps::CRIO_DEFAULT.len());
}

#[test]
fn node_files_are_checked_with_their_places() {
    let e = Node::parse("n.yaml", "containerEngine:\n  name: lxc\n").unwrap_err();
    assert_eq!(e.location().line, 2);
    assert!(e.to_string().contains("unknown container engine"), "{e}");
    let e = Node::parse("n.yaml", "kubelet:\n  seccompDefualt: true\n").unwrap_err();
    assert!(
        e.to_string().contains("unknown setting \"seccompDefualt\""),
        "{e}"
    );
    let e = Node::parse("n.yaml", "containerEngine: {name: docker, version: '25.0'}").unwrap_err();
    assert!(e.to_string().contains("modelled: 20.10, 29.7"), "{e}");
    let e = Node::parse(
        "n.yaml",
        "containerEngine: {name: containerd, seccompProfile: /x}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("CRI-O setting"), "{e}");
    let e = Node::parse("n.json", r#"{"runtime": "runz"}"#).unwrap_err();
    assert_eq!(e.location().pointer, "/runtime");
    let n = node("runtime: crun@1.8\nlibseccomp: 2.5.4\nkernel: 5.15\narch: aarch64\nkubelet: {version: 1.24, seccompDefault: true}\n");
    assert_eq!(n.runtime.value.to_string(), "crun@1.8");
    assert_eq!(n.kernel.value.unwrap().to_string(), "5.15");
    assert_eq!(n.arch.value, Some(Arch::Aarch64));
    assert_eq!(n.kubelet.value.unwrap().to_string(), "1.24");
    assert!(n.seccomp_default.value);
    assert_eq!(n.libseccomp.value, "2.5.4");
}
