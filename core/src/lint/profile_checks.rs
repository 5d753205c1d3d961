//! The profile checks (SC1xx): over the format-faithful [`Profile`] (every rule where
//! it is written) and the target it is resolved for.

use super::{Finding, Place};
use crate::action::ActionKind;
use crate::arch::Arch;
use crate::libseccomp::Libseccomp;
use crate::policy::Target;
use crate::profile::{Location, Profile, SyscallRule};
use crate::runtime::Release;
use crate::syscalls;

/// Allowed unconditionally, each is an escape or attack surface (what moby's default
/// profile gates behind a capability or denies).
const DANGEROUS: &[(&str, &str)] = &[
    ("ptrace", "reads and writes other processes' memory"),
    ("bpf", "loads programs into the kernel"),
    ("userfaultfd", "a classic aid to kernel race exploits"),
    ("keyctl", "the kernel keyring is not namespaced"),
    ("add_key", "the kernel keyring is not namespaced"),
    ("request_key", "the kernel keyring is not namespaced"),
    (
        "unshare",
        "new namespaces (a user namespace gives capabilities in it)",
    ),
    ("setns", "joins other namespaces"),
    ("clone", "with CLONE_NEW* flags, new namespaces"),
    ("mount", "mounts file systems"),
    ("umount2", "unmounts file systems"),
    ("pivot_root", "changes the root file system"),
    ("kexec_load", "replaces the running kernel"),
    ("kexec_file_load", "replaces the running kernel"),
    ("init_module", "loads kernel modules"),
    ("finit_module", "loads kernel modules"),
    ("delete_module", "unloads kernel modules"),
    (
        "open_by_handle_at",
        "opens files outside the container's mounts (the shocker exploit)",
    ),
    (
        "perf_event_open",
        "a large kernel attack surface and a side channel",
    ),
    ("process_vm_readv", "reads other processes' memory"),
    ("process_vm_writev", "writes other processes' memory"),
    ("personality", "some personas disable ASLR or map page zero"),
    ("reboot", "reboots or halts the host"),
    ("swapon", "changes the host's swap"),
    ("swapoff", "changes the host's swap"),
    ("iopl", "raw port I/O"),
    ("ioperm", "raw port I/O"),
    ("acct", "switches process accounting"),
];

const IO_URING: &[&str] = &["io_uring_setup", "io_uring_enter", "io_uring_register"];

/// The socket-family names libseccomp also applies to i386's `socketcall`, and the
/// System V IPC names it applies to `ipc`.
const MULTIPLEXED: &[&str] = &[
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "recvmmsg",
    "sendmmsg",
    "semop",
    "semget",
    "semctl",
    "semtimedop",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmat",
    "shmdt",
    "shmget",
    "shmctl",
];

fn at(profile: &Profile, text: &str, pointer: String) -> Place {
    Place::Profile(Location::find(&profile.source, text, &pointer))
}

fn name_place(p: &Profile, text: &str, r: &SyscallRule, name: &str) -> Place {
    let i = r.names.iter().position(|n| n == name).unwrap_or(0);
    at(p, text, format!("{}/names/{i}", r.pointer))
}

fn permits(k: ActionKind) -> bool {
    matches!(k, ActionKind::Allow | ActionKind::Log)
}

/// Unconditional in every sense: no argument conditions, no capability gate.
fn unconditional(r: &SyscallRule) -> bool {
    r.args.is_empty() && r.includes.caps.is_empty()
}

/// The architectures the profile covers on the target: `architectures`, or the
/// `archMap` entry of the native arch.
fn arches(p: &Profile, target: &Target) -> Vec<Arch> {
    let mut a = p.architectures.clone();
    for e in &p.arch_map {
        if e.arch == target.arch {
            a.push(e.arch);
            a.extend(&e.sub_arches);
        }
    }
    a
}

/// Every SC1xx finding for `p` (read from `text`), resolved for `target`.
pub fn profile(p: &Profile, text: &str, target: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    if p.no_filter {
        return out;
    }
    let covered = arches(p, target);
    let has_32 = covered.iter().any(|a| !a.is_64bit());
    let has_i386 = covered.contains(&Arch::X86);
    let oldest = Libseccomp::release(Release::new(2, 5, 0)).ok();
    let default_data = p.default_errno_ret;

    // SC108 on the default action.
    action_needs(p, text, p.default_action, "/defaultAction".into(), &mut out);

    for r in &p.syscalls {
        let allows = permits(r.action);
        for name in &r.names {
            let place = || name_place(p, text, r, name);
            if allows && unconditional(r) {
                if let Some((_, what)) = DANGEROUS.iter().find(|(n, _)| n == name) {
                    out.push(Finding::new(
                        "SC101",
                        place(),
                        format!("{name} is allowed unconditionally: it {what}"),
                        format!(
                            "remove {name} from this rule, or condition it (a capability in includes.caps, or argument conditions)"
                        ),
                    ));
                }
                if IO_URING.contains(&name.as_str()) {
                    out.push(Finding::new(
                        "SC102",
                        place(),
                        format!("{name} is allowed"),
                        "deny io_uring_setup, io_uring_enter and io_uring_register (moby's default does since 25.0)",
                    ));
                }
            }
            if !syscalls::known_anywhere(name) {
                out.push(Finding::new(
                    "SC104",
                    place(),
                    format!("{name:?} is no syscall syscage knows on any architecture (a typo?)"),
                    "correct the name; runc and crun skip names libseccomp cannot resolve",
                ));
            } else if !target.libseccomp.knows(name) {
                out.push(Finding::new(
                    "SC104",
                    place(),
                    format!("{} does not know {name}: the runtime skips it", target.libseccomp),
                    format!("expect the default action for {name} on hosts with this libseccomp, or require a newer one"),
                ));
            } else if oldest.as_ref().is_some_and(|o| !o.knows(name)) {
                out.push(Finding::new(
                    "SC111",
                    place(),
                    format!("libseccomp 2.5.0 does not know {name}: on hosts with an older libseccomp the runtime skips this name"),
                    "check which libseccomp the nodes' runtimes link",
                ));
            }
            if has_i386 && MULTIPLEXED.contains(&name.as_str()) && !r.args.is_empty() && allows {
                out.push(Finding::new(
                    "SC106",
                    place(),
                    format!(
                        "{name} has argument conditions, but the profile covers i386, where libseccomp also allows socketcall/ipc for {name} without them"
                    ),
                    "drop SCMP_ARCH_X86 if no i386 program runs, or deny socketcall and ipc",
                ));
            }
        }
        let ptr = r.pointer.clone();
        // SC103: a rule that says what the default says.
        let same_data = match r.action {
            ActionKind::Errno | ActionKind::Trace => r.errno_ret == default_data,
            _ => true,
        };
        if r.action == p.default_action
            && same_data
            && r.includes.is_empty()
            && r.excludes.is_empty()
        {
            out.push(Finding::new(
                "SC103",
                at(p, text, format!("{ptr}/action")),
                format!(
                    "the rule's action {} is the default action",
                    r.action.oci_name()
                ),
                "remove the rule, or give it the action it was meant to have",
            ));
        }
        for (i, a) in r.args.iter().enumerate() {
            if has_32 && (a.value > u64::from(u32::MAX) || a.value_two > u64::from(u32::MAX)) {
                out.push(Finding::new(
                    "SC107",
                    at(p, text, format!("{ptr}/args/{i}")),
                    format!("{a} uses more than 32 bits, and the profile covers a 32-bit architecture"),
                    "write the condition for the low word, or keep the rule off 32-bit architectures",
                ));
            }
        }
        if r.errno_ret.is_some() && !matches!(r.action, ActionKind::Errno | ActionKind::Trace) {
            out.push(Finding::new(
                "SC110",
                at(p, text, format!("{ptr}/errnoRet")),
                format!(
                    "errnoRet on {}: crun refuses the profile, runc ignores the field",
                    r.action.oci_name()
                ),
                "remove errnoRet, or make the action SCMP_ACT_ERRNO",
            ));
        }
        action_needs(p, text, r.action, format!("{ptr}/action"), &mut out);
    }
    if !p.flags.is_empty() {
        out.push(Finding::new(
            "SC110",
            at(p, text, "/flags".into()),
            "flags: runc before 1.2 refuses a profile that sets them; crun applies them".into(),
            "drop flags where runc 1.1 runs, or require runc 1.2",
        ));
    }

    // SC105: clone conditioned by flags while clone3 goes through.
    let clone_conditioned = p
        .syscalls
        .iter()
        .any(|r| permits(r.action) && r.names.iter().any(|n| n == "clone") && !r.args.is_empty());
    let clone_free = p
        .syscalls
        .iter()
        .any(|r| permits(r.action) && r.names.iter().any(|n| n == "clone") && unconditional(r));
    if clone_conditioned && !clone_free {
        for r in &p.syscalls {
            if permits(r.action) && unconditional(r) && r.names.iter().any(|n| n == "clone3") {
                out.push(Finding::new(
                    "SC105",
                    name_place(p, text, r, "clone3"),
                    "clone3 is allowed while clone is allowed only for some flags".into(),
                    "answer clone3 with SCMP_ACT_ERRNO and errnoRet 38 (ENOSYS), as moby does",
                ));
            }
        }
    }
    // SC109: conditional rules a same-name unconditional rule overrides.
    for r in p.syscalls.iter().filter(|r| !r.args.is_empty()) {
        for name in &r.names {
            let over = p.syscalls.iter().find(|u| {
                u.args.is_empty()
                    && u.includes.is_empty()
                    && u.excludes.is_empty()
                    && u.action != r.action
                    && u.names.contains(name)
            });
            if let Some(u) = over {
                out.push(Finding::new(
                    "SC109",
                    name_place(p, text, r, name),
                    format!(
                        "{name}'s conditions here never decide: {} allows or denies {name} whatever its arguments ({})",
                        u.pointer,
                        u.action.oci_name()
                    ),
                    format!("remove {name} from one of the two rules"),
                ));
            }
        }
    }
    out
}

fn action_needs(p: &Profile, text: &str, k: ActionKind, pointer: String, out: &mut Vec<Finding>) {
    let (message, fix) = match k {
        ActionKind::Trace => (
            "SCMP_ACT_TRACE: without a ptrace tracer that asked for seccomp stops, the call fails with ENOSYS",
            "use SCMP_ACT_ERRNO unless a tracer always runs the program",
        ),
        ActionKind::Notify => (
            "SCMP_ACT_NOTIFY: needs a listener (listenerPath, a runtime that passes the fd); without one the call fails with ENOSYS",
            "set listenerPath to a running agent, or use another action",
        ),
        ActionKind::Log => (
            "SCMP_ACT_LOG allows the call and logs it to the kernel's audit log, where someone must read it",
            "fine for complain-mode rollouts; make sure the audit log is collected",
        ),
        _ => return,
    };
    out.push(Finding::new(
        "SC108",
        at(p, text, pointer),
        message.into(),
        fix,
    ));
}
