//! Helpers shared by the cross-crate tests in `tests/tests/`: locating the shared
//! real-world profiles and building boundary events for a policy.

pub mod gen;

use std::path::PathBuf;

use syscage_core::event::SeccompData;
use syscage_core::policy::Policy;
use syscage_core::profile::CmpOp;
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

/// Interesting values for an argument compared against `datum` (with `mask` for
/// MASKED_EQ): the datum and its neighbours, both 32-bit halves flipped, and extremes.
pub fn boundary_values(op: CmpOp, mask: u64, datum: u64) -> Vec<u64> {
    let mut v = vec![
        0,
        1,
        u64::MAX,
        u32::MAX as u64,
        1 << 32,
        datum,
        datum.wrapping_add(1),
        datum.wrapping_sub(1),
        datum ^ (1 << 32),
        datum ^ 0xffff_ffff_0000_0000,
        datum & 0xffff_ffff,
    ];
    if op == CmpOp::MaskedEq {
        let hit = datum & mask;
        v.extend([
            hit,
            hit | !mask,
            hit ^ (mask & mask.wrapping_neg()),
            mask,
            !mask,
        ]);
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Every `seccomp_data` worth asking both policies about: for each architecture either
/// covers, every number in its table and past its end (plus the x32 bit and a few
/// numbers no table has), with boundary values on every argument any rule tests.
pub fn boundary_events(policies: &[&Policy]) -> Vec<SeccompData> {
    let mut out = Vec::new();
    let mut arches: Vec<_> = policies
        .iter()
        .flat_map(|p| p.arches.iter().map(|a| a.arch))
        .collect();
    arches.sort();
    arches.dedup();
    for arch in arches {
        let mut nrs: Vec<u32> = syscalls::all(arch).map(|(s, _)| s.nr).collect();
        let top = syscalls::max_nr(arch).unwrap_or(0);
        let base = top & 0x4000_0000;
        nrs.extend((top..top + 8).chain([base + 1023, base + 0xffff, base | 0x3fff_ffff]));
        for nr in nrs {
            let mut conds = Vec::new();
            for p in policies {
                if let Some(part) = p.arches.iter().find(|a| a.arch == arch) {
                    if let Some(s) = part.syscall(nr) {
                        conds.extend(s.rules.iter().flat_map(|r| r.conds.iter().copied()));
                    }
                }
            }
            let base_data = SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            };
            out.push(base_data);
            for c in &conds {
                for v in boundary_values(c.op, c.mask, c.datum) {
                    let mut d = base_data;
                    d.args[c.arg as usize] = v;
                    out.push(d);
                }
            }
        }
    }
    out
}

/// A cheaper event set for random policies: the generator's syscalls (and i386's
/// `socketcall`) on every architecture, numbers past the tables, and boundary values of
/// every condition, with `args` in the other positions.
pub fn sample_events(policies: &[&Policy], args: [u64; 6]) -> Vec<SeccompData> {
    use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
    let mut out = Vec::new();
    for arch in [Arch::X86_64, Arch::X86, Arch::X32, Arch::Aarch64, Arch::Arm] {
        for name in gen::NAMES.iter().chain(&["socketcall", "getpid"]) {
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
        for nr in [base + 500, base | 0x3fff_ffff, 0xffff_ffff] {
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
                for c in s.rules.iter().flat_map(|r| &r.conds) {
                    for v in boundary_values(c.op, c.mask, c.datum) {
                        let mut a = args;
                        a[c.arg as usize] = v;
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
