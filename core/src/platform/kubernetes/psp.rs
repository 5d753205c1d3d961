//! Kubernetes PodSecurityPolicy's seccomp strategy, as Kubernetes up to 1.18 has it
//! (`pkg/security/podsecuritypolicy/seccomp/strategy.go`, the annotation-only version,
//! kubernetes commit 00bdb3f): the PSP's annotations
//! `seccomp.security.alpha.kubernetes.io/defaultProfileName` (the profile a pod that
//! sets none gets) and `.../allowedProfileNames` (comma-separated, `*` for any).
//! `Generate`: the pod annotation if set, else the default, written to the pod
//! annotation. `ValidatePod`: that annotation; `ValidateContainer`: the container's
//! annotation, else the pod's. No list with a profile set: "seccomp may not be set"; a
//! profile not listed: "X is not an allowed seccomp profile. Valid values are LIST".
//! Unlike OpenShift's SCC, `docker/default` and `runtime/default` are not one.
//!
//! Not modelled: the 1.19-1.24 strategy that also reads the `seccompProfile` fields (a
//! pod with fields is refused as outside the model), which PSP a pod gets among
//! several, and anything but seccomp. PodSecurityPolicy was removed in 1.25.

use super::{
    escape, resolve_doc, template, Admission, Injected, Options, Workload,
    CONTAINER_ANNOTATION_PREFIX, POD_ANNOTATION,
};
use crate::platform::{Doc, PlatformError};
use crate::runtime::Release;

/// The PSP annotation naming the default profile.
pub const DEFAULT_PROFILE: &str = "seccomp.security.alpha.kubernetes.io/defaultProfileName";
/// The PSP annotation listing the allowed profiles.
pub const ALLOWED_PROFILES: &str = "seccomp.security.alpha.kubernetes.io/allowedProfileNames";

/// The newest kubelet this model speaks for.
pub const NEWEST: Release = Release {
    major: 1,
    minor: 18,
    patch: None,
};

/// A PSP's seccomp strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Psp {
    /// `metadata.name`, or `the PSP`.
    pub name: String,
    pub default: Option<String>,
    /// The allowed names other than `*`.
    pub allowed: Vec<String>,
    pub allow_any: bool,
    /// The annotation as written (Kubernetes prints it in its messages).
    pub allowed_string: String,
}

impl Psp {
    /// `ValidatePod`/`ValidateContainer` on one profile ("" when none is set).
    pub fn validate(&self, profile: &str) -> Result<(), String> {
        if !self.allow_any && self.allowed.is_empty() && !profile.is_empty() {
            return Err("seccomp may not be set".into());
        }
        // profileAllowed
        let allowed = (self.allowed.is_empty() && profile.is_empty())
            || self.allow_any
            || self.allowed.iter().any(|p| p == profile);
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{profile} is not an allowed seccomp profile. Valid values are {}",
                self.allowed_string
            ))
        }
    }
}

/// The pod admitted under a PSP, and what the kubelet then applies.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub psp: Psp,
    /// What admission wrote into the pod annotation, when the pod set none.
    pub defaulted: Option<String>,
    pub workload: Workload,
}

fn parse_psp(doc: &Doc<'_>) -> Result<Psp, PlatformError> {
    if let Some(k) = doc.string("/kind")? {
        if k != "PodSecurityPolicy" {
            return Err(doc.invalid("/kind", format!("kind {k:?}: expected PodSecurityPolicy")));
        }
    }
    let name = doc
        .string("/metadata/name")?
        .unwrap_or("the PSP")
        .to_string();
    let at = |key: &str| format!("/metadata/annotations/{}", escape(key));
    let default = doc.string(&at(DEFAULT_PROFILE))?.map(str::to_string);
    let allowed_string = doc.string(&at(ALLOWED_PROFILES))?.unwrap_or("").to_string();
    let mut allowed = Vec::new();
    let mut allow_any = false;
    if doc.get(&at(ALLOWED_PROFILES)).is_some() {
        for p in allowed_string.split(',') {
            if p == "*" {
                allow_any = true;
            } else {
                allowed.push(p.to_string());
            }
        }
    }
    Ok(Psp {
        name,
        default,
        allowed,
        allow_any,
        allowed_string,
    })
}

/// Admits the pod (or workload template) `pod_text` under the PSP `psp_text`, then
/// resolves what a kubelet of `opts` (at most 1.18; 1.18 when unset) applies.
pub fn resolve(
    psp_source: &str,
    psp_text: &str,
    pod_source: &str,
    pod_text: &str,
    opts: &Options,
    only: Option<&str>,
) -> Result<Admitted, PlatformError> {
    let pdoc = Doc::parse(psp_source, psp_text)?;
    let psp = parse_psp(&pdoc)?;
    let doc = Doc::parse(pod_source, pod_text)?;
    let mut opts = opts.clone();
    match opts.kubelet {
        None => opts.kubelet = Some(NEWEST),
        Some(k) if (k.major, k.minor) > (NEWEST.major, NEWEST.minor) => {
            return Err(pdoc.invalid(
                "",
                format!(
                    "PodSecurityPolicy's seccomp strategy is modelled as Kubernetes 1.18 and \
                     earlier have it (annotations only), not for kubelet {k}; PSP was removed \
                     in 1.25"
                ),
            ))
        }
        Some(_) => {}
    }
    let (template, _) = template(&doc)?;
    let spec = format!("{template}/spec");
    let annotations = format!("{template}/metadata/annotations");
    let pod_ann_p = format!("{annotations}/{}", escape(POD_ANNOTATION));
    let forbid = |pointer: &str, message: String| PlatformError::Forbidden {
        location: doc.location(pointer),
        by: format!(
            "PSP {} ({})",
            psp.name,
            pdoc.location("/metadata/annotations")
        ),
        message,
    };
    let mut fields = vec![format!("{spec}/securityContext/seccompProfile")];
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = format!("{spec}/{list}");
        for i in 0..doc.array(&lp)?.len() {
            fields.push(format!("{lp}/{i}/securityContext/seccompProfile"));
        }
    }
    if let Some(f) = fields.iter().find(|f| doc.get(f).is_some()) {
        return Err(doc.invalid(
            f,
            "a seccompProfile field: PodSecurityPolicy is modelled as Kubernetes 1.18 and \
             earlier have it, before the fields existed (annotations only)",
        ));
    }
    // Generate: the pod annotation, else the PSP's default.
    let pod_ann = doc.string(&pod_ann_p)?.filter(|s| !s.is_empty());
    let generated = pod_ann
        .map(str::to_string)
        .or_else(|| psp.default.clone())
        .unwrap_or_default();
    let defaulted = (pod_ann.is_none() && !generated.is_empty()).then(|| generated.clone());
    if let Err(m) = psp.validate(&generated) {
        return Err(forbid(&pod_ann_p, format!("pod: {m}")));
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = format!("{spec}/{list}");
        for c in doc.array(&lp)? {
            let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
            let ca = format!(
                "{annotations}/{}",
                escape(&format!("{CONTAINER_ANNOTATION_PREFIX}{name}"))
            );
            let (profile, place) = match doc.string(&ca)? {
                Some(a) => (a.to_string(), ca),
                None => (generated.clone(), pod_ann_p.clone()),
            };
            if let Err(m) = psp.validate(&profile) {
                return Err(forbid(&place, format!("container {name}: {m}")));
            }
        }
    }
    let mut admission = Admission::default();
    if let Some(d) = &defaulted {
        let p = format!("/metadata/annotations/{}", escape(DEFAULT_PROFILE));
        admission.pod = Some(Injected {
            applied: super::annotation(&pdoc, &p, d, &opts)?,
            decided_by: format!("{psp_source} {p}"),
            location: Some(pdoc.location(&p)),
            why: format!(
                "PSP {}: the pod sets no profile, so admission writes the PSP's \
                 defaultProfileName, {d}, into the pod annotation",
                psp.name
            ),
        });
    }
    let workload = resolve_doc(&doc, &opts, only, Some(&admission))?;
    Ok(Admitted {
        psp,
        defaulted,
        workload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Applied;

    fn psp(default: Option<&str>, allowed: Option<&str>) -> String {
        let mut ann = Vec::new();
        if let Some(d) = default {
            ann.push(format!(r#""{DEFAULT_PROFILE}":"{d}""#));
        }
        if let Some(a) = allowed {
            ann.push(format!(r#""{ALLOWED_PROFILES}":"{a}""#));
        }
        format!(
            r#"{{"kind":"PodSecurityPolicy","metadata":{{"name":"restricted","annotations":{{{}}}}}}}"#,
            ann.join(",")
        )
    }

    fn pod(annotations: &str) -> String {
        format!(
            r#"{{"kind":"Pod","metadata":{{"name":"p","annotations":{{{annotations}}}}},"spec":{{"containers":[{{"name":"test"}}]}}}}"#
        )
    }

    fn run(psp_text: &str, pod_text: &str) -> Result<Admitted, PlatformError> {
        resolve(
            "psp.json",
            psp_text,
            "pod.json",
            pod_text,
            &Options::default(),
            None,
        )
    }

    /// kubernetes `pkg/security/podsecuritypolicy/seccomp/strategy_test.go` (the
    /// annotation-era `TestValidatePod`/`TestValidateContainer` cases), translated:
    /// (case, allowed annotation, pod annotation, container annotation, refusal or "").
    #[test]
    fn validate_table() {
        let cases: &[(&str, Option<&str>, &str, &str, &str)] = &[
            ("no allowed list, no profile", None, "", "", ""),
            ("no allowed list, pod profile", None, "localhost/foo", "", "seccomp may not be set"),
            ("good pod profile", Some("localhost/foo"), "localhost/foo", "", ""),
            ("bad pod profile", Some("localhost/foo"), "localhost/bar", "", "localhost/bar is not an allowed seccomp profile. Valid values are localhost/foo"),
            ("wildcard allows pod profile", Some("*"), "localhost/foo", "", ""),
            ("wildcard allows no profile", Some("*"), "", "", ""),
            ("no allowed list, container profile", None, "", "localhost/foo", "seccomp may not be set"),
            ("good container profile", Some("localhost/foo"), "localhost/foo", "localhost/foo", ""),
            ("bad container profile", Some("localhost/foo"), "localhost/foo", "localhost/bar", "container test: localhost/bar is not an allowed seccomp profile. Valid values are localhost/foo"),
            // Admission validates the pod too: a list without a default refuses a pod
            // that sets no pod-level profile (profileAllowed("") is false).
            ("allowed list, no default, no pod profile", Some("localhost/foo"), "", "localhost/foo", "pod:  is not an allowed seccomp profile"),
            ("container annotation over pod annotation", Some("localhost/foo"), "localhost/bar", "localhost/foo", "pod: localhost/bar"),
            ("docker/default does not allow runtime/default", Some("docker/default"), "runtime/default", "", "runtime/default is not an allowed seccomp profile. Valid values are docker/default"),
        ];
        for (case, allowed, pod_ann, c_ann, want) in cases {
            let mut ann = Vec::new();
            if !pod_ann.is_empty() {
                ann.push(format!(r#""{POD_ANNOTATION}":"{pod_ann}""#));
            }
            if !c_ann.is_empty() {
                ann.push(format!(r#""{CONTAINER_ANNOTATION_PREFIX}test":"{c_ann}""#));
            }
            let got = run(&psp(None, *allowed), &pod(&ann.join(",")));
            crate::platform::assert_admission(case, &got, want);
        }
    }

    #[test]
    fn the_default_is_written_into_the_pod_annotation_and_the_kubelet_reads_it() {
        let a = run(
            &psp(
                Some("runtime/default"),
                Some("runtime/default,docker/default"),
            ),
            &pod(""),
        )
        .unwrap();
        assert_eq!(a.defaulted.as_deref(), Some("runtime/default"));
        let c = &a.workload.containers[0];
        assert_eq!(c.applied, Applied::RuntimeDefault);
        assert!(
            c.decided_by.starts_with("psp.json /metadata/annotations/"),
            "{}",
            c.decided_by
        );
        // A pod that names its own profile keeps it.
        let a = run(
            &psp(Some("runtime/default"), Some("*")),
            &pod(&format!(r#""{POD_ANNOTATION}":"unconfined""#)),
        )
        .unwrap();
        assert_eq!(a.defaulted, None);
        assert_eq!(a.workload.containers[0].applied, Applied::Unconfined);
        // Fields are outside the model; a newer kubelet too.
        let with_field = r#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"test"}]}}"#;
        let e = run(&psp(None, Some("*")), with_field).unwrap_err();
        assert_eq!(e.location().pointer, "/spec/securityContext/seccompProfile");
        let newer = Options {
            kubelet: Some(Release::new(1, 25, 0)),
            ..Options::default()
        };
        let e = resolve(
            "psp.json",
            &psp(None, None),
            "pod.json",
            &pod(""),
            &newer,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("removed in 1.25"), "{e}");
    }
}
