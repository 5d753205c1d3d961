//! DC/OS-Mesos: which seccomp profile the Mesos agent's `linux/seccomp` isolator gives
//! a Marathon app.
//!
//! Owns the agent's choice, as `src/slave/containerizer/mesos/isolators/linux/
//! seccomp.cpp` (`LinuxSeccompIsolatorProcess::prepare`) makes it from the app's
//! `container.linuxInfo.seccomp` (Marathon's JSON for Mesos' `SeccompInfo`):
//! `unconfined: true` -> no filter; `profileName` -> the file of that name in the
//! agent's `--seccomp_config_dir`; both, or a block with neither -> the task fails; no
//! block -> the agent's default `--seccomp_profile_name` (DC/OS 1.13+ sets
//! `default.json`), or no filter when the agent has none. `profileName` is joined to the
//! directory as stout's `path::join` does: one leading `/` dropped, no `..` check (a name
//! that escapes the directory is modelled, and reported). Only Mesos-containerizer apps
//! (`container.type` `MESOS`, or no container) go through the isolator; a `DOCKER` app
//! runs under dockerd, whose default profile applies whatever `linuxInfo.seccomp` says.
//! That the agent parses its default profile when it starts (and does not start when it
//! cannot) is the caller's to check: it reads files.

pub mod agents;
pub mod parser;

use super::{Applied, Doc, PlatformError, Resolution};

/// The agent's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `--seccomp_config_dir`.
    pub profiles_dir: String,
    /// `--seccomp_profile_name`, relative to `profiles_dir` (`default.json` on DC/OS).
    pub default_profile: Option<String>,
}

impl Options {
    /// The file the agent reads its default profile from, joined as it joins it.
    pub fn default_path(&self) -> Option<String> {
        self.default_profile
            .as_deref()
            .map(|d| stout_join(&self.profiles_dir, d))
    }
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
    let container_type = doc.string("/container/type")?;
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
        privileged: None,
        capabilities: Default::default(),
    };
    match container_type {
        None | Some("MESOS") => {}
        Some("DOCKER") => {
            let mut r = res(
                Applied::RuntimeDefault,
                "/container/type",
                "container.type DOCKER: the Docker containerizer runs the task through \
                 dockerd, which applies its own default seccomp profile; the Mesos seccomp \
                 isolator does not see it"
                    .to_string(),
                true,
            );
            if doc.get(block).is_some() {
                r.notes.push(format!(
                    "{block} is ignored for DOCKER containers (DC/OS documentation: seccomp \
                     settings apply to UCR containers only)"
                ));
            }
            return Ok(r);
        }
        Some(t) => {
            return Err(doc.invalid(
                "/container/type",
                format!("unknown container type {t:?} (Marathon knows MESOS and DOCKER)"),
            ))
        }
    }
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
                if n.is_empty() {
                    return Err(doc.invalid(
                        &name_p,
                        "the agent fails the task: an empty profileName names the profile \
                         directory itself, which does not parse as a profile",
                    ));
                }
                let path = stout_join(&opts.profiles_dir, n);
                let mut r = res(
                    Applied::Localhost { path: path.clone() },
                    &name_p,
                    format!("profileName {n:?}: the file of that name in the agent's --seccomp_config_dir"),
                    true,
                );
                if escapes(n) {
                    r.notes.push(format!(
                        "profileName {n:?} leaves the profile directory: Mesos joins it as it is \
                         (path::join, no `..` check), so the agent reads {path}"
                    ));
                }
                Ok(r)
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
            Applied::Localhost { path: stout_join(&opts.profiles_dir, d) },
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

/// stout's `path::join(path1, path2)`: `path1` without one trailing `/`, a `/`, then
/// `path2` without one leading `/` (`strings::remove` with `SUFFIX` / `PREFIX`).
fn stout_join(dir: &str, name: &str) -> String {
    let dir = dir.strip_suffix('/').unwrap_or(dir);
    let name = name.strip_prefix('/').unwrap_or(name);
    format!("{dir}/{name}")
}

/// Whether a profile name, joined as [`stout_join`] does, climbs out of the directory.
fn escapes(name: &str) -> bool {
    let mut depth = 0i32;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests;
