//! How each container engine reads a profile file it is handed (a Kubernetes
//! `Localhost` profile, `docker run --security-opt seccomp=FILE`, `ctr run
//! --seccomp-profile FILE`): the same bytes mean different filters under different
//! engines, and this module says which, and what the engine ignored.
//!
//! * dockerd, CRI-O and Podman read Docker's format (moby's loader and
//!   containers/common's, which share it): `archMap`, `includes`/`excludes` and
//!   `minKernel` apply, as [`crate::profile::parse`] reads any file.
//! * containerd reads an OCI runtime-spec `LinuxSeccomp` (`contrib/seccomp`
//!   `WithProfile`: `json.Unmarshal` into `specs.LinuxSeccomp`), so Docker's keys are
//!   dropped unseen: no `archMap` (a filter for the native architecture only, whose
//!   i386 and x32 calls then meet the bad-arch action), and every rule applies to every
//!   container whatever its `includes`/`excludes` say (capability-gated allows
//!   included).
//!
//! The Mesos containerizer has a parser of its own ([`crate::platform::mesos`]). Which
//! engine a node runs is the platform chain's business; this module only reads.

use crate::builtin::ContainerEngine;
use crate::profile::{self, Format, Profile, ProfileError, Runtime};

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
        // Also as the profile's warnings, so that every consumer says so.
        for message in &ignored {
            profile.warnings.push(crate::profile::Diagnostic {
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
    Ok(EngineRead { profile, ignored })
}

#[cfg(test)]
mod tests {
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
