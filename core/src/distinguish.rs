//! The events that can tell policies apart, and the first one that does: for every
//! architecture the policies cover, every syscall number in its table and past it, the
//! boundaries of the whole 32-bit `nr` space, and for each the boundary values of every
//! argument word any rule tests (each datum, its neighbours, the masked-out bits set,
//! the extremes), high and low words combined.
//!
//! One argument varies at a time (the others are 0). For ordered tests (EQ, NE, GT,
//! GE, LT, LE) of single words, every node answers the same between consecutive
//! boundary values, so policies that agree on these events agree on every such event;
//! for masked tests and rules that combine arguments the events are a sample (the
//! masked-out bits set; the other arguments 0). This is what "verdict-equivalent" means
//! throughout syscage (builtins against upstream profiles, DC/OS agents' profiles). The
//! module does not evaluate raw BPF programs (their tests are not in the policy).

use crate::arch::Arch;
use crate::eval::Evaluator;
use crate::event::SeccompData;
use crate::policy::Policy;
use crate::syscalls;

/// Interesting values for each argument the syscall's decision trees test: every
/// combination of interesting high words and low words (each tested datum, its
/// neighbours, the masked-out bits set, and the extremes). Returns `(arg, values)`.
pub fn argument_values(policies: &[&Policy], arch: Arch, nr: u32) -> Vec<(u8, Vec<u64>)> {
    let mut his: [Vec<u32>; 6] = Default::default();
    let mut los: [Vec<u32>; 6] = Default::default();
    for p in policies {
        let Some(s) = p
            .arches
            .iter()
            .find(|a| a.arch == arch)
            .and_then(|a| a.syscall(nr))
        else {
            continue;
        };
        for n in s.nodes() {
            let words = if n.hi {
                &mut his[n.arg as usize]
            } else {
                &mut los[n.arg as usize]
            };
            words.extend([
                n.datum,
                n.datum.wrapping_add(1),
                n.datum.wrapping_sub(1),
                n.datum | !n.mask,
            ]);
        }
    }
    let mut out = Vec::new();
    for arg in 0..6 {
        if his[arg].is_empty() && los[arg].is_empty() {
            continue;
        }
        let mut h = std::mem::take(&mut his[arg]);
        let mut l = std::mem::take(&mut los[arg]);
        h.extend([0, u32::MAX, 1]);
        l.extend([0, u32::MAX, 1]);
        h.sort_unstable();
        h.dedup();
        l.sort_unstable();
        l.dedup();
        let mut values: Vec<u64> = h
            .iter()
            .flat_map(|&hi| l.iter().map(move |&lo| u64::from(hi) << 32 | u64::from(lo)))
            .collect();
        values.sort_unstable();
        values.dedup();
        out.push((arg as u8, values));
    }
    out
}

/// Numbers across the whole 32-bit `nr` space for `arch`: the quarters x86_64's `arch`
/// value splits into (bit 30 is x32's, and libseccomp's x86_64 check is `JGE
/// 0x40000000`), both ends of each, -1 and -2, and the ends of the architecture's table
/// (x32's own 512..547 range included).
pub fn whole_nr_space(arch: Arch) -> Vec<u32> {
    let top = syscalls::max_nr(arch).unwrap_or(0);
    let mut nrs = vec![
        0,
        0x3fff_ffff,
        0x4000_0000,
        0x4000_0001,
        0x7fff_ffff,
        0x8000_0000,
        0xbfff_ffff,
        0xc000_0000,
        0xffff_fffe,
        0xffff_ffff,
        top,
        top.wrapping_add(1),
    ];
    if arch == Arch::X32 {
        nrs.extend([
            0x4000_0000 | 511,
            0x4000_0000 | 512,
            0x4000_0000 | 547,
            0x4000_0000 | 548,
        ]);
    }
    nrs
}

/// The syscall numbers worth asking about on `arch`: every number in its table, the
/// next few past its end, and the whole `nr` space's boundaries ([`whole_nr_space`]);
/// sorted, each once.
pub fn numbers(arch: Arch) -> Vec<u32> {
    let mut nrs: Vec<u32> = syscalls::all(arch).map(|(s, _)| s.nr).collect();
    let top = syscalls::max_nr(arch).unwrap_or(0);
    let base = top & 0x4000_0000;
    nrs.extend((top..top + 8).chain([base + 1023, base + 0xffff, base | 0x3fff_ffff]));
    nrs.extend(whole_nr_space(arch));
    nrs.sort_unstable();
    nrs.dedup();
    nrs
}

/// Every `seccomp_data` worth asking policies about: for each architecture any covers,
/// every number in its table and past its end, the whole `nr` space's boundaries
/// ([`whole_nr_space`]), each with boundary values on every argument any of them tests
/// ([`argument_values`]).
pub fn boundary_events(policies: &[&Policy]) -> Vec<SeccompData> {
    let mut out = Vec::new();
    let mut arches: Vec<_> = policies
        .iter()
        .flat_map(|p| p.arches.iter().map(|a| a.arch))
        .collect();
    arches.sort();
    arches.dedup();
    for arch in arches {
        for nr in numbers(arch) {
            let base_data = SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            };
            out.push(base_data);
            for (arg, values) in argument_values(policies, arch, nr) {
                for v in values {
                    let mut d = base_data;
                    d.args[arg as usize] = v;
                    out.push(d);
                }
            }
        }
    }
    out
}

/// An event two policies answer differently, and the two answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub event: SeccompData,
    pub a: u32,
    pub b: u32,
}

/// The first boundary event `a` and `b` answer differently, if any. Events that bypass
/// seccomp (the kernel never asks a filter) are not compared.
pub fn first_difference(a: &Policy, b: &Policy) -> Option<Difference> {
    let (ea, eb) = (Evaluator::new(a), Evaluator::new(b));
    boundary_events(&[a, b]).into_iter().find_map(|d| {
        let (ra, oa) = ea.decide(&d);
        let (rb, ob) = eb.decide(&d);
        let bypass = *oa == crate::policy::Origin::Bypass || *ob == crate::policy::Origin::Bypass;
        (ra != rb && !bypass).then_some(Difference {
            event: d,
            a: ra,
            b: rb,
        })
    })
}

/// `text` resolved for x86_64, kernel 6.18, runc, Docker's capabilities: the policies
/// tests compare.
#[cfg(test)]
pub(crate) fn test_policy(text: &str) -> Policy {
    use crate::policy::{resolve, Target};
    use crate::profile::{parse, KernelVersion, Runtime};
    let t = Target::new(
        Arch::X86_64,
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    resolve(&parse("p.json", text, Runtime::Runc).unwrap(), &t).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        test_policy(text)
    }

    #[test]
    fn a_boundary_tells_arguments_apart() {
        let gt = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_GT"}]}]}"#,
        );
        let ge = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 6, "op": "SCMP_CMP_GE"}]}]}"#,
        );
        let ge5 = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_GE"}]}]}"#,
        );
        // > 5 and >= 6 are the same filter; >= 5 differs exactly at 5.
        assert_eq!(first_difference(&gt, &ge), None);
        let d = first_difference(&gt, &ge5).unwrap();
        assert_eq!((d.event.nr, d.event.args[0]), (0, 5));
        assert_ne!(d.a, d.b);
    }
}
