//! One rule as a chain of word tests, before it is merged: `_db_rule_gen_64` and
//! `_db_rule_gen_32` (libseccomp 2.5.4 src/db.c). A 64-bit argument test becomes a
//! high-word node and a low-word node (the order and the branch wiring depend on the
//! operator); on 32-bit architectures a datum keeps its low word. The chain is built as
//! a new list in the arena; merging it into the tree is [`super`]'s.

use super::*;

impl Tree {
    pub(super) fn rule_gen_64(&mut self, action: Act, chain: &[Option<ArgCmp>; 6]) -> usize {
        let list = self.lists.len();
        self.lists.push(SysList {
            chains: None,
            action: None,
        });
        let mut prev: [Option<Id>; 3] = [None; 3];
        let mut op_prev: Option<CmpOp> = None;
        let mut cur: [Option<Id>; 3] = [None; 3];
        for c in chain.iter().flatten() {
            let (mask, datum) = match c.op {
                CmpOp::MaskedEq => (c.a, c.b),
                _ => (u64::MAX, c.a),
            };
            let need_lo = !(c.op == CmpOp::MaskedEq && mask & 0xffff_ffff == 0);
            let need_hi = !(c.op == CmpOp::MaskedEq && mask >> 32 == 0);
            if !need_hi && !need_lo {
                continue;
            }
            let ordered = matches!(c.op, CmpOp::Gt | CmpOp::Ge | CmpOp::Le | CmpOp::Lt);
            let count = if ordered { 3 } else { 2 };
            cur = [None; 3];
            for slot in cur.iter_mut().take(count) {
                let id = self.alloc();
                let node = self.m(id);
                node.arg = c.arg;
                node.datum_full = datum;
                node.op_orig = c.op;
                *slot = Some(id);
            }
            let [c0, c1, c2] = cur;
            let (c0, c1) = (c0.expect("allocated"), c1.expect("allocated"));
            if ordered {
                let c2 = c2.expect("allocated");
                for (id, hi) in [(c0, true), (c1, true), (c2, false)] {
                    let node = self.m(id);
                    set_word(node, hi, mask, datum);
                }
                self.m(c0).op = WordOp::Gt;
                self.m(c1).op = WordOp::Eq;
                self.m(c2).op = if matches!(c.op, CmpOp::Gt | CmpOp::Le) {
                    WordOp::Gt
                } else {
                    WordOp::Ge
                };
                let v = self.node_get(Some(c1));
                self.m(c0).nxt_f = v;
                let v = self.node_get(Some(c2));
                self.m(c1).nxt_t = v;
            } else {
                for (id, hi) in [(c0, true), (c1, false)] {
                    let node = self.m(id);
                    set_word(node, hi, mask, datum);
                    node.op = if c.op == CmpOp::MaskedEq {
                        WordOp::MaskedEq
                    } else {
                        WordOp::Eq
                    };
                }
                let v = self.node_get(Some(c1));
                self.m(c0).nxt_t = v;
            }
            if let Some(p0) = prev[0] {
                let target = self.node_get(Some(c0));
                match op_prev.expect("set with prev") {
                    CmpOp::Gt | CmpOp::Ge => {
                        self.m(p0).nxt_t = target;
                        let t2 = self.node_get(Some(c0));
                        self.m(prev[2].expect("ordered")).nxt_t = t2;
                    }
                    CmpOp::Eq | CmpOp::MaskedEq => {
                        self.m(prev[1].expect("pair")).nxt_t = target;
                    }
                    CmpOp::Le | CmpOp::Lt => {
                        self.m(prev[1].expect("pair")).nxt_f = target;
                        let t2 = self.node_get(Some(c0));
                        self.m(prev[2].expect("ordered")).nxt_f = t2;
                    }
                    CmpOp::Ne => {
                        self.m(p0).nxt_f = target;
                        let t2 = self.node_get(Some(c0));
                        self.m(prev[1].expect("pair")).nxt_f = t2;
                    }
                }
            } else {
                let v = self.node_get(Some(c0));
                self.lists[list].chains = v;
            }
            prev = cur;
            op_prev = Some(c.op);
        }
        match (cur[0], op_prev) {
            (Some(c0), Some(op)) => {
                let (c1, c2) = (cur[1], cur[2]);
                match op {
                    CmpOp::Gt | CmpOp::Ge => {
                        self.m(c0).act_t = Some(action);
                        self.m(c2.expect("ordered")).act_t = Some(action);
                    }
                    CmpOp::Le | CmpOp::Lt => {
                        self.m(c1.expect("pair")).act_f = Some(action);
                        self.m(c2.expect("ordered")).act_f = Some(action);
                    }
                    CmpOp::Eq | CmpOp::MaskedEq => self.m(c1.expect("pair")).act_t = Some(action),
                    CmpOp::Ne => {
                        self.m(c0).act_f = Some(action);
                        self.m(c1.expect("pair")).act_f = Some(action);
                    }
                }
            }
            _ => self.lists[list].action = Some(action),
        }
        list
    }

    pub(super) fn rule_gen_32(&mut self, action: Act, chain: &[Option<ArgCmp>; 6]) -> usize {
        let list = self.lists.len();
        self.lists.push(SysList {
            chains: None,
            action: None,
        });
        let mut prev: Option<Id> = None;
        let mut tf = true;
        for c in chain.iter().flatten() {
            let (mask, datum) = match c.op {
                CmpOp::MaskedEq => (c.a, c.b),
                _ => (u64::MAX, c.a),
            };
            if c.op == CmpOp::MaskedEq && mask & 0xffff_ffff == 0 {
                continue;
            }
            let id = self.alloc();
            {
                let node = self.m(id);
                node.arg = c.arg;
                node.hi = false;
                node.op_orig = c.op;
                node.mask = mask as u32;
                node.datum = datum as u32;
                node.datum_full = datum;
            }
            match prev {
                Some(p) => {
                    let v = self.node_get(Some(id));
                    if tf {
                        self.m(p).nxt_t = v;
                    } else {
                        self.m(p).nxt_f = v;
                    }
                }
                None => {
                    let v = self.node_get(Some(id));
                    self.lists[list].chains = v;
                }
            }
            let (op, t) = match c.op {
                CmpOp::Ne => (WordOp::Eq, false),
                CmpOp::Lt => (WordOp::Ge, false),
                CmpOp::Le => (WordOp::Gt, false),
                CmpOp::Eq => (WordOp::Eq, true),
                CmpOp::MaskedEq => (WordOp::MaskedEq, true),
                CmpOp::Gt => (WordOp::Gt, true),
                CmpOp::Ge => (WordOp::Ge, true),
            };
            tf = t;
            let node = self.m(id);
            node.op = op;
            node.datum &= node.mask;
            prev = Some(id);
        }
        match prev {
            Some(p) if tf => self.m(p).act_t = Some(action),
            Some(p) => self.m(p).act_f = Some(action),
            None => self.lists[list].action = Some(action),
        }
        list
    }
}

/// A word test's half of a 64-bit comparison: the high or low 32 bits of `mask` and of
/// `datum` (masked), as `_db_rule_gen_64` splits them.
fn set_word(node: &mut Node, hi: bool, mask: u64, datum: u64) {
    let word = |v: u64| if hi { (v >> 32) as u32 } else { v as u32 };
    node.hi = hi;
    node.mask = word(mask);
    node.datum = word(datum) & node.mask;
}
