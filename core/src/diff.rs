//! The verdict-level difference between two filters (each a stack of resolved
//! policies): for every architecture either covers and every syscall number
//! ([`distinguish::numbers`]), and within a syscall for every argument region the
//! filters' conditions create, where the two verdicts differ.
//!
//! Regions: for each argument any rule of either side tests, the boundary values
//! ([`distinguish::argument_values`]: each datum, its neighbours, the masked-out bits
//! set, the extremes, high and low words combined) cut the 64-bit range into intervals
//! `[v_k, v_{k+1})`; each interval is judged by its first value, the other arguments 0.
//! For `EQ`/`GT`/`GE` tests of single words this is exact: no test changes its answer
//! inside an interval. Masked tests (`MASKED_EQ`, a mask other than all ones) and rules
//! that combine two arguments are sampled, not proven: such a change says
//! `approximated`, and so does the whole diff. Consecutive syscall numbers with the
//! same change over their whole argument space are reported as one range.
//!
//! Either side may also be raw programs ([`Filters::Programs`]: a `.bpf` file, a live
//! process's filters), run in the interpreter; their own conditions are unknown, so
//! their regions are sampled at the other side's boundaries and marked approximated.
//! Reading the inputs and printing are the caller's.

use crate::action::describe_ret;
use crate::arch::Arch;
use crate::bpf::ValidProgram;
use crate::distinguish;
use crate::eval::{combine_stack, Evaluator, Verdict};
use crate::event::SeccompData;
use crate::identify;
use crate::policy::{Origin, Policy};
use crate::syscalls::SyscallNr;

/// Where in a syscall's argument space a change holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Whatever the arguments.
    All,
    /// `args[index]` in `lo..=hi`, the other arguments 0.
    Arg { index: u8, lo: u64, hi: u64 },
}

/// One side's verdict: the return value and the rule that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub ret: u32,
    /// `/syscalls/3 (clone)` of `p.json`.
    pub decided_by: String,
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub arch: Arch,
    /// The syscall numbers it holds for, inclusive (one number, or a run of numbers
    /// with the same change over all their arguments).
    pub nrs: (u32, u32),
    pub region: Region,
    pub a: Side,
    pub b: Side,
    /// The region was sampled, not proven (masked tests, combined arguments).
    pub approximated: bool,
}

impl Change {
    /// The change as JSON (what `syscage diff --format json` and the wasm `diff` method
    /// list): arch, numbers, syscall, region (`arg`, `lo`, `hi`, null for the whole
    /// syscall), both verdicts, `widens`, `approximated`, `describe`.
    pub fn to_json(&self) -> serde_json::Value {
        let (arg, lo, hi) = match self.region {
            Region::All => (None, None, None),
            Region::Arg { index, lo, hi } => (Some(index), Some(lo), Some(hi)),
        };
        let side = |s: &Side| serde_json::json!({"ret": s.ret, "verdict": describe_ret(s.ret), "decided_by": s.decided_by});
        serde_json::json!({
            "arch": self.arch.name(),
            "nr_first": self.nrs.0,
            "nr_last": self.nrs.1,
            "syscall": crate::syscalls::name_of(self.arch, self.nrs.0),
            "arg": arg, "lo": lo, "hi": hi,
            "a": side(&self.a),
            "b": side(&self.b),
            "widens": self.widens(),
            "approximated": self.approximated,
            "describe": self.describe(),
        })
    }

    /// Whether B lets through a call A stops (what `--subset` asks).
    pub fn widens(&self) -> bool {
        !permits(self.a.ret) && permits(self.b.ret)
    }

    /// An event inside the change (its first point).
    pub fn witness(&self) -> SeccompData {
        let mut d = SeccompData {
            nr: self.nrs.0,
            arch: self.arch.audit_arch(),
            instruction_pointer: 0,
            args: [0; 6],
        };
        if let Region::Arg { index, lo, .. } = self.region {
            d.args[index as usize] = lo;
        }
        d
    }

    /// For people: `x86_64 clone (56) args[0] in 0x10000000..=0x10000000:
    /// ERRNO(EPERM) by /defaultAction -> ALLOW by /syscalls/12 (clone)`.
    pub fn describe(&self) -> String {
        let sys = |nr| SyscallNr {
            arch: self.arch,
            nr,
        };
        let what = if self.nrs.0 == self.nrs.1 {
            format!("{} ({})", sys(self.nrs.0), self.nrs.0)
        } else {
            format!(
                "{} numbers {}..={} ({} .. {})",
                self.nrs.1 - self.nrs.0 + 1,
                self.nrs.0,
                self.nrs.1,
                sys(self.nrs.0),
                sys(self.nrs.1)
            )
        };
        let region = match self.region {
            Region::All => String::new(),
            Region::Arg { index, lo, hi } if lo == hi => format!(" args[{index}] == {lo:#x}"),
            Region::Arg { index, lo, hi } => format!(" args[{index}] in {lo:#x}..={hi:#x}"),
        };
        format!(
            "{} {what}{region}: {} by {} -> {} by {}{}",
            self.arch,
            describe_ret(self.a.ret),
            self.a.decided_by,
            describe_ret(self.b.ret),
            self.b.decided_by,
            if self.approximated {
                " (approximated: masked or combined conditions, sampled)"
            } else {
                ""
            }
        )
    }
}

fn permits(ret: u32) -> bool {
    crate::action::Action::from_ret(ret).is_some_and(crate::action::Action::permits)
}

/// Every change between A and B.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub changes: Vec<Change>,
    /// Some syscall's argument space was sampled rather than proven (whether or not it
    /// showed a change).
    pub approximated: bool,
    /// How many events were evaluated.
    pub events: usize,
}

/// One side of a diff: a stack of resolved policies, or of raw programs (a `.bpf` file,
/// the filters a live process runs), oldest first.
#[derive(Clone, Copy)]
pub enum Filters<'a> {
    Policies(&'a [Policy]),
    Programs {
        programs: &'a [ValidProgram],
        /// What they are, for the reports (`pid 1234`, `f.bpf`).
        source: &'a str,
    },
}

struct Stack<'p> {
    filters: Filters<'p>,
    evals: Vec<Evaluator<'p>>,
}

impl<'p> Stack<'p> {
    fn new(filters: Filters<'p>) -> Stack<'p> {
        Stack {
            filters,
            evals: match filters {
                Filters::Policies(p) => p.iter().map(Evaluator::new).collect(),
                Filters::Programs { .. } => Vec::new(),
            },
        }
    }

    fn policies(&self) -> &'p [Policy] {
        match self.filters {
            Filters::Policies(p) => p,
            Filters::Programs { .. } => &[],
        }
    }

    /// The stack's verdict, or `None` when the call never reaches seccomp.
    fn side(&self, d: &SeccompData) -> Option<Side> {
        if let Filters::Programs { programs, source } = self.filters {
            return Some(Side {
                ret: identify::stack_ret(programs, d)?,
                decided_by: source.to_string(),
            });
        }
        let verdicts: Vec<Verdict> = self.evals.iter().map(|e| e.verdict(d)).collect();
        if verdicts.iter().any(|v| v.origin == Origin::Bypass) {
            return None;
        }
        let v = combine_stack(verdicts)?;
        let source = v
            .filter
            .and_then(|i| self.policies().get(i))
            .map(|p| p.source.as_str())
            .unwrap_or("?");
        Some(Side {
            ret: v.ret,
            decided_by: format!("{} of {source}", v.origin.explain()),
        })
    }
}

/// Whether a syscall's rules use tests that intervals do not capture exactly.
fn sampled(policies: &[&Policy], arch: Arch, nr: u32) -> bool {
    policies.iter().any(|p| {
        p.arches
            .iter()
            .find(|a| a.arch == arch)
            .and_then(|a| a.syscall(nr))
            .is_some_and(|s| {
                let nodes = s.nodes();
                let mut args: Vec<u8> = nodes.iter().map(|n| n.arg).collect();
                args.sort_unstable();
                args.dedup();
                args.len() > 1 || nodes.iter().any(|n| n.mask != u32::MAX)
            })
    })
}

/// The changes from A to B (each a stack of policies, oldest first).
pub fn diff(a: &[Policy], b: &[Policy]) -> Diff {
    diff_filters(Filters::Policies(a), Filters::Policies(b))
}

/// The changes from A to B, either side policies or raw programs. A raw program's
/// own argument tests are not known: its regions are those of the other side's
/// conditions (sampled, so every change that involves a program says `approximated`),
/// and it is asked about the x86 family's architectures (this machine's) and those
/// the other side covers.
pub fn diff_filters(a: Filters<'_>, b: Filters<'_>) -> Diff {
    let (sa, sb) = (Stack::new(a), Stack::new(b));
    let raw = matches!(a, Filters::Programs { .. }) || matches!(b, Filters::Programs { .. });
    let all: Vec<&Policy> = sa.policies().iter().chain(sb.policies()).collect();
    let mut arches: Vec<Arch> = all
        .iter()
        .flat_map(|p| p.arches.iter().map(|x| x.arch))
        .collect();
    if raw {
        arches.extend([Arch::X86_64, Arch::X86, Arch::X32]);
    }
    arches.sort();
    arches.dedup();
    let mut out = Diff::default();
    for arch in arches {
        for nr in distinguish::numbers(arch) {
            let base = SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            };
            let values = distinguish::argument_values(&all, arch, nr);
            let approximated = raw || sampled(&all, arch, nr);
            out.approximated |= approximated;
            let mut changes: Vec<Change> = Vec::new();
            let mut all_same = true;
            let mut first: Option<(Side, Side)> = None;
            let judge = |d: &SeccompData, events: &mut usize| -> Option<(Side, Side)> {
                *events += 1;
                Some((sa.side(d)?, sb.side(d)?))
            };
            if values.is_empty() {
                let Some((x, y)) = judge(&base, &mut out.events) else {
                    continue;
                };
                if x.ret != y.ret {
                    first = Some((x, y));
                } else {
                    all_same = false;
                }
            }
            for (index, vals) in &values {
                let mut runs: Vec<(u64, u64, Side, Side)> = Vec::new();
                for (k, &lo) in vals.iter().enumerate() {
                    let hi = vals.get(k + 1).map_or(u64::MAX, |n| n - 1);
                    let mut d = base;
                    d.args[*index as usize] = lo;
                    let Some((x, y)) = judge(&d, &mut out.events) else {
                        continue;
                    };
                    match runs.last_mut() {
                        Some(r) if r.2 == x && r.3 == y => r.1 = hi,
                        _ => runs.push((lo, hi, x, y)),
                    }
                }
                for (lo, hi, x, y) in runs {
                    if x.ret == y.ret {
                        all_same = false;
                        continue;
                    }
                    match &first {
                        None => first = Some((x.clone(), y.clone())),
                        Some(f) if *f != (x.clone(), y.clone()) => all_same = false,
                        _ => {}
                    }
                    changes.push(Change {
                        arch,
                        nrs: (nr, nr),
                        region: Region::Arg {
                            index: *index,
                            lo,
                            hi,
                        },
                        a: x,
                        b: y,
                        approximated,
                    });
                }
            }
            // One verdict pair over everything: the whole syscall.
            if all_same {
                if let Some((x, y)) = first {
                    changes = vec![Change {
                        arch,
                        nrs: (nr, nr),
                        region: Region::All,
                        a: x,
                        b: y,
                        approximated,
                    }];
                }
            }
            for c in changes {
                out.approximated |= c.approximated;
                match out.changes.last_mut() {
                    Some(last)
                        if c.region == Region::All
                            && last.region == Region::All
                            && last.arch == c.arch
                            && last.nrs.1 + 1 == c.nrs.0
                            && last.a == c.a
                            && last.b == c.b =>
                    {
                        last.nrs.1 = c.nrs.1
                    }
                    _ => out.changes.push(c),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
