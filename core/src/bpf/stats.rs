//! Figures about a compiled filter: its length, how many instructions it executes per
//! syscall, and how many syscalls the kernel's action cache can decide without it.

use super::{cache, run, ValidProgram};
use crate::arch::Arch;
use crate::event::SeccompData;
use crate::syscalls;

/// Executed-instruction figures over a set of syscalls.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Executed {
    pub min: u32,
    pub mean: f64,
    pub max: u32,
    pub samples: usize,
}

impl Executed {
    pub fn from_counts(counts: impl IntoIterator<Item = (u32, f64)>) -> Executed {
        let mut e = Executed {
            min: u32::MAX,
            ..Executed::default()
        };
        let (mut sum, mut weight) = (0.0, 0.0);
        for (n, w) in counts {
            e.min = e.min.min(n);
            e.max = e.max.max(n);
            sum += f64::from(n) * w;
            weight += w;
            e.samples += 1;
        }
        if e.samples == 0 {
            e.min = 0;
        } else {
            e.mean = sum / weight;
        }
        e
    }
}

/// Per-architecture figures.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ArchStats {
    pub arch: Arch,
    /// Over every syscall in the arch's table, arguments all zero.
    pub executed: Executed,
    /// Syscalls the kernel's action cache allows without running the filter.
    pub cacheable: usize,
    /// Syscalls the filter allows whatever their arguments (these should all be cacheable).
    pub allowed_argument_free: usize,
    /// Per syscall: (number, name, executed, cacheable) — the playground charts it.
    pub per_syscall: Vec<(u32, &'static str, u32, bool)>,
}

/// Figures for a whole filter.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stats {
    pub instructions: usize,
    pub arches: Vec<ArchStats>,
}

/// Measures `prog` on each of `arches` (the ABIs the filter covers).
/// `argument_free(arch, nr)` says whether the policy decides that syscall without
/// looking at arguments, and `allowed` whether that decision is ALLOW.
pub fn measure(
    prog: &ValidProgram,
    arches: &[Arch],
    argument_free_allow: &dyn Fn(Arch, u32) -> bool,
) -> Stats {
    let arches = arches
        .iter()
        .map(|&arch| {
            let mut per_syscall = Vec::new();
            for (sys, name) in syscalls::all(arch) {
                let data = SeccompData {
                    nr: sys.nr,
                    arch: arch.audit_arch(),
                    ..SeccompData::default()
                };
                let executed = run(prog, &data).executed;
                let cached = cache::has_cache(arch)
                    && cache::is_const_allow(prog.program(), arch.audit_arch(), sys.nr);
                per_syscall.push((sys.nr, name, executed, cached));
            }
            ArchStats {
                arch,
                executed: Executed::from_counts(per_syscall.iter().map(|s| (s.2, 1.0))),
                cacheable: per_syscall.iter().filter(|s| s.3).count(),
                allowed_argument_free: per_syscall
                    .iter()
                    .filter(|s| argument_free_allow(arch, s.0))
                    .count(),
                per_syscall,
            }
        })
        .collect();
    Stats {
        instructions: prog.len(),
        arches,
    }
}
