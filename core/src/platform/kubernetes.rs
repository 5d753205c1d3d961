//! Kubernetes: which seccomp profile the kubelet asks the container runtime for.
//!
//! Owns the kubelet's choice for every container of a Pod (or of the pod template of a
//! Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob): the container's
//! `securityContext.seccompProfile`, else the pod's `spec.securityContext.
//! seccompProfile`, else `--seccomp-default` (RuntimeDefault) or Unconfined, as
//! `pkg/kubelet/kuberuntime/helpers.go` (`getSeccompProfile`, `fieldSeccompProfile`)
//! does; the legacy annotations where the node's versions still honour them (the
//! kubelet read them until 1.24; the API server copied them into empty fields until
//! 1.26); the API server's refusal of an annotation that contradicts its field; and
//! whether the container is privileged and its capability changes, which the container
//! engine acts on ([`crate::chain`]).

pub mod pod_security;
pub mod psp;

use super::{escape, join, Applied, CapabilityChanges, Doc, PlatformError, Resolution};
use crate::profile::Location;
use crate::runtime::Release;

/// The kubelet's default `--seccomp-profile-root` (`<root-dir>/seccomp`).
pub const DEFAULT_SECCOMP_ROOT: &str = "/var/lib/kubelet/seccomp";
/// Legacy pod-level annotation.
pub const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// Legacy container-level annotation prefix (followed by the container name).
pub const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// The node's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Where `Localhost` profiles are looked up.
    pub seccomp_root: String,
    /// kubelet `--seccomp-default`: containers without a profile get RuntimeDefault.
    pub seccomp_default: bool,
    /// The kubelet's release (`major.minor`); `None`: a current one (1.27+).
    pub kubelet: Option<Release>,
    /// The API server's release; `None`: the kubelet's.
    pub api_server: Option<Release>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seccomp_root: DEFAULT_SECCOMP_ROOT.to_string(),
            seccomp_default: false,
            kubelet: None,
            api_server: None,
        }
    }
}

/// Who still honours the legacy annotations, by release (kubernetes PR #109819, in
/// 1.25: "Kubelets no longer support the annotations"; PR #114947, in 1.27: "The
/// seccomp fields are no longer auto-populated when pods with seccomp annotations are
/// created").
impl Options {
    /// The kubelet reads the annotations itself (1.19-1.24, `getSeccompProfile` with
    /// `annotationProfile`).
    pub fn kubelet_reads_annotations(&self) -> bool {
        self.kubelet.is_some_and(|k| k < Release::new(1, 25, 0))
    }

    /// The API server copies an annotation into the matching field when the field is
    /// empty, at pod creation (1.19-1.26, `applySeccompVersionSkew` in
    /// `pkg/registry/core/pod/strategy.go`).
    pub fn api_server_copies_annotations(&self) -> bool {
        self.api_server
            .or(self.kubelet)
            .is_some_and(|a| a < Release::new(1, 27, 0))
    }

    /// Whether annotations take effect at all, and why (for the header and notes).
    pub fn annotations(&self) -> Option<&'static str> {
        if self.kubelet_reads_annotations() {
            Some("read by the kubelet (before 1.25)")
        } else if self.api_server_copies_annotations() {
            Some("copied into empty fields by the API server (before 1.27)")
        } else {
            None
        }
    }
}

/// What the file was, and where its pod spec is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// `Pod`, `Deployment`, ...
    pub kind: String,
    /// `metadata.name`, when present.
    pub name: Option<String>,
    /// JSON pointer of the pod spec (`/spec`, `/spec/template/spec`, ...).
    pub spec_pointer: String,
    /// Where the workload is in a file of several (`document 2`, `/items/3`); empty
    /// for a file of one.
    pub at: String,
    pub containers: Vec<Resolution>,
    /// The Pod Security Standards' seccomp verdicts for the pod as written.
    pub pod_security: pod_security::PodSecurity,
}

/// The effective profile of every container (init, regular and ephemeral, in that
/// order), or only of the one named `only`.
pub fn resolve(
    source: &str,
    text: &str,
    opts: &Options,
    only: Option<&str>,
) -> Result<Workload, PlatformError> {
    let doc = Doc::parse(source, text)?;
    resolve_doc(&doc, opts, only, None)
}

/// Every workload of a file: a JSON object, or every document of a YAML file (as
/// `helm template` or `kustomize build` print them), with the items of a `kind: List`
/// each on its own. Objects without a pod template (Services, ConfigMaps, ...) are
/// skipped when the file holds several documents, as they set no seccomp profile.
/// `at` of each workload says where it is (`document 2`, `/items/3`). With `only`,
/// only the containers of that name, wherever they are.
pub fn resolve_all(
    source: &str,
    text: &str,
    opts: &Options,
    only: Option<&str>,
) -> Result<Vec<Workload>, PlatformError> {
    let docs = Doc::parse_documents(source, text)?;
    let many_docs = docs.len() > 1;
    let mut out = Vec::new();
    let mut skipped = 0;
    for (n, d) in docs.into_iter().enumerate() {
        let items = d.expand_list();
        let several =
            many_docs || items.len() > 1 || items.first().is_some_and(|i| !i.prefix().is_empty());
        for item in items {
            if several && !has_pod_template(&item) {
                skipped += 1;
                continue;
            }
            let mut w = resolve_doc(&item, opts, None, None)?;
            w.at = match (many_docs, item.prefix()) {
                (true, "") => format!("document {}", n + 1),
                (true, p) => format!("document {} {p}", n + 1),
                (false, p) => p.to_string(),
            };
            out.push(w);
        }
    }
    // An error about the whole file: at its start.
    let whole_file = |message: String| PlatformError::Invalid {
        location: Location {
            source: source.to_string(),
            line: 1,
            column: 1,
            pointer: String::new(),
        },
        message,
    };
    if out.is_empty() {
        return Err(whole_file(format!(
            "no Pod or workload with a pod template in the file ({skipped} other objects)"
        )));
    }
    if let Some(o) = only {
        let names: Vec<String> = out
            .iter()
            .flat_map(|w| w.containers.iter().map(|c| c.container.clone()))
            .collect();
        for w in &mut out {
            w.containers.retain(|c| c.container == o);
        }
        out.retain(|w| !w.containers.is_empty());
        if out.is_empty() {
            return Err(whole_file(format!(
                "no container named {o:?} (the file has: {})",
                names.join(", ")
            )));
        }
    }
    Ok(out)
}

/// One step of the kubelet's chain: the pointer that decides, its place, the answer,
/// and why.
type Step = (String, Option<Location>, Applied, String);

/// A legacy annotation (at `p`, meaning `a`) joins the chain where the node's versions
/// honour annotations; otherwise it is noted as ignored, where it would have mattered.
fn legacy_annotation(
    doc: &Doc<'_>,
    opts: &Options,
    (p, a): (String, Applied),
    key: &str,
    level: &str,
    chain: &mut Vec<Step>,
    notes: &mut Vec<String>,
) {
    match opts.annotations() {
        Some(how) => {
            let location = Some(doc.location(&p));
            let why = format!(
                "the legacy annotation {key}, {how}, as the {level} has no seccompProfile field"
            );
            chain.push((p, location, a, why));
        }
        None if chain.is_empty() => notes.push(format!(
            "{p} is ignored: kubelets read only the seccompProfile fields since 1.25, and API \
             servers stopped copying annotations into them in 1.27 (--kubelet-version, \
             --apiserver-version model older nodes)"
        )),
        None => {}
    }
}

/// Whether a document is a Pod or a workload with a pod template.
fn has_pod_template(doc: &Doc<'_>) -> bool {
    matches!(
        doc.root["kind"].as_str(),
        Some(
            "Pod"
                | "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "Job"
                | "ReplicationController"
                | "CronJob"
        )
    ) || (doc.root.get("kind").is_none() && doc.root.pointer("/spec/containers").is_some())
}

/// A pod-level profile set by admission (OpenShift's SCC) when the pod sets none.
#[derive(Clone, Debug)]
pub(crate) struct Injected {
    pub applied: Applied,
    pub decided_by: String,
    pub location: Option<Location>,
    pub why: String,
}

/// What an admission controller (OpenShift's SCC) wrote into the pod before the API
/// server validated it and the kubelet read it: the pod's `seccompProfile` field, and
/// containers' fields (by container name). Each replaces the field it writes, so the
/// API server's annotation/field check sees them agree.
#[derive(Clone, Debug, Default)]
pub(crate) struct Admission {
    pub pod: Option<Injected>,
    pub containers: std::collections::BTreeMap<String, Injected>,
}

/// Where the pod spec and metadata of a workload are (`""` for a Pod).
pub(crate) fn template(doc: &Doc<'_>) -> Result<(&'static str, String), PlatformError> {
    if !doc.root.is_object() {
        return Err(doc.invalid("", "expected a Kubernetes object (a JSON object)"));
    }
    let kind = doc.string("/kind")?.unwrap_or("").to_string();
    let template: &'static str = match kind.as_str() {
        "Pod" => "",
        "" if doc.get("/spec/containers").is_some() => "",
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => "/spec/template",
        "CronJob" => "/spec/jobTemplate/spec/template",
        "" => {
            return Err(doc.invalid(
                "",
                "no \"kind\" and no spec.containers: not a Pod or workload object",
            ))
        }
        "List" => {
            return Err(doc.invalid(
                "/kind",
                "a List: save one item (kubectl get pod NAME -o json) and pass that",
            ))
        }
        other => {
            return Err(doc.invalid(
                "/kind",
                format!(
                    "kind {other:?} has no pod template (expected Pod, Deployment, \
                     ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or \
                     ReplicationController)"
                ),
            ))
        }
    };
    Ok((template, kind))
}

pub(crate) fn resolve_doc(
    doc: &Doc<'_>,
    opts: &Options,
    only: Option<&str>,
    admission: Option<&Admission>,
) -> Result<Workload, PlatformError> {
    let admitted_pod = admission.and_then(|a| a.pod.clone());
    let (template, kind) = template(doc)?;
    let name = doc.string("/metadata/name")?.map(str::to_string);
    let spec = format!("{template}/spec");
    let meta = format!("{template}/metadata");
    if doc.object(&spec)?.is_none() {
        return Err(doc.invalid(&spec, "missing pod spec"));
    }
    let annotations = format!("{meta}/annotations");
    let annot = |key: &str| -> Result<Option<(String, &str)>, PlatformError> {
        let p = format!("{annotations}/{}", escape(key));
        Ok(doc.string(&p)?.map(|v| (p, v)))
    };
    let pod_field = format!("{spec}/securityContext/seccompProfile");
    let pod_field_value = field(doc, &pod_field, opts)?;
    let pod_annot = match annot(POD_ANNOTATION)? {
        Some((p, v)) => Some((p.clone(), annotation(doc, &p, v, opts)?)),
        None => None,
    };
    if let (None, Some(f), Some((_, a))) = (&admitted_pod, &pod_field_value, &pod_annot) {
        must_match(doc, &pod_field, f, a)?;
    }

    let mut out = Vec::new();
    let mut names = Vec::new();
    for (list, role) in [
        ("initContainers", "init container"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral container"),
    ] {
        let lp = format!("{spec}/{list}");
        for (i, c) in doc.array(&lp)?.iter().enumerate() {
            let cp = format!("{lp}/{i}");
            if !c.is_object() {
                return Err(doc.invalid(&cp, "a container must be a JSON object"));
            }
            let cname = doc
                .string(&format!("{cp}/name"))?
                .ok_or_else(|| doc.invalid(&cp, "a container needs a \"name\""))?
                .to_string();
            names.push(cname.clone());
            if only.is_some_and(|o| o != cname) {
                continue;
            }
            let mut notes = Vec::new();
            let c_field = format!("{cp}/securityContext/seccompProfile");
            let c_field_value = field(doc, &c_field, opts)?;
            let c_annot = match annot(&format!("{CONTAINER_ANNOTATION_PREFIX}{cname}"))? {
                Some((p, v)) => Some((p.clone(), annotation(doc, &p, v, opts)?)),
                None => None,
            };
            let admitted = admission.and_then(|a| a.containers.get(&cname));
            if let (None, Some(f), Some((_, a))) = (admitted, &c_field_value, &c_annot) {
                must_match(doc, &c_field, f, a)?;
            }
            // The kubelet's order (helpers.go getSeccompProfile).
            let mut chain: Vec<Step> = Vec::new();
            if let Some(i) = admitted {
                chain.push((
                    i.decided_by.clone(),
                    i.location.clone(),
                    i.applied.clone(),
                    i.why.clone(),
                ));
            } else if let Some(a) = c_field_value {
                chain.push((
                    c_field.clone(),
                    Some(doc.location(&c_field)),
                    a,
                    "the container's securityContext.seccompProfile".into(),
                ));
            }
            if let Some((p, a)) = c_annot.clone() {
                let key = format!("{CONTAINER_ANNOTATION_PREFIX}{cname}");
                legacy_annotation(doc, opts, (p, a), &key, "container", &mut chain, &mut notes);
            }
            if let Some(i) = admitted_pod.clone() {
                chain.push((i.decided_by, i.location, i.applied, i.why));
            } else if let Some(a) = pod_field_value.clone() {
                chain.push((
                    pod_field.clone(),
                    Some(doc.location(&pod_field)),
                    a,
                    "the pod's spec.securityContext.seccompProfile (the container sets none)"
                        .into(),
                ));
            }
            if let Some(pa) = pod_annot.clone() {
                legacy_annotation(doc, opts, pa, POD_ANNOTATION, "pod", &mut chain, &mut notes);
            }
            let (decided_by, location, applied, reason) = match chain.into_iter().next() {
                Some((p, l, a, why)) => (p, l, a, format!("set by {why}")),
                None if opts.seccomp_default => (
                    "kubelet --seccomp-default".to_string(),
                    None,
                    Applied::RuntimeDefault,
                    "nothing in the pod sets a profile, and the kubelet runs with --seccomp-default".to_string(),
                ),
                None => (
                    "kubelet default (no --seccomp-default)".to_string(),
                    None,
                    Applied::Unconfined,
                    "nothing in the pod sets a profile and the kubelet runs without --seccomp-default, so it asks for Unconfined".to_string(),
                ),
            };
            let privileged = format!("{cp}/securityContext/privileged");
            let privileged =
                (doc.boolean(&privileged)? == Some(true)).then(|| doc.location(&privileged));
            let mut capabilities = CapabilityChanges::default();
            for (key, list) in [
                ("add", &mut capabilities.add),
                ("drop", &mut capabilities.drop),
            ] {
                let at = format!("{cp}/securityContext/capabilities/{key}");
                if doc.get(&at).is_some() {
                    for (i, c) in doc.array(&at)?.iter().enumerate() {
                        match c.as_str() {
                            Some(c) => list.push(c.to_string()),
                            None => {
                                return Err(
                                    doc.invalid(&format!("{at}/{i}"), "expected a capability name")
                                )
                            }
                        }
                    }
                }
            }
            out.push(Resolution {
                container: cname,
                role,
                pointer: cp,
                location,
                applied,
                decided_by,
                reason,
                notes,
                privileged,
                capabilities,
            });
        }
    }
    if let Some(o) = only {
        if out.is_empty() {
            return Err(doc.invalid(
                &spec,
                format!(
                    "no container named {o:?} (the pod has: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
    }
    if names.is_empty() {
        return Err(doc.invalid(&format!("{spec}/containers"), "the pod has no containers"));
    }
    Ok(Workload {
        kind: if kind.is_empty() {
            "Pod".to_string()
        } else {
            kind
        },
        name,
        pod_security: pod_security::check(doc.get(&spec).unwrap_or(&serde_json::Value::Null)),
        spec_pointer: spec,
        at: String::new(),
        containers: out,
    })
}

/// A `seccompProfile` field (`None` when absent), as `fieldSeccompProfile` reads it.
fn field(doc: &Doc<'_>, pointer: &str, opts: &Options) -> Result<Option<Applied>, PlatformError> {
    if doc.object(pointer)?.is_none() {
        return Ok(None);
    }
    let ty_p = format!("{pointer}/type");
    let lp_p = format!("{pointer}/localhostProfile");
    let ty = doc.string(&ty_p)?.ok_or_else(|| {
        doc.invalid(
            pointer,
            "seccompProfile needs a \"type\" (RuntimeDefault, Unconfined or Localhost)",
        )
    })?;
    let local = doc.string(&lp_p)?;
    match ty {
        "RuntimeDefault" | "Unconfined" => {
            if local.is_some() {
                return Err(doc.invalid(
                    &lp_p,
                    format!("localhostProfile may only be set when type is Localhost (the API server rejects type {ty} with it)"),
                ));
            }
            Ok(Some(if ty == "RuntimeDefault" { Applied::RuntimeDefault } else { Applied::Unconfined }))
        }
        "Localhost" => match local {
            Some(l) if !l.is_empty() => {
                descending(doc, &lp_p, l)?;
                Ok(Some(Applied::Localhost { path: join(&opts.seccomp_root, l) }))
            }
            _ => Err(doc.invalid(
                pointer,
                "type Localhost needs a non-empty localhostProfile (the kubelet fails: \
                 \"localhostProfile must be set if seccompProfile type is Localhost.\")",
            )),
        },
        other => Err(doc.invalid(
            &ty_p,
            format!("unknown seccompProfile type {other:?} (expected RuntimeDefault, Unconfined or Localhost)"),
        )),
    }
}

/// The API server refuses a pod whose seccomp annotation and matching field (pod's, or
/// the same container's) disagree: `validateSeccompAnnotationsAndFieldsMatch` in
/// kubernetes `pkg/apis/core/validation/validation.go`, from 1.19 and still in 1.27+
/// ("seccomp type in annotation and field must match"; for Localhost, "seccomp profile
/// in annotation and field must match"). `docker/default` matches RuntimeDefault.
fn must_match(
    doc: &Doc<'_>,
    field_pointer: &str,
    field: &Applied,
    annotation: &Applied,
) -> Result<(), PlatformError> {
    let (what, at) = match (field, annotation) {
        (a, b) if a == b => return Ok(()),
        (Applied::Localhost { .. }, Applied::Localhost { .. }) => (
            "seccomp profile in annotation and field must match",
            format!("{field_pointer}/localhostProfile"),
        ),
        _ => (
            "seccomp type in annotation and field must match",
            format!("{field_pointer}/type"),
        ),
    };
    Err(PlatformError::Forbidden {
        location: doc.location(&at),
        by: "the API server (pod validation)".into(),
        message: format!("{what}: the field says {field}, the annotation {annotation}"),
    })
}

/// A legacy annotation value, as the 1.19-1.26 kubelet's `annotationProfile` reads it.
pub(crate) fn annotation(
    doc: &Doc<'_>,
    pointer: &str,
    value: &str,
    opts: &Options,
) -> Result<Applied, PlatformError> {
    match value {
        "runtime/default" | "docker/default" => Ok(Applied::RuntimeDefault),
        "unconfined" => Ok(Applied::Unconfined),
        v => match v.strip_prefix("localhost/") {
            Some(rel) if !rel.is_empty() => {
                descending(doc, pointer, rel)?;
                Ok(Applied::Localhost { path: join(&opts.seccomp_root, rel) })
            }
            _ => Err(doc.invalid(
                pointer,
                format!("invalid seccomp annotation value {v:?} (expected runtime/default, docker/default, unconfined or localhost/<path>)"),
            )),
        },
    }
}

/// The API server's `ValidateLocalDescendingPath`: relative, no `..` element.
fn descending(doc: &Doc<'_>, pointer: &str, path: &str) -> Result<(), PlatformError> {
    if path.starts_with('/') || path.split('/').any(|e| e == "..") {
        return Err(doc.invalid(
            pointer,
            format!("{path:?} must be a relative path below the kubelet's seccomp root, without '..' (the API server rejects it)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
