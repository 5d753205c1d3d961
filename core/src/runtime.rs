//! The OCI runtime that installs a profile, by release: which runtime
//! ([`Runtime`], defined with the profile formats because it also decides which profiles
//! are refused), which release of it ([`Release`]), and the behaviours that changed
//! between releases, each a method of [`RuntimeRelease`] citing the source.
//!
//! This module only answers questions ("does this runc add a stub for the native
//! architecture?"); [`crate::policy`] applies the answers. Finding which runc is
//! installed on a host is the caller's business (it runs `runc --version`); in here a
//! release is whatever the caller says, and no release means the newest behaviour
//! modelled.

use std::fmt;
use std::str::FromStr;

mod startup;
pub use startup::StartupCall;

pub use crate::profile::Runtime;

/// A release number, `major.minor.patch`. A release given as `major.minor` stands for
/// the newest patch release of that line (`patch` is `None`), and compares above every
/// patch release of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl Release {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Release {
        Release {
            major,
            minor,
            patch: Some(patch),
        }
    }

    fn key(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(u32::MAX))
    }
}

impl PartialOrd for Release {
    fn partial_cmp(&self, other: &Release) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Release {
    fn cmp(&self, other: &Release) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl FromStr for Release {
    type Err = String;
    /// `1.1.5`, `1.1`, and version strings such as `1.1.5+ds1` or `v1.2.0-rc.1` (what
    /// follows the numbers is ignored).
    fn from_str(s: &str) -> Result<Release, String> {
        let bad = || format!("invalid release {s:?} (expected major.minor[.patch], e.g. 1.1.5)");
        let t = s.trim().trim_start_matches('v');
        let end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let mut parts = t[..end].split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let patch = match parts.next() {
            None | Some("") => None,
            Some(p) => Some(p.parse().map_err(|_| bad())?),
        };
        Ok(Release {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// runc 1.1.15 and 1.2.0 add the native architecture to the ENOSYS stub's set (commit
/// ccc500c42, backported as 618e149e4, "seccomp: patchbpf: always include native
/// architecture in stub").
pub const RUNC_STUB_NATIVE: Release = Release::new(1, 1, 15);

/// runc 1.2.0 is the first to accept a profile's `flags` (1.1.x `specconv.SetupSeccomp`:
/// "seccomp flags are not yet supported by runc").
pub const RUNC_FLAGS: Release = Release::new(1, 2, 0);

/// A runtime and, when known, its release: `runc`, `runc@1.1.5`, `crun@1.8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RuntimeRelease {
    pub runtime: Runtime,
    /// `None`: the newest behaviour modelled.
    pub release: Option<Release>,
}

impl RuntimeRelease {
    /// Whether this release is at least `r` (an unknown release is the newest).
    fn at_least(&self, r: Release) -> bool {
        self.release.is_none_or(|mine| mine >= r)
    }

    /// Whether runc's ENOSYS stub covers the native architecture even when the profile
    /// does not list it (`patchbpf.findLastSyscalls`; before 1.1.15 the stub covered the
    /// profile's `architectures` only, so a profile without that field got no stub).
    pub fn stub_covers_native(&self) -> bool {
        self.runtime == Runtime::Runc && self.at_least(RUNC_STUB_NATIVE)
    }

    /// Whether the runtime refuses a profile that sets `flags`.
    pub fn refuses_flags(&self) -> bool {
        self.runtime == Runtime::Runc && !self.at_least(RUNC_FLAGS)
    }
}

impl From<Runtime> for RuntimeRelease {
    fn from(runtime: Runtime) -> RuntimeRelease {
        RuntimeRelease {
            runtime,
            release: None,
        }
    }
}

impl FromStr for RuntimeRelease {
    type Err = String;
    /// `runc`, `crun`, `runc@1.1.5`, `crun@1.8`.
    fn from_str(s: &str) -> Result<RuntimeRelease, String> {
        let (name, release) = match s.split_once('@') {
            Some((n, r)) => (n, Some(r.parse::<Release>()?)),
            None => (s, None),
        };
        Ok(RuntimeRelease {
            runtime: name.parse()?,
            release,
        })
    }
}

impl RuntimeRelease {
    /// For people: `runc 1.1.5`, or `runc (newest modelled)` when no release is known.
    pub fn describe(&self) -> String {
        match self.release {
            Some(r) => format!("{} {r}", self.runtime),
            None => format!("{} (newest modelled)", self.runtime),
        }
    }
}

/// The spelling [`FromStr`] reads back: `runc@1.1.5`, or `runc`.
impl fmt::Display for RuntimeRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.release {
            Some(r) => write!(f, "{}@{r}", self.runtime),
            None => write!(f, "{}", self.runtime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_and_order() {
        let r = |s: &str| s.parse::<Release>().unwrap();
        assert_eq!(r("1.1.5+ds1"), Release::new(1, 1, 5));
        assert_eq!(r("v1.2.0-rc.1"), Release::new(1, 2, 0));
        assert!(r("1.1.14") < RUNC_STUB_NATIVE);
        assert!(r("1.1") > RUNC_STUB_NATIVE, "1.1 is the newest 1.1.x");
        assert!(r("1.2.0") > r("1.1"));
        assert!("1".parse::<Release>().is_err());
        assert!("one.two".parse::<Release>().is_err());
    }

    #[test]
    fn runc_behaviour_by_release() {
        let rr = |s: &str| s.parse::<RuntimeRelease>().unwrap();
        assert!(!rr("runc@1.1.5").stub_covers_native());
        assert!(rr("runc@1.1.15").stub_covers_native());
        assert!(rr("runc").stub_covers_native());
        assert!(!rr("crun").stub_covers_native());
        assert!(rr("runc@1.1.5").refuses_flags());
        assert!(!rr("runc@1.2.0").refuses_flags());
        assert!(!rr("crun@1.8.1").refuses_flags());
        assert!("docker@1".parse::<RuntimeRelease>().is_err());
        for s in ["runc", "crun@1.8.1", "runc@1.1"] {
            assert_eq!(rr(s).to_string(), s);
        }
        assert_eq!(rr("runc@1.1.5").describe(), "runc 1.1.5");
    }
}
