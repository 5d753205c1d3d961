//! A generated profile written in the format its user deploys, and read back from that
//! text so that verification judges what is written, not what was meant:
//!
//! * `oci`: the runtime-spec `LinuxSeccomp` object (runc, crun, a Kubernetes Localhost
//!   file). JSON has no comments and the spec no comment field, so the provenance goes
//!   to the caller ([`Rendered::comment`]) to print elsewhere.
//! * `docker`: moby's format, with a top-level `comment` and one per rule (moby and the
//!   runtimes ignore unknown fields).
//! * `seccompiler`: one filter named `main` (rust-vmm/seccompiler JSON), 64-bit
//!   conditions as `qword`; one architecture only, as a seccompiler filter is built for
//!   one.
//! * `spo`: a Security Profiles Operator `SeccompProfile` object (YAML), whose `spec` is
//!   the OCI profile, provenance in an annotation.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::action::{Action, ActionKind};
use crate::profile::{self, write, AnyProfile, CmpOp, Format, Profile, ProfileError, Runtime};

/// The formats `generate` and `merge` write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Oci,
    Docker,
    Seccompiler,
    Spo,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 4] = [
        OutputFormat::Oci,
        OutputFormat::Docker,
        OutputFormat::Seccompiler,
        OutputFormat::Spo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Oci => "oci",
            OutputFormat::Docker => "docker",
            OutputFormat::Seccompiler => "seccompiler",
            OutputFormat::Spo => "spo",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<OutputFormat, String> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown format {s:?} (expected oci, docker, seccompiler or spo)")
            })
    }
}

/// The seccompiler filter's name in written files.
pub const SECCOMPILER_FILTER: &str = "main";

/// A written profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// The provenance, when the format had no place for it.
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error(
        "a seccompiler filter is built for one architecture, and this profile has {0}; \
         write it as oci or docker"
    )]
    SeccompilerArches(String),
    #[error("seccompiler has no {0} action")]
    SeccompilerAction(&'static str),
    #[error(
        "this profile uses archMap or includes/excludes, which only the docker format can \
         say"
    )]
    NeedsDocker,
}

/// The format `p` is written in when `requested` is asked for: OCI becomes Docker when
/// the profile says what only Docker can (archMap, includes/excludes), so nothing is
/// lost; any other request stands.
pub fn format_for(p: &Profile, requested: OutputFormat) -> OutputFormat {
    match requested {
        OutputFormat::Oci if write::needs_docker(p) => OutputFormat::Docker,
        f => f,
    }
}

/// Writes `p` in `format`; `comment` says where it came from, `name` names the SPO object.
pub fn render(
    p: &Profile,
    format: OutputFormat,
    comment: &str,
    name: &str,
) -> Result<Rendered, OutputError> {
    if format != OutputFormat::Docker && write::needs_docker(p) {
        return Err(OutputError::NeedsDocker);
    }
    Ok(match format {
        OutputFormat::Oci => Rendered {
            text: write::to_text(p, Format::Oci),
            comment: Some(comment.to_string()),
        },
        OutputFormat::Docker => {
            let mut root = Map::new();
            root.insert("comment".into(), Value::from(comment));
            if let Value::Object(rest) = write::to_value(p, Format::Docker) {
                root.extend(rest);
            }
            let mut text =
                serde_json::to_string_pretty(&Value::Object(root)).expect("JSON values serialize");
            text.push('\n');
            Rendered {
                text,
                comment: None,
            }
        }
        OutputFormat::Seccompiler => Rendered {
            text: seccompiler(p, comment)?,
            comment: None,
        },
        OutputFormat::Spo => Rendered {
            text: spo(p, comment, name),
            comment: None,
        },
    })
}

fn seccompiler_action(a: Action) -> Result<Value, OutputError> {
    Ok(match a.kind {
        ActionKind::Allow => json!("allow"),
        ActionKind::Log => json!("log"),
        ActionKind::KillProcess => json!("kill_process"),
        ActionKind::KillThread => json!("kill_thread"),
        ActionKind::Trap => json!("trap"),
        ActionKind::Errno => json!({ "errno": a.data }),
        ActionKind::Trace => json!({ "trace": a.data }),
        ActionKind::Notify => return Err(OutputError::SeccompilerAction("NOTIFY")),
    })
}

fn seccompiler(p: &Profile, comment: &str) -> Result<String, OutputError> {
    if p.architectures.len() > 1 {
        let names: Vec<&str> = p.architectures.iter().map(|a| a.name()).collect();
        return Err(OutputError::SeccompilerArches(names.join(", ")));
    }
    let default = Action::new(
        p.default_action,
        match p.default_action {
            ActionKind::Errno => p.default_errno_ret.unwrap_or(1).min(u16::MAX.into()) as u16,
            _ => 0,
        },
    );
    let mut filter = Vec::new();
    for r in &p.syscalls {
        if r.action != ActionKind::Allow {
            return Err(OutputError::SeccompilerAction(
                "per-rule action other than allow (a seccompiler filter has one match_action)",
            ));
        }
        let args: Vec<Value> = r
            .args
            .iter()
            .map(|a| {
                let (op, val) = match a.op {
                    CmpOp::MaskedEq => (json!({ "masked_eq": a.value }), a.value_two),
                    CmpOp::Eq => (json!("eq"), a.value),
                    CmpOp::Ne => (json!("ne"), a.value),
                    CmpOp::Lt => (json!("lt"), a.value),
                    CmpOp::Le => (json!("le"), a.value),
                    CmpOp::Gt => (json!("gt"), a.value),
                    CmpOp::Ge => (json!("ge"), a.value),
                };
                json!({ "index": a.index, "type": "qword", "op": op, "val": val })
            })
            .collect();
        for n in &r.names {
            let mut o = Map::new();
            o.insert("syscall".into(), Value::from(n.as_str()));
            if !args.is_empty() {
                o.insert("args".into(), Value::from(args.clone()));
            }
            if let Some(c) = &r.comment {
                o.insert("comment".into(), Value::from(c.as_str()));
            }
            filter.push(Value::Object(o));
        }
    }
    let v = json!({
        SECCOMPILER_FILTER: {
            "mismatch_action": seccompiler_action(default)?,
            "match_action": "allow",
            "filter": filter,
        }
    });
    // seccompiler rejects unknown fields, so the provenance rides in the first rule's
    // comment when there is one to carry it.
    let mut v = v;
    if let Some(first) = v[SECCOMPILER_FILTER]["filter"].get_mut(0) {
        let c = first.get("comment").and_then(Value::as_str).unwrap_or("");
        first["comment"] = Value::from(format!("{comment}. {c}").trim_end_matches(". "));
    }
    let mut text = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    text.push('\n');
    Ok(text)
}

/// A JSON string is a YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    Value::from(s).to_string()
}

fn spo(p: &Profile, comment: &str, name: &str) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
         metadata:\n  name: {}\n  annotations:\n    syscage.dev/generated-from: {}\nspec:",
        quoted(name),
        quoted(comment)
    );
    let _ = writeln!(y, "  defaultAction: {}", p.default_action.oci_name());
    if let Some(e) = p.default_errno_ret {
        let _ = writeln!(y, "  defaultErrnoRet: {e}");
    }
    if !p.architectures.is_empty() {
        let _ = writeln!(y, "  architectures:");
        for a in &p.architectures {
            let _ = writeln!(y, "  - {}", a.scmp_name());
        }
    }
    let _ = writeln!(y, "  syscalls:");
    for r in &p.syscalls {
        let _ = writeln!(y, "  - action: {}", r.action.oci_name());
        if let Some(e) = r.errno_ret {
            let _ = writeln!(y, "    errnoRet: {e}");
        }
        let _ = writeln!(y, "    names:");
        for n in &r.names {
            let _ = writeln!(y, "    - {}", quoted(n));
        }
        if !r.args.is_empty() {
            let _ = writeln!(y, "    args:");
            for a in &r.args {
                let _ = writeln!(
                    y,
                    "    - index: {}\n      value: {}\n      valueTwo: {}\n      op: {}",
                    a.index,
                    a.value,
                    a.value_two,
                    a.op.oci_name()
                );
            }
        }
    }
    y
}

/// Reads a rendered text back as syscage reads that format (for the SPO object: its
/// `spec`, as the operator hands it to the runtime).
pub fn read_back(
    text: &str,
    format: OutputFormat,
    runtime: Runtime,
) -> Result<AnyProfile, ProfileError> {
    let source = format!("the generated {} text", format.name());
    match format {
        OutputFormat::Oci | OutputFormat::Docker => {
            profile::parse(&source, text, runtime).map(AnyProfile::Oci)
        }
        OutputFormat::Seccompiler => {
            profile::parse_any(&source, text, runtime, Some(SECCOMPILER_FILTER))
        }
        OutputFormat::Spo => {
            let spec = crate::platform::yaml::parse(text)
                .ok()
                .and_then(|docs| docs.into_iter().next())
                .and_then(|d| d.root.get("spec").cloned())
                .unwrap_or(Value::Null);
            profile::parse(&source, &spec.to_string(), runtime).map(AnyProfile::Oci)
        }
    }
}
