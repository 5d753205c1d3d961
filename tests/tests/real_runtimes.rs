//! The real runc and crun as the oracle (issue "Exact against the real runc and crun").
//!
//! For each profile and runtime: a container is started from a busybox-static rootfs
//! under `syscage_enforcer::capture`, which reads the filter the runtime installs the
//! moment it installs it (many profiles kill the runtime's own init before `execve`).
//! Then, on boundary events over the whole 32-bit `nr` space:
//!
//! * syscage's reference verdicts, for the installed runtime's release, must equal the
//!   captured filter's verdicts in the kernel (and in syscage's interpreter);
//! * syscage's own compiled program must give the same verdicts in the kernel;
//! * the install must be the runtime's own way (runc: `prctl`, no flags; crun:
//!   `seccomp()` with `SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
//!
//! Needs root, `runc`, `crun` and `busybox` (Debian's busybox-static) on PATH; crun on a
//! hybrid-cgroup machine runs with `unshare -m`, `umount -l /sys/fs/cgroup/unified` and
//! `--cgroup-manager=disabled`. Outside CI it skips, saying why; under CI it must run.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use syscage_core::arch::Arch;
use syscage_core::policy::{resolve, ResolveError, Target};
use syscage_core::profile::{parse, KernelVersion, Runtime};
use syscage_enforcer::capture::{capture, CaptureError, Captured, Install};
use syscage_enforcer::differential::{compare, program_in_kernel, Engines};
use syscage_tests::containers;
use syscage_tests::{
    boundary_events, filter_agrees_with_reference, shared_profile, skip_unless_ci,
};

const SPEC_ALLOW: u64 = 4;
const NEW_LISTENER: u64 = 8;

/// Random profiles per run, besides the corner ones.
const RANDOM: usize = 24;

const K: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

/// Corner profiles, one per rule of SEMANTICS.md that runtimes decide (sections 1, 4, 5).
const CORNERS: &[(&str, &str)] = &[
    (
        "stub, no architectures",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "openat", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "stub, x86_64 listed",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "openat", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "stub, only i386 listed",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{"names": ["read", "openat", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "i386 socket calls under the stub",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [{"names": ["read", "write", "socket", "connect", "shmget"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "x32 in the filter",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"], "syscalls": [{"names": ["read", "write", "getpid"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "only read: no stub",
        r#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "allow-all is a filter",
        r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#,
    ),
    (
        "defaultErrnoRet 38 keeps the stub",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
    ),
    (
        "arguments",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]},
            {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 4294967297, "op": "SCMP_CMP_GT"}]},
            {"names": ["mmap"], "action": "SCMP_ACT_TRAP", "args": [{"index": 2, "value": 4, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#,
    ),
];

/// Why this machine cannot run the suite, if it cannot.
fn unavailable() -> Option<String> {
    if let Some(why) = containers::unavailable() {
        return Some(why);
    }
    syscage_enforcer::oracle::available().err()
}

/// A bundle with a busybox rootfs running `/bin/true` and `profile` as `linux.seccomp`.
fn bundle(dir: &Path, profile: &Value) -> PathBuf {
    containers::busybox_bundle(dir, profile, &["/bin/true"], true)
}

/// Starts a container under `runtime` and catches the filter it installs.
fn captured(
    runtime: Runtime,
    dir: &Path,
    bundle: &Path,
    id: &str,
) -> Result<Captured, CaptureError> {
    let state = dir.join("state");
    let argv = containers::run_argv(runtime, &state, bundle, id);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    let out = capture(cmd, Duration::from_secs(30));
    // Whatever happened, the runtime's state goes.
    containers::delete(runtime, &state, id);
    out
}

/// Compares one profile under one runtime, counting into `tally`.
fn check(runtime: Runtime, what: &str, text: &str, dir: &Path, tally: &mut Tally) {
    let mut target = Target::new(Arch::X86_64, K);
    target.runtime = runtime;
    target.release = Some(
        syscage_enforcer::host::installed_release(runtime).unwrap_or_else(|| {
            panic!("cannot read {runtime}'s release from `{runtime} --version`")
        }),
    );
    target.libseccomp = syscage_enforcer::host::libseccomp().expect("libseccomp.so.2 loads");
    let resolved = parse(what, text, runtime)
        .map_err(|e| e.to_string())
        .and_then(|p| {
            resolve(&p, &target)
                .map_err(|e| (e.to_string(), e))
                .map_err(|(s, e)| {
                    if matches!(e, ResolveError::LibseccompHang { .. }) {
                        "hang".to_string()
                    } else {
                        s
                    }
                })
        });
    if resolved.as_ref().err().is_some_and(|e| e == "hang") {
        tally.hangs += 1; // the runtime would spin in libseccomp: nothing to capture in time
        return;
    }
    let mut profile: Value = serde_json::from_str(text).unwrap();
    // A listener for NOTIFY profiles: crun connects to it before installing the filter
    // (runc after). Nobody accepts: the capture ends at the install.
    let _listener = match profile.get("listenerPath") {
        Some(_) => {
            let path = dir.join("listener.sock");
            profile["listenerPath"] = json!(path.to_str().unwrap());
            Some(std::os::unix::net::UnixListener::bind(&path).unwrap())
        }
        None => None,
    };
    let b = bundle(dir, &profile);
    let id = format!("syscage-{}-{}", runtime, std::process::id());
    let cap = captured(runtime, dir, &b, &id);
    let (policy, cap) = match (resolved, cap) {
        (Ok(p), Ok(c)) => (p, c),
        // Refused by both: before installing anything.
        (Err(_), Err(CaptureError::NoFilter { .. })) => {
            tally.refused += 1;
            return;
        }
        (Err(e), Ok(_)) => panic!(
            "{runtime}, {what}: syscage refuses ({e}), but {runtime} installed a filter:\n{text}"
        ),
        (Ok(_), Err(e)) => {
            panic!("{runtime}, {what}: syscage accepts, but {runtime} did not install: {e}\n{text}")
        }
        (Err(e), Err(c)) => {
            panic!("{runtime}, {what}: syscage refuses ({e}); {runtime}: {c}\n{text}")
        }
    };
    assert_eq!(cap.programs.len(), 1, "{what}: one filter");
    let real = &cap.programs[0];
    // How the runtime installs (SEMANTICS.md section 1; issue item 8): runc with prctl and
    // no flags, crun with seccomp() and SPEC_ALLOW. Both ask for a listener
    // (NEW_LISTENER, which needs seccomp()): runc when the profile uses NOTIFY at all,
    // even where no call can reach it; crun whenever `listenerPath` is set.
    let notify = profile["defaultAction"] == "SCMP_ACT_NOTIFY"
        || profile["syscalls"]
            .as_array()
            .is_some_and(|rules| rules.iter().any(|r| r["action"] == "SCMP_ACT_NOTIFY"));
    let listener = profile.get("listenerPath").is_some();
    let want = match runtime {
        Runtime::Runc if notify => Install::Seccomp {
            flags: NEW_LISTENER,
        },
        Runtime::Runc => Install::Prctl,
        Runtime::Crun => Install::Seccomp {
            flags: SPEC_ALLOW | if listener { NEW_LISTENER } else { 0 },
        },
    };
    assert_eq!(cap.install, want, "{what}: how {runtime} installs\n{text}");
    let events = boundary_events(&[&policy]);

    // syscage: reference == its compiled program, in the interpreter and the kernel.
    let ours = compare(
        &policy,
        &events,
        Engines {
            bpf: true,
            kernel: true,
        },
    )
    .expect("compare");
    if let Some(d) = ours.disagreement {
        panic!("{runtime}, {what}: syscage's engines disagree: {d:?}\n{text}");
    }
    // The real filter in the kernel == in the interpreter.
    let (_, d) = program_in_kernel(real, &events).expect("kernel");
    if let Some(d) = d {
        panic!("{runtime}, {what}: the captured filter: kernel and interpreter differ: {d:?}");
    }
    // The real filter == syscage's reference, except where libseccomp 2.5.4's code
    // generator tests a stale accumulator (syscalls syscage flags; SEMANTICS.md section
    // 2): those are counted, as in the libseccomp oracle test.
    let (_, tolerated) = filter_agrees_with_reference(&policy, real, &events).unwrap_or_else(|e| {
        panic!(
            "{} ({what}): {e}\n{text}",
            target.runtime_release().describe()
        )
    });
    tally.tolerated += tolerated;
    tally.events += events.len();
    tally.compared += 1;
}

/// What the suite saw.
#[derive(Default)]
struct Tally {
    /// Profile-runtime pairs compared event by event.
    compared: usize,
    /// Pairs both syscage and the runtime refused (nothing installed).
    refused: usize,
    /// Pairs skipped because libseccomp would spin (syscage predicts it).
    hangs: usize,
    events: usize,
    /// Disagreements on syscalls where libseccomp 2.5.4's codegen bug applies.
    tolerated: usize,
}

/// Random profiles from the generator the other differential tests use, the same ones
/// every run (a fixed seed).
fn random_profiles(n: usize) -> Vec<(String, String)> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = syscage_tests::gen::profile(syscage_tests::gen::Shape::default());
    (0..n)
        .map(|i| {
            let text = strategy.new_tree(&mut runner).expect("generates").current();
            (format!("random profile {i}"), text)
        })
        .collect()
}

#[test]
fn syscage_equals_the_real_runc_and_crun() {
    if let Some(why) = unavailable() {
        skip_unless_ci("the real-runtime suite", &why);
        return;
    }
    let mut profiles: Vec<(String, String)> = CORNERS
        .iter()
        .map(|(w, t)| (w.to_string(), t.to_string()))
        .collect();
    profiles.extend(random_profiles(RANDOM));
    match shared_profile("docker-default.json") {
        Some(path) => profiles.push((
            "Docker's default profile, as OCI".into(),
            as_oci(&std::fs::read_to_string(path).unwrap()),
        )),
        None => eprintln!(
            "note: ../shared/profiles/docker-default.json absent: Docker's profile not compared"
        ),
    }
    let tmp = tempdir();
    let mut tally = Tally::default();
    for runtime in [Runtime::Runc, Runtime::Crun] {
        for (i, (what, text)) in profiles.iter().enumerate() {
            let dir = tmp.join(format!("{runtime}-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            check(runtime, what, text, &dir, &mut tally);
        }
    }
    eprintln!(
        "real runtimes: {} profiles x 2 runtimes: {} compared on {} events, 0 disagreements \
         ({} on syscalls where libseccomp 2.5.4's codegen bug applies); {} refused by both, \
         {} skipped (libseccomp would hang)",
        profiles.len(),
        tally.compared,
        tally.events,
        tally.tolerated,
        tally.refused,
        tally.hangs
    );
    assert!(
        tally.events >= 20_000,
        "at least 20,000 events a run: {}",
        tally.events
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A moby profile as a runtime reads it when handed directly: `linux.seccomp` is OCI, so
/// `archMap`, `includes`, `excludes` and comments are not read; the architectures are
/// those of the x86_64 `archMap` entry. (What dockerd itself makes of the profile,
/// filtering by capabilities and kernel, is the engine's business: issue "engines".)
fn as_oci(docker: &str) -> String {
    let mut v: Value = serde_json::from_str(docker).unwrap();
    let obj = v.as_object_mut().unwrap();
    let arches: Vec<Value> = obj
        .remove("archMap")
        .and_then(|m| {
            m.as_array()?
                .iter()
                .find(|e| e["architecture"] == "SCMP_ARCH_X86_64")
                .map(|e| {
                    let mut a = vec![e["architecture"].clone()];
                    a.extend(
                        e["subArchitectures"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    );
                    a
                })
        })
        .unwrap_or_default();
    obj.insert("architectures".into(), Value::Array(arches));
    for rule in obj["syscalls"].as_array_mut().unwrap() {
        let r = rule.as_object_mut().unwrap();
        for k in ["includes", "excludes", "comment", "name"] {
            r.remove(k);
        }
    }
    serde_json::to_string(&v).unwrap()
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-real-runtimes-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `syscage enforce --runtime X` installs as X does (the same capture as above, on
/// syscage's own install; needs only ptrace).
#[test]
fn enforce_installs_as_the_runtime_does() {
    if let Err(why) = syscage_enforcer::oracle::available() {
        skip_unless_ci("enforce's install method", &why);
        return;
    }
    for (runtime, want) in [
        ("runc", Install::Prctl),
        ("crun", Install::Seccomp { flags: 4 }),
    ] {
        let mut cmd = Command::new(syscage_tests::syscage_bin());
        cmd.args([
            "enforce",
            "--runtime",
            runtime,
            "-p",
            "runtime/default",
            "--",
            "/bin/true",
        ]);
        let got = capture(cmd, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.install, want, "{runtime}");
        assert_eq!(got.programs.len(), 1);
    }
}
