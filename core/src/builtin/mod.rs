//! Profiles built into syscage, looked up by the names platforms use for them.
//!
//! * `ENGINE/default[@MAJOR.MINOR]`: a container engine's default profile (what
//!   `RuntimeDefault` is under that engine), by release line: `docker/default@20.10`,
//!   `containerd/default@1.6`, `podman/default@4.3`, `cri-o/default@1.36`, ... The plain
//!   name is the newest line modelled. The table, with each one's upstream source, is
//!   [`catalog`].
//! * `runtime/default` (alias `RuntimeDefault`): outside a platform, Docker's (the
//!   newest `docker/default`); inside one, the node's engine decides (the platform chain
//!   asks [`catalog::find`] itself).
//! * `unconfined` (alias `Unconfined`): no filter at all.

pub mod catalog;

pub use catalog::{ContainerEngine, EngineDefault};

use crate::profile::{self, Profile, ProfileError, Runtime};
use crate::runtime::Release;

/// The text of `runtime/default` (Docker's newest modelled default).
pub const RUNTIME_DEFAULT_JSON: &str = catalog::DOCKER_29_7;

/// The builtin names, canonical spelling first.
pub fn names() -> Vec<String> {
    let mut out = vec!["runtime/default".to_string()];
    out.extend(catalog::DEFAULTS.iter().map(EngineDefault::name));
    out.push("unconfined".to_string());
    out
}

/// Why a builtin name does not give a profile.
#[derive(Debug, thiserror::Error)]
pub enum BuiltinError {
    #[error(transparent)]
    UnknownLine(#[from] catalog::UnknownLine),
    #[error("{name}: invalid release: {message}")]
    BadRelease { name: String, message: String },
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Whether `name` names a builtin profile (any spelling [`lookup`] accepts, a release
/// that is not modelled included: [`lookup`] then says which are).
pub fn is_builtin(name: &str) -> bool {
    engine_name(name).is_some()
        || matches!(
            name,
            "runtime/default" | "RuntimeDefault" | "unconfined" | "Unconfined"
        )
}

/// `ENGINE/default[@RELEASE]` -> the engine and the release text, if `name` is one.
fn engine_name(name: &str) -> Option<(ContainerEngine, Option<&str>)> {
    let (base, release) = match name.split_once('@') {
        Some((b, r)) => (b, Some(r)),
        None => (name, None),
    };
    let engine = base.strip_suffix("/default")?.parse().ok()?;
    Some((engine, release))
}

/// The modelled default `name` stands for (`ENGINE/default[@RELEASE]` or
/// `runtime/default`), if it names one.
pub fn engine_default(name: &str) -> Option<Result<&'static EngineDefault, BuiltinError>> {
    if matches!(name, "runtime/default" | "RuntimeDefault") {
        return Some(Ok(
            catalog::find(ContainerEngine::Docker, None).expect("Docker has a modelled default")
        ));
    }
    let (engine, release) = engine_name(name)?;
    let release = match release.map(str::parse::<Release>).transpose() {
        Ok(r) => r,
        Err(message) => {
            return Some(Err(BuiltinError::BadRelease {
                name: name.to_string(),
                message,
            }))
        }
    };
    Some(catalog::find(engine, release).map_err(BuiltinError::from))
}

/// The builtin profile called `name`, if there is one.
pub fn lookup(name: &str, runtime: Runtime) -> Option<Result<Profile, BuiltinError>> {
    if matches!(name, "unconfined" | "Unconfined") {
        return Some(Ok(Profile::unconfined("builtin:unconfined")));
    }
    let found = engine_default(name)?;
    Some(found.and_then(|d| {
        let source = if matches!(name, "runtime/default" | "RuntimeDefault") {
            "builtin:runtime/default".to_string()
        } else {
            format!("builtin:{}", d.name())
        };
        Ok(profile::parse(&source, &d.text(), runtime)?)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_cleanly() {
        let p = lookup("runtime/default", Runtime::Runc).unwrap().unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.format, profile::Format::Docker);
        assert!(lookup("docker/default", Runtime::Crun).unwrap().is_ok());
        assert!(lookup("unconfined", Runtime::Runc)
            .unwrap()
            .unwrap()
            .is_unconfined());
        assert!(lookup("localhost/foo", Runtime::Runc).is_none());
        for name in [
            "runtime/default",
            "docker/default",
            "docker/default@20.10",
            "podman/default@9.9",
            "cri-o/default",
            "RuntimeDefault",
            "unconfined",
            "Unconfined",
            "x",
        ] {
            assert_eq!(
                is_builtin(name),
                lookup(name, Runtime::Runc).is_some(),
                "{name}"
            );
        }
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn every_modelled_default_parses_without_warnings() {
        for d in catalog::DEFAULTS {
            for runtime in [Runtime::Runc, Runtime::Crun] {
                let p = lookup(&d.name(), runtime).unwrap().unwrap();
                assert!(p.warnings.is_empty(), "{}: {:?}", d.name(), p.warnings);
                assert_eq!(p.format, profile::Format::Docker, "{}", d.name());
            }
        }
    }

    #[test]
    fn plain_names_are_the_newest_line_and_patches_pick_their_line() {
        let name = |n: &str| engine_default(n).unwrap().unwrap().name();
        assert_eq!(name("docker/default"), "docker/default@29.7");
        assert_eq!(name("runtime/default"), "docker/default@29.7");
        assert_eq!(name("podman/default"), "podman/default@5.8");
        assert_eq!(name("containerd/default@1.6.20"), "containerd/default@1.6");
        assert_eq!(name("crio/default@1.36"), "cri-o/default@1.36");
        let e = engine_default("docker/default@25.0").unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "docker/default is not modelled for docker 25.0 (modelled: 20.10, 29.7)"
        );
        assert!(matches!(
            engine_default("docker/default@x").unwrap(),
            Err(BuiltinError::BadRelease { .. })
        ));
        assert!(engine_default("lxc/default").is_none());
    }
}
