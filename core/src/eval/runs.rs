//! Equality runs: the part of a rule tree that is looked up rather than walked.
//!
//! libseccomp lays the rules `args[k] == v1`, `args[k] == v2`, ... of one syscall out as
//! one level of sibling nodes, each falling through to the next when false. Walking
//! such a level costs one test per rule; runc's way of writing value lists (one rule per
//! value) makes levels thousands of nodes long. A *run* is a stretch of siblings that
//! test the same word, under the same mask, for equality with distinct values, and go
//! on to the next sibling when false. At most one node of a run can be true, so the run
//! is decided by one lookup of the word's value: the node it selects is walked as usual,
//! and every other node of the run would only have passed on to the next.
//!
//! This module finds the runs of a [`Policy`]'s trees; [`super::Evaluator`] uses them.
//! It does not change what any level means: a level without runs is walked as before,
//! and the unknown-argument search (`possible_matches`) walks every node.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::policy::{Branch, Decision, Node, Policy, WordOp};

/// A level shorter than this is walked: a lookup would not pay for itself.
const MIN_RUN: usize = 8;

/// One run: the siblings `start..end` of a level, by the value each one tests for.
pub(super) struct Run {
    pub start: usize,
    pub end: usize,
    /// Datum to the sibling's index in the level.
    pub at: HashMap<u32, usize>,
}

impl Run {
    /// The sibling of the run whose test `args` passes, if any.
    #[inline]
    pub fn pick(&self, level: &[Node], args: &[u64; 6]) -> Option<usize> {
        let first = &level[self.start];
        self.at.get(&(first.word(args) & first.mask)).copied()
    }
}

/// The runs of every long level of a policy, by the address of the level's first node
/// (levels are borrowed from the policy for as long as the runs are used).
#[derive(Default)]
pub(super) struct Runs {
    by_level: HashMap<usize, Vec<Run>>,
}

impl Runs {
    pub fn new(policy: &Policy) -> Runs {
        let mut runs = Runs::default();
        for part in &policy.arches {
            for s in &part.syscalls {
                if let Decision::Tree(level) = &s.decision {
                    runs.visit(level);
                }
            }
        }
        runs
    }

    /// The runs of `level`, in order; empty for a level walked node by node.
    #[inline]
    pub fn of(&self, level: &[Node]) -> &[Run] {
        if level.len() < MIN_RUN {
            return &[];
        }
        self.by_level
            .get(&(level.as_ptr() as usize))
            .map_or(&[], Vec::as_slice)
    }

    fn visit(&mut self, level: &[Node]) {
        for n in level {
            for b in [&n.on_true, &n.on_false] {
                if let Branch::Sub(sub) = b {
                    self.visit(sub);
                }
            }
        }
        if level.len() < MIN_RUN {
            return;
        }
        let found = find_runs(level);
        if !found.is_empty() {
            self.by_level.insert(level.as_ptr() as usize, found);
        }
    }
}

/// Whether `n` can be part of a run that `first` starts.
fn joins(first: &Node, n: &Node) -> bool {
    matches!(n.op, WordOp::Eq | WordOp::MaskedEq)
        && n.on_false == Branch::Next
        && (n.arg, n.hi, n.mask) == (first.arg, first.hi, first.mask)
}

/// The maximal runs of at least [`MIN_RUN`] nodes in `level`.
fn find_runs(level: &[Node]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < level.len() {
        let first = &level[i];
        if !joins(first, first) {
            i += 1;
            continue;
        }
        let mut at = HashMap::new();
        let mut end = i;
        // A repeated value ends the run: only the first node with a value may decide.
        while end < level.len() && joins(first, &level[end]) {
            match at.entry(level[end].datum) {
                Entry::Occupied(_) => break,
                Entry::Vacant(v) => v.insert(end),
            };
            end += 1;
        }
        if end - i >= MIN_RUN {
            out.push(Run { start: i, end, at });
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::arch::Arch;
    use crate::eval::{walk_level, Walked};
    use crate::policy::{resolve, Target};
    use crate::profile::{parse, KernelVersion, Runtime};

    /// One OCI rule on `read`: (action, conditions as (index, op, value, value two)).
    type RuleSpec = (u8, Vec<(u8, u8, u64, u64)>);

    fn profile(rules: &[RuleSpec]) -> String {
        let ops = [
            "SCMP_CMP_EQ",
            "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_GT",
            "SCMP_CMP_NE",
        ];
        let acts = ["SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_LOG"];
        let rules: Vec<String> = rules
            .iter()
            .map(|(a, conds)| {
                let args: Vec<String> = conds
                    .iter()
                    .map(|&(i, op, v, v2)| {
                        format!(
                            r#"{{"index": {i}, "op": "{}", "value": {v}, "valueTwo": {v2}}}"#,
                            ops[op as usize]
                        )
                    })
                    .collect();
                format!(
                    r#"{{"names": ["read"], "action": "{}", "args": [{}]}}"#,
                    acts[*a as usize],
                    args.join(",")
                )
            })
            .collect();
        format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{}]}}"#,
            rules.join(",")
        )
    }

    fn rule() -> impl Strategy<Value = RuleSpec> {
        // Mostly `args[0] == small value` (runs), sometimes anything else.
        let value =
            prop_oneof![3 => 0u64..24, 1 => any::<u64>(), 1 => (0u64..4).prop_map(|h| h << 32)];
        let cond = (
            prop_oneof![3 => Just(0u8), 1 => 0u8..3],
            prop_oneof![6 => Just(0u8), 1 => 1u8..4],
            value.clone(),
            value,
        );
        (0u8..3, prop::collection::vec(cond, 1..3))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Looking runs up gives what walking every node gives, for any arguments.
        #[test]
        fn lookup_equals_the_walk(
            rules in prop::collection::vec(rule(), 1..80),
            argsets in prop::collection::vec(prop::array::uniform6(prop_oneof![0u64..26, any::<u64>()]), 40),
        ) {
            let target = Target::new(Arch::X86_64, KernelVersion { major: 6, minor: 18 });
            let text = profile(&rules);
            let Ok(p) = parse("t.json", &text, Runtime::Runc) else { return Ok(()) };
            let Ok(policy) = resolve(&p, &target) else { return Ok(()) };
            let runs = Runs::new(&policy);
            let none = Runs::default();
            for s in policy.arches.iter().flat_map(|a| &a.syscalls) {
                let Decision::Tree(level) = &s.decision else { continue };
                for args in &argsets {
                    let fast = walk_level(level, args, &runs, true);
                    let slow = walk_level(level, args, &none, true);
                    let key = |w: Walked| match w {
                        Walked::Hit(a, o) => Some((a, o.clone())),
                        _ => None,
                    };
                    prop_assert_eq!(key(fast), key(slow));
                }
            }
        }
    }

    #[test]
    fn a_value_list_is_one_run() {
        let rules: Vec<RuleSpec> = (0..100).map(|v| (0, vec![(0, 0, v, 0)])).collect();
        let p = parse("t.json", &profile(&rules), Runtime::Runc).unwrap();
        let target = Target::new(
            Arch::X86_64,
            KernelVersion {
                major: 6,
                minor: 18,
            },
        );
        let policy = resolve(&p, &target).unwrap();
        let runs = Runs::new(&policy);
        let read = policy.arches[0]
            .syscalls
            .iter()
            .find(|s| s.name == "read")
            .unwrap();
        let Decision::Tree(level) = &read.decision else {
            panic!("a tree")
        };
        // The low word's level holds the 100 values (libseccomp tests the high word
        // first, one node for all of them).
        let lens: Vec<usize> = std::iter::once(level.as_slice())
            .chain(level.iter().filter_map(|n| match &n.on_true {
                Branch::Sub(s) => Some(s.as_slice()),
                _ => None,
            }))
            .flat_map(|l| runs.of(l).iter().map(|r| r.end - r.start))
            .collect();
        assert_eq!(lens, vec![100], "{level:?}");
    }
}
