//! seccompiler's JSON format (the `rust-vmm/seccompiler` crate, 0.5; Firecracker's
//! filters): a JSON object mapping filter names to filters
//!
//! ```json
//! {"vmm": {"mismatch_action": "kill_process", "match_action": "allow",
//!          "filter": [{"syscall": "ioctl",
//!                      "args": [{"index": 1, "type": "dword", "op": "eq", "val": 21505}]}]}}
//! ```
//!
//! This module is format-faithful: it accepts exactly what seccompiler's
//! `compile_from_json` accepts (serde with `deny_unknown_fields`, duplicate keys
//! rejected, `default_action`/`filter_action` as aliases, `null` for the optional
//! `args`/`comment`) and rejects the rest with file:line:column and JSON pointer.
//! Syscall names are resolved per architecture when the chosen filter becomes a policy
//! ([`crate::policy::seccompiler`]); see SEMANTICS.md, "seccompiler JSON".

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{field, kind, Cx, Diagnostic, Location, ProfileError};
use crate::action::{Action, ActionKind, MAX_ERRNO};

/// `SeccompCmpArgLen`: how much of the argument a condition compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// The low 32 bits only (the high word is never loaded; `val`'s high bits are dropped).
    Dword,
    /// All 64 bits, high word then low word.
    Qword,
}

/// `SeccompCmpOp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & mask) == (val & mask)`.
    MaskedEq(u64),
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::MaskedEq(_) => "masked_eq",
        }
    }
}

/// One entry of a rule's `args`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// JSON pointer, e.g. `/vmm/filter/3/args/0`.
    pub pointer: String,
    pub index: u8,
    pub width: Width,
    pub op: Op,
    pub val: u64,
}

impl Condition {
    /// Whether an argument value satisfies the condition, as seccompiler's BPF decides.
    pub fn matches(&self, arg: u64) -> bool {
        let (a, v) = match self.width {
            Width::Dword => (arg & 0xffff_ffff, self.val & 0xffff_ffff),
            Width::Qword => (arg, self.val),
        };
        match self.op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            Op::Lt => a < v,
            Op::Le => a <= v,
            Op::Gt => a > v,
            Op::Ge => a >= v,
            Op::MaskedEq(m) => {
                let m = match self.width {
                    Width::Dword => m & 0xffff_ffff,
                    Width::Qword => m,
                };
                a & m == v & m
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = match self.width {
            Width::Dword => "dword",
            Width::Qword => "qword",
        };
        match self.op {
            Op::MaskedEq(m) => write!(
                f,
                "({w} args[{}] & {m:#x}) == {:#x}",
                self.index,
                self.val & m
            ),
            op => write!(f, "{w} args[{}] {} {:#x}", self.index, op.name(), self.val),
        }
    }
}

/// One entry of a filter's `filter` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// JSON pointer, e.g. `/vmm/filter/3`.
    pub pointer: String,
    pub syscall: String,
    /// Where the `syscall` value is (for name errors found when resolving).
    pub syscall_at: Location,
    /// `None`: no `args` (or `null`): the syscall matches whatever its arguments.
    pub args: Option<Vec<Condition>>,
    pub comment: Option<String>,
}

/// A seccompiler action, with its data exactly as written (seccompiler compares
/// actions, data included, before it masks the data to 16 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScAction {
    pub kind: ActionKind,
    pub data: u32,
}

impl ScAction {
    /// The action the filter returns: `SECCOMP_RET_* | (data & SECCOMP_RET_DATA)`.
    pub fn action(self) -> Action {
        Action::new(self.kind, (self.data & 0xffff) as u16)
    }

    pub fn name(self) -> String {
        match self.kind {
            ActionKind::Errno => format!("{{\"errno\": {}}}", self.data),
            ActionKind::Trace => format!("{{\"trace\": {}}}", self.data),
            k => format!("{:?}", json_name(k)),
        }
    }
}

fn json_name(k: ActionKind) -> &'static str {
    match k {
        ActionKind::Allow => "allow",
        ActionKind::Errno => "errno",
        ActionKind::KillThread => "kill_thread",
        ActionKind::KillProcess => "kill_process",
        ActionKind::Log => "log",
        ActionKind::Trace => "trace",
        ActionKind::Trap => "trap",
        ActionKind::Notify => "notify",
    }
}

/// One named filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    /// JSON pointer of the filter object, e.g. `/vmm`.
    pub pointer: String,
    pub location: Location,
    pub mismatch_action: ScAction,
    /// Pointer of `mismatch_action` (or its alias `default_action`).
    pub mismatch_pointer: String,
    pub match_action: ScAction,
    pub match_pointer: String,
    pub rules: Vec<Rule>,
}

/// A parsed seccompiler file, with the filter chosen from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompilerProfile {
    /// Where it came from: a path.
    pub source: String,
    /// Every filter, in file order (seccompiler compiles them all: an error in any one
    /// fails the file).
    pub filters: Vec<Filter>,
    /// Index into `filters` of the filter to install.
    pub chosen: usize,
    pub warnings: Vec<Diagnostic>,
}

impl SeccompilerProfile {
    pub fn filter(&self) -> &Filter {
        &self.filters[self.chosen]
    }

    /// `path#name`, naming the chosen filter.
    pub fn label(&self) -> String {
        format!("{}#{}", self.source, self.filter().name)
    }
}

const FILTER_KEYS: &[&str] = &[
    "mismatch_action",
    "default_action",
    "match_action",
    "filter_action",
    "filter",
];

/// Whether a parsed JSON document looks like a seccompiler file: an object (not an OCI
/// profile or bundle) with at least one value that is an object with a filter's keys.
pub fn looks_like(root: &Map<String, Value>) -> bool {
    // `{}`: seccompiler's file with no filters (it accepts it). As an OCI profile it
    // would lack `defaultAction`; SEMANTICS.md section 9.
    if root.is_empty() {
        return true;
    }
    if [
        "defaultAction",
        "linux",
        "syscalls",
        "architectures",
        "archMap",
    ]
    .iter()
    .any(|k| root.contains_key(*k))
    {
        return false;
    }
    root.values().any(|v| {
        v.as_object()
            .is_some_and(|o| FILTER_KEYS.iter().any(|k| o.contains_key(*k)))
    })
}

/// Parses a seccompiler file (already known to be valid JSON, `root`) and picks the
/// filter named `choice` (which may be left out when the file has exactly one).
pub fn parse(
    source: &str,
    text: &str,
    root: &Map<String, Value>,
    choice: Option<&str>,
) -> Result<SeccompilerProfile, ProfileError> {
    let cx = Cx::new(source, text);
    check_duplicates(source, text)?;
    let mut filters = Vec::new();
    let mut warnings = Vec::new();
    for (name, v) in root {
        let p = format!("/{}", escape(name));
        filters.push(cx.sc_filter(name, v, &p, &mut warnings)?);
    }
    let names = || {
        filters
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match choice {
        Some(c) => filters.iter().position(|f| f.name == c).ok_or_else(|| {
            cx.invalid(
                "",
                if filters.is_empty() {
                    format!("no filter named {c:?}: this seccompiler file has no filters")
                } else {
                    format!(
                        "no filter named {c:?} in this seccompiler file (filters: {})",
                        names()
                    )
                },
            )
        })?,
        None if filters.len() == 1 => 0,
        None if filters.is_empty() => {
            return Err(cx.invalid(
                "",
                "this seccompiler file has no filters (seccompiler accepts it): there is \
                 nothing to install or check. (Read as an OCI profile, `{}` lacks \
                 defaultAction: runc would install no filter, crun would refuse it.)",
            ))
        }
        None => {
            return Err(cx.invalid(
                "",
                format!(
                    "this seccompiler file has {} filters ({}): choose one by name, \
                     e.g. `--profile {source}#{}`",
                    filters.len(),
                    names(),
                    filters[0].name
                ),
            ))
        }
    };
    Ok(SeccompilerProfile {
        source: source.to_string(),
        filters,
        chosen,
        warnings,
    })
}

/// RFC 6901 escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Cx<'_> {
    fn sc_filter(
        &self,
        name: &str,
        v: &Value,
        p: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Filter, ProfileError> {
        let obj = self.sc_object(v, p, "a filter")?;
        self.known_keys(obj, p, FILTER_KEYS)?;
        let pick = |a: &str, b: &str| -> Result<(String, &Value), ProfileError> {
            match (obj.get(a), obj.get(b)) {
                (Some(_), Some(_)) => Err(self.invalid(
                    &format!("{p}/{b}"),
                    format!("duplicate field: {b:?} is another name for {a:?}"),
                )),
                (Some(v), None) => Ok((format!("{p}/{a}"), v)),
                (None, Some(v)) => Ok((format!("{p}/{b}"), v)),
                (None, None) => Err(self.invalid(p, format!("missing field {a:?}"))),
            }
        };
        let (mismatch_pointer, mv) = pick("mismatch_action", "default_action")?;
        let mismatch_action = self.sc_action(mv, &mismatch_pointer, warnings)?;
        let (match_pointer, av) = pick("match_action", "filter_action")?;
        let match_action = self.sc_action(av, &match_pointer, warnings)?;
        if mismatch_action == match_action {
            return Err(self.invalid(
                &match_pointer,
                format!(
                    "match_action and mismatch_action are equal ({}): seccompiler refuses \
                     the filter",
                    match_action.name()
                ),
            ));
        }
        let fp = format!("{p}/filter");
        let rules_v = match obj.get("filter") {
            Some(v) => self.sc_array(v, &fp)?,
            None => return Err(self.invalid(p, "missing field \"filter\"")),
        };
        let mut rules = Vec::with_capacity(rules_v.len());
        for (i, r) in rules_v.iter().enumerate() {
            rules.push(self.sc_rule(r, &format!("{fp}/{i}"))?);
        }
        Ok(Filter {
            name: name.to_string(),
            pointer: p.to_string(),
            location: self.location(p),
            mismatch_action,
            mismatch_pointer,
            match_action,
            match_pointer,
            rules,
        })
    }

    fn sc_rule(&self, v: &Value, p: &str) -> Result<Rule, ProfileError> {
        let obj = self.sc_object(v, p, "a rule")?;
        self.known_keys(obj, p, &["syscall", "args", "comment"])?;
        let syscall = match obj.get("syscall") {
            Some(s) => self.sc_string(s, &format!("{p}/syscall"))?.to_string(),
            None => return Err(self.invalid(p, "missing field \"syscall\"")),
        };
        let comment = self.sc_comment(obj, p)?;
        let args = match field(obj, "args") {
            None => None,
            Some(a) => {
                let ap = format!("{p}/args");
                let list = self.sc_array(a, &ap)?;
                if list.is_empty() {
                    return Err(self.invalid(
                        &ap,
                        "a rule's \"args\" cannot be empty (seccompiler: EmptyRule); leave \
                         \"args\" out to match the syscall whatever its arguments",
                    ));
                }
                let mut conds = Vec::with_capacity(list.len());
                for (j, c) in list.iter().enumerate() {
                    conds.push(self.sc_condition(c, &format!("{ap}/{j}"))?);
                }
                Some(conds)
            }
        };
        Ok(Rule {
            pointer: p.to_string(),
            syscall,
            syscall_at: self.location(&format!("{p}/syscall")),
            args,
            comment,
        })
    }

    fn sc_condition(&self, v: &Value, p: &str) -> Result<Condition, ProfileError> {
        let obj = self.sc_object(v, p, "a condition")?;
        self.known_keys(obj, p, &["index", "type", "op", "val", "comment"])?;
        let need = |k: &str| {
            obj.get(k)
                .ok_or_else(|| self.invalid(p, format!("missing field {k:?}")))
        };
        let ip = format!("{p}/index");
        let index = match need("index")?.as_u64() {
            Some(i) if i <= 5 => i as u8,
            Some(i) if i <= 255 => {
                return Err(self.invalid(
                    &ip,
                    format!(
                        "argument index {i} is out of range (0 to 5; seccompiler: \
                         InvalidArgumentNumber)"
                    ),
                ))
            }
            _ => {
                return Err(self.invalid(
                    &ip,
                    format!(
                        "expected an argument index 0 to 5, found {}",
                        kind(need("index")?)
                    ),
                ))
            }
        };
        let tp = format!("{p}/type");
        let ty = need("type")?;
        // serde_json also takes a unit variant as a one-member map with null.
        let name = match ty {
            Value::Object(o) if o.len() == 1 && o.values().all(Value::is_null) => {
                o.keys().next().map(String::as_str)
            }
            other => other.as_str(),
        };
        let width = match name {
            Some("dword") => Width::Dword,
            Some("qword") => Width::Qword,
            _ => {
                return Err(self.invalid(
                    &tp,
                    format!(
                        "unknown argument type: expected \"dword\" or \"qword\", found {}",
                        kind(need("type")?)
                    ),
                ))
            }
        };
        let op = self.sc_op(need("op")?, &format!("{p}/op"))?;
        let vp = format!("{p}/val");
        let val = need("val")?.as_u64().ok_or_else(|| {
            self.invalid(
                &vp,
                format!(
                    "expected an unsigned 64-bit integer, found {}",
                    kind(obj.get("val").unwrap_or(&Value::Null))
                ),
            )
        })?;
        self.sc_comment(obj, p)?;
        Ok(Condition {
            pointer: p.to_string(),
            index,
            width,
            op,
            val,
        })
    }

    fn sc_op(&self, v: &Value, p: &str) -> Result<Op, ProfileError> {
        const NAMES: &str =
            "\"eq\", \"ne\", \"lt\", \"le\", \"gt\", \"ge\" or {\"masked_eq\": MASK}";
        let unit = |s: &str| match s {
            "eq" => Some(Op::Eq),
            "ne" => Some(Op::Ne),
            "lt" => Some(Op::Lt),
            "le" => Some(Op::Le),
            "gt" => Some(Op::Gt),
            "ge" => Some(Op::Ge),
            _ => None,
        };
        match v {
            Value::String(s) if s == "masked_eq" => {
                Err(self.invalid(p, "\"masked_eq\" takes a mask: write {\"masked_eq\": MASK}"))
            }
            Value::String(s) => unit(s).ok_or_else(|| {
                self.invalid(p, format!("unknown operator {s:?} (expected {NAMES})"))
            }),
            Value::Object(o) if o.len() == 1 => {
                let (k, inner) = o.iter().next().expect("one member");
                let ip = format!("{p}/{}", escape(k));
                if k == "masked_eq" {
                    return inner.as_u64().map(Op::MaskedEq).ok_or_else(|| {
                        self.invalid(
                            &ip,
                            format!("expected an unsigned 64-bit mask, found {}", kind(inner)),
                        )
                    });
                }
                // serde_json accepts a unit variant written as `{"eq": null}`.
                match (unit(k), inner) {
                    (Some(op), Value::Null) => Ok(op),
                    (Some(_), _) => Err(self.invalid(
                        &ip,
                        format!("operator {k:?} takes no value, found {}", kind(inner)),
                    )),
                    (None, _) => {
                        Err(self.invalid(&ip, format!("unknown operator {k:?} (expected {NAMES})")))
                    }
                }
            }
            other => Err(self.invalid(
                p,
                format!("expected an operator ({NAMES}), found {}", kind(other)),
            )),
        }
    }

    fn sc_action(
        &self,
        v: &Value,
        p: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<ScAction, ProfileError> {
        const NAMES: &str = "\"allow\", {\"errno\": N}, \"kill_thread\", \"kill_process\", \
                             \"log\", {\"trace\": N} or \"trap\"";
        let unit = |s: &str| match s {
            "allow" => Some(ActionKind::Allow),
            "kill_thread" => Some(ActionKind::KillThread),
            "kill_process" => Some(ActionKind::KillProcess),
            "log" => Some(ActionKind::Log),
            "trap" => Some(ActionKind::Trap),
            _ => None,
        };
        let plain = |kind: ActionKind| ScAction { kind, data: 0 };
        match v {
            Value::String(s) if s == "errno" || s == "trace" => {
                Err(self.invalid(p, format!("{s:?} takes a number: write {{{s:?}: N}}")))
            }
            Value::String(s) => unit(s)
                .map(plain)
                .ok_or_else(|| self.invalid(p, format!("unknown action {s:?} (expected {NAMES})"))),
            Value::Object(o) if o.len() == 1 => {
                let (k, inner) = o.iter().next().expect("one member");
                let ip = format!("{p}/{}", escape(k));
                let data_kind = match k.as_str() {
                    "errno" => Some(ActionKind::Errno),
                    "trace" => Some(ActionKind::Trace),
                    _ => None,
                };
                if let Some(action_kind) = data_kind {
                    let data = inner
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            self.invalid(
                                &ip,
                                format!(
                                    "expected an unsigned 32-bit integer, found {}",
                                    kind(inner)
                                ),
                            )
                        })?;
                    if data > 0xffff {
                        warnings.push(self.diag(
                            &ip,
                            format!(
                                "seccompiler keeps only the low 16 bits of the data: {data} \
                                 becomes {}",
                                data & 0xffff
                            ),
                        ));
                    }
                    if action_kind == ActionKind::Errno && data & 0xffff > u32::from(MAX_ERRNO) {
                        warnings.push(self.diag(
                            &ip,
                            format!(
                                "errno {} is above {MAX_ERRNO}: the kernel returns {MAX_ERRNO} \
                                 instead",
                                data & 0xffff
                            ),
                        ));
                    }
                    return Ok(ScAction {
                        kind: action_kind,
                        data,
                    });
                }
                // serde_json accepts a unit variant written as `{"allow": null}`.
                match (unit(k), inner) {
                    (Some(kind), Value::Null) => Ok(plain(kind)),
                    (Some(_), _) => Err(self.invalid(
                        &ip,
                        format!("action {k:?} takes no value, found {}", kind(inner)),
                    )),
                    (None, _) => {
                        Err(self.invalid(&ip, format!("unknown action {k:?} (expected {NAMES})")))
                    }
                }
            }
            other => Err(self.invalid(
                p,
                format!("expected an action ({NAMES}), found {}", kind(other)),
            )),
        }
    }

    fn sc_comment(
        &self,
        obj: &Map<String, Value>,
        p: &str,
    ) -> Result<Option<String>, ProfileError> {
        match field(obj, "comment") {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.invalid(
                &format!("{p}/comment"),
                format!("a comment must be a string, found {}", kind(other)),
            )),
        }
    }

    fn known_keys(
        &self,
        obj: &Map<String, Value>,
        p: &str,
        known: &[&str],
    ) -> Result<(), ProfileError> {
        match obj.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(self.invalid(
                &format!("{p}/{}", escape(k)),
                format!(
                    "unknown field {k:?} (expected {}): seccompiler rejects unknown fields",
                    known
                        .iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    fn sc_object<'v>(
        &self,
        v: &'v Value,
        p: &str,
        what: &str,
    ) -> Result<&'v Map<String, Value>, ProfileError> {
        v.as_object().ok_or_else(|| {
            self.invalid(p, format!("expected {what} (an object), found {}", kind(v)))
        })
    }

    fn sc_array<'v>(&self, v: &'v Value, p: &str) -> Result<&'v [Value], ProfileError> {
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.invalid(p, format!("expected an array, found {}", kind(v))))
    }

    fn sc_string<'v>(&self, v: &'v Value, p: &str) -> Result<&'v str, ProfileError> {
        v.as_str()
            .ok_or_else(|| self.invalid(p, format!("expected a string, found {}", kind(v))))
    }
}

/// seccompiler rejects a duplicate key anywhere (filter names: "duplicate filter key";
/// fields: serde's "duplicate field"), where `serde_json::Value` would keep the last.
/// This walks the text once more with a deserializer that records the first duplicate.
fn check_duplicates(source: &str, text: &str) -> Result<(), ProfileError> {
    let found = RefCell::new(None::<String>);
    let mut de = serde_json::Deserializer::from_str(text);
    let r = DeserializeSeed::deserialize(
        NoDup {
            at: Seg::Root,
            found: &found,
        },
        &mut de,
    );
    match (r, found.into_inner()) {
        (Err(e), Some(pointer)) => Err(ProfileError::Invalid(Diagnostic {
            location: Location {
                source: source.to_string(),
                line: e.line(),
                column: e.column(),
                pointer: pointer.clone(),
            },
            message: format!(
                "duplicate key {:?}: seccompiler rejects duplicate keys",
                pointer
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .replace("~1", "/")
                    .replace("~0", "~")
            ),
        })),
        // The text was already parsed: any other failure cannot happen.
        _ => Ok(()),
    }
}

/// Where a value is: its parent and the step to it. The JSON pointer is written out only
/// for the duplicate found, not for every value passed.
enum Seg<'p> {
    Root,
    Index(&'p Seg<'p>, usize),
    Key(&'p Seg<'p>, &'p str),
}

impl Seg<'_> {
    fn pointer(&self) -> String {
        match self {
            Seg::Root => String::new(),
            Seg::Index(up, i) => format!("{}/{i}", up.pointer()),
            Seg::Key(up, k) => format!("{}/{}", up.pointer(), escape(k)),
        }
    }
}

struct NoDup<'p, 'f> {
    at: Seg<'p>,
    found: &'f RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for NoDup<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDup<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(NoDup {
                at: Seg::Index(&self.at, i),
                found: self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                *self.found.borrow_mut() = Some(Seg::Key(&self.at, &key).pointer());
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(NoDup {
                at: Seg::Key(&self.at, &key),
                found: self.found,
            })?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
