//! The pieces requests share, and how they become core values: the request text
//! itself, profile / program / trace inputs, and the target a profile is resolved for
//! ([`TargetSpec::resolve`]: both at once, as most methods start).

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use syscage_core::arch::Arch;
use syscage_core::bpf::{self, Program, ValidProgram};
use syscage_core::builtin;
use syscage_core::libseccomp::Libseccomp;
use syscage_core::policy::{self, Policy, Target, DOCKER_DEFAULT_CAPS};
use syscage_core::profile::{self, AnyProfile, KernelVersion, Runtime};
use syscage_core::runtime::{Release, RuntimeRelease};
use syscage_core::trace::{self, TraceError};

use crate::base64;
use crate::error::ApiError;

/// The kernel a request is resolved for when it names none (the guest cannot ask the
/// machine it runs on): the newest kernel syscage's semantics were measured on.
pub const DEFAULT_KERNEL: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

/// The request bytes as text, or where the first invalid UTF-8 byte is.
pub fn request_text(bytes: &[u8]) -> Result<&str, ApiError> {
    trace::to_str(bytes).map_err(|e| {
        let (line, column) = match e {
            TraceError::InvalidUtf8 { line, column } => (line, column),
            _ => (0, 0),
        };
        ApiError {
            line: Some(line),
            column: Some(column),
            ..ApiError::field("", "the request is not valid UTF-8")
        }
    })
}

/// Parses a request; unknown fields are errors (a misspelt option must not be ignored).
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError {
        line: Some(e.line()),
        column: Some(e.column()),
        ..ApiError::field("", format!("invalid request: {e}"))
    })
}

/// A profile, program or trace: a builtin name, or content as text, base64, an array
/// of byte values or a range of the call's data buffer. `source` names it in messages
/// and verdicts.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub source: Option<String>,
    pub builtin: Option<String>,
    pub text: Option<String>,
    pub base64: Option<String>,
    pub bytes: Option<Vec<u8>>,
    pub data: Option<DataRange>,
    /// For a seccompiler JSON profile: the name of the filter to take from it (needed
    /// when the file has several). An error for other profiles.
    pub filter: Option<String>,
    /// For a profile file: read it as this container engine does (`containerd`,
    /// `cri-o`, `docker`, `podman`; `syscage_core::localhost`).
    pub read_as: Option<String>,
}

/// Bytes `offset..offset + length` of the data buffer the host passed to
/// `syscage_call_with_data` (ABI.md): content that needs no JSON escaping.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRange {
    pub offset: u64,
    pub length: u64,
}

/// The data buffer of a call: `None` for `syscage_call`, which has none.
pub type Data<'a> = Option<&'a [u8]>;

/// An input's content.
enum Content<'a> {
    Builtin(&'a str),
    Text(&'a str),
    Bytes(Vec<u8>),
    /// A range of the data buffer, not copied.
    Data(&'a [u8]),
}

impl Input {
    pub fn text(source: &str, text: &str) -> Input {
        Input {
            source: Some(source.into()),
            text: Some(text.into()),
            ..Input::default()
        }
    }

    fn source_or(&self, default: &str) -> String {
        self.source.clone().unwrap_or_else(|| default.to_string())
    }

    /// Exactly one of builtin / text / base64 / bytes / data.
    fn content<'a>(&'a self, at: &str, data: Data<'a>) -> Result<Content<'a>, ApiError> {
        let given = [
            self.builtin.is_some(),
            self.text.is_some(),
            self.base64.is_some(),
            self.bytes.is_some(),
            self.data.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ApiError::field(
                at,
                "give exactly one of \"builtin\", \"text\", \"base64\", \"bytes\", \"data\"",
            ));
        }
        if let Some(range) = self.data {
            return data_slice(data, range, at).map(Content::Data);
        }
        if let Some(b) = &self.builtin {
            return Ok(Content::Builtin(b));
        }
        if let Some(t) = &self.text {
            return Ok(Content::Text(t));
        }
        if let Some(b) = &self.base64 {
            return base64::decode(b).map(Content::Bytes).map_err(|offset| {
                ApiError::field(
                    &format!("{at}/base64"),
                    format!("not base64 (at character {offset})"),
                )
            });
        }
        Ok(Content::Bytes(self.bytes.clone().unwrap_or_default()))
    }

    /// Consumes the text, so a large trace is not held twice.
    fn take_text(&mut self) -> Option<String> {
        self.text.take()
    }
}

/// The bytes `range` names in the call's data buffer.
fn data_slice<'a>(data: Data<'a>, range: DataRange, at: &str) -> Result<&'a [u8], ApiError> {
    let Some(data) = data else {
        return Err(ApiError::field(
            &format!("{at}/data"),
            "this call has no data buffer (pass one with syscage_call_with_data)",
        ));
    };
    let start = usize::try_from(range.offset).ok();
    let end = start
        .zip(usize::try_from(range.length).ok())
        .and_then(|(s, l)| s.checked_add(l));
    match start.zip(end).and_then(|(s, e)| data.get(s..e)) {
        Some(bytes) => Ok(bytes),
        None => Err(ApiError::field(
            &format!("{at}/data"),
            format!(
                "bytes {}..{}+{} are outside the {}-byte data buffer",
                range.offset,
                range.offset,
                range.length,
                data.len()
            ),
        )),
    }
}

/// The options a profile is resolved with; every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Native architecture; default x86_64.
    pub arch: Option<String>,
    /// Capability names (`CAP_` optional, any case); default Docker's default set.
    pub caps: Option<Vec<String>>,
    /// `major.minor`; default [`DEFAULT_KERNEL`].
    pub kernel: Option<String>,
    /// `runc` (default) or `crun`, optionally `@RELEASE` (`runc@1.1.5`).
    pub runtime: Option<String>,
    /// The runtime's libseccomp: a tabulated release (`"2.5.4"`), `"latest"` (the
    /// default: there is no host library to ask in here), or what the host measured.
    pub libseccomp: Option<LibseccompSpec>,
}

/// Which libseccomp, by release or as measured by the caller.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum LibseccompSpec {
    Release(String),
    Measured {
        library: String,
        unknown: Vec<String>,
    },
}

impl TargetSpec {
    pub fn target(&self) -> Result<Target, ApiError> {
        let arch = match &self.arch {
            Some(a) => a
                .parse::<Arch>()
                .map_err(|e| ApiError::field("/target/arch", e.to_string()))?,
            None => Arch::X86_64,
        };
        let kernel = match &self.kernel {
            Some(k) => k
                .parse::<KernelVersion>()
                .map_err(|e| ApiError::field("/target/kernel", e))?,
            None => DEFAULT_KERNEL,
        };
        let mut t = Target::new(arch, kernel);
        if let Some(r) = &self.runtime {
            let r: RuntimeRelease = r
                .parse()
                .map_err(|e| ApiError::field("/target/runtime", e))?;
            t.runtime = r.runtime;
            t.release = r.release;
        }
        match &self.libseccomp {
            None => {}
            Some(LibseccompSpec::Release(v)) if v == "latest" => {}
            Some(LibseccompSpec::Release(v)) => {
                let r: Release = v
                    .parse()
                    .map_err(|e| ApiError::field("/target/libseccomp", e))?;
                t.libseccomp =
                    Libseccomp::release(r).map_err(|e| ApiError::field("/target/libseccomp", e))?;
            }
            Some(LibseccompSpec::Measured { library, unknown }) => {
                t.libseccomp =
                    Libseccomp::measured(library.clone(), unknown.iter().cloned().collect());
            }
        }
        if let Some(caps) = &self.caps {
            t.caps =
                caps.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        capability(c).ok_or_else(|| {
                            ApiError::field(
                        &format!("/target/caps/{i}"),
                        format!("{c:?} is not a capability name (e.g. CAP_SYS_ADMIN or sys_admin)"),
                    )
                        })
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?;
        }
        Ok(t)
    }
}

/// A request's profile resolved for the request's target: what `compile`, `resolve`
/// and `disasm` start from.
pub struct Resolved {
    pub target: Target,
    pub policy: Policy,
}

impl TargetSpec {
    /// The target, then the profile `input` (at request pointer `at`) resolved for it;
    /// a bad target is reported before a bad profile.
    pub fn resolve(&self, input: &Input, at: &str, data: Data<'_>) -> Result<Resolved, ApiError> {
        let target = self.target()?;
        let policy = policy(input, at, &target, data)?;
        Ok(Resolved { target, policy })
    }
}

/// `sys_admin` / `CAP_SYS_ADMIN` -> `CAP_SYS_ADMIN`.
fn capability(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    let ok = full.len() > 4
        && full[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_');
    ok.then_some(full)
}

/// Docker's default capabilities (what `caps` defaults to).
pub fn default_caps() -> Vec<&'static str> {
    DOCKER_DEFAULT_CAPS.to_vec()
}

/// Bytes as text, or an error naming the line and column of the first invalid byte.
fn utf8<'a>(source: &str, bytes: &'a [u8]) -> Result<&'a str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = 1 + good.iter().filter(|b| **b == b'\n').count();
        let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        ApiError {
            source: Some(source.into()),
            line: Some(line),
            column: Some(good.len() - start + 1),
            ..ApiError::new(format!(
                "{source}:{line}:{}: not valid UTF-8",
                good.len() - start + 1
            ))
        }
    })
}

/// The text of the profile `input` (a builtin's as syscage stores it), for places in it.
pub fn profile_text(input: &Input, at: &str, data: Data<'_>) -> Result<String, ApiError> {
    Ok(match input.content(at, data)? {
        Content::Builtin(name) => match builtin::engine_default(name) {
            Some(Ok(d)) => d.text(),
            _ => String::new(),
        },
        Content::Text(t) => t.to_string(),
        Content::Bytes(b) => utf8(&input.source_or("profile"), &b)?.to_string(),
        Content::Data(b) => utf8(&input.source_or("profile"), b)?.to_string(),
    })
}

/// Parses the profile `input` (at request pointer `at`).
pub fn profile(
    input: &Input,
    at: &str,
    runtime: Runtime,
    data: Data<'_>,
) -> Result<AnyProfile, ApiError> {
    let filter = input.filter.as_deref();
    let reader = match input.read_as.as_deref() {
        None => None,
        Some(e) => Some(
            e.parse::<syscage_core::localhost::Reader>()
                .map_err(|m| ApiError::field(&format!("{at}/read_as"), m))?,
        ),
    };
    let parse = |source: &str, text: &str| -> Result<AnyProfile, ApiError> {
        match reader {
            Some(r) => Ok(AnyProfile::Oci(
                syscage_core::localhost::read_by(r, source, text, runtime)?.profile,
            )),
            None => Ok(profile::parse_any(source, text, runtime, filter)?),
        }
    };
    match input.content(at, data)? {
        Content::Builtin(name) => {
            if filter.is_some() {
                return Err(ApiError::field(
                    &format!("{at}/filter"),
                    "\"filter\" names a filter of a seccompiler JSON file; builtins have none",
                ));
            }
            builtin::lookup(name, runtime)
                .ok_or_else(|| {
                    ApiError::field(
                        &format!("{at}/builtin"),
                        format!(
                            "no builtin profile {name:?} (builtins: {})",
                            builtin::names().join(", ")
                        ),
                    )
                })?
                .map(AnyProfile::Oci)
                .map_err(|e| match e {
                    builtin::BuiltinError::Profile(e) => ApiError::from(e),
                    other => ApiError::field(&format!("{at}/builtin"), other.to_string()),
                })
        }
        Content::Text(text) => parse(&input.source_or("profile"), text),
        Content::Bytes(bytes) => {
            let source = input.source_or("profile");
            parse(&source, utf8(&source, &bytes)?)
        }
        Content::Data(bytes) => {
            let source = input.source_or("profile");
            parse(&source, utf8(&source, bytes)?)
        }
    }
}

/// Parses and resolves the profile `input` for `target`.
pub fn policy(
    input: &Input,
    at: &str,
    target: &Target,
    data: Data<'_>,
) -> Result<Policy, ApiError> {
    let p = profile(input, at, target.runtime, data)?;
    Ok(policy::resolve_any(&p, target)?)
}

/// A raw program (`base64`/`bytes`: `.bpf` bytes; `text`: an assembler listing as
/// `syscage disasm` prints it), validated as the kernel would.
pub fn program(
    input: &Input,
    at: &str,
    data: Data<'_>,
) -> Result<(String, ValidProgram), ApiError> {
    let source = input.source_or("filter.bpf");
    let prog = match input.content(at, data)? {
        Content::Builtin(_) => {
            return Err(ApiError::field(
                &format!("{at}/builtin"),
                "a raw program has no builtins: give \"base64\", \"bytes\" or \"text\"",
            ))
        }
        Content::Text(text) => bpf::asm::assemble(text).map_err(|e| ApiError {
            source: Some(source.clone()),
            line: Some(e.line),
            ..ApiError::new(format!("{source}: {e}"))
        })?,
        Content::Bytes(bytes) => raw_program(&source, &bytes)?,
        Content::Data(bytes) => raw_program(&source, bytes)?,
    };
    let valid = bpf::validate(&prog).map_err(|e| ApiError {
        source: Some(source.clone()),
        ..ApiError::new(format!(
            "{source}: the kernel would reject this filter: {e}"
        ))
    })?;
    Ok((source, valid))
}

fn raw_program(source: &str, bytes: &[u8]) -> Result<Program, ApiError> {
    Program::from_raw(bytes).map_err(|e| ApiError {
        source: Some(source.to_string()),
        ..ApiError::new(format!("{source}: not a raw BPF filter: {e}"))
    })
}

/// The bytes of the trace `input` (its text is taken, so a large trace is not held
/// twice); the check reads them with the streaming reader.
pub fn trace<'a>(
    input: &mut Input,
    at: &str,
    data: Data<'a>,
) -> Result<(String, std::borrow::Cow<'a, [u8]>), ApiError> {
    use std::borrow::Cow;
    let source = input.source_or("trace");
    if input.builtin.is_some() {
        return Err(ApiError::field(
            &format!("{at}/builtin"),
            "traces have no builtins: give \"text\", \"base64\", \"bytes\" or \"data\"",
        ));
    }
    let bytes = match input.take_text() {
        Some(text) => {
            if input.base64.is_some() || input.bytes.is_some() || input.data.is_some() {
                return Err(ApiError::field(
                    at,
                    "give exactly one of \"text\", \"base64\", \"bytes\", \"data\"",
                ));
            }
            Cow::Owned(text.into_bytes())
        }
        None => {
            let only_data = input.data.is_some() && input.base64.is_none() && input.bytes.is_none();
            match input.data {
                Some(range) if only_data => Cow::Borrowed(data_slice(data, range, at)?),
                _ => match input.content(at, None)? {
                    Content::Bytes(bytes) => Cow::Owned(bytes),
                    // Builtins were refused above and the text was taken: content()
                    // found neither; data was handled above.
                    Content::Data(_) | Content::Builtin(_) | Content::Text(_) => {
                        Cow::Owned(Vec::new())
                    }
                },
            }
        }
    };
    Ok((source, bytes))
}

/// A trace error as the ABI's error object, naming the trace and line.
pub fn trace_error(source: &str, e: &TraceError) -> ApiError {
    ApiError {
        source: Some(source.to_string()),
        line: Some(e.line()),
        column: match e {
            TraceError::InvalidUtf8 { column, .. }
            | TraceError::Json { column, .. }
            | TraceError::Syntax { column, .. } => Some(*column),
            _ => None,
        },
        ..ApiError::new(format!("{source}: {e}"))
    }
}
