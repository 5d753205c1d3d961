//! OpenShift: what the SecurityContextConstraints admission does to a pod's seccomp
//! profile before the kubelet sees it.
//!
//! Owns one SCC's seccomp strategy, as `openshift/apiserver-library-go`
//! `pkg/securitycontextconstraints/seccomp/strategy.go` and `sccmatching/provider.go`
//! implement it: `seccompProfiles` lists allowed values in annotation form
//! (`runtime/default`, `docker/default`, `unconfined`, `localhost/<path>`, `*` for any);
//! the pod-level profile is the pod annotation, else the pod field, else the first
//! listed non-`*` value, and is written to the pod annotation and over
//! `spec.securityContext.seccompProfile`; a container annotation is copied over that
//! container's field (`CreateContainerSecurityContext`), so on OpenShift annotations
//! still decide, whatever the kubelet's version; then the pod's and every container's
//! profile must be allowed (`runtime/default` and `docker/default`
//! count as one), else the pod is forbidden under that SCC. What the kubelet then
//! applies is [`super::kubernetes`]'s answer on the admitted pod. Which SCC a pod gets
//! when several are available (priority, RBAC) is not modelled: the SCC is given.

use super::kubernetes::{
    self, Admission, Injected, Options, Workload, CONTAINER_ANNOTATION_PREFIX, POD_ANNOTATION,
};
use super::{escape, Doc, PlatformError};

/// An SCC's seccomp strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scc {
    /// `metadata.name`, or `the SCC` when absent.
    pub name: String,
    /// The allowed values other than `*`, in order.
    pub allowed: Vec<String>,
    /// `*` is listed.
    pub allow_any: bool,
}

/// The admitted pod: the SCC's strategy and the kubelet's answer per container.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub scc: Scc,
    /// What the admission wrote as the pod-level profile when the pod set none, if
    /// anything (`runtime/default` for restricted-v2).
    pub defaulted: Option<String>,
    pub workload: Workload,
}

/// Admits the pod (or workload template) `pod_text` under the SCC `scc_text`, then
/// resolves what the kubelet applies with `opts`.
pub fn resolve(
    scc_source: &str,
    scc_text: &str,
    pod_source: &str,
    pod_text: &str,
    opts: &Options,
    only: Option<&str>,
) -> Result<Admitted, PlatformError> {
    let sdoc = Doc::parse(scc_source, scc_text)?;
    let scc = parse_scc(&sdoc)?;
    let doc = Doc::parse(pod_source, pod_text)?;
    let (template, _) = kubernetes::template(&doc)?;
    let spec = format!("{template}/spec");
    let annotations = format!("{template}/metadata/annotations");
    let pod_ann_p = format!("{annotations}/{}", escape(POD_ANNOTATION));
    let pod_field_p = format!("{spec}/securityContext/seccompProfile");

    // Generate (strategy.go): the pod annotation, else the pod field, else the first
    // allowed profile.
    let pod_ann = doc.string(&pod_ann_p)?.filter(|s| !s.is_empty());
    let pod_field = field_form(&doc, &pod_field_p)?;
    let (generated, gen_place): (String, Option<(String, bool)>) = if let Some(a) = pod_ann {
        (a.to_string(), Some((pod_ann_p.clone(), false)))
    } else if let Some(f) = &pod_field {
        (f.clone(), None)
    } else if let Some(first) = scc.allowed.first() {
        (
            first.clone(),
            Some(("/seccompProfiles/0".to_string(), true)),
        )
    } else {
        (String::new(), None)
    };
    let defaulted = (pod_ann.is_none() && pod_field.is_none() && !generated.is_empty())
        .then(|| generated.clone());

    // Validate (strategy.go ValidatePod / ValidateContainer) on the mutated pod.
    let scc_place = sdoc.location("/seccompProfiles");
    let forbid = |pointer: &str, message: String| PlatformError::Forbidden {
        location: doc.location(pointer),
        by: format!("SCC {} ({scc_place})", scc.name),
        message,
    };
    let pod_place = if pod_field.is_some() {
        &pod_field_p
    } else {
        &pod_ann_p
    };
    if let Err(m) = scc.validate(&generated) {
        return Err(forbid(pod_place, format!("pod: {m}")));
    }
    let mut admission = Admission::default();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = format!("{spec}/{list}");
        for (i, c) in doc.array(&lp)?.iter().enumerate() {
            let cp = format!("{lp}/{i}");
            let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
            let cf = format!("{cp}/securityContext/seccompProfile");
            let ca = format!(
                "{annotations}/{}",
                escape(&format!("{CONTAINER_ANNOTATION_PREFIX}{name}"))
            );
            // CreateContainerSecurityContext (provider.go) first copies a container
            // annotation over the container's field; validation sees the result.
            let (profile, place) = if let Some(a) = doc.string(&ca)? {
                admission.containers.insert(
                    name.to_string(),
                    Injected {
                        applied: kubernetes::annotation(&doc, &ca, a, opts)?,
                        decided_by: ca.clone(),
                        location: Some(doc.location(&ca)),
                        why: format!(
                            "SCC admission copies the annotation {CONTAINER_ANNOTATION_PREFIX}{name} \
                             into the container's seccompProfile field (CreateContainerSecurityContext), \
                             whatever the field said"
                        ),
                    },
                );
                (a.to_string(), ca)
            } else if let Some(f) = field_form(&doc, &cf)? {
                (f, cf)
            } else {
                (generated.clone(), pod_place.clone())
            };
            if let Err(m) = scc.validate(&profile) {
                return Err(forbid(&place, format!("container {name}: {m}")));
            }
        }
    }

    // What the kubelet sees: the admission set the pod field from `generated`.
    // CreatePodSecurityContext writes `generated` into the pod field: the pod annotation
    // (which Generate prefers) replaces the field, the SCC's default fills an empty one.
    admission.pod = match gen_place {
        Some((pointer, from_scc)) => {
            let (d, p) = if from_scc {
                (&sdoc, &pointer)
            } else {
                (&doc, &pointer)
            };
            let applied = kubernetes::annotation(d, p, &generated, opts)?;
            Some(Injected {
                applied,
                decided_by: if from_scc {
                    format!("{scc_source} {pointer}")
                } else {
                    pointer.clone()
                },
                location: Some(d.location(p)),
                why: if from_scc {
                    format!(
                        "SCC {}: the pod sets no profile, so admission sets the pod's seccompProfile to the first of seccompProfiles, {generated}",
                        scc.name
                    )
                } else {
                    format!(
                        "SCC admission: the pod annotation {POD_ANNOTATION} is copied to the pod's seccompProfile field, whatever the field said (CreatePodSecurityContext)"
                    )
                },
            })
        }
        None => None,
    };
    let mut workload = kubernetes::resolve_doc(&doc, opts, only, Some(&admission))?;
    for c in &mut workload.containers {
        if c.decided_by.ends_with("/securityContext/privileged") {
            c.notes.push(
                "only the SCC's seccomp strategy is modelled: whether it allows privileged \
                 containers (allowPrivilegedContainer) is not checked"
                    .to_string(),
            );
        }
    }
    Ok(Admitted {
        scc,
        defaulted,
        workload,
    })
}

impl Scc {
    /// `validateProfile` in strategy.go: `Err` carries OpenShift's message.
    pub fn validate(&self, profile: &str) -> Result<(), String> {
        if !self.allow_any && self.allowed.is_empty() && !profile.is_empty() {
            return Err("seccomp may not be set".to_string());
        }
        if self.allowed.is_empty() && profile.is_empty() {
            return Ok(());
        }
        if self.allow_any {
            return Ok(());
        }
        let rd = |p: &str| p == "runtime/default" || p == "docker/default";
        let runtime_default_allowed = self.allowed.iter().any(|p| rd(p));
        if self.allowed.iter().any(|p| p == profile) || (runtime_default_allowed && rd(profile)) {
            return Ok(());
        }
        Err(format!(
            "{} is not an allowed seccomp profile. Valid values are [{}]",
            if profile.is_empty() {
                "<none>"
            } else {
                profile
            },
            self.allowed.join(" ")
        ))
    }
}

fn parse_scc(doc: &Doc<'_>) -> Result<Scc, PlatformError> {
    if !doc.root.is_object() {
        return Err(doc.invalid("", "expected a SecurityContextConstraints object"));
    }
    if let Some(k) = doc.string("/kind")? {
        if k != "SecurityContextConstraints" {
            return Err(doc.invalid(
                "/kind",
                format!("kind {k:?}: expected SecurityContextConstraints"),
            ));
        }
    }
    let name = doc
        .string("/metadata/name")?
        .unwrap_or("the SCC")
        .to_string();
    let mut allowed = Vec::new();
    let mut allow_any = false;
    for (i, v) in doc.array("/seccompProfiles")?.iter().enumerate() {
        match v.as_str() {
            Some("*") => allow_any = true,
            Some(s) => allowed.push(s.to_string()),
            None => return Err(doc.invalid(&format!("/seccompProfiles/{i}"), "expected a string")),
        }
    }
    Ok(Scc {
        name,
        allowed,
        allow_any,
    })
}

/// A `seccompProfile` field in annotation form (`seccompAnnotationForField`): `None`
/// when the field is absent, `""` for a Localhost without a path or an unknown type.
fn field_form(doc: &Doc<'_>, pointer: &str) -> Result<Option<String>, PlatformError> {
    if doc.object(pointer)?.is_none() {
        return Ok(None);
    }
    let ty = doc.string(&format!("{pointer}/type"))?.unwrap_or("");
    let local = doc.string(&format!("{pointer}/localhostProfile"))?;
    Ok(Some(match (ty, local) {
        ("Unconfined", _) => "unconfined".to_string(),
        ("RuntimeDefault", _) => "runtime/default".to_string(),
        ("Localhost", Some(l)) => format!("localhost/{l}"),
        _ => String::new(),
    }))
}

#[cfg(test)]
mod tests;
