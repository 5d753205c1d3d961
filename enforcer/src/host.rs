//! What this host runs, as the chain below a profile sees it: the release of the OCI
//! runtime on PATH and the syscall names its libseccomp resolves. Asked, not modelled:
//! [`syscage_core::runtime`] and [`syscage_core::libseccomp`] say what those facts mean.

use std::process::{Command, Stdio};

use syscage_core::libseccomp::Libseccomp;
use syscage_core::runtime::{Release, Runtime};

/// The release of `runtime` installed here: the first line of `runc --version`
/// ("runc version 1.1.5+ds1") or `crun --version` ("crun version 1.8.1"); `None` when
/// it is not on PATH or says something else.
pub fn installed_release(runtime: Runtime) -> Option<Release> {
    let out = Command::new(runtime.to_string())
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    first
        .strip_prefix(&format!("{runtime} version "))?
        .parse()
        .ok()
}

/// What this machine's `libseccomp.so.2` (the one runc and crun link) knows: the names
/// of syscage's tables it does not resolve on the native architecture, which is what
/// the runtimes ask. `None` when the library cannot be loaded.
pub fn libseccomp() -> Option<Libseccomp> {
    let lib = crate::libseccomp::Libseccomp::host().ok()?;
    let unknown = syscage_core::syscalls::all_names()
        .filter(|n| lib.resolve(n, None).is_none())
        .map(str::to_string)
        .collect();
    Some(Libseccomp::measured(
        format!("libseccomp {} (host)", lib.version()),
        unknown,
    ))
}

#[cfg(test)]
mod tests {
    /// syscage's errno table (`syscage_core::action`) against nix's, which comes from
    /// libc: the same name for every number both know.
    #[test]
    fn errno_names_match_libc() {
        let mut compared = 0;
        for n in 1..200u16 {
            let ours = syscage_core::action::errno_name(n);
            let libc = nix::errno::Errno::from_raw(i32::from(n));
            match (ours, libc) {
                (None, nix::errno::Errno::UnknownErrno) => {}
                (Some(name), e) => {
                    assert_eq!(format!("{e:?}"), name, "errno {n}");
                    assert_eq!(syscage_core::action::errno_number(name), Some(n));
                    compared += 1;
                }
                (None, e) => panic!("errno {n}: libc knows {e:?}, syscage does not"),
            }
        }
        assert!(compared >= 131, "{compared}");
    }
}
