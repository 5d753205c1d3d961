//! How each container engine reads a profile file it is handed (a Kubernetes
//! `Localhost` profile, `docker run --security-opt seccomp=FILE`, `ctr run
//! --seccomp-profile FILE`): the same bytes mean different filters under different
//! engines, and this module says which, and what the engine ignored.
//!
//! * dockerd reads Docker's format with moby's loader: `archMap`, `includes`/`excludes`
//!   and `minKernel` apply, as [`crate::profile::parse`] reads any file; the
//!   containers/common fields `defaultErrno` and `errno` are unknown to it and ignored.
//! * CRI-O and Podman read it with containers/common's loader (`pkg/seccomp`
//!   `setupSeccomp`, v0.50.1 to v0.67.0): the same, except that its `Filter` has no
//!   `minKernel` (a rule's `includes.minKernel` is dropped unseen, so the rule applies on
//!   every kernel), and `defaultErrno`/`errno` (an errno name or number) take the place
//!   of `defaultErrnoRet`/`errnoRet` when set (`getErrno`); an unknown name is an error.
//! * containerd reads an OCI runtime-spec `LinuxSeccomp` (`contrib/seccomp`
//!   `WithProfile`: `json.Unmarshal` into `specs.LinuxSeccomp`), so Docker's keys are
//!   dropped unseen: no `archMap` (a filter for the native architecture only, whose
//!   i386 and x32 calls then meet the bad-arch action), and every rule applies to every
//!   container whatever its `includes`/`excludes` say (capability-gated allows
//!   included).
//!
//! * The Mesos containerizer checks a file with its own parser
//!   ([`crate::platform::mesos::parser`]) and builds the filter itself with libseccomp
//!   (`src/linux/seccomp/seccomp.cpp` `SeccompFilter::create`, `resolveAction`): no
//!   runtime stub; `errnoRet`/`defaultErrnoRet` and `includes.minKernel` are not read, so
//!   ERRNO answers EPERM and kernel-gated rules always apply ([`Reader::Mesos`]). Not
//!   modelled: Mesos hands a rule's conditions to libseccomp as one rule even when they
//!   repeat an argument (runc splits those).
//!
//! Which engine a node runs is the platform chain's business; this module only reads.

use serde_json::Value;

use crate::builtin::ContainerEngine;
use crate::profile::{self, Diagnostic, Format, Locator, Profile, ProfileError, Runtime};

/// Who reads a profile file: a container engine, or the Mesos containerizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Engine(ContainerEngine),
    Mesos,
}

impl std::fmt::Display for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reader::Engine(e) => write!(f, "{e}"),
            Reader::Mesos => f.write_str("mesos"),
        }
    }
}

impl std::str::FromStr for Reader {
    type Err = String;
    fn from_str(s: &str) -> Result<Reader, String> {
        if s.eq_ignore_ascii_case("mesos") {
            return Ok(Reader::Mesos);
        }
        s.parse().map(Reader::Engine).map_err(|_| {
            format!("unknown reader {s:?} (expected docker, containerd, cri-o, podman or mesos)")
        })
    }
}

/// Reads `text` as `reader` does: [`read`] for an engine; for Mesos, Docker's format
/// without `errnoRet`/`defaultErrnoRet` (Mesos' ERRNO is EPERM). Whether Mesos' parser
/// accepts the file at all is [`crate::platform::mesos::parser::check`]'s question.
pub fn read_by(
    reader: Reader,
    source: &str,
    text: &str,
    runtime: Runtime,
) -> Result<EngineRead, ProfileError> {
    match reader {
        Reader::Engine(e) => read(e, source, text, runtime),
        Reader::Mesos => {
            let mut profile = profile::parse(source, text, Runtime::Runc)?;
            let mut ignored = Vec::new();
            let with_errno = usize::from(profile.default_errno_ret.take().is_some())
                + profile
                    .syscalls
                    .iter_mut()
                    .filter_map(|r| r.errno_ret.take())
                    .count();
            if with_errno > 0 {
                ignored.push(format!(
                    "Mesos does not read errnoRet/defaultErrnoRet ({with_errno} set): its ERRNO \
                     answers EPERM"
                ));
            }
            let with_min_kernel = drop_min_kernel(&mut profile);
            if with_min_kernel > 0 {
                ignored.push(format!(
                    "Mesos does not read includes.minKernel: {with_min_kernel} rules apply on \
                     every kernel"
                ));
            }
            note(&mut profile, source, &ignored);
            Ok(EngineRead { profile, ignored })
        }
    }
}

/// Drops every rule's `includes.minKernel` (for readers that do not know it); returns
/// how many rules had one.
fn drop_min_kernel(profile: &mut Profile) -> usize {
    profile
        .syscalls
        .iter_mut()
        .filter_map(|r| r.includes.min_kernel.take())
        .count()
}

/// Records each sentence of `ignored` among the profile's warnings.
fn note(profile: &mut Profile, source: &str, ignored: &[String]) {
    for message in ignored {
        profile.warnings.push(Diagnostic {
            location: crate::profile::Location {
                source: source.to_string(),
                line: 1,
                column: 1,
                pointer: String::new(),
            },
            message: message.clone(),
        });
    }
}

/// A file as an engine reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineRead {
    /// The profile, with what the engine ignored among its warnings.
    pub profile: Profile,
    /// What the engine ignored of the file, and what follows from it, one sentence each.
    pub ignored: Vec<String>,
}

/// Reads `text` (from `source`) as `engine` does, for an OCI runtime `runtime`.
pub fn read(
    engine: ContainerEngine,
    source: &str,
    text: &str,
    runtime: Runtime,
) -> Result<EngineRead, ProfileError> {
    let mut profile = profile::parse(source, text, runtime)?;
    let mut ignored = Vec::new();
    if engine == ContainerEngine::Containerd && profile.format == Format::Docker {
        if !profile.arch_map.is_empty() {
            ignored.push(format!(
                "containerd ignores `archMap` ({} entries): the filter covers the native \
                 architecture only, and i386/x32 calls meet the bad-arch action",
                profile.arch_map.len()
            ));
        }
        let gated = profile
            .syscalls
            .iter()
            .filter(|r| !r.includes.is_empty() || !r.excludes.is_empty())
            .count();
        if gated > 0 {
            ignored.push(format!(
                "containerd ignores `includes`/`excludes` on {gated} rules: each applies to \
                 every container, whatever its capabilities, architecture and kernel"
            ));
        }
        profile.format = Format::Oci;
    }
    if let Some(root) = common_fields(text) {
        match engine {
            ContainerEngine::CriO | ContainerEngine::Podman => {
                containers_common(engine, source, text, &root, &mut profile)?
            }
            ContainerEngine::Docker | ContainerEngine::Containerd => ignored.push(format!(
                "{engine} ignores `defaultErrno`/`errno` (containers/common's fields): the \
                 errnoRet values, or EPERM, apply"
            )),
        }
    }
    if matches!(engine, ContainerEngine::CriO | ContainerEngine::Podman) {
        let with_min_kernel = drop_min_kernel(&mut profile);
        if with_min_kernel > 0 {
            ignored.push(format!(
                "{engine} (containers/common) does not read `includes.minKernel`: {with_min_kernel} \
                 rules apply on every kernel"
            ));
        }
    }
    // Also as the profile's warnings, so that every consumer says so.
    note(&mut profile, source, &ignored);
    Ok(EngineRead { profile, ignored })
}

/// The file's JSON when it uses containers/common's `defaultErrno` or `errno`.
fn common_fields(text: &str) -> Option<Value> {
    let root: Value = serde_json::from_str(text).ok()?;
    let uses = root.get("defaultErrno").is_some()
        || root
            .get("syscalls")
            .and_then(Value::as_array)
            .is_some_and(|rules| rules.iter().any(|r| r.get("errno").is_some()));
    uses.then_some(root)
}

/// containers/common's `getErrno`: a number, or an errno name; empty keeps `errnoRet`.
fn common_errno(
    source: &str,
    text: &str,
    engine: ContainerEngine,
    v: &Value,
    pointer: &str,
) -> Result<Option<u32>, ProfileError> {
    let bad = |message: String| {
        ProfileError::Invalid(Diagnostic {
            location: Locator::new(text).location(source, pointer),
            message,
        })
    };
    let s = v
        .as_str()
        .ok_or_else(|| bad(format!("{engine} (containers/common) wants a string here")))?;
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = s.parse::<u32>() {
        return Ok(Some(n));
    }
    crate::action::errno_number(s)
        .map(|n| Some(u32::from(n)))
        .ok_or_else(|| {
            bad(format!(
                "{engine} (containers/common) refuses it: unknown errno {s}"
            ))
        })
}

/// `defaultErrno` and each rule's `errno` replace the numbers, as containers/common does.
fn containers_common(
    engine: ContainerEngine,
    source: &str,
    text: &str,
    root: &Value,
    profile: &mut Profile,
) -> Result<(), ProfileError> {
    if let Some(v) = root.get("defaultErrno") {
        if let Some(n) = common_errno(source, text, engine, v, "/defaultErrno")? {
            profile.default_errno_ret = Some(n);
        }
    }
    let rules = root.get("syscalls").and_then(Value::as_array);
    for rule in profile.syscalls.iter_mut() {
        let Some(i) = rule
            .pointer
            .strip_prefix("/syscalls/")
            .and_then(|i| i.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(v) = rules.and_then(|r| r.get(i)).and_then(|r| r.get("errno")) else {
            continue;
        };
        if let Some(n) = common_errno(source, text, engine, v, &format!("{}/errno", rule.pointer))?
        {
            rule.errno_ret = Some(n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mesos_reads_no_errno_values() {
        let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "archMap": [],
            "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                         {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}]}"#;
        let m = read_by(Reader::Mesos, "p.json", text, Runtime::Crun).unwrap();
        assert_eq!(m.profile.default_errno_ret, None);
        assert_eq!(m.profile.syscalls[0].errno_ret, None);
        assert_eq!(m.profile.syscalls[1].includes.min_kernel, None);
        assert!(m.ignored[0].contains("2 set"), "{:?}", m.ignored);
        assert!(m.ignored[1].contains("minKernel"), "{:?}", m.ignored);
        assert_eq!("mesos".parse::<Reader>().unwrap(), Reader::Mesos);
        assert_eq!(
            "crio".parse::<Reader>().unwrap(),
            Reader::Engine(ContainerEngine::CriO)
        );
        assert!("lxc".parse::<Reader>().is_err());
    }

    #[test]
    fn containers_common_reads_errno_names_and_not_min_kernel() {
        let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "defaultErrno": "ENOSYS",
            "syscalls": [
              {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"},
              {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}]}"#;
        let podman = read(ContainerEngine::Podman, "p.json", text, Runtime::Runc).unwrap();
        assert_eq!(podman.profile.default_errno_ret, Some(38));
        assert_eq!(podman.profile.syscalls[0].errno_ret, Some(13));
        assert_eq!(podman.profile.syscalls[1].includes.min_kernel, None);
        assert_eq!(podman.ignored.len(), 1, "{:?}", podman.ignored);
        let docker = read(ContainerEngine::Docker, "p.json", text, Runtime::Runc).unwrap();
        assert_eq!(docker.profile.default_errno_ret, Some(1));
        assert_eq!(docker.profile.syscalls[0].errno_ret, None);
        assert!(docker.profile.syscalls[1].includes.min_kernel.is_some());
        assert!(docker.ignored[0].contains("ignores `defaultErrno`/`errno`"));
        let bad = text.replace("EACCES", "EWHAT");
        let e = read(ContainerEngine::CriO, "p.json", &bad, Runtime::Runc).unwrap_err();
        assert_eq!(e.location().pointer, "/syscalls/0/errno");
        assert!(e.to_string().contains("unknown errno EWHAT"), "{e}");
        // A number is a number.
        let num = text.replace("\"EACCES\"", "\"7\"");
        let p = read(ContainerEngine::Podman, "p.json", &num, Runtime::Runc).unwrap();
        assert_eq!(p.profile.syscalls[0].errno_ret, Some(7));
    }

    use super::*;
    use crate::arch::Arch;
    use crate::eval::Evaluator;
    use crate::event::SeccompData;
    use crate::policy::{resolve, Target};
    use crate::profile::KernelVersion;

    const DOCKER_STYLE: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
          {"names": ["read", "write", "getpid"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}"#;

    fn verdict(p: &Profile, nr: u32, arch: Arch) -> u32 {
        let t = Target::new(
            Arch::X86_64,
            KernelVersion {
                major: 6,
                minor: 18,
            },
        );
        let policy = resolve(p, &t).unwrap();
        let d = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args: [0; 6],
        };
        Evaluator::new(&policy).decide(&d).0
    }

    #[test]
    fn containerd_drops_docker_keys_and_says_so() {
        let docker = read(
            ContainerEngine::Docker,
            "p.json",
            DOCKER_STYLE,
            Runtime::Runc,
        )
        .unwrap();
        let ctrd = read(
            ContainerEngine::Containerd,
            "p.json",
            DOCKER_STYLE,
            Runtime::Runc,
        )
        .unwrap();
        assert!(docker.ignored.is_empty());
        assert_eq!(ctrd.profile.warnings.len(), 2);
        assert_eq!(ctrd.ignored.len(), 2, "{:?}", ctrd.ignored);
        assert!(ctrd.ignored[0].contains("archMap"));
        assert!(ctrd.ignored[1].contains("on 1 rules"));
        let allow = crate::action::Action::ALLOW.to_ret();
        // mount (165) without CAP_SYS_ADMIN: EPERM under Docker, allowed under containerd.
        assert_ne!(verdict(&docker.profile, 165, Arch::X86_64), allow);
        assert_eq!(verdict(&ctrd.profile, 165, Arch::X86_64), allow);
        // i386 getpid (20): allowed under Docker (archMap), not under containerd.
        assert_eq!(verdict(&docker.profile, 20, Arch::X86), allow);
        assert_ne!(verdict(&ctrd.profile, 20, Arch::X86), allow);
        // An OCI file reads the same under both.
        let oci = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#;
        let a = read(ContainerEngine::Containerd, "o.json", oci, Runtime::Runc).unwrap();
        let b = read(ContainerEngine::Podman, "o.json", oci, Runtime::Runc).unwrap();
        assert_eq!(a, b);
        assert!(a.ignored.is_empty());
    }
}
