//! DC/OS-Mesos: which seccomp profile the Mesos agent's `linux/seccomp` isolator gives
//! a Marathon app.
//!
//! Owns the agent's choice, as `src/slave/containerizer/mesos/isolators/linux/
//! seccomp.cpp` (`LinuxSeccompIsolatorProcess::prepare`) makes it from the app's
//! `container.linuxInfo.seccomp` (Marathon's JSON for Mesos' `SeccompInfo`):
//! `unconfined: true` -> no filter; `profileName` -> the file of that name in the
//! agent's `--seccomp_config_dir`; both, or a block with neither -> the task fails; no
//! block -> the agent's default `--seccomp_profile_name` (DC/OS 1.13+ sets
//! `default.json`), or no filter when the agent has none. Only Mesos-containerizer apps
//! (`container.type` `MESOS`, or no container) go through the isolator.

use super::{join, Applied, Doc, PlatformError, Resolution};

/// The agent's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `--seccomp_config_dir`.
    pub profiles_dir: String,
    /// `--seccomp_profile_name`, relative to `profiles_dir` (`default.json` on DC/OS).
    pub default_profile: Option<String>,
}

/// DC/OS's `mesos_seccomp_profile_name` default.
pub const DCOS_DEFAULT_PROFILE: &str = "default.json";

/// The profile the agent applies to the app's tasks.
pub fn resolve(source: &str, text: &str, opts: &Options) -> Result<Resolution, PlatformError> {
    let doc = Doc::parse(source, text)?;
    if !doc.root.is_object() {
        return Err(doc.invalid("", "expected a Marathon app (a JSON object)"));
    }
    if doc.get("/containers").is_some() {
        return Err(doc.invalid(
            "/containers",
            "a Marathon pod: only apps (one container, container.linuxInfo) are modelled",
        ));
    }
    let id = doc
        .string("/id")?
        .ok_or_else(|| doc.invalid("", "a Marathon app needs an \"id\""))?
        .to_string();
    doc.object("/container")?;
    if let Some(t) = doc.string("/container/type")? {
        if t != "MESOS" {
            return Err(doc.invalid(
                "/container/type",
                format!(
                    "container type {t}: the Mesos seccomp isolator only sees MESOS containers; \
                     what the {t} containerizer applies is not modelled"
                ),
            ));
        }
    }
    doc.object("/container/linuxInfo")?;
    let block = "/container/linuxInfo/seccomp";
    let res = |applied, decided_by: &str, reason: String, in_file: bool| Resolution {
        container: id.clone(),
        role: "app",
        pointer: String::new(),
        applied,
        decided_by: decided_by.to_string(),
        location: in_file.then(|| doc.location(decided_by)),
        reason,
        notes: Vec::new(),
    };
    if doc.object(block)?.is_some() {
        let un_p = format!("{block}/unconfined");
        let name_p = format!("{block}/profileName");
        let unconfined = doc.boolean(&un_p)?.unwrap_or(false);
        let name = doc.string(&name_p)?;
        return match (unconfined, name) {
            (true, Some(_)) => Err(doc.invalid(
                block,
                "the agent fails the task: \"Invalid Seccomp configuration: 'profile_name' given \
                 even though 'unconfined' Seccomp setting is enabled\"",
            )),
            (true, None) => Ok(res(
                Applied::Unconfined,
                &un_p,
                "unconfined: true: the agent applies no seccomp filter".to_string(),
                true,
            )),
            (false, Some(n)) => {
                profile_name(&doc, &name_p, n)?;
                Ok(res(
                    Applied::Localhost { path: join(&opts.profiles_dir, n) },
                    &name_p,
                    format!("profileName {n:?}: the file of that name in the agent's --seccomp_config_dir"),
                    true,
                ))
            }
            (false, None) => Err(doc.invalid(
                block,
                "the agent fails the task: \"Missing Seccomp profile name\" (a seccomp block needs \
                 profileName or unconfined: true)",
            )),
        };
    }
    Ok(match &opts.default_profile {
        Some(d) => res(
            Applied::Localhost { path: join(&opts.profiles_dir, d) },
            "agent --seccomp_profile_name",
            format!("the app has no container.linuxInfo.seccomp, so the agent's default profile {d} applies"),
            false,
        ),
        None => res(
            Applied::Unconfined,
            "agent without --seccomp_profile_name",
            "the app has no container.linuxInfo.seccomp and the agent has no default profile".to_string(),
            false,
        ),
    })
}

/// A profile name must stay inside the profile directory.
fn profile_name(doc: &Doc<'_>, pointer: &str, name: &str) -> Result<(), PlatformError> {
    if name.is_empty() || name.starts_with('/') || name.split('/').any(|e| e == "..") {
        return Err(doc.invalid(
            pointer,
            format!("profileName {name:?} must name a file in the agent's profile directory"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
