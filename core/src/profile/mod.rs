//! Seccomp profiles as the platforms write them: OCI `LinuxSeccomp` JSON (runc, crun,
//! Kubernetes' Localhost profiles), Docker/moby JSON (`archMap`, `includes`/`excludes`),
//! OCI bundle `config.json` files (their `linux.seccomp`), and seccompiler JSON files
//! ([`seccompiler`], Firecracker's format; through [`parse_any`]).
//!
//! This module is format-faithful: a [`Profile`] keeps what the file says (every rule,
//! its JSON pointer, the Docker conditions) and rejects only what the runtimes reject.
//! It does not decide which rules apply to a target: that is [`crate::policy`], which
//! turns a `Profile` into a `Policy` for one arch, capability set, kernel and runtime.

mod locate;
pub mod seccompiler;
pub mod write;

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::action::ActionKind;
use crate::arch::Arch;

pub use locate::{line_col, offset_of, Locator};

/// Which dialect a profile is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The runtime-spec `LinuxSeccomp` object, as runc and crun read it.
    Oci,
    /// moby's profile format: OCI plus `archMap`, `includes`/`excludes`, `name`, `comment`.
    Docker,
    /// An OCI bundle's `config.json`; the profile is its `linux.seccomp`.
    OciBundle,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Oci => "OCI",
            Format::Docker => "Docker",
            Format::OciBundle => "OCI bundle",
        })
    }
}

/// A comparison operator (`SCMP_CMP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & value) == valueTwo` — libseccomp also masks the datum: `(arg & mask) == (datum & mask)`.
    MaskedEq,
}

impl CmpOp {
    pub const ALL: [CmpOp; 7] = [
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Eq,
        CmpOp::Ge,
        CmpOp::Gt,
        CmpOp::MaskedEq,
    ];

    pub const fn oci_name(self) -> &'static str {
        match self {
            CmpOp::Ne => "SCMP_CMP_NE",
            CmpOp::Lt => "SCMP_CMP_LT",
            CmpOp::Le => "SCMP_CMP_LE",
            CmpOp::Eq => "SCMP_CMP_EQ",
            CmpOp::Ge => "SCMP_CMP_GE",
            CmpOp::Gt => "SCMP_CMP_GT",
            CmpOp::MaskedEq => "SCMP_CMP_MASKED_EQ",
        }
    }

    pub const fn symbol(self) -> &'static str {
        match self {
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
            CmpOp::MaskedEq => "&",
        }
    }
}

impl FromStr for CmpOp {
    type Err = ();
    fn from_str(s: &str) -> Result<CmpOp, ()> {
        CmpOp::ALL.into_iter().find(|o| o.oci_name() == s).ok_or(())
    }
}

/// One argument condition of a rule, exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgCond {
    pub index: u32,
    pub value: u64,
    pub value_two: u64,
    pub op: CmpOp,
}

impl fmt::Display for ArgCond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            CmpOp::MaskedEq => write!(
                f,
                "(args[{}] & {:#x}) == {:#x}",
                self.index, self.value, self.value_two
            ),
            op => write!(f, "args[{}] {} {:#x}", self.index, op.symbol(), self.value),
        }
    }
}

/// A Linux kernel version as moby's `minKernel` spells it (`major.minor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl FromStr for KernelVersion {
    type Err = String;
    /// Accepts `6.18`, `6.18.44`, and `uname -r` strings such as `6.18.44-fc-v782`
    /// (only major and minor matter).
    fn from_str(s: &str) -> Result<KernelVersion, String> {
        let bad = || format!("invalid kernel version {s:?} (expected major.minor, e.g. 5.10)");
        let mut parts = s.split(['.', '-', '+']);
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        Ok(KernelVersion { major, minor })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// moby's `includes`/`excludes` on a rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Capabilities, e.g. `CAP_SYS_ADMIN`.
    pub caps: Vec<String>,
    /// Go `GOARCH` names of the *native* architecture (`amd64`, `arm64`, ...).
    pub arches: Vec<String>,
    pub min_kernel: Option<KernelVersion>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// One entry of `syscalls`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallRule {
    /// JSON pointer of the rule in its file, e.g. `/syscalls/3`.
    pub pointer: String,
    pub names: Vec<String>,
    pub action: ActionKind,
    pub errno_ret: Option<u32>,
    pub args: Vec<ArgCond>,
    pub includes: Conditions,
    pub excludes: Conditions,
    pub comment: Option<String>,
}

/// An `archMap` entry (Docker): the native architecture and the ones it can also run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchMapEntry {
    pub arch: Arch,
    pub sub_arches: Vec<Arch>,
}

/// A parsed profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Where it came from: a path, or `builtin:runtime/default`.
    pub source: String,
    pub format: Format,
    pub default_action: ActionKind,
    pub default_errno_ret: Option<u32>,
    pub architectures: Vec<Arch>,
    pub arch_map: Vec<ArchMapEntry>,
    pub flags: Vec<String>,
    pub listener_path: Option<String>,
    pub listener_metadata: Option<String>,
    pub syscalls: Vec<SyscallRule>,
    /// Problems runtimes tolerate, worth telling the author about.
    pub warnings: Vec<Diagnostic>,
    /// No seccomp at all: a bundle without `linux.seccomp`, a platform's `Unconfined`.
    /// A profile that allows everything is not this: runc and crun still install its
    /// filter, which kills calls of the architectures it does not list.
    pub no_filter: bool,
}

impl Profile {
    /// The profile that installs no filter at all.
    pub fn unconfined(source: &str) -> Profile {
        Profile {
            source: source.to_string(),
            format: Format::Oci,
            default_action: ActionKind::Allow,
            default_errno_ret: None,
            architectures: Vec::new(),
            arch_map: Vec::new(),
            flags: Vec::new(),
            listener_path: None,
            listener_metadata: None,
            syscalls: Vec::new(),
            warnings: Vec::new(),
            no_filter: true,
        }
    }

    /// Whether this profile installs no filter (unconfined, or a bundle without
    /// `linux.seccomp`). runc (`specconv.SetupSeccomp`) and crun
    /// (`libcrun_generate_seccomp`) install a filter for any profile they are given,
    /// `{"defaultAction": "SCMP_ACT_ALLOW"}` included.
    pub fn is_unconfined(&self) -> bool {
        self.no_filter
    }
}

/// A place in a profile: its file, line, column and JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub source: String,
    /// 1-based; 0 when only the pointer is known.
    pub line: usize,
    pub column: usize,
    pub pointer: String,
}

impl Location {
    /// The place of `pointer` in `text` (the JSON document read from `source`): the
    /// value's first byte if it exists, else its nearest existing parent's (a missing
    /// member is reported where it should have been).
    pub fn find(source: &str, text: &str, pointer: &str) -> Location {
        Locator::new(text).location(source, pointer)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the place is known by its pointer only (found after parsing).
        if self.line == 0 {
            write!(f, "{}", self.source)?;
        } else {
            write!(f, "{}:{}:{}", self.source, self.line, self.column)?;
        }
        if !self.pointer.is_empty() {
            write!(f, ": {}", self.pointer)?;
        }
        Ok(())
    }
}

/// A message tied to a place in a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a profile was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{location}: invalid JSON: {message}")]
    Syntax { location: Location, message: String },
    #[error("{0}")]
    Invalid(Diagnostic),
}

impl ProfileError {
    pub fn location(&self) -> &Location {
        match self {
            ProfileError::Syntax { location, .. } => location,
            ProfileError::Invalid(d) => &d.location,
        }
    }
}

/// Which runtime's rules for rejecting a profile apply (they differ in small ways).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Runtime {
    /// runc: adds the ENOSYS stub, ignores `errnoRet` on actions that take no data.
    #[default]
    Runc,
    /// crun: no stub, rejects `errnoRet` on actions that take no data.
    Crun,
}

impl FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Runtime, String> {
        match s {
            "runc" => Ok(Runtime::Runc),
            "crun" => Ok(Runtime::Crun),
            _ => Err(format!("unknown runtime {s:?} (expected runc or crun)")),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runtime::Runc => "runc",
            Runtime::Crun => "crun",
        })
    }
}

/// The `flags` runtimes know (`SECCOMP_FILTER_FLAG_*`).
pub const KNOWN_FLAGS: &[&str] = &[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

/// Parses a profile in any supported format, detecting which.
///
/// `source` names the input in messages (a path, or `builtin:...`). `runtime` selects
/// whose rejections apply.
pub fn parse(source: &str, text: &str, runtime: Runtime) -> Result<Profile, ProfileError> {
    let cx = Cx::new(source, text);
    let root = cx.json()?;
    let obj = root
        .as_object()
        .ok_or_else(|| cx.invalid("", "a profile must be a JSON object"))?;
    if seccompiler::looks_like(obj) {
        return Err(cx.invalid(
            "",
            "this is a seccompiler JSON file, not an OCI or Docker profile",
        ));
    }
    cx.oci_root(obj, runtime)
}

/// A profile in any format syscage reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyProfile {
    /// OCI, Docker/moby or OCI bundle: resolved by runc/crun + libseccomp semantics.
    Oci(Profile),
    /// seccompiler JSON, with the filter chosen from it.
    Seccompiler(seccompiler::SeccompilerProfile),
}

impl AnyProfile {
    pub fn warnings(&self) -> &[Diagnostic] {
        match self {
            AnyProfile::Oci(p) => &p.warnings,
            AnyProfile::Seccompiler(p) => &p.warnings,
        }
    }
}

/// Parses a profile in any supported format, detecting which: OCI, Docker, OCI bundle,
/// or seccompiler JSON (a top-level object whose values are objects with `filter` /
/// `mismatch_action` / `match_action`). `filter` names the filter to take from a
/// seccompiler file (needed when it has several); it is an error for other formats.
pub fn parse_any(
    source: &str,
    text: &str,
    runtime: Runtime,
    filter: Option<&str>,
) -> Result<AnyProfile, ProfileError> {
    let cx = Cx::new(source, text);
    let root = cx.json()?;
    let obj = root
        .as_object()
        .ok_or_else(|| cx.invalid("", "a profile must be a JSON object"))?;
    if seccompiler::looks_like(obj) {
        return seccompiler::parse(source, text, obj, filter).map(AnyProfile::Seccompiler);
    }
    if let Some(name) = filter {
        return Err(cx.invalid(
            "",
            format!(
                "a filter name ({name:?}) only applies to a seccompiler JSON file, and this \
                 is an OCI or Docker profile"
            ),
        ));
    }
    cx.oci_root(obj, runtime).map(AnyProfile::Oci)
}

impl Cx<'_> {
    /// The text as JSON, or where it stops being JSON.
    fn json(&self) -> Result<Value, ProfileError> {
        let source = self.source;
        let text = self.text;
        serde_json::from_str(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            ProfileError::Syntax {
                location: Location {
                    source: source.to_string(),
                    line,
                    column,
                    pointer: String::new(),
                },
                message: strip_position(&e.to_string()),
            }
        })
    }

    fn oci_root(
        &self,
        obj: &Map<String, Value>,
        runtime: Runtime,
    ) -> Result<Profile, ProfileError> {
        let cx = self;
        let source = self.source;
        if let Some(linux) = obj
            .get("linux")
            .filter(|_| !obj.contains_key("defaultAction"))
        {
            let linux = linux
                .as_object()
                .ok_or_else(|| cx.invalid("/linux", "expected an object"))?;
            return match linux.get("seccomp") {
                None | Some(Value::Null) => {
                    let mut p = Profile::unconfined(source);
                    p.format = Format::OciBundle;
                    Ok(p)
                }
                Some(Value::Object(seccomp)) => {
                    cx.profile(seccomp, "/linux/seccomp", Format::OciBundle, runtime)
                }
                Some(_) => Err(cx.invalid("/linux/seccomp", "expected an object")),
            };
        }
        let docker = obj.contains_key("archMap")
            || obj
                .get("syscalls")
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules.iter().any(|r| {
                        ["includes", "excludes", "name", "comment"]
                            .iter()
                            .any(|k| r.get(k).is_some())
                    })
                });
        let format = if docker { Format::Docker } else { Format::Oci };
        cx.profile(obj, "", format, runtime)
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

struct Cx<'a> {
    source: &'a str,
    text: &'a str,
    locator: Locator<'a>,
}

impl<'a> Cx<'a> {
    fn new(source: &'a str, text: &'a str) -> Cx<'a> {
        Cx {
            source,
            text,
            locator: Locator::new(text),
        }
    }

    fn location(&self, pointer: &str) -> Location {
        self.locator.location(self.source, pointer)
    }

    fn diag(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: self.location(pointer),
            message: message.into(),
        }
    }

    fn invalid(&self, pointer: &str, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid(self.diag(pointer, message))
    }

    fn profile(
        &self,
        obj: &Map<String, Value>,
        base: &str,
        format: Format,
        runtime: Runtime,
    ) -> Result<Profile, ProfileError> {
        let mut warnings = Vec::new();
        let at = |k: &str| format!("{base}/{k}");
        let default_action = match field(obj, "defaultAction") {
            Some(v) => self.action(v, &at("defaultAction"))?,
            None => return Err(self.invalid(base, "missing \"defaultAction\"")),
        };
        let default_errno_ret = field(obj, "defaultErrnoRet")
            .map(|v| self.u32(v, &at("defaultErrnoRet")))
            .transpose()?;
        if default_action == ActionKind::Errno {
            self.check_errno(default_errno_ret, &at("defaultErrnoRet"))?;
        }
        // crun refuses it ("errno value specified for action", libcrun_generate_seccomp);
        // runc's getAction ignores the value for actions that carry none.
        if default_errno_ret.is_some() && !default_action.takes_data() {
            match runtime {
                Runtime::Crun => {
                    return Err(self.invalid(
                        &at("defaultErrnoRet"),
                        format!(
                            "defaultErrnoRet is only valid with SCMP_ACT_ERRNO or \
                             SCMP_ACT_TRACE, not {} (crun refuses the container)",
                            default_action.oci_name()
                        ),
                    ))
                }
                Runtime::Runc => warnings.push(self.diag(
                    &at("defaultErrnoRet"),
                    format!(
                        "runc ignores defaultErrnoRet with {} (crun refuses it)",
                        default_action.oci_name()
                    ),
                )),
            }
        }
        let architectures = match field(obj, "architectures") {
            Some(v) => self
                .array(v, &at("architectures"))?
                .iter()
                .enumerate()
                .map(|(i, a)| self.arch(a, &format!("{}/{i}", at("architectures"))))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let mut arch_map = Vec::new();
        if let Some(v) = field(obj, "archMap") {
            if !architectures.is_empty() {
                return Err(self.invalid(
                    &at("archMap"),
                    "'architectures' and 'archMap' cannot both be given",
                ));
            }
            for (i, e) in self.array(v, &at("archMap"))?.iter().enumerate() {
                let p = format!("{}/{i}", at("archMap"));
                let e = self.object(e, &p)?;
                let arch = match field(e, "architecture") {
                    Some(a) => self.arch(a, &format!("{p}/architecture"))?,
                    None => return Err(self.invalid(&p, "missing \"architecture\"")),
                };
                let sub_arches = match field(e, "subArchitectures") {
                    Some(s) => self
                        .array(s, &format!("{p}/subArchitectures"))?
                        .iter()
                        .enumerate()
                        .map(|(j, a)| self.arch(a, &format!("{p}/subArchitectures/{j}")))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => Vec::new(),
                };
                arch_map.push(ArchMapEntry { arch, sub_arches });
            }
        }
        let flags = match field(obj, "flags") {
            Some(v) => {
                let mut flags = Vec::new();
                for (i, f) in self.array(v, &at("flags"))?.iter().enumerate() {
                    let p = format!("{}/{i}", at("flags"));
                    let f = self.string(f, &p)?;
                    if !KNOWN_FLAGS.contains(&f) {
                        return Err(self.invalid(
                            &p,
                            format!(
                                "unknown seccomp flag {f:?} (known: {})",
                                KNOWN_FLAGS.join(", ")
                            ),
                        ));
                    }
                    flags.push(f.to_string());
                }
                flags
            }
            None => Vec::new(),
        };
        let listener_path = field(obj, "listenerPath")
            .map(|v| self.string(v, &at("listenerPath")).map(str::to_string))
            .transpose()?
            .filter(|s| !s.is_empty());
        let listener_metadata = field(obj, "listenerMetadata")
            .map(|v| self.string(v, &at("listenerMetadata")).map(str::to_string))
            .transpose()?
            .filter(|s| !s.is_empty());
        if listener_metadata.is_some() && listener_path.is_none() {
            return Err(self.invalid(
                &at("listenerMetadata"),
                "listenerMetadata is set but listenerPath is not",
            ));
        }
        let mut syscalls = Vec::new();
        if let Some(v) = field(obj, "syscalls") {
            for (i, r) in self.array(v, &at("syscalls"))?.iter().enumerate() {
                let p = format!("{}/{i}", at("syscalls"));
                syscalls.push(self.rule(r, &p, format, runtime, &mut warnings)?);
            }
        }
        // runc's InitSeccomp: its own init writes to its parent after installing the
        // filter, so it refuses NOTIFY on `write` and as the default action.
        if runtime == Runtime::Runc {
            if default_action == ActionKind::Notify {
                return Err(self.invalid(
                    &at("defaultAction"),
                    "runc refuses SCMP_ACT_NOTIFY as the default action (\"SCMP_ACT_NOTIFY \
                     cannot be used as default action\")",
                ));
            }
            if let Some(r) = syscalls
                .iter()
                .find(|r| r.action == ActionKind::Notify && r.names.iter().any(|n| n == "write"))
            {
                return Err(self.invalid(
                    &r.pointer,
                    "runc refuses SCMP_ACT_NOTIFY on write (\"SCMP_ACT_NOTIFY cannot be used \
                     for the write syscall\")",
                ));
            }
        }
        let uses_notify = default_action == ActionKind::Notify
            || syscalls.iter().any(|r| r.action == ActionKind::Notify);
        if uses_notify && listener_path.is_none() {
            match runtime {
                // runc installs the filter, then fails the container: it has nowhere to
                // send the listener's file descriptor.
                Runtime::Runc => {
                    return Err(self.invalid(
                        base,
                        "SCMP_ACT_NOTIFY is used but no listenerPath is set: runc installs \
                         the filter and then fails the container",
                    ))
                }
                Runtime::Crun => warnings.push(self.diag(
                    base,
                    "SCMP_ACT_NOTIFY is used but no listenerPath is set: crun starts the \
                     container, and without a listener the kernel fails those calls with \
                     ENOSYS",
                )),
            }
        }
        Ok(Profile {
            source: self.source.to_string(),
            format,
            default_action,
            default_errno_ret,
            architectures,
            arch_map,
            flags,
            listener_path,
            listener_metadata,
            syscalls,
            warnings,
            no_filter: false,
        })
    }

    fn rule(
        &self,
        v: &Value,
        p: &str,
        format: Format,
        runtime: Runtime,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<SyscallRule, ProfileError> {
        let r = self.object(v, p)?;
        let mut names = match field(r, "names") {
            Some(n) => self
                .array(n, &format!("{p}/names"))?
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    self.string(s, &format!("{p}/names/{i}"))
                        .map(str::to_string)
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        if let Some(n) = field(r, "name") {
            let n = self.string(n, &format!("{p}/name"))?;
            if format == Format::Docker && !names.is_empty() {
                return Err(self.invalid(
                    &format!("{p}/name"),
                    "use either 'name' or 'names', not both",
                ));
            }
            if !n.is_empty() {
                names.push(n.to_string());
            }
        }
        if names.is_empty() {
            return Err(self.invalid(
                &format!("{p}/names"),
                "a rule must name at least one syscall",
            ));
        }
        for (i, n) in names.iter().enumerate() {
            if !crate::syscalls::known_anywhere(n) {
                warnings.push(self.diag(
                    &format!("{p}/names/{i}"),
                    format!("unknown syscall {n:?}: runc and crun skip it"),
                ));
            }
        }
        let action = match field(r, "action") {
            Some(a) => self.action(a, &format!("{p}/action"))?,
            None => return Err(self.invalid(p, "missing \"action\"")),
        };
        let errno_ret = field(r, "errnoRet")
            .map(|v| self.u32(v, &format!("{p}/errnoRet")))
            .transpose()?;
        if action == ActionKind::Errno {
            self.check_errno(errno_ret, &format!("{p}/errnoRet"))?;
        }
        if errno_ret.is_some() && !action.takes_data() {
            let msg = format!(
                "errnoRet is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
                action.oci_name()
            );
            match runtime {
                Runtime::Crun => return Err(self.invalid(&format!("{p}/errnoRet"), msg)),
                Runtime::Runc => warnings
                    .push(self.diag(&format!("{p}/errnoRet"), format!("{msg}; runc ignores it"))),
            }
        }
        let mut args = Vec::new();
        if let Some(a) = field(r, "args") {
            for (j, c) in self.array(a, &format!("{p}/args"))?.iter().enumerate() {
                args.push(self.arg(c, &format!("{p}/args/{j}"))?);
            }
        }
        let includes = match field(r, "includes") {
            Some(c) => self.conditions(c, &format!("{p}/includes"))?,
            None => Conditions::default(),
        };
        let excludes = match field(r, "excludes") {
            Some(c) => self.conditions(c, &format!("{p}/excludes"))?,
            None => Conditions::default(),
        };
        let comment = field(r, "comment")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(SyscallRule {
            pointer: p.to_string(),
            names,
            action,
            errno_ret,
            args,
            includes,
            excludes,
            comment,
        })
    }

    /// Runtimes pass the low 16 bits of an ERRNO's data to libseccomp, which refuses
    /// 4095 and above (`sys_chk_seccomp_action`): the container would not start.
    fn check_errno(&self, errno: Option<u32>, p: &str) -> Result<(), ProfileError> {
        match errno {
            Some(e) if e & 0xffff >= 4095 => Err(self.invalid(
                p,
                format!(
                    "errno {e} (low 16 bits: {}) is above libseccomp's limit of 4094: \
                     runc and crun would fail to load the profile",
                    e & 0xffff
                ),
            )),
            _ => Ok(()),
        }
    }

    fn arg(&self, v: &Value, p: &str) -> Result<ArgCond, ProfileError> {
        let c = self.object(v, p)?;
        let index = match field(c, "index") {
            Some(i) => self.u32(i, &format!("{p}/index"))?,
            None => return Err(self.invalid(p, "missing \"index\"")),
        };
        if index > 5 {
            return Err(self.invalid(
                &format!("{p}/index"),
                format!("argument index {index} is out of range (syscalls have arguments 0 to 5)"),
            ));
        }
        let value = field(c, "value")
            .map(|v| self.u64(v, &format!("{p}/value")))
            .transpose()?
            .unwrap_or(0);
        let value_two = field(c, "valueTwo")
            .map(|v| self.u64(v, &format!("{p}/valueTwo")))
            .transpose()?
            .unwrap_or(0);
        let op = match field(c, "op") {
            Some(o) => {
                let s = self.string(o, &format!("{p}/op"))?;
                s.parse().map_err(|()| {
                    self.invalid(
                        &format!("{p}/op"),
                        format!(
                            "unknown operator {s:?} (expected one of {})",
                            CmpOp::ALL.map(CmpOp::oci_name).join(", ")
                        ),
                    )
                })?
            }
            None => return Err(self.invalid(p, "missing \"op\"")),
        };
        Ok(ArgCond {
            index,
            value,
            value_two,
            op,
        })
    }

    fn conditions(&self, v: &Value, p: &str) -> Result<Conditions, ProfileError> {
        let c = self.object(v, p)?;
        let strings = |key: &str| -> Result<Vec<String>, ProfileError> {
            match field(c, key) {
                Some(a) => self
                    .array(a, &format!("{p}/{key}"))?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        self.string(s, &format!("{p}/{key}/{i}"))
                            .map(str::to_string)
                    })
                    .collect(),
                None => Ok(Vec::new()),
            }
        };
        let min_kernel = match field(c, "minKernel") {
            Some(k) => {
                let kp = format!("{p}/minKernel");
                let s = self.string(k, &kp)?;
                Some(s.parse().map_err(|e: String| self.invalid(&kp, e))?)
            }
            None => None,
        };
        Ok(Conditions {
            caps: strings("caps")?,
            arches: strings("arches")?,
            min_kernel,
        })
    }

    fn action(&self, v: &Value, p: &str) -> Result<ActionKind, ProfileError> {
        let s = self.string(v, p)?;
        s.parse()
            .map_err(|e: crate::action::UnknownAction| self.invalid(p, e.to_string()))
    }

    fn arch(&self, v: &Value, p: &str) -> Result<Arch, ProfileError> {
        let s = self.string(v, p)?;
        s.parse()
            .map_err(|e: crate::arch::UnknownArch| self.invalid(p, e.to_string()))
    }

    fn object<'v>(&self, v: &'v Value, p: &str) -> Result<&'v Map<String, Value>, ProfileError> {
        v.as_object()
            .ok_or_else(|| self.invalid(p, format!("expected an object, found {}", kind(v))))
    }

    fn array<'v>(&self, v: &'v Value, p: &str) -> Result<&'v [Value], ProfileError> {
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.invalid(p, format!("expected an array, found {}", kind(v))))
    }

    fn string<'v>(&self, v: &'v Value, p: &str) -> Result<&'v str, ProfileError> {
        v.as_str()
            .ok_or_else(|| self.invalid(p, format!("expected a string, found {}", kind(v))))
    }

    fn u64(&self, v: &Value, p: &str) -> Result<u64, ProfileError> {
        v.as_u64().ok_or_else(|| {
            self.invalid(
                p,
                format!("expected an unsigned 64-bit integer, found {}", kind(v)),
            )
        })
    }

    fn u32(&self, v: &Value, p: &str) -> Result<u32, ProfileError> {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.invalid(
                    p,
                    format!("expected an unsigned 32-bit integer, found {}", kind(v)),
                )
            })
    }
}

/// A member, treating `null` as absent (as Go's encoding/json does for slices and pointers).
fn field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests;
