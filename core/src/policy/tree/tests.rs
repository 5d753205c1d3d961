//! The cases measured against libseccomp 2.5.4 (SEMANTICS.md, "Rule combination"):
//! rules in insertion order, the return code of each add, and the verdict for events.
//! `None` is "no rule matched" (the filter's default).

use super::*;
use CmpOp::*;

fn c(arg: u8, op: CmpOp, a: u64) -> ArgCmp {
    ArgCmp { arg, op, a, b: 0 }
}

fn me(arg: u8, mask: u64, datum: u64) -> ArgCmp {
    ArgCmp {
        arg,
        op: MaskedEq,
        a: mask,
        b: datum,
    }
}

fn act(e: u32) -> Act {
    Act {
        ret: e,
        rule: e as usize,
    }
}

/// Builds a tree; returns it and each add's result.
fn build(bits64: bool, rules: &[(u32, Vec<ArgCmp>)]) -> (Tree, Vec<Result<(), AddError>>) {
    let mut t = Tree::new(bits64);
    let rcs = rules
        .iter()
        .map(|(e, conds)| t.add(act(*e), conds))
        .collect();
    (t, rcs)
}

fn eval(t: &Tree, a0: u64, a1: u64) -> Option<u32> {
    t.eval(&[a0, a1, 0, 0, 0, 0]).map(|a| a.ret)
}

const OK: Result<(), AddError> = Ok(());

#[test]
fn a_higher_argument_index_is_tried_first() {
    for rules in [
        vec![(1, vec![c(0, Eq, 1)]), (2, vec![c(1, Eq, 2)])],
        vec![(2, vec![c(1, Eq, 2)]), (1, vec![c(0, Eq, 1)])],
    ] {
        let (t, rcs) = build(true, &rules);
        assert_eq!(rcs, vec![OK, OK]);
        assert_eq!(eval(&t, 1, 2), Some(2));
        assert_eq!(eval(&t, 1, 3), Some(1));
    }
    // g: arg 5 before arg 0.
    let (t, _) = build(true, &[(2, vec![c(0, Eq, 1)]), (1, vec![c(5, Eq, 1)])]);
    assert_eq!(t.eval(&[1, 0, 0, 0, 0, 1]).map(|a| a.ret), Some(1));
}

#[test]
fn lt_class_before_gt_class() {
    for rules in [
        vec![(1, vec![c(0, Gt, 5)]), (2, vec![c(0, Lt, 10)])],
        vec![(2, vec![c(0, Lt, 10)]), (1, vec![c(0, Gt, 5)])],
    ] {
        let (t, _) = build(true, &rules);
        assert_eq!(eval(&t, 7, 0), Some(2));
        assert_eq!(eval(&t, 3, 0), Some(2));
        assert_eq!(eval(&t, 11, 0), Some(1));
    }
    // b3: NE first; a false NE falls through.
    let (t, _) = build(
        true,
        &[
            (1, vec![c(0, Ge, 5)]),
            (2, vec![c(0, Le, 10)]),
            (3, vec![c(0, Ne, 7)]),
        ],
    );
    assert_eq!(
        [7, 6, 3, 11].map(|v| eval(&t, v, 0)),
        [Some(2), Some(3), Some(3), Some(3)]
    );
}

#[test]
fn prefixes_drop_or_conflict() {
    // c1: broad first, narrow silently dropped.
    let (t, rcs) = build(
        true,
        &[(1, vec![c(0, Eq, 1)]), (2, vec![c(0, Eq, 1), c(1, Eq, 2)])],
    );
    assert_eq!(rcs, vec![OK, OK]);
    assert_eq!(eval(&t, 1, 2), Some(1));
    // c2: narrow first, the broad rule conflicts.
    let (_, rcs) = build(
        true,
        &[(2, vec![c(0, Eq, 1), c(1, Eq, 2)]), (1, vec![c(0, Eq, 1)])],
    );
    assert_eq!(rcs, vec![OK, Err(Conflict)]);
    // c3/c4: no shared prefix: both accepted, the arg1 rule first.
    let (t, rcs) = build(
        true,
        &[(1, vec![c(1, Eq, 2)]), (2, vec![c(0, Eq, 1), c(1, Eq, 2)])],
    );
    assert_eq!((rcs, eval(&t, 1, 2)), (vec![OK, OK], Some(1)));
    let (t, rcs) = build(
        true,
        &[(2, vec![c(0, Eq, 1), c(1, Eq, 2)]), (1, vec![c(1, Eq, 2)])],
    );
    assert_eq!((rcs, eval(&t, 1, 2)), (vec![OK, OK], Some(1)));
    // c5: same action merges.
    let (t, rcs) = build(
        true,
        &[(1, vec![c(0, Eq, 1)]), (1, vec![c(0, Eq, 1), c(1, Eq, 2)])],
    );
    assert_eq!(
        (rcs, eval(&t, 1, 2), eval(&t, 1, 3)),
        (vec![OK, OK], Some(1), Some(1))
    );
}

#[test]
fn identical_conditions_with_another_action_conflict() {
    for op in [Eq, Gt, Ne, Lt] {
        let (t, rcs) = build(true, &[(1, vec![c(0, op, 1)]), (2, vec![c(0, op, 1)])]);
        assert_eq!(rcs, vec![OK, Err(Conflict)], "{op:?}");
        let _ = t;
    }
    // f: overlapping, same action: fine.
    let (t, rcs) = build(true, &[(1, vec![c(0, Gt, 5)]), (1, vec![c(0, Gt, 3)])]);
    assert_eq!(
        (rcs, eval(&t, 4, 0), eval(&t, 6, 0)),
        (vec![OK, OK], Some(1), Some(1))
    );
}

#[test]
fn masked_eq_against_eq_goes_by_insertion() {
    let (t, _) = build(
        true,
        &[(1, vec![me(0, 0xff, 1)]), (2, vec![c(0, Eq, 0x101)])],
    );
    assert_eq!(eval(&t, 0x101, 0), Some(1));
    let (t, _) = build(
        true,
        &[(2, vec![c(0, Eq, 0x101)]), (1, vec![me(0, 0xff, 1)])],
    );
    assert_eq!(eval(&t, 0x101, 0), Some(2));
    // g3
    let (t, _) = build(true, &[(1, vec![c(0, Eq, 1)]), (2, vec![me(0, 1, 1)])]);
    assert_eq!((eval(&t, 1, 0), eval(&t, 3, 0)), (Some(1), Some(2)));
}

#[test]
fn sixty_four_bit_merge_quirks() {
    // h1/h2: GT rules sharing a high word: the larger datum's action when hi decides.
    for rules in [
        vec![
            (1, vec![c(0, Gt, 0x1_0000_0005)]),
            (2, vec![c(0, Gt, 0x1_0000_0007)]),
        ],
        vec![
            (2, vec![c(0, Gt, 0x1_0000_0007)]),
            (1, vec![c(0, Gt, 0x1_0000_0005)]),
        ],
    ] {
        let (t, _) = build(true, &rules);
        assert_eq!(eval(&t, 0x2_0000_0000, 0), Some(2));
        assert_eq!(eval(&t, 0x1_0000_0008, 0), Some(2));
        assert_eq!(eval(&t, 0x1_0000_0006, 0), Some(1));
    }
    // h3/h4: LT rules: the first inserted wins where hi decides (the act_t/act_f typo).
    let (t, _) = build(
        true,
        &[
            (1, vec![c(0, Lt, 0x1_0000_0005)]),
            (2, vec![c(0, Lt, 0x1_0000_0007)]),
        ],
    );
    assert_eq!(eval(&t, 0, 0), Some(1));
    let (t, _) = build(
        true,
        &[
            (2, vec![c(0, Lt, 0x1_0000_0007)]),
            (1, vec![c(0, Lt, 0x1_0000_0005)]),
        ],
    );
    assert_eq!(eval(&t, 0, 0), Some(2));
    assert_eq!(eval(&t, 0x1_0000_0006, 0), Some(2));
    assert_eq!(eval(&t, 0x1_0000_0004, 0), Some(1));
}

#[test]
fn unconditional_rules() {
    let (t, rcs) = build(true, &[(1, vec![]), (2, vec![c(0, Eq, 1)])]);
    assert_eq!((rcs, eval(&t, 1, 0)), (vec![OK, OK], Some(1)));
    let (t, _) = build(true, &[(2, vec![c(0, Eq, 1)]), (1, vec![])]);
    assert_eq!(eval(&t, 1, 0), Some(1));
    let (t, rcs) = build(true, &[(1, vec![]), (2, vec![])]);
    assert_eq!((rcs, eval(&t, 0, 0)), (vec![OK, OK], Some(1)));
    // MASKED_EQ with mask 0 is unconditional.
    let (t, _) = build(true, &[(2, vec![c(0, Eq, 1)]), (1, vec![me(0, 0, 5)])]);
    assert_eq!(eval(&t, 1, 0), Some(1));
}

#[test]
fn thirty_two_bit_truncates() {
    let (t, rcs) = build(false, &[(1, vec![c(0, Eq, 0x1_0000_0001)])]);
    assert_eq!(rcs, vec![OK]);
    assert_eq!(eval(&t, 1, 0), Some(1));
    assert_eq!(eval(&t, 0x1_0000_0001, 0), Some(1));
    let (t, _) = build(false, &[(1, vec![c(0, Gt, 0x1_0000_0000)])]);
    assert_eq!((eval(&t, 0, 0), eval(&t, 1, 0)), (None, Some(1)));
    let (t, _) = build(false, &[(1, vec![c(0, Ne, 7)]), (2, vec![c(0, Lt, 3)])]);
    assert_eq!([7, 2, 5].map(|v| eval(&t, v, 0)), [None, Some(1), Some(1)]);
}

#[test]
fn single_rules_compare_exactly_in_64_bits() {
    for (op, d) in [
        (Ne, 0x1_0000_0000u64),
        (Lt, 0x1_0000_0000),
        (Le, 5),
        (Gt, 0x1_0000_0000),
        (Ge, 0xffff_ffff),
    ] {
        let (t, _) = build(true, &[(1, vec![c(0, op, d)])]);
        for v in [
            0,
            1,
            d.wrapping_sub(1),
            d,
            d.wrapping_add(1),
            0xffff_ffff,
            1 << 32,
            u64::MAX,
        ] {
            let want = match op {
                Ne => v != d,
                Lt => v < d,
                Le => v <= d,
                Gt => v > d,
                _ => v >= d,
            };
            assert_eq!(eval(&t, v, 0).is_some(), want, "{op:?} {d:#x} on {v:#x}");
        }
    }
}

#[test]
fn stale_accumulator_shape_is_flagged() {
    // The reproducer from SEMANTICS.md: libseccomp's BPF gives the default here while
    // its tree (and syscage) give ERRNO(3).
    let (t, _) = build(
        true,
        &[
            (3, vec![c(0, Lt, 0x2_0000_0000)]),
            (2, vec![c(1, Le, 0x2_0000_0000), c(0, Le, 0x8000_0000)]),
            (4, vec![me(0, 0xff, 0xfe), c(1, Eq, 7)]),
        ],
    );
    assert_eq!(eval(&t, 1, u64::MAX), Some(3));
    assert!(t.codegen_may_differ());
    let (t, _) = build(true, &[(1, vec![c(0, Eq, 1)])]);
    assert!(!t.codegen_may_differ());
}

#[test]
fn the_rule_set_libseccomp_hangs_on_is_reported() {
    // The real libseccomp 2.5.4 never returns from the second add (checked with the
    // oracle helper and the literal Python port, both under a timeout).
    let (_, rcs) = build(
        true,
        &[
            (1, vec![c(0, Le, 0xffff_ffff), c(1, Lt, 0)]),
            (1, vec![c(0, Le, 0xffff_ffff), c(1, Ne, 0)]),
        ],
    );
    assert_eq!(rcs, vec![OK, Err(AddError::Hang)]);
}

#[test]
fn split_rules_then_a_wider_rule_finish() {
    // Found by the libseccomp oracle: libseccomp (and the Python port) accept all four.
    let (t, rcs) = build(
        true,
        &[
            (1, vec![c(2, Eq, 0x1_0000_0000)]),
            (1, vec![c(2, Lt, 0x1_0000_0000)]),
            (1, vec![c(2, Ne, 0x2_0000_0000)]),
            (1, vec![c(2, Ne, 0), c(0, Lt, 0), c(1, Ne, 0)]),
        ],
    );
    assert_eq!(rcs, vec![OK, OK, OK, OK]);
    assert_eq!(t.eval(&[0, 1, 0, 0, 0, 0]).map(|a| a.ret), Some(1));
}

/// A tree with more tests than a filter may have instructions is refused as soon as it
/// passes the mark; rules that merge into existing nodes do not count twice, and
/// released nodes are not counted at all.
#[test]
fn more_tests_than_a_filter_can_hold_is_said_at_once() {
    // 64-bit: each `a0 == i` is a high-word and a low-word node; the high words merge.
    let mut t = Tree::new(true);
    let mut refused_at = None;
    for i in 0..100_000u64 {
        match t.add(act(0x7fff_0000), &[c(0, Eq, i)]) {
            Ok(()) => {}
            Err(AddError::TooLong { nodes }) => {
                assert_eq!(nodes, MAX_NODES + 1);
                refused_at = Some(i);
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    // One shared high-word node, then a low-word node per value: rules 0..=4094 make
    // 4,096 nodes, rule 4095 the 4,097th.
    assert_eq!(refused_at, Some(MAX_NODES as u64 - 1));
    // The same rule 100,000 times is one chain.
    let mut t = Tree::new(true);
    for _ in 0..100_000 {
        t.add(act(0x7fff_0000), &[c(0, Eq, 7)]).unwrap();
    }
    assert_eq!(t.live_nodes(), 2);
    // An unconditional rule replaces the tree: its nodes are released.
    let mut t = Tree::new(true);
    for i in 0..1000 {
        t.add(act(0x7fff_0000), &[c(0, Eq, i)]).unwrap();
    }
    t.add(act(0x7fff_0000), &[]).unwrap();
    assert_eq!(t.live_nodes(), 0);
}
