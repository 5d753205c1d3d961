//! What the Mesos agent's own seccomp profile parser accepts, and what it ignores.
//!
//! Mesos does not read profiles through runc or containers/common: the `linux/seccomp`
//! isolator parses them itself (`src/linux/seccomp/seccomp_parser.cpp`,
//! `parseProfileData`) into `ContainerSeccompProfile` (`include/mesos/seccomp/
//! seccomp.proto`), a subset of Docker's format with its own requirements:
//!
//! * `defaultAction` and every rule's `action` must be one of the proto's actions:
//!   `SCMP_ACT_KILL`, `SCMP_ACT_TRAP`, `SCMP_ACT_ERRNO`, `SCMP_ACT_TRACE`,
//!   `SCMP_ACT_ALLOW` (no LOG, KILL_PROCESS, KILL_THREAD, NOTIFY);
//! * `archMap` is required (an OCI `architectures` list is not read), each entry with
//!   `architecture` and `subArchitectures`;
//! * every rule needs `names` (not empty), `action`, `args` (an array, even empty), and
//!   `includes` and `excludes` objects (even empty); an argument needs `index`,
//!   `value`, `valueTwo` and `op`;
//! * `includes`/`excludes` know `arches` (Go names) and `caps` (Mesos' capability
//!   names); `minKernel`, `errnoRet`, `defaultErrnoRet`, `comment`, `name` and anything
//!   else are not read;
//! * every name must resolve in the agent's libseccomp (`src/linux/seccomp/seccomp.cpp`
//!   `SeccompFilter::create`: `seccomp_syscall_resolve_name`, "Unrecognized syscall"),
//!   unlike runc, which skips names its libseccomp does not know. A name libseccomp
//!   knows only for other architectures resolves to a pseudo-number, not an error.
//!
//! A profile it refuses fails the task (or, as the agent's default, stops the agent).
//! This module checks a profile the way that parser does, naming the place of the
//! first refusal, and lists what it would not read. It does not evaluate the profile:
//! what Mesos keeps is otherwise Docker's format, which [`crate::profile`] reads.

use serde_json::Value;

use crate::platform::{Doc, PlatformError};
use crate::profile::CmpOp;

const ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
];

const ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
];

/// The Go architecture names `includes`/`excludes` `arches` may use.
const GO_ARCHES: &[&str] = &[
    "x86",
    "amd64",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mipsel",
    "mips64",
    "mipsel64",
    "mips64n32",
    "mipsel64n32",
    "ppc",
    "ppc64le",
    "s390",
    "s390x",
];

/// Checks `text` (read from `source`) as the Mesos agent's parser would, with the
/// agent's libseccomp `libseccomp`. `Ok` lists the fields it would not read; `Err` is
/// the first thing it refuses, with its place.
pub fn check(
    source: &str,
    text: &str,
    libseccomp: &crate::libseccomp::Libseccomp,
) -> Result<Vec<String>, PlatformError> {
    let doc = Doc::parse(source, text)?;
    let refuse = |pointer: &str, why: String| PlatformError::Forbidden {
        location: doc.location(pointer),
        by: "the Mesos seccomp profile parser (seccomp_parser.cpp)".into(),
        message: why,
    };
    let Some(root) = doc.root.as_object() else {
        return Err(refuse("", "a profile must be a JSON object".into()));
    };
    let mut ignored = Vec::new();
    for k in root.keys() {
        if !["defaultAction", "archMap", "syscalls"].contains(&k.as_str()) {
            ignored.push(format!("/{k}"));
        }
    }
    let action = |v: Option<&Value>, at: &str, what: &str| -> Result<(), PlatformError> {
        match v.and_then(Value::as_str) {
            None => Err(refuse(
                at,
                format!("Cannot determine '{what}' for the Seccomp configuration: Not found"),
            )),
            Some(a) if ACTIONS.contains(&a) => Ok(()),
            Some(a) => Err(refuse(
                at,
                format!(
                    "Unknown syscall action: '{a}' (Mesos knows {})",
                    ACTIONS.join(", ")
                ),
            )),
        }
    };
    action(root.get("defaultAction"), "/defaultAction", "defaultAction")?;
    let Some(arch_map) = root.get("archMap").and_then(Value::as_array) else {
        return Err(refuse(
            "/archMap",
            "Cannot determine 'archMap' for the Seccomp configuration: Not found (Mesos does \
             not read an OCI 'architectures' list)"
                .into(),
        ));
    };
    for (i, e) in arch_map.iter().enumerate() {
        let at = format!("/archMap/{i}");
        let arch = e.get("architecture").and_then(Value::as_str);
        match arch {
            Some(a) if ARCHES.contains(&a) => {}
            Some(a) => return Err(refuse(&at, format!("Unknown architecture: '{a}'"))),
            None => {
                return Err(refuse(
                    &at,
                    "Cannot determine 'architecture' field for 'archMap' item: Not found".into(),
                ))
            }
        }
        let Some(subs) = e.get("subArchitectures").and_then(Value::as_array) else {
            return Err(refuse(
                &at,
                "Cannot determine 'subArchitectures' field for 'archMap' item: Not found".into(),
            ));
        };
        for (j, s) in subs.iter().enumerate() {
            match s.as_str() {
                Some(a) if ARCHES.contains(&a) => {}
                _ => {
                    return Err(refuse(
                        &format!("{at}/subArchitectures/{j}"),
                        format!("Unknown architecture: '{}'", s.as_str().unwrap_or_default()),
                    ))
                }
            }
        }
    }
    let Some(rules) = root.get("syscalls").and_then(Value::as_array) else {
        return Err(refuse(
            "/syscalls",
            "Cannot determine 'syscalls' for the Seccomp configuration: Not found".into(),
        ));
    };
    for (i, r) in rules.iter().enumerate() {
        let at = format!("/syscalls/{i}");
        let Some(obj) = r.as_object() else {
            return Err(refuse(&at, "'syscalls' contains a non-object item".into()));
        };
        for k in obj.keys() {
            if !["includes", "excludes", "names", "action", "args"].contains(&k.as_str()) {
                ignored.push(format!("{at}/{k}"));
            }
        }
        for part in ["includes", "excludes"] {
            let Some(f) = obj.get(part).and_then(Value::as_object) else {
                return Err(refuse(
                    &at,
                    format!("Cannot determine '{part}' field for 'syscalls' item: Not found"),
                ));
            };
            for (k, v) in f {
                let fp = format!("{at}/{part}/{k}");
                match k.as_str() {
                    "arches" => {
                        for (j, a) in v.as_array().into_iter().flatten().enumerate() {
                            if !a.as_str().is_some_and(|a| GO_ARCHES.contains(&a)) {
                                return Err(refuse(
                                    &format!("{fp}/{j}"),
                                    format!(
                                        "Unknown architecture: '{}'",
                                        a.as_str().unwrap_or_default()
                                    ),
                                ));
                            }
                        }
                    }
                    "caps" => {
                        for (j, c) in v.as_array().into_iter().flatten().enumerate() {
                            if !c.as_str().is_some_and(|c| crate::caps::NAMES.contains(&c)) {
                                return Err(refuse(
                                    &format!("{fp}/{j}"),
                                    format!(
                                        "Unknown capability: '{}'",
                                        c.as_str().unwrap_or_default()
                                    ),
                                ));
                            }
                        }
                    }
                    _ => ignored.push(fp),
                }
            }
        }
        let names = obj.get("names").and_then(Value::as_array);
        match names {
            None => {
                return Err(refuse(
                    &at,
                    "Cannot determine 'names' field for 'syscalls' item: Not found".into(),
                ))
            }
            Some(n) if n.is_empty() => {
                return Err(refuse(
                    &format!("{at}/names"),
                    "Syscall 'names' list is empty".into(),
                ))
            }
            Some(names) => {
                for (j, n) in names.iter().enumerate() {
                    let known = n
                        .as_str()
                        .is_some_and(|n| crate::syscalls::known_anywhere(n) && libseccomp.knows(n));
                    if !known {
                        return Err(refuse(
                            &format!("{at}/names/{j}"),
                            format!(
                                "Unrecognized syscall '{}' ({} does not know it)",
                                n.as_str().unwrap_or_default(),
                                libseccomp
                            ),
                        ));
                    }
                }
            }
        }
        action(obj.get("action"), &format!("{at}/action"), "action")?;
        let Some(args) = obj.get("args").and_then(Value::as_array) else {
            return Err(refuse(
                &at,
                "Cannot determine 'args' field for 'syscalls' item: Not found (Mesos needs \
                 \"args\": [] even without conditions)"
                    .into(),
            ));
        };
        for (j, a) in args.iter().enumerate() {
            let ap = format!("{at}/args/{j}");
            for field in ["index", "value", "valueTwo"] {
                if !a.get(field).is_some_and(Value::is_number) {
                    return Err(refuse(
                        &ap,
                        format!("Cannot determine '{field}' field for 'args' item: Not found"),
                    ));
                }
            }
            match a.get("op").and_then(Value::as_str) {
                // Mesos' operators are the OCI ones (`Operator` in seccomp.proto).
                Some(op) if op.parse::<CmpOp>().is_ok() => {}
                Some(op) => {
                    return Err(refuse(
                        &format!("{ap}/op"),
                        format!("Unknown operator: '{op}'"),
                    ))
                }
                None => {
                    return Err(refuse(
                        &ap,
                        "Cannot determine 'op' field for 'args' item: Not found".into(),
                    ))
                }
            }
        }
    }
    Ok(ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [],
                      "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN"]}, "comment": "c"}]}"#;

    fn refused(text: &str) -> (String, String) {
        let e = check("p.json", text, &crate::libseccomp::Libseccomp::latest()).unwrap_err();
        (e.location().pointer.clone(), e.to_string())
    }

    #[test]
    fn accepts_its_shape_and_lists_what_it_ignores() {
        assert_eq!(
            check("p.json", OK, &crate::libseccomp::Libseccomp::latest()).unwrap(),
            vec!["/syscalls/0/comment"]
        );
    }

    /// One case per refusal of `parseProfileData`.
    #[test]
    fn refuses_what_seccomp_parser_cpp_refuses() {
        let oci = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}"#;
        let (at, e) = refused(oci);
        assert_eq!(at, "/archMap");
        assert!(e.contains("Cannot determine 'archMap'"), "{e}");
        let (at, e) = refused(&OK.replace("SCMP_ACT_ERRNO", "SCMP_ACT_LOG"));
        assert_eq!(at, "/defaultAction");
        assert!(e.contains("Unknown syscall action: 'SCMP_ACT_LOG'"), "{e}");
        let (at, e) = refused(&OK.replace(r#""args": [],"#, ""));
        assert_eq!(at, "/syscalls/0");
        assert!(e.contains("'args'"), "{e}");
        let (at, _) = refused(&OK.replace(r#""includes": {},"#, ""));
        assert_eq!(at, "/syscalls/0");
        let (at, e) = refused(&OK.replace(r#"["read"]"#, "[]"));
        assert_eq!(
            (at.as_str(), e.contains("'names' list is empty")),
            ("/syscalls/0/names", true)
        );
        let (at, _) = refused(&OK.replace(
            r#""args": []"#,
            r#""args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]"#,
        ));
        assert_eq!(at, "/syscalls/0/args/0");
        let (at, _) = refused(&OK.replace("CAP_SYS_ADMIN", "SYS_ADMIN"));
        assert_eq!(at, "/syscalls/0/excludes/caps/0");
    }
}
