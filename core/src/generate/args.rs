//! Argument conditions for generated profiles (`--args observed`): for the few syscalls
//! where one argument decides whether a call is harmless or an escape hatch, allow only
//! the values the traces show, when they are few.
//!
//! | syscall       | argument          | condition                                    |
//! |---------------|-------------------|----------------------------------------------|
//! | `clone`       | flags             | no namespace flag (`CLONE_NEW*`), as moby's default profile: `(flags & 0x7e020000) == 0` |
//! | `unshare`     | flags             | each observed value                          |
//! | `socket`      | domain (family)   | each observed value                          |
//! | `personality` | persona           | each observed value                          |
//! | `prctl`       | option            | each observed value                          |
//! | `ioctl`       | request           | each observed value                          |
//!
//! Every condition is one `SCMP_CMP_EQ` (or the one `MASKED_EQ`) in a rule of its own,
//! so no rule repeats an index and no two rules share conditions with different actions:
//! libseccomp accepts them whatever runc or crun does with repeats. No condition is
//! written (the name is allowed whatever its arguments, with a note) when an event does
//! not know the argument (audit records, strace's undecodable values), when there are
//! more than [`MAX_VALUES`] values, or, for `clone`, when the program itself creates
//! namespaces. `clone3` passes its flags in memory, which no filter can read: it stays
//! unconditioned.

use std::collections::BTreeSet;

use crate::arch::Arch;
use crate::event::Event;
use crate::profile::{ArgCond, CmpOp};

/// Whether generated rules carry argument conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArgMode {
    /// Names only.
    #[default]
    None,
    /// Conditions from the recorded values, where [`conditions`] can write them.
    Observed,
}

/// More distinct values than this and the syscall is allowed whatever the argument.
pub const MAX_VALUES: usize = 16;

/// `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
/// CLONE_NEWPID | CLONE_NEWNET`: the mask moby's default profile tests.
pub const CLONE_NAMESPACES: u64 = 0x7e02_0000;

#[derive(Clone, Copy)]
enum Kind {
    NoNamespaces,
    Values,
}

/// The syscalls conditioned, the argument (by architecture) and how.
fn rule_for(name: &str) -> Option<(Kind, &'static str)> {
    Some(match name {
        "clone" => (Kind::NoNamespaces, "flags"),
        "unshare" => (Kind::Values, "flags"),
        "socket" => (Kind::Values, "domain"),
        "personality" => (Kind::Values, "persona"),
        "prctl" => (Kind::Values, "option"),
        "ioctl" => (Kind::Values, "request"),
        _ => return None,
    })
}

fn index_for(name: &str, arch: Arch) -> u32 {
    match (name, arch) {
        // s390's clone takes the stack first, then the flags.
        ("clone", Arch::S390 | Arch::S390x) => 1,
        ("ioctl", _) => 1,
        _ => 0,
    }
}

/// One generated condition and what it says, for the rule's comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    pub cond: ArgCond,
    pub why: &'static str,
}

/// The conditions for `name` from its events, or `None` when it is allowed whatever
/// its arguments (a note in `notes` says why, when conditions were possible).
pub fn conditions(
    name: &str,
    events: &[&Event],
    notes: &mut Vec<String>,
) -> Option<Vec<Condition>> {
    let (kind, what) = rule_for(name)?;
    let mut index = None;
    let mut values = BTreeSet::new();
    for e in events {
        let i = index_for(name, e.sys.arch);
        if index.is_some_and(|j| j != i) {
            notes.push(format!(
                "{name}: its {what} is a different argument on the traced architectures; \
                 allowed whatever its arguments"
            ));
            return None;
        }
        index = Some(i);
        match e.args[i as usize] {
            Some(v) => values.insert(v),
            None => {
                notes.push(format!(
                    "{name}: line {} does not record its {what} (args[{i}]); allowed whatever \
                     its arguments",
                    e.line
                ));
                return None;
            }
        };
    }
    let index = index?;
    match kind {
        Kind::NoNamespaces => {
            if values.iter().any(|v| v & CLONE_NAMESPACES != 0) {
                notes.push(format!(
                    "{name}: the program creates namespaces itself; allowed with any flags"
                ));
                return None;
            }
            Some(vec![Condition {
                cond: ArgCond {
                    index,
                    value: CLONE_NAMESPACES,
                    value_two: 0,
                    op: CmpOp::MaskedEq,
                },
                why: "no new namespaces (no CLONE_NEW* flag)",
            }])
        }
        Kind::Values => {
            if values.len() > MAX_VALUES {
                notes.push(format!(
                    "{name}: {} distinct values of its {what}, more than {MAX_VALUES}; allowed \
                     whatever its arguments",
                    values.len()
                ));
                return None;
            }
            Some(
                values
                    .into_iter()
                    .map(|v| Condition {
                        cond: ArgCond {
                            index,
                            value: v,
                            value_two: 0,
                            op: CmpOp::Eq,
                        },
                        why: match name {
                            "socket" => "only the address families the program used",
                            "personality" => "only the personas the program set",
                            "prctl" => "only the options the program used",
                            "ioctl" => "only the requests the program made",
                            _ => "only the flags the program used",
                        },
                    })
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls;

    fn ev(name: &str, args: [Option<u64>; 6]) -> Event {
        let sys = syscalls::number_of(Arch::X86_64, name).unwrap();
        Event {
            args,
            ..Event::new(sys, [0; 6])
        }
    }

    #[test]
    fn few_values_become_one_rule_each_and_many_none() {
        let evs: Vec<Event> = [2u64, 10, 2, 1]
            .iter()
            .map(|f| ev("socket", [Some(*f), Some(1), Some(0), None, None, None]))
            .collect();
        let refs: Vec<&Event> = evs.iter().collect();
        let mut notes = Vec::new();
        let conds = conditions("socket", &refs, &mut notes).unwrap();
        let values: Vec<u64> = conds.iter().map(|c| c.cond.value).collect();
        assert_eq!(values, [1, 2, 10]);
        assert!(conds
            .iter()
            .all(|c| c.cond.index == 0 && c.cond.op == CmpOp::Eq));

        let many: Vec<Event> = (0..=MAX_VALUES as u64)
            .map(|r| ev("ioctl", [Some(1), Some(0x5400 + r), None, None, None, None]))
            .collect();
        let refs: Vec<&Event> = many.iter().collect();
        assert!(conditions("ioctl", &refs, &mut notes).is_none());
        assert!(notes.last().unwrap().contains("more than 16"));
    }

    #[test]
    fn unknown_arguments_and_namespaces_leave_the_name_unconditioned() {
        let mut notes = Vec::new();
        let unknown = [ev("prctl", [None; 6])];
        let refs: Vec<&Event> = unknown.iter().collect();
        assert!(conditions("prctl", &refs, &mut notes).is_none());
        assert!(notes[0].contains("does not record"));

        let threads = [ev("clone", [Some(0x3d0f00), None, None, None, None, None])];
        let refs: Vec<&Event> = threads.iter().collect();
        let c = conditions("clone", &refs, &mut notes).unwrap();
        assert_eq!(c[0].cond.op, CmpOp::MaskedEq);
        assert_eq!(
            (c[0].cond.value, c[0].cond.value_two),
            (CLONE_NAMESPACES, 0)
        );

        let userns = [ev(
            "clone",
            [Some(0x1000_0011), None, None, None, None, None],
        )];
        let refs: Vec<&Event> = userns.iter().collect();
        assert!(conditions("clone", &refs, &mut notes).is_none());
        assert!(conditions("read", &refs, &mut notes).is_none());
    }
}
