//! Profiles built into syscage, looked up by the names platforms use for them.
//!
//! * `runtime/default` (aliases `docker/default`, `RuntimeDefault`): the default profile
//!   container runtimes apply. syscage's own, written as a Docker-format profile so its
//!   architecture, capability and kernel conditions resolve the way moby's do; a test
//!   checks it is verdict-equivalent to Docker's published default profile.
//! * `unconfined` (alias `Unconfined`): no filter at all.

use crate::profile::{self, Profile, ProfileError, Runtime};

/// The text of `runtime/default`.
pub const RUNTIME_DEFAULT_JSON: &str = include_str!("runtime-default.json");

/// The builtin names, canonical spelling first.
pub const NAMES: &[&str] = &["runtime/default", "unconfined"];

/// Whether `name` names a builtin profile (any spelling [`lookup`] accepts).
pub fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "runtime/default" | "docker/default" | "RuntimeDefault" | "unconfined" | "Unconfined"
    )
}

/// The builtin profile called `name`, if there is one.
pub fn lookup(name: &str, runtime: Runtime) -> Option<Result<Profile, ProfileError>> {
    match name {
        "runtime/default" | "docker/default" | "RuntimeDefault" => Some(profile::parse(
            "builtin:runtime/default",
            RUNTIME_DEFAULT_JSON,
            runtime,
        )),
        "unconfined" | "Unconfined" => Some(Ok(Profile::unconfined("builtin:unconfined"))),
        _ => None,
    }
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
