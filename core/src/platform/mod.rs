//! Which seccomp profile a container platform actually gives a workload.
//!
//! Platforms do not hand runc a profile directly: the kubelet, OpenShift's SCC admission
//! and the Mesos agent each pick one from the workload's own JSON (fields, annotations,
//! a Marathon `seccomp` block) and their own configuration. This module reproduces
//! those choices, one submodule a platform, and names the place (file, line, column and
//! JSON pointer) that decided each answer. Pure: it reads text it is given and never
//! touches the file system, so whether a `Localhost` file exists is the caller's check.
//! SEMANTICS.md section 10 lists the rules and where they come from.

pub mod kubernetes;
pub mod mesos;
pub mod openshift;
pub(crate) mod yaml;

use std::fmt;

use serde_json::{Map, Value};

use crate::profile::{Location, Locator};

/// The seccomp profile a platform applies to one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The container runtime's default profile (syscage's `runtime/default`).
    RuntimeDefault,
    /// No seccomp filter at all.
    Unconfined,
    /// A profile file on the node, at `path` (already joined with the platform's
    /// profile directory).
    Localhost { path: String },
}

impl Applied {
    /// The `--profile` value `syscage check` accepts for this answer.
    pub fn profile_spec(&self) -> String {
        match self {
            Applied::RuntimeDefault => "runtime/default".to_string(),
            Applied::Unconfined => "unconfined".to_string(),
            Applied::Localhost { path } => path.clone(),
        }
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Applied::RuntimeDefault => f.write_str("runtime/default"),
            Applied::Unconfined => f.write_str("unconfined"),
            Applied::Localhost { path } => write!(f, "localhost {path}"),
        }
    }
}

/// The answer for one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The container's name.
    pub container: String,
    /// Which list it is in: `container`, `init container`, `ephemeral container`, `app`.
    pub role: &'static str,
    /// JSON pointer of the container itself.
    pub pointer: String,
    pub applied: Applied,
    /// JSON pointer of the value that decided (`/spec/containers/1/securityContext/
    /// seccompProfile`), or a description of the platform setting when nothing in the
    /// file did (`kubelet --seccomp-default`).
    pub decided_by: String,
    /// Where `decided_by` is in the file, when it is in the file.
    pub location: Option<Location>,
    /// Why, in a sentence.
    pub reason: String,
    /// Things that look like they matter but do not (ignored annotations, ...).
    pub notes: Vec<String>,
    /// The container's `securityContext.privileged`, when true: where it is. What a
    /// privileged container gets is the container engine's business
    /// ([`crate::chain`]).
    pub privileged: Option<Location>,
    /// The container's `securityContext.capabilities`, which the engine applies to its
    /// default set.
    pub capabilities: CapabilityChanges,
}

/// `securityContext.capabilities`: names as written (`NET_ADMIN`, `ALL`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapabilityChanges {
    pub add: Vec<String>,
    pub drop: Vec<String>,
}

/// For admission tests (SCC, PSP): `got` is admitted when `want` is empty, else refused
/// as forbidden with a message containing `want`.
#[cfg(test)]
pub(crate) fn assert_admission<T>(case: &str, got: &Result<T, PlatformError>, want: &str) {
    match (got, want.is_empty()) {
        (Ok(_), true) => {}
        (Err(e), false) => {
            assert!(matches!(e, PlatformError::Forbidden { .. }), "{case}: {e}");
            assert!(e.to_string().contains(want), "{case}: {e}\nwant: {want}");
        }
        (Ok(_), false) => panic!("{case}: admitted, want refused: {want}"),
        (Err(e), true) => panic!("{case}: refused ({e}), want admitted"),
    }
}

/// Why a workload file could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// Not JSON or YAML; the message says which it was read as.
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    /// An admission controller (OpenShift's SCC) would refuse the pod.
    #[error("{location}: forbidden by {by}: {message}")]
    Forbidden {
        location: Location,
        by: String,
        message: String,
    },
}

impl PlatformError {
    pub fn location(&self) -> &Location {
        match self {
            PlatformError::Syntax { location, .. }
            | PlatformError::Invalid { location, .. }
            | PlatformError::Forbidden { location, .. } => location,
        }
    }
}

/// Where a document's values are in its file.
enum Places<'a> {
    /// A JSON file: found in its text on demand.
    Json(std::rc::Rc<Locator<'a>>),
    /// A YAML document: recorded while parsing, by pointer (`yaml::YamlDoc::places`).
    Yaml {
        places: std::rc::Rc<std::collections::HashMap<String, (usize, usize)>>,
        start: (usize, usize),
    },
}

/// A parsed document (JSON, or one YAML document) that can turn pointers into places.
/// `prefix` is where its root sits in the file's own structure (`/items/3` for an item
/// of a `List`); pointers given to it are relative to its root, places name the file's.
pub(crate) struct Doc<'a> {
    pub source: &'a str,
    pub root: Value,
    places: Places<'a>,
    prefix: String,
}

/// Whether `text` is JSON rather than YAML (every JSON file starts so; YAML manifests
/// do not).
fn is_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

impl<'a> Doc<'a> {
    /// One document: a JSON file, or a YAML file with a single document.
    pub fn parse(source: &'a str, text: &'a str) -> Result<Doc<'a>, PlatformError> {
        let mut docs = Doc::parse_documents(source, text)?;
        match docs.len() {
            1 => Ok(docs.remove(0)),
            0 => Err(PlatformError::Syntax {
                location: Location {
                    source: source.to_string(),
                    line: 1,
                    column: 1,
                    pointer: String::new(),
                },
                message: "the file holds no document".into(),
            }),
            n => Err(docs[1].invalid(
                "",
                format!("{n} YAML documents where one is expected (kubernetes takes several)"),
            )),
        }
    }

    /// Every document of the file: the JSON value, or each non-empty YAML document.
    pub fn parse_documents(source: &'a str, text: &'a str) -> Result<Vec<Doc<'a>>, PlatformError> {
        if is_json(text) {
            let root: Value = serde_json::from_str(text).map_err(|e| PlatformError::Syntax {
                location: Location {
                    source: source.to_string(),
                    line: e.line(),
                    column: e.column(),
                    pointer: String::new(),
                },
                message: format!("invalid JSON: {}", strip_position(&e.to_string())),
            })?;
            return Ok(vec![Doc {
                source,
                root,
                places: Places::Json(std::rc::Rc::new(Locator::new(text))),
                prefix: String::new(),
            }]);
        }
        let docs = yaml::parse(text).map_err(|e| PlatformError::Syntax {
            location: Location {
                source: source.to_string(),
                line: e.line,
                column: e.column,
                pointer: String::new(),
            },
            message: format!("invalid YAML: {}", e.message),
        })?;
        Ok(docs
            .into_iter()
            .map(|d| Doc {
                source,
                root: d.root,
                places: Places::Yaml {
                    places: std::rc::Rc::new(d.places),
                    start: d.start,
                },
                prefix: String::new(),
            })
            .collect())
    }

    /// The items of a `kind: List` (as `kubectl get ... -o yaml` prints several
    /// objects), each as its own document; any other document as itself.
    pub fn expand_list(self) -> Vec<Doc<'a>> {
        let items = match (&self.root["kind"], &self.root["items"]) {
            (Value::String(k), Value::Array(items)) if k == "List" => items.clone(),
            _ => return vec![self],
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, root)| Doc {
                source: self.source,
                root,
                places: match &self.places {
                    Places::Json(l) => Places::Json(l.clone()),
                    Places::Yaml { places, start } => Places::Yaml {
                        places: places.clone(),
                        start: *start,
                    },
                },
                prefix: format!("{}/items/{i}", self.prefix),
            })
            .collect()
    }

    /// Where this document's root is in the file (`""`, or `/items/3`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The place of `pointer`, or of its nearest existing parent (a missing member).
    pub fn location(&self, pointer: &str) -> Location {
        let full = format!("{}{pointer}", self.prefix);
        match &self.places {
            Places::Json(l) => l.location(self.source, &full),
            Places::Yaml { places, start } => {
                let mut p = full.as_str();
                let (line, column) = loop {
                    if let Some(&at) = places.get(p) {
                        break at;
                    }
                    match p.rfind('/') {
                        Some(i) => p = &p[..i],
                        None => break *start,
                    }
                };
                Location {
                    source: self.source.to_string(),
                    line,
                    column,
                    pointer: full,
                }
            }
        }
    }

    pub fn invalid(&self, pointer: &str, message: impl Into<String>) -> PlatformError {
        PlatformError::Invalid {
            location: self.location(pointer),
            message: message.into(),
        }
    }

    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.root.pointer(pointer)
    }

    /// The object at `pointer`: `None` when absent or null, an error when not an object.
    pub fn object(&self, pointer: &str) -> Result<Option<&Map<String, Value>>, PlatformError> {
        match self.get(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.invalid(pointer, "expected a JSON object")),
        }
    }

    /// The array at `pointer`: empty when absent or null, an error when not an array.
    pub fn array(&self, pointer: &str) -> Result<&[Value], PlatformError> {
        match self.get(pointer) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.invalid(pointer, "expected a JSON array")),
        }
    }

    /// The string at `pointer`: `None` when absent or null, an error when not a string.
    pub fn string(&self, pointer: &str) -> Result<Option<&str>, PlatformError> {
        match self.get(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(pointer, "expected a string")),
        }
    }

    /// The boolean at `pointer`: `None` when absent or null, an error when not a bool.
    pub fn boolean(&self, pointer: &str) -> Result<Option<bool>, PlatformError> {
        match self.get(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.invalid(pointer, "expected true or false")),
        }
    }
}

/// RFC 6901 escaping of one pointer token.
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Joins a node directory and a relative profile path the way Go's `filepath.Join`
/// does for the cases that pass validation (no `..`, not absolute).
pub(crate) fn join(dir: &str, rel: &str) -> String {
    let dir = dir.trim_end_matches('/');
    let rel = rel.trim_start_matches("./");
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
