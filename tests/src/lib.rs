//! Helpers shared by the cross-crate tests in `tests/tests/`: locating the shared
//! real-world profiles and building boundary events for a policy.

#[cfg(target_os = "linux")]
pub mod containers;
pub mod gen;
pub mod wasm;

use std::path::PathBuf;

use syscage_core::event::SeccompData;
use syscage_core::policy::Policy;
use syscage_core::syscalls;

/// `../shared/profiles/NAME` next to the repository, if present. Tests that need it
/// print why they skip when it is absent.
pub fn shared_profile(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        root.join("shared/profiles").join(name),
        root.join("../shared/profiles").join(name),
    ];
    let found = candidates.into_iter().find(|p| p.is_file());
    if found.is_none() {
        eprintln!(
            "SKIP: ../shared/profiles/{name} is absent; the comparison against it did not run"
        );
    }
    found
}

/// Says why a test that needs a real component does not run here: a printed SKIP
/// outside CI, a failure under CI (`CI` set), where a skip would be a silent hole.
pub fn skip_unless_ci(what: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} must run in CI, but: {why}"
    );
    eprintln!("SKIP: {what} did not run here: {why}");
}

/// Whether the kernel oracle can run here. Prints why not, and fails under CI (`CI`
/// set), where a skipped kernel comparison would be a silent hole.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn kernel_oracle_usable() -> bool {
    match syscage_enforcer::oracle::available() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "the kernel oracle must run in CI, but: {why}"
            );
            eprintln!("SKIP: the kernel oracle cannot run here ({why}); the kernel comparison did not run");
            false
        }
    }
}

pub use syscage_core::distinguish::{argument_values, boundary_events, whole_nr_space};

/// A cheaper event set for random policies: the generator's syscalls (and i386's
/// `socketcall`) on every architecture, numbers past the tables, and boundary values of
/// every condition, with `args` in the other positions.
pub fn sample_events(policies: &[&Policy], args: [u64; 6]) -> Vec<SeccompData> {
    use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
    let mut out = Vec::new();
    for arch in [Arch::X86_64, Arch::X86, Arch::X32, Arch::Aarch64, Arch::Arm] {
        for name in gen::NAMES.iter().chain(gen::EXTRA_EVENT_NAMES) {
            if let Some(s) = syscalls::number_of(arch, name) {
                out.push(SeccompData {
                    nr: s.nr,
                    arch: arch.audit_arch(),
                    instruction_pointer: 0,
                    args,
                });
            }
        }
        let base = if arch == Arch::X32 {
            X32_SYSCALL_BIT
        } else {
            0
        };
        let mut nrs = vec![base + 500];
        nrs.extend(whole_nr_space(arch));
        for nr in nrs {
            out.push(SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args,
            });
        }
    }
    for policy in policies {
        for part in &policy.arches {
            for s in &part.syscalls {
                for (arg, values) in argument_values(policies, part.arch, s.nr) {
                    for v in values {
                        let mut a = args;
                        a[arg as usize] = v;
                        out.push(SeccompData {
                            nr: s.nr,
                            arch: part.arch.audit_arch(),
                            instruction_pointer: 0,
                            args: a,
                        });
                    }
                }
            }
        }
    }
    out
}

/// The `syscage` binary of this build (next to the test executable's `deps/`).
/// `cargo test --workspace` builds it before running tests.
pub fn syscage_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps");
    let bin = dir.join("syscage");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo test --workspace` (it builds the binary too)",
        bin.display()
    );
    bin
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A real filter (libseccomp's, a runtime's, an engine's) against syscage's reference
/// answer for `policy` on `events`: every event must agree, except on syscalls where
/// libseccomp 2.5.4's code generator may test a stale accumulator (SEMANTICS.md section
/// 2), which are counted. Returns `(events compared, tolerated)`, or the first
/// disagreement, described.
pub fn filter_agrees_with_reference(
    policy: &Policy,
    real: &syscage_core::bpf::Program,
    events: &[SeccompData],
) -> Result<(usize, usize), String> {
    use syscage_core::action::describe_ret;
    use syscage_core::arch::Arch;
    let valid = syscage_core::bpf::validate(real)
        .map_err(|e| format!("the real filter does not validate: {e}"))?;
    let reference = syscage_core::eval::Evaluator::new(policy);
    let mut tolerated = 0;
    for d in events {
        let (want, origin) = reference.decide(d);
        if *origin == syscage_core::policy::Origin::Bypass {
            continue;
        }
        let got = syscage_core::bpf::run(&valid, d).ret;
        if got == want {
            continue;
        }
        let flagged = Arch::from_audit(d.arch, d.nr)
            .and_then(|a| policy.arches.iter().find(|p| p.arch == a))
            .and_then(|p| p.syscall(d.nr))
            .is_some_and(|s| s.libseccomp_codegen_may_differ);
        if flagged {
            tolerated += 1;
            continue;
        }
        let name = Arch::from_audit(d.arch, d.nr)
            .and_then(|a| syscalls::name_of(a, d.nr))
            .unwrap_or("?");
        return Err(format!(
            "{name} {d:?}: the real filter says {}, syscage {} (by {origin})",
            describe_ret(got),
            describe_ret(want)
        ));
    }
    Ok((events.len(), tolerated))
}

/// [`filter_agrees_with_reference`] on [`boundary_events`] plus the whole `nr` space of
/// x86_64's companions the policy leaves out (they meet the bad-arch action); panics on
/// a disagreement, prefixed with `what`.
pub fn real_filter_equals_reference(
    what: &str,
    policy: &Policy,
    real: &syscage_core::bpf::Program,
) -> (usize, usize) {
    use syscage_core::arch::Arch;
    let mut events = boundary_events(&[policy]);
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        if policy.arches.iter().all(|a| a.arch != arch) {
            events.extend(whole_nr_space(arch).into_iter().map(|nr| SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            }));
        }
    }
    filter_agrees_with_reference(policy, real, &events).unwrap_or_else(|e| panic!("{what}: {e}"))
}
