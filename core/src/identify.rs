//! Which profile a filter is: installed programs (a live process's stack, as the
//! kernel holds it, oldest first) against a resolved policy, compared on every event
//! that can tell the policy apart from anything else ([`distinguish::boundary_events`])
//! plus every number of the x86 family's architectures with zero arguments (so a
//! filter that opens an architecture the policy leaves to its bad-arch action is
//! caught). The programs run in syscage's kernel-exact interpreter and combine as the
//! kernel combines a stack.
//!
//! Equal on these events is what "verdict-equivalent" means throughout syscage; a
//! program's own argument tests that the policy does not have are sampled only where
//! the policy's boundaries fall. This module compares; reading a process's filters is
//! `syscage_enforcer::dump`'s.

use crate::action;
use crate::arch::Arch;
use crate::bpf::{self, ValidProgram};
use crate::distinguish;
use crate::eval::Evaluator;
use crate::event::SeccompData;
use crate::policy::{Origin, Policy};

/// An event the programs and the policy answer differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub event: SeccompData,
    pub installed: u32,
    pub policy: u32,
}

/// What a stack of programs returns: the lowest action wins, the newest on ties.
pub fn stack_ret(programs: &[ValidProgram], d: &SeccompData) -> Option<u32> {
    let mut best: Option<u32> = None;
    for p in programs {
        let r = bpf::run(p, d).ret;
        if best.is_none_or(|b| action::precedence(r) <= action::precedence(b)) {
            best = Some(r);
        }
    }
    best
}

/// The first event on which `programs` and `policy` differ, or `None`: equivalent.
pub fn first_mismatch(programs: &[ValidProgram], policy: &Policy) -> Option<Mismatch> {
    let eval = Evaluator::new(policy);
    let mut events = distinguish::boundary_events(&[policy]);
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        if policy.arches.iter().all(|a| a.arch != arch) {
            events.extend(
                distinguish::numbers(arch)
                    .into_iter()
                    .map(|nr| SeccompData {
                        nr,
                        arch: arch.audit_arch(),
                        instruction_pointer: 0,
                        args: [0; 6],
                    }),
            );
        }
    }
    events.into_iter().find_map(|d| {
        let (want, origin) = eval.decide(&d);
        if *origin == Origin::Bypass {
            return None;
        }
        let got = stack_ret(programs, &d)?;
        (got != want).then_some(Mismatch {
            event: d,
            installed: got,
            policy: want,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::compile::compile;
    use crate::policy::{resolve, Target};
    use crate::profile::{KernelVersion, Runtime};

    fn policy(name: &str, runtime: Runtime) -> Policy {
        let t = Target {
            runtime,
            ..Target::new(
                Arch::X86_64,
                KernelVersion {
                    major: 6,
                    minor: 18,
                },
            )
        };
        resolve(&crate::builtin::lookup(name, runtime).unwrap().unwrap(), &t).unwrap()
    }

    /// Each engine default, compiled, is identified as itself and not as the others
    /// under the runtime it was compiled for: runc's ENOSYS stub tells runc's filter
    /// from crun's, unless the default is ENOSYS anyway.
    #[test]
    fn compiled_defaults_are_told_apart() {
        let names = [
            "docker/default@20.10",
            "docker/default@29.7",
            "containerd/default@1.6",
            "podman/default@4.3",
            "cri-o/default@1.36",
        ];
        for runtime in [Runtime::Runc, Runtime::Crun] {
            for n in names {
                let p = policy(n, runtime);
                let prog = bpf::validate(&compile(&p).unwrap()).unwrap();
                for m in names {
                    for rt in [Runtime::Runc, Runtime::Crun] {
                        let q = policy(m, rt);
                        let same = first_mismatch(std::slice::from_ref(&prog), &q).is_none();
                        // A profile whose default is ERRNO(ENOSYS) (containers/common's)
                        // gets the same verdicts from runc's stub as without it.
                        let enosys_default = p.default == crate::action::Action::errno(38);
                        let expected = n == m && (rt == runtime || enosys_default);
                        assert_eq!(same, expected, "{n} {runtime} vs {m} {rt}");
                    }
                }
            }
        }
    }
}
