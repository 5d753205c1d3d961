//! The raw-filter checks (SC2xx): the load order read from the instructions, and what
//! the filter does with probe calls of other ABIs, run in the kernel-exact
//! interpreter. Probes are for x86_64 hosts (x32 and i386 are its other ABIs).

use super::{Finding, Place};
use crate::action::Action;
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::{self, ValidProgram, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_W};
use crate::event::SeccompData;
use crate::syscalls;

const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;

/// The first probe call (audit arch `audit`, numbers `nrs`, arguments 0) the filter
/// lets through, if any.
fn first_let_through(
    p: &ValidProgram,
    audit: u32,
    nrs: impl Iterator<Item = u32>,
) -> Option<(u32, u32)> {
    nrs.map(|nr| {
        let d = SeccompData {
            nr,
            arch: audit,
            instruction_pointer: 0,
            args: [0; 6],
        };
        (nr, bpf::run(p, &d).ret)
    })
    .find(|(_, r)| Action::from_ret(*r).is_some_and(Action::permits))
}

/// Every SC2xx finding for the filter `p` from `source`, installed on `native`.
pub fn program(p: &ValidProgram, source: &str, native: Arch) -> Vec<Finding> {
    let mut out = Vec::new();
    let insns = p.program().insns();
    let load = |k: u32| insns.iter().position(|i| i.code == LD_ABS && i.k == k);
    let (arch_at, nr_at) = (load(4), load(0));
    let at = |index| Place::Insn {
        source: source.to_string(),
        index,
    };
    match (arch_at, nr_at) {
        (None, _) => out.push(Finding::new(
            "SC201",
            Place::Whole {
                source: source.to_string(),
            },
            "the filter never loads seccomp_data.arch (offset 4)".into(),
            "start with: ld [4]; jeq #AUDIT_ARCH_..., next, kill; then load the number",
        )),
        (Some(a), Some(n)) if n < a => out.push(Finding::new(
            "SC202",
            at(n),
            format!("the number (offset 0) is loaded at instruction {n}, the arch only at {a}"),
            "check the arch first, then load the number",
        )),
        _ => {}
    }
    for (index, i) in insns.iter().enumerate() {
        if i.code == LD_ABS && (i.k == 8 || i.k == 12) {
            out.push(Finding::new(
                "SC205",
                at(index),
                format!(
                    "instruction {index} loads the instruction pointer (offset {})",
                    i.k
                ),
                "decide by syscall number and arguments only",
            ));
        }
    }
    if native == Arch::X86_64 && arch_at.is_some() {
        let x86_64 = Arch::X86_64.audit_arch();
        let x32_nrs = syscalls::all(Arch::X32).map(|(s, _)| s.nr | X32_SYSCALL_BIT);
        if let Some((nr, ret)) = first_let_through(p, x86_64, x32_nrs) {
            out.push(Finding::new(
                "SC203",
                Place::Whole {
                    source: source.to_string(),
                },
                format!(
                    "the x32 call {:#x} ({}) gets {}",
                    nr,
                    syscalls::name_of(Arch::X32, nr).unwrap_or("?"),
                    crate::action::describe_ret(ret)
                ),
                "after the arch check: jge #0x40000000 to the kill (unless x32 programs are meant to run)",
            ));
        }
        let i386 = Arch::X86.audit_arch();
        let checks_i386 = insns
            .iter()
            .any(|i| i.code == BPF_JMP | BPF_JEQ | BPF_K && i.k == i386);
        let i386_nrs = syscalls::all(Arch::X86).map(|(s, _)| s.nr);
        if !checks_i386 {
            if let Some((nr, ret)) = first_let_through(p, i386, i386_nrs) {
                out.push(Finding::new(
                    "SC204",
                    Place::Whole {
                        source: source.to_string(),
                    },
                    format!(
                        "the i386 call {nr} ({}) gets {} though the filter never tests for AUDIT_ARCH_I386",
                        syscalls::name_of(Arch::X86, nr).unwrap_or("?"),
                        crate::action::describe_ret(ret)
                    ),
                    "kill every arch the filter does not check for",
                ));
            }
        }
    }
    out
}
