//! Complain mode as a program transform: the filter a profile compiles to, with every
//! return that would stop a call (anything but ALLOW and LOG: the kills, TRAP, ERRNO,
//! TRACE, NOTIFY, and values no action names) turned into `SECCOMP_RET_TRACE` with a
//! marker in its data, and every other instruction untouched. Under a tracer that
//! resumes each such stop, the program runs as if the profile allowed everything, and
//! the tracer sees exactly the calls the profile would have stopped, each decided by
//! the same compiled instructions the profile installs (the kernel runs them).
//!
//! This module only rewrites programs; running one under a tracer is
//! `syscage_enforcer::permissive`'s.

use super::{class, Insn, Program, BPF_K, BPF_RET};
use crate::action::{ret, Action};

/// The data a transformed program's RET_TRACE carries for a call the profile would stop.
pub const WOULD_DENY: u16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissiveError {
    #[error(
        "instruction {index} returns the accumulator (RET A): which calls it would stop is \
         not known before it runs, so it cannot be made permissive"
    )]
    ReturnsAccumulator { index: usize },
}

/// `program` with every stopping `RET K` replaced by `RET TRACE|WOULD_DENY`.
pub fn permissive(program: &Program) -> Result<Program, PermissiveError> {
    let mut insns: Vec<Insn> = Vec::with_capacity(program.len());
    for (index, i) in program.insns().iter().enumerate() {
        if class(i.code) != BPF_RET {
            insns.push(*i);
            continue;
        }
        if i.code != BPF_RET | BPF_K {
            return Err(PermissiveError::ReturnsAccumulator { index });
        }
        let goes_ahead = Action::from_ret(i.k).is_some_and(Action::permits);
        insns.push(if goes_ahead {
            *i
        } else {
            Insn::stmt(BPF_RET | BPF_K, ret::TRACE | u32::from(WOULD_DENY))
        });
    }
    Ok(Program::new(insns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::bpf::{compile::compile, interp, validate};
    use crate::distinguish::boundary_events;
    use crate::policy::{resolve, Target};
    use crate::profile::{parse, KernelVersion, Runtime};

    /// On every boundary event of Docker's default profile (and a profile with every
    /// action), the transformed program stops (RET_TRACE|1) exactly where the original
    /// does not let the call go ahead, and returns the original's value everywhere else.
    #[test]
    fn stops_exactly_where_the_profile_would() {
        let texts = [
            crate::builtin::lookup("docker/default", Runtime::Runc)
                .unwrap()
                .unwrap(),
            parse(
                "all.json",
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                    {"names":["read"],"action":"SCMP_ACT_ALLOW"},
                    {"names":["write"],"action":"SCMP_ACT_LOG"},
                    {"names":["ptrace"],"action":"SCMP_ACT_KILL_PROCESS"},
                    {"names":["mount"],"action":"SCMP_ACT_TRAP"},
                    {"names":["socket"],"action":"SCMP_ACT_TRACE","args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]}]}"#,
                Runtime::Runc,
            )
            .unwrap(),
        ];
        let target = Target::new(
            Arch::X86_64,
            KernelVersion {
                major: 6,
                minor: 18,
            },
        );
        for p in texts {
            let policy = resolve(&p, &target).unwrap();
            let original = validate(&compile(&policy).unwrap()).unwrap();
            let transformed = validate(&permissive(original.program()).unwrap()).unwrap();
            for d in boundary_events(&[&policy]) {
                let a = interp::run(&original, &d).ret;
                let b = interp::run(&transformed, &d).ret;
                if Action::from_ret(a).is_some_and(Action::permits) {
                    assert_eq!(a, b, "{} {d:?}", p.source);
                } else {
                    assert_eq!(b, ret::TRACE | 1, "{} {d:?}", p.source);
                }
            }
        }
    }

    #[test]
    fn ret_a_is_refused() {
        let p = Program::new(vec![Insn::stmt(BPF_RET | super::super::BPF_A, 0)]);
        assert_eq!(
            permissive(&p),
            Err(PermissiveError::ReturnsAccumulator { index: 0 })
        );
    }
}
