//! Linux capabilities by name and number, and the sets container engines grant by
//! default: the vocabulary a profile's `includes.caps`/`excludes.caps` and a container's
//! bounding set are spoken in.
//!
//! This module does not decide what a capability allows (the profile's rules do, in
//! [`crate::policy`]) nor read a process's capabilities (the enforcer does).

/// Capability names by number (`include/uapi/linux/capability.h`, 0 to 40).
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The names of the capabilities set in `mask` (as `/proc/PID/status` `CapBnd:` shows
/// it); bits past the table are named `CAP_N`.
pub fn from_mask(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|b| mask >> b & 1 == 1)
        .map(|b| match NAMES.get(b) {
            Some(n) => n.to_string(),
            None => format!("CAP_{b}"),
        })
        .collect()
}

/// The capabilities Docker grants a container by default (moby `oci/caps/defaults.go`);
/// containerd's `oci.WithDefaultSpec` grants the same fourteen.
pub const DOCKER_DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Podman's default capabilities: the `default_capabilities` of the `containers.conf`
/// containers/common ships (v0.50.1 `pkg/config/containers.conf`, installed as
/// `/usr/share/containers/containers.conf`): Docker's without MKNOD, NET_RAW and
/// AUDIT_WRITE. (Without that file, the compiled-in list is Docker's fourteen.)
pub const PODMAN_DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// CRI-O's default capabilities (`internal/config/capabilities`
/// `DefaultCapabilities`, v1.36.3; crio.conf `default_capabilities`).
pub const CRIO_DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_KILL",
];

/// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` -> `CAP_NET_ADMIN` (as the engines
/// normalise Kubernetes' spelling).
pub fn canonical(name: &str) -> String {
    let up = name.trim().to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// `default` with a container's changes applied as containerd's CRI does
/// (`pkg/cri/opts/spec_linux.go` `WithCapabilities`, v1.6.20) and CRI-O likewise: `ALL`
/// in `add` grants every capability in [`NAMES`], then `ALL` in `drop` empties the set,
/// then each named capability is added, then each named one dropped (so `add: [ALL],
/// drop: [CHOWN]` is everything but CHOWN).
pub fn apply(default: &[&str], add: &[String], drop: &[String]) -> Vec<String> {
    let all = |l: &[String]| l.iter().any(|c| c.eq_ignore_ascii_case("ALL"));
    let mut set: std::collections::BTreeSet<String> =
        default.iter().map(|c| c.to_string()).collect();
    if all(add) {
        set.extend(NAMES.iter().map(|c| c.to_string()));
    }
    if all(drop) {
        set.clear();
    }
    for a in add.iter().filter(|c| !c.eq_ignore_ascii_case("ALL")) {
        set.insert(canonical(a));
    }
    for d in drop.iter().filter(|c| !c.eq_ignore_ascii_case("ALL")) {
        set.remove(&canonical(d));
    }
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_name_their_bits() {
        // Podman 4.3's container on this machine: CapBnd 00000000800405fb.
        let mut got = from_mask(0x8004_05fb);
        got.sort();
        let mut want: Vec<String> = PODMAN_DEFAULT.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
        // Docker's: a80425fb.
        let mut got = from_mask(0xa804_25fb);
        got.sort();
        let mut want: Vec<String> = DOCKER_DEFAULT.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(from_mask(1 << 41), vec!["CAP_41".to_string()]);
    }

    #[test]
    fn changes_drop_then_add() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            apply(CRIO_DEFAULT, &s(&["net_admin"]), &s(&["ALL"])),
            s(&["CAP_NET_ADMIN"])
        );
        let all = apply(&[], &s(&["ALL"]), &[]);
        assert_eq!(all.len(), NAMES.len());
        let fewer = apply(DOCKER_DEFAULT, &[], &s(&["CAP_KILL", "MKNOD"]));
        assert_eq!(fewer.len(), DOCKER_DEFAULT.len() - 2);
        // containerd's own example: everything but CHOWN.
        let most = apply(&[], &s(&["ALL"]), &s(&["CHOWN"]));
        assert_eq!(most.len(), NAMES.len() - 1);
        assert!(!most.contains(&"CAP_CHOWN".to_string()));
    }
}
