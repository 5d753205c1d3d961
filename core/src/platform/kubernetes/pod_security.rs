//! The Pod Security Standards' seccomp checks: whether a pod meets `baseline` and
//! `restricted`, as the Pod Security admission controller decides it.
//!
//! Source: kubernetes `staging/src/k8s.io/pod-security-admission/policy/
//! check_seccompProfile_baseline.go` and `check_seccompProfile_restricted.go` (v1.19+
//! checks, on the fields):
//!
//! * baseline: no `seccompProfile.type: Unconfined` at the pod level or in any
//!   container (init, regular, ephemeral); leaving it unset is allowed;
//! * restricted: the pod level, or else every container, sets `RuntimeDefault` or
//!   `Localhost` explicitly, and nothing sets another type. The kubelet's
//!   `--seccomp-default` does not count: the check reads the pod, not the node.
//!
//! This module only reads the pod spec; which level a namespace enforces, and what the
//! kubelet then applies, are not its business.

use serde_json::Value;

/// The verdict for one level: `None` when the pod meets it, else why not.
pub type Verdict = Option<String>;

/// A pod's standing under the two levels that check seccomp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSecurity {
    pub baseline: Verdict,
    pub restricted: Verdict,
}

fn field_type(sc: Option<&Value>) -> Option<&str> {
    sc?.get("seccompProfile")?.get("type")?.as_str()
}

/// Checks the pod spec `spec` (a JSON object).
pub fn check(spec: &Value) -> PodSecurity {
    let pod = field_type(spec.get("securityContext"));
    let mut unconfined = Vec::new();
    let mut bad = Vec::new();
    let mut unset = Vec::new();
    let pod_valid = matches!(pod, Some("RuntimeDefault" | "Localhost"));
    match pod {
        Some("Unconfined") => {
            unconfined.push("the pod".to_string());
            bad.push("the pod (Unconfined)".to_string());
        }
        Some("RuntimeDefault" | "Localhost") | None => {}
        Some(t) => bad.push(format!("the pod ({t})")),
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            match field_type(c.get("securityContext")) {
                Some("Unconfined") => {
                    unconfined.push(format!("container {name}"));
                    bad.push(format!("container {name} (Unconfined)"));
                }
                Some("RuntimeDefault" | "Localhost") => {}
                Some(t) => bad.push(format!("container {name} ({t})")),
                None if !pod_valid => unset.push(format!("container {name}")),
                None => {}
            }
        }
    }
    let baseline = (!unconfined.is_empty()).then(|| {
        format!(
            "seccompProfile type Unconfined is forbidden ({})",
            unconfined.join(", ")
        )
    });
    let mut why = Vec::new();
    if !bad.is_empty() {
        why.push(format!(
            "seccompProfile type must be RuntimeDefault or Localhost: {}",
            bad.join(", ")
        ));
    }
    if !unset.is_empty() {
        why.push(format!(
            "the pod or these containers must set seccompProfile.type to RuntimeDefault or \
             Localhost: {}",
            unset.join(", ")
        ));
    }
    PodSecurity {
        baseline,
        restricted: (!why.is_empty()).then(|| why.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Cases in the spirit of pod-security-admission's `check_seccompProfile_*_test.go`
    /// fixtures.
    #[test]
    fn baseline_and_restricted() {
        let c = |t: Option<&str>| match t {
            Some(t) => json!({"name": "c", "securityContext": {"seccompProfile": {"type": t}}}),
            None => json!({"name": "c"}),
        };
        let pod = |p: Option<&str>, cs: Vec<Value>| {
            let mut s = json!({"containers": cs});
            if let Some(p) = p {
                s["securityContext"] = json!({"seccompProfile": {"type": p}});
            }
            s
        };
        // Nothing set: baseline yes, restricted no (--seccomp-default does not count).
        let r = check(&pod(None, vec![c(None)]));
        assert_eq!(r.baseline, None);
        assert!(r.restricted.unwrap().contains("container c"));
        // Pod-level RuntimeDefault covers unset containers.
        assert_eq!(
            check(&pod(Some("RuntimeDefault"), vec![c(None)])).restricted,
            None
        );
        // Every container explicit.
        assert_eq!(
            check(&pod(None, vec![c(Some("Localhost"))])).restricted,
            None
        );
        // Unconfined anywhere fails both.
        for p in [
            pod(Some("Unconfined"), vec![c(None)]),
            pod(Some("RuntimeDefault"), vec![c(Some("Unconfined"))]),
        ] {
            let r = check(&p);
            assert!(r.baseline.is_some() && r.restricted.is_some(), "{p}");
        }
        // Init and ephemeral containers count.
        let mut p = pod(Some("RuntimeDefault"), vec![c(None)]);
        p["initContainers"] =
            json!([{"name": "i", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]);
        assert!(check(&p).baseline.unwrap().contains("container i"));
    }
}
