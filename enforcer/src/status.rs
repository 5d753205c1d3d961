//! A live process's seccomp state, from `/proc/PID/status`: the mode (`Seccomp:` 0
//! disabled, 1 strict, 2 filter), how many filters are stacked (`Seccomp_filters:`,
//! Linux 5.9+) and whether no_new_privs is set.

/// `Seccomp:` in `/proc/PID/status` (core's, so the audit document uses it too).
pub use syscage_core::audit::Mode;

/// What `/proc/PID/status` says about seccomp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub pid: i32,
    /// The `Name:` line (the command, truncated by the kernel to 15 bytes).
    pub name: String,
    pub mode: Mode,
    /// `None` on kernels older than 5.9, which do not report it.
    pub filters: Option<u32>,
    pub no_new_privs: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot read /proc/{pid}/status: {source}")]
    Read { pid: i32, source: std::io::Error },
    #[error("/proc/{pid}/status has no {field} line (a kernel without seccomp?)")]
    Missing { pid: i32, field: &'static str },
    #[error("/proc/{pid}/status: unexpected {field} value {value:?}")]
    Bad {
        pid: i32,
        field: &'static str,
        value: String,
    },
}

/// Reads the state of `pid`.
pub fn read(pid: i32) -> Result<Status, StatusError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|source| StatusError::Read { pid, source })?;
    parse(pid, &text)
}

/// Parses the text of `/proc/PID/status`.
pub fn parse(pid: i32, text: &str) -> Result<Status, StatusError> {
    let field = |name: &'static str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let number = |name: &'static str| -> Result<Option<u32>, StatusError> {
        field(name)
            .map(|v| {
                v.parse().map_err(|_| StatusError::Bad {
                    pid,
                    field: name,
                    value: v.to_string(),
                })
            })
            .transpose()
    };
    let mode = match number("Seccomp")? {
        Some(0) => Mode::Disabled,
        Some(1) => Mode::Strict,
        Some(2) => Mode::Filter,
        Some(n) => {
            return Err(StatusError::Bad {
                pid,
                field: "Seccomp",
                value: n.to_string(),
            })
        }
        None => {
            return Err(StatusError::Missing {
                pid,
                field: "Seccomp",
            })
        }
    };
    Ok(Status {
        pid,
        name: field("Name").unwrap_or("").to_string(),
        mode,
        filters: number("Seccomp_filters")?,
        no_new_privs: number("NoNewPrivs")?.unwrap_or(0) == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fields() {
        let text = "Name:\tsleep\nState:\tS (sleeping)\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n";
        let s = parse(7, text).unwrap();
        assert_eq!(s.mode, Mode::Filter);
        assert_eq!(s.filters, Some(3));
        assert!(s.no_new_privs);
        assert_eq!(s.name, "sleep");
        let old = parse(7, "Name:\tx\nSeccomp:\t0\n").unwrap();
        assert_eq!(
            (old.mode, old.filters, old.no_new_privs),
            (Mode::Disabled, None, false)
        );
        assert!(matches!(
            parse(7, "Name:\tx\n"),
            Err(StatusError::Missing { .. })
        ));
        assert!(matches!(
            parse(7, "Seccomp:\t9\n"),
            Err(StatusError::Bad { .. })
        ));
    }

    #[test]
    fn reads_this_process() {
        let s = read(std::process::id() as i32).unwrap();
        assert_eq!(s.pid, std::process::id() as i32);
    }
}
