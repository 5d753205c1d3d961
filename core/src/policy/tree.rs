//! libseccomp's per-syscall rule database, reproduced: how the rules a runtime adds for
//! one syscall on one architecture combine, and which one decides an event.
//!
//! libseccomp does not check rules in the order they were added. Each rule becomes a
//! chain of 32-bit word tests (`_db_rule_gen_64` / `_db_rule_gen_32`, src/db.c), and the
//! chains are merged into one tree (`db_rule_add` → `_db_tree_prune` → `_db_tree_add`):
//! siblings sorted by argument (higher index and the high word first), then operator
//! class (EQ/NE/MASKED_EQ, then LT/LE, then GT/GE), then datum; equal nodes shared.
//! Merging can drop rules silently, replace sub-trees, or fail with `EEXIST` — which
//! makes runc refuse the container. The generated filter then takes the *first match in
//! tree order* (`_gen_bpf_chain`, src/gen_bpf.c).
//!
//! This is a close port of libseccomp 2.5.4's algorithm, quirks included (the 64-bit
//! high-word action overwrite and its `act_t`/`act_f` typo), written against an arena
//! instead of reference-counted pointers; reference counts are kept because they decide
//! what the prune step removes. It was checked against libseccomp's own database dumps
//! (SEMANTICS.md). What it does not reproduce is a libseccomp 2.5.4 *code generation*
//! bug (a stale accumulator after a sub-level falls through), which can make the
//! exported BPF disagree with this tree; [`Tree::codegen_may_differ`] flags the shapes
//! where that can happen.

use std::cell::Cell;

use crate::profile::CmpOp;

type Id = usize;

/// The test a node makes on one 32-bit word: `(word & mask) OP datum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WordOp {
    Eq,
    MaskedEq,
    Gt,
    Ge,
}

/// A rule's action as the database keeps it: the return value (what libseccomp
/// compares) and which rule it came from (what syscage reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Act {
    pub ret: u32,
    pub rule: usize,
}

/// A node: one word test and what happens on each outcome.
#[derive(Clone, Debug)]
pub struct Node {
    pub arg: u8,
    /// Tests the high word of the argument (64-bit ABIs only).
    pub hi: bool,
    pub op: WordOp,
    pub op_orig: CmpOp,
    pub mask: u32,
    pub datum: u32,
    datum_full: u64,
    pub act_t: Option<Act>,
    pub act_f: Option<Act>,
    pub nxt_t: Option<Id>,
    pub nxt_f: Option<Id>,
    lvl_prv: Option<Id>,
    pub lvl_nxt: Option<Id>,
    refcnt: u32,
}

impl Node {
    fn new() -> Node {
        Node {
            arg: 0,
            hi: false,
            op: WordOp::Eq,
            op_orig: CmpOp::Eq,
            mask: 0,
            datum: 0,
            datum_full: 0,
            act_t: None,
            act_f: None,
            nxt_t: None,
            nxt_f: None,
            lvl_prv: None,
            lvl_nxt: None,
            refcnt: 0,
        }
    }

    /// Whether the test holds for the argument values.
    #[cfg(test)]
    fn test(&self, args: &[u64; 6]) -> bool {
        let v = args[self.arg as usize];
        let w = if self.hi { (v >> 32) as u32 } else { v as u32 } & self.mask;
        match self.op {
            WordOp::Eq | WordOp::MaskedEq => w == self.datum,
            WordOp::Gt => w > self.datum,
            WordOp::Ge => w >= self.datum,
        }
    }
}

/// Why libseccomp does not take a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// `-EEXIST`: the rule conflicts with one already in the tree.
    Conflict,
    /// libseccomp 2.5.4 never returns: its rule database links into a loop (seen with
    /// the real library, e.g. two same-action rules `a0 <= 0xffffffff && a1 < 0` and
    /// `a0 <= 0xffffffff && a1 != 0`). syscage stops after a step budget.
    Hang,
    /// The tree holds more tests than a filter may have instructions: libseccomp's code
    /// generator emits at least one instruction per node, so the filter would exceed the
    /// kernel's 4,096 and could not be installed. Said as soon as the tree passes the
    /// mark, before the rest of the rules are merged (which costs libseccomp, and this
    /// port, time quadratic in the number of tests on one level).
    TooLong { nodes: usize },
}

use AddError::Conflict;

#[derive(Clone, Copy)]
enum Slot {
    Chains(usize),
    T(Id),
    F(Id),
    Val(Option<Id>),
}

struct SysList {
    chains: Option<Id>,
    action: Option<Act>,
}

const IST_MATCH: u32 = 0x1;
const IST_MATCH_ONCE: u32 = 0x2;
const IST_X_FINISHED: u32 = 0x10;
const IST_N_FINISHED: u32 = 0x20;
const IST_X_PREFIX: u32 = 0x100;
const IST_N_PREFIX: u32 = 0x200;
const IST_M_MATCHSET: u32 = IST_MATCH | IST_MATCH_ONCE;
const IST_M_REDUNDANT: u32 = IST_MATCH | IST_X_FINISHED | IST_N_PREFIX;

#[derive(Clone, Copy)]
struct State {
    flags: u32,
    action: u32,
    sx: usize,
}

/// One condition of a rule as the runtime passes it (`struct scmp_arg_cmp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgCmp {
    pub arg: u8,
    pub op: CmpOp,
    /// The datum, or the mask for MASKED_EQ.
    pub a: u64,
    /// MASKED_EQ's datum.
    pub b: u64,
}

/// The rule database of one syscall on one architecture.
pub struct Tree {
    nodes: Vec<Node>,
    lists: Vec<SysList>,
    bits64: bool,
    /// The list holding the syscall's rules, once one was added.
    root: Option<usize>,
    /// Step and recursion budget of the current `add`, so that a rule set on which
    /// libseccomp loops forever is reported instead of reproduced.
    steps: Cell<usize>,
    depth: Cell<usize>,
    hung: Cell<bool>,
    /// Nodes released (reference count down to 0): `nodes.len() - released` are live.
    released: usize,
}

/// More live nodes than this make a filter longer than the kernel accepts
/// ([`AddError::TooLong`]).
pub const MAX_NODES: usize = crate::bpf::MAX_INSNS;

const MAX_DEPTH: usize = 1_000;

/// Steps one `add` may take before syscage calls it a hang. libseccomp's merging is
/// costly on large rule sets without looping: 35 one-condition rules and a
/// two-condition one on one syscall take 2.1 million steps here and finish (the real
/// library: 16 ms). 20 million leaves room for that, and a real loop still ends in
/// well under a second of a release build.
const STEP_BUDGET: usize = 20_000_000;

fn arg_prio(n: &Node) -> u32 {
    (u32::from(n.arg) << 1) + u32::from(n.hi)
}

fn op_prio(op: CmpOp) -> u32 {
    match op {
        CmpOp::MaskedEq | CmpOp::Eq | CmpOp::Ne => 3,
        CmpOp::Le | CmpOp::Lt => 2,
        CmpOp::Ge | CmpOp::Gt => 1,
    }
}

impl Tree {
    pub fn new(bits64: bool) -> Tree {
        Tree {
            nodes: Vec::new(),
            lists: Vec::new(),
            bits64,
            root: None,
            steps: Cell::new(0),
            depth: Cell::new(0),
            hung: Cell::new(false),
            released: 0,
        }
    }

    /// Nodes in the database (merged rules; what the code generator turns into tests).
    pub fn live_nodes(&self) -> usize {
        self.nodes.len() - self.released
    }

    /// Counts one step of the current `add`; `false` once the budget is spent.
    fn tick(&self) -> bool {
        let s = self.steps.get() + 1;
        self.steps.set(s);
        if s > STEP_BUDGET + 1_000 * self.nodes.len() || self.depth.get() > MAX_DEPTH {
            self.hung.set(true);
        }
        !self.hung.get()
    }

    fn enter(&self) -> bool {
        self.depth.set(self.depth.get() + 1);
        self.tick()
    }

    fn leave(&self) {
        self.depth.set(self.depth.get() - 1);
    }

    fn n(&self, id: Id) -> &Node {
        &self.nodes[id]
    }

    fn m(&mut self, id: Id) -> &mut Node {
        &mut self.nodes[id]
    }

    fn alloc(&mut self) -> Id {
        self.nodes.push(Node::new());
        self.nodes.len() - 1
    }

    fn get(&self, s: Slot) -> Option<Id> {
        match s {
            Slot::Chains(l) => self.lists[l].chains,
            Slot::T(x) => self.n(x).nxt_t,
            Slot::F(x) => self.n(x).nxt_f,
            Slot::Val(v) => v,
        }
    }

    fn set(&mut self, s: &mut Slot, v: Option<Id>) {
        match s {
            Slot::Chains(l) => self.lists[*l].chains = v,
            Slot::T(x) => self.nodes[*x].nxt_t = v,
            Slot::F(x) => self.nodes[*x].nxt_f = v,
            Slot::Val(old) => *old = v,
        }
    }

    fn node_get(&mut self, n: Option<Id>) -> Option<Id> {
        if let Some(id) = n {
            self.m(id).refcnt += 1;
        }
        n
    }

    fn chain_lt(&self, a: Id, b: Id) -> bool {
        let (a, b) = (self.n(a), self.n(b));
        let (aa, ba) = (arg_prio(a), arg_prio(b));
        if aa != ba {
            return aa < ba;
        }
        let (ao, bo) = (op_prio(a.op_orig), op_prio(b.op_orig));
        if ao != bo {
            return ao < bo;
        }
        if matches!(a.op_orig, CmpOp::Le | CmpOp::Lt) {
            a.datum > b.datum
        } else {
            a.datum < b.datum
        }
    }

    fn chain_eq(&self, a: Id, b: Id) -> bool {
        let (a, b) = (self.n(a), self.n(b));
        arg_prio(a) == arg_prio(b) && a.op == b.op && a.datum == b.datum && a.mask == b.mask
    }

    fn leaf(&self, n: Id) -> bool {
        self.n(n).nxt_t.is_none() && self.n(n).nxt_f.is_none()
    }

    fn zombie(&self, n: Id) -> bool {
        self.leaf(n) && self.n(n).act_t.is_none() && self.n(n).act_f.is_none()
    }

    fn level_clean(&mut self, node: Id) -> usize {
        let mut n = node;
        while let Some(p) = self.n(n).lvl_prv {
            n = p;
            if !self.tick() {
                return 0;
            }
        }
        let start = n;
        let mut cur = Some(n);
        while let Some(c) = cur {
            if !self.tick() {
                break;
            }
            let links =
                u32::from(self.n(c).lvl_prv.is_some()) + u32::from(self.n(c).lvl_nxt.is_some());
            if self.n(c).refcnt > links {
                return 0;
            }
            cur = self.n(c).lvl_nxt;
        }
        let mut r = Slot::Val(Some(start));
        let mut cnt = 0;
        while self.get(r).is_some() {
            cnt += self.node_put(&mut r);
        }
        cnt
    }

    fn tree_put(&mut self, slot: &mut Slot) -> usize {
        if !self.enter() {
            self.leave();
            return 0;
        }
        let r = self.tree_put_inner(slot);
        self.leave();
        r
    }

    fn tree_put_inner(&mut self, slot: &mut Slot) -> usize {
        let mut cnt = self.node_put(slot);
        if let Some(n) = self.get(*slot) {
            cnt += self.level_clean(n);
        }
        cnt
    }

    fn node_put(&mut self, slot: &mut Slot) -> usize {
        if !self.enter() {
            self.leave();
            return 0;
        }
        let r = self.node_put_inner(slot);
        self.leave();
        r
    }

    fn node_put_inner(&mut self, slot: &mut Slot) -> usize {
        let Some(n) = self.get(*slot) else {
            return 0;
        };
        let mut cnt = 0;
        self.m(n).refcnt -= 1;
        if self.n(n).refcnt == 0 {
            let (mut lvl_p, mut lvl_n) = (self.n(n).lvl_prv, self.n(n).lvl_nxt);
            let (nxt_t, nxt_f) = (self.n(n).nxt_t, self.n(n).nxt_f);
            if let Some(p) = lvl_p {
                self.m(p).lvl_nxt = None;
            }
            if let Some(q) = lvl_n {
                self.m(q).lvl_prv = None;
            }
            if lvl_p.is_some() {
                let mut r = Slot::Val(lvl_p);
                cnt += self.node_put(&mut r);
                lvl_p = self.get(r);
            }
            if lvl_n.is_some() {
                let mut r = Slot::Val(lvl_n);
                cnt += self.node_put(&mut r);
                lvl_n = self.get(r);
            }
            if let Some(p) = lvl_p {
                let v = self.node_get(lvl_n);
                self.m(p).lvl_nxt = v;
            }
            if let Some(q) = lvl_n {
                let v = self.node_get(lvl_p);
                self.m(q).lvl_prv = v;
            }
            self.set(slot, lvl_p.or(lvl_n));
            cnt += self.tree_put(&mut Slot::Val(nxt_t));
            cnt += self.tree_put(&mut Slot::Val(nxt_f));
            cnt += 1;
            self.released += 1;
        }
        cnt
    }

    fn tree_remove(&mut self, tree: Slot, node: Id) -> usize {
        if !self.enter() {
            self.leave();
            return 0;
        }
        let r = self.tree_remove_inner(tree, node);
        self.leave();
        r
    }

    fn tree_remove_inner(&mut self, mut tree: Slot, node: Id) -> usize {
        let Some(mut c) = self.get(tree) else {
            return 0;
        };
        let mut cnt = 0;
        while let Some(p) = self.n(c).lvl_prv {
            if !self.tick() {
                break;
            }
            c = p;
        }
        let mut found = false;
        loop {
            if !self.tick() {
                break;
            }
            if c == node {
                found = true;
                break;
            }
            cnt += self.tree_remove(Slot::T(c), node);
            cnt += self.tree_remove(Slot::F(c), node);
            if self.zombie(c) {
                found = true;
                break;
            }
            match self.n(c).lvl_nxt {
                Some(next) if cnt == 0 => c = next,
                _ => break,
            }
        }
        if !found {
            return cnt;
        }
        if self.get(tree) == Some(c) {
            let v = self.n(c).lvl_prv.or(self.n(c).lvl_nxt);
            self.set(&mut tree, v);
        }
        let (p, q) = (self.n(c).lvl_prv, self.n(c).lvl_nxt);
        if let Some(p) = p {
            self.m(p).lvl_nxt = q;
        }
        if let Some(q) = q {
            self.m(q).lvl_prv = p;
        }
        self.m(c).lvl_prv = None;
        self.m(c).lvl_nxt = None;
        cnt += self.node_put(&mut Slot::Val(Some(c)));
        cnt
    }

    fn tree_act_check(&self, tree: Option<Id>, action: u32) -> Result<(), AddError> {
        if !self.enter() {
            self.leave();
            return Err(AddError::Hang);
        }
        let r = self.tree_act_check_inner(tree, action);
        self.leave();
        r
    }

    fn tree_act_check_inner(&self, tree: Option<Id>, action: u32) -> Result<(), AddError> {
        let Some(mut c) = tree else {
            return Ok(());
        };
        while let Some(p) = self.n(c).lvl_prv {
            if !self.tick() {
                break;
            }
            c = p;
        }
        let mut cur = Some(c);
        while let Some(c) = cur {
            if !self.tick() {
                break;
            }
            let n = self.n(c);
            if n.act_t.is_some_and(|a| a.ret != action) || n.act_f.is_some_and(|a| a.ret != action)
            {
                return Err(Conflict);
            }
            self.tree_act_check(n.nxt_t, action)?;
            self.tree_act_check(n.nxt_f, action)?;
            cur = n.lvl_nxt;
        }
        Ok(())
    }

    fn tree_prune(&mut self, existing: Option<Id>, new: Id, state: &mut State) -> usize {
        if !self.enter() {
            self.leave();
            return 0;
        }
        let r = self.tree_prune_inner(existing, new, state);
        self.leave();
        r
    }

    fn tree_prune_inner(&mut self, existing: Option<Id>, new: Id, state: &mut State) -> usize {
        let mut cnt = 0;
        let mut state_new = *state;
        let finish = |state: &mut State, state_new: &State| {
            if state_new.flags & IST_MATCH != 0 {
                state.flags |= state_new.flags;
            } else {
                state.flags &= !IST_MATCH;
            }
        };
        let Some(mut x) = existing else {
            finish(state, &state_new);
            return cnt;
        };
        let n = new;
        if state.flags & IST_M_MATCHSET == IST_MATCH_ONCE {
            finish(state, &state_new);
            return cnt;
        }
        while let Some(p) = self.n(x).lvl_prv {
            if !self.tick() {
                break;
            }
            x = p;
        }
        let mut cur = Some(x);
        while let Some(mut x) = cur {
            if !self.tick() {
                break;
            }
            let x_next = self.n(x).lvl_nxt;
            if self.chain_eq(x, n) {
                state_new.flags |= IST_M_MATCHSET;
                if self.leaf(n) {
                    state_new.flags |= IST_N_FINISHED;
                }
                if self.leaf(x) {
                    state_new.flags |= IST_X_FINISHED;
                }
                let (xn, nn) = (self.n(x), self.n(n));
                if (xn.act_t.is_some() || xn.nxt_t.is_some())
                    && !(nn.act_t.is_some() || nn.nxt_t.is_some())
                {
                    finish(state, &state_new);
                    return cnt;
                }
                if (xn.act_f.is_some() || xn.nxt_f.is_some())
                    && !(nn.act_f.is_some() || nn.nxt_f.is_some())
                {
                    finish(state, &state_new);
                    return cnt;
                }
                if state_new.flags & IST_N_FINISHED != 0
                    && state_new.flags & IST_X_FINISHED != 0
                    && (nn.act_t.map(|a| a.ret) != xn.act_t.map(|a| a.ret)
                        || nn.act_f.map(|a| a.ret) != xn.act_f.map(|a| a.ret))
                {
                    finish(state, &state_new);
                    return cnt;
                }
                let mut goto_next = false;
                for side in [true, false] {
                    if goto_next {
                        break;
                    }
                    let n_sub = if side {
                        self.n(n).nxt_t
                    } else {
                        self.n(n).nxt_f
                    };
                    let Some(n_sub) = n_sub else { continue };
                    self.node_get(Some(x));
                    let mut sn = *state;
                    sn.flags |= IST_M_MATCHSET;
                    let x_sub = if side {
                        self.n(x).nxt_t
                    } else {
                        self.n(x).nxt_f
                    };
                    cnt += self.tree_prune(x_sub, n_sub, &mut sn);
                    let mut r = Slot::Val(Some(x));
                    cnt += self.node_put(&mut r);
                    if sn.flags & IST_MATCH != 0 {
                        state_new.flags |= sn.flags;
                    }
                    match self.get(r) {
                        Some(v) => x = v,
                        None => goto_next = true,
                    }
                }
                if !goto_next {
                    let act_ok = self.tree_act_check(Some(x), state_new.action).is_ok();
                    if act_ok
                        && state_new.flags & IST_MATCH != 0
                        && state_new.flags & IST_N_FINISHED != 0
                        && state_new.flags & IST_X_PREFIX != 0
                    {
                        cnt += self.tree_remove(Slot::Chains(state.sx), x);
                        if self.lists[state.sx].chains.is_none() {
                            finish(state, &state_new);
                            return cnt;
                        }
                    } else if act_ok
                        && state_new.flags & IST_MATCH != 0
                        && state_new.flags & IST_X_FINISHED != 0
                        && state_new.flags & IST_N_PREFIX != 0
                    {
                        finish(state, &state_new);
                        return cnt;
                    }
                }
            } else if self.chain_lt(x, n) {
                if state.flags & IST_N_PREFIX != 0 {
                    finish(state, &state_new);
                    return cnt;
                }
                let mut goto_next = false;
                for side in [true, false] {
                    if goto_next {
                        break;
                    }
                    let x_sub = if side {
                        self.n(x).nxt_t
                    } else {
                        self.n(x).nxt_f
                    };
                    if x_sub.is_none() {
                        continue;
                    }
                    self.node_get(Some(x));
                    let mut sn = *state;
                    sn.flags &= !IST_MATCH;
                    sn.flags |= IST_X_PREFIX;
                    cnt += self.tree_prune(x_sub, n, &mut sn);
                    let mut r = Slot::Val(Some(x));
                    cnt += self.node_put(&mut r);
                    if sn.flags & IST_MATCH != 0 {
                        state_new.flags |= sn.flags;
                        finish(state, &state_new);
                        return cnt;
                    }
                    match self.get(r) {
                        Some(v) => x = v,
                        None => goto_next = true,
                    }
                }
            } else {
                if state.flags & IST_X_PREFIX != 0 {
                    finish(state, &state_new);
                    return cnt;
                }
                let mut goto_next = false;
                for side in [true, false] {
                    if goto_next {
                        break;
                    }
                    let n_sub = if side {
                        self.n(n).nxt_t
                    } else {
                        self.n(n).nxt_f
                    };
                    let Some(n_sub) = n_sub else { continue };
                    self.node_get(Some(x));
                    let mut sn = *state;
                    sn.flags &= !IST_MATCH;
                    sn.flags |= IST_N_PREFIX;
                    cnt += self.tree_prune(Some(x), n_sub, &mut sn);
                    let mut r = Slot::Val(Some(x));
                    cnt += self.node_put(&mut r);
                    if sn.flags & IST_MATCH != 0 {
                        state_new.flags |= sn.flags;
                        finish(state, &state_new);
                        return cnt;
                    }
                    match self.get(r) {
                        Some(v) => x = v,
                        None => goto_next = true,
                    }
                }
            }
            cur = x_next;
        }
        state_new.flags &= !IST_MATCH;
        finish(state, &state_new);
        cnt
    }

    fn tree_add(&mut self, existing: Slot, new: Id) -> Result<(), AddError> {
        if !self.enter() {
            self.leave();
            return Err(AddError::Hang);
        }
        let r = self.tree_add_inner(existing, new);
        self.leave();
        r
    }

    fn tree_add_inner(&mut self, mut existing: Slot, new: Id) -> Result<(), AddError> {
        let mut cur = self.get(existing);
        let n = new;
        while let Some(x) = cur {
            if !self.tick() {
                break;
            }
            if self.chain_eq(x, n) {
                if let Some(na) = self.n(n).act_t {
                    match self.n(x).act_t {
                        None => {
                            self.tree_act_check(self.n(x).nxt_t, na.ret)?;
                            self.node_put(&mut Slot::T(x));
                            self.m(x).nxt_t = None;
                            self.m(x).act_t = Some(na);
                        }
                        Some(xa) if xa.ret != na.ret => {
                            if self.n(n).hi && self.n(n).datum_full > self.n(x).datum_full {
                                self.m(x).act_t = Some(na);
                            }
                            if self.leaf(x) || self.leaf(n) {
                                return Err(Conflict);
                            }
                        }
                        Some(_) => {}
                    }
                }
                if let Some(na) = self.n(n).act_f {
                    match self.n(x).act_f {
                        None => {
                            self.tree_act_check(self.n(x).nxt_f, na.ret)?;
                            self.node_put(&mut Slot::F(x));
                            self.m(x).nxt_f = None;
                            self.m(x).act_f = Some(na);
                        }
                        Some(xa) if xa.ret != na.ret => {
                            // libseccomp 2.5.4 writes act_t here, not act_f.
                            if self.n(n).hi && self.n(n).datum_full < self.n(x).datum_full {
                                let t = self.n(n).act_t;
                                self.m(x).act_t = t;
                            }
                            if self.leaf(x) || self.leaf(n) {
                                return Err(Conflict);
                            }
                        }
                        Some(_) => {}
                    }
                }
                if let Some(nt) = self.n(n).nxt_t {
                    if self.n(x).nxt_t.is_some() {
                        self.tree_add(Slot::T(x), nt)?;
                    } else if self.n(x).act_t.is_none() {
                        let v = self.node_get(Some(nt));
                        self.m(x).nxt_t = v;
                    } else {
                        return Ok(());
                    }
                }
                if let Some(nf) = self.n(n).nxt_f {
                    if self.n(x).nxt_f.is_some() {
                        self.tree_add(Slot::F(x), nf)?;
                    } else if self.n(x).act_f.is_none() {
                        let v = self.node_get(Some(nf));
                        self.m(x).nxt_f = v;
                    } else {
                        return Ok(());
                    }
                }
                return Ok(());
            } else if !self.chain_lt(x, n) {
                match self.n(x).lvl_nxt {
                    None => {
                        let p = self.node_get(Some(x));
                        self.m(n).lvl_prv = p;
                        let q = self.node_get(Some(n));
                        self.m(x).lvl_nxt = q;
                        return Ok(());
                    }
                    Some(next) => cur = Some(next),
                }
            } else {
                if let Some(p) = self.n(x).lvl_prv {
                    let v = self.node_get(Some(n));
                    self.m(p).lvl_nxt = v;
                    self.m(n).lvl_prv = Some(p);
                    let v = self.node_get(Some(n));
                    self.m(x).lvl_prv = v;
                    self.m(n).lvl_nxt = Some(x);
                } else {
                    let v = self.node_get(Some(n));
                    self.m(x).lvl_prv = v;
                    let v = self.node_get(Some(x));
                    self.m(n).lvl_nxt = v;
                }
                if self.get(existing) == Some(x) {
                    let v = self.node_get(Some(n));
                    self.set(&mut existing, v);
                    self.node_put(&mut Slot::Val(Some(x)));
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// Adds one rule (`seccomp_rule_add_array` for this syscall on this arch). The
    /// conditions may name each argument at most once (runtimes split the others).
    pub fn add(&mut self, action: Act, conds: &[ArgCmp]) -> Result<(), AddError> {
        self.steps.set(0);
        self.depth.set(0);
        let result = self.add_rule(action, conds);
        if self.hung.get() {
            return Err(AddError::Hang);
        }
        result?;
        let nodes = self.live_nodes();
        if nodes > MAX_NODES {
            return Err(AddError::TooLong { nodes });
        }
        Ok(())
    }

    fn add_rule(&mut self, action: Act, conds: &[ArgCmp]) -> Result<(), AddError> {
        let mut chain: [Option<ArgCmp>; 6] = [None; 6];
        for c in conds {
            chain[c.arg as usize] = Some(*c);
        }
        let new = if self.bits64 {
            self.rule_gen_64(action, &chain)
        } else {
            self.rule_gen_32(action, &chain)
        };
        let Some(sx) = self.root else {
            self.root = Some(new);
            return Ok(());
        };
        let mut rm_flag = false;
        loop {
            if !self.tick() {
                break;
            }
            if self.lists[sx].chains.is_none() {
                if rm_flag {
                    self.lists[sx].chains = self.lists[new].chains;
                    self.lists[sx].action = self.lists[new].action;
                }
                // An unconditional rule is already there: the new one is dropped.
                return Ok(());
            } else if self.lists[new].chains.is_none() {
                // The new rule is unconditional: it replaces the whole tree.
                self.tree_put(&mut Slot::Chains(sx));
                self.lists[sx].chains = None;
                self.lists[sx].action = Some(action);
                return Ok(());
            }
            let mut st = State {
                flags: 0,
                action: action.ret,
                sx,
            };
            let existing = self.lists[sx].chains;
            let new_chain = self.lists[new].chains.expect("checked above");
            let rc = self.tree_prune(existing, new_chain, &mut st);
            if rc > 0 {
                rm_flag = true;
                if self.lists[sx].chains.is_none() {
                    continue;
                }
            } else if st.flags & IST_M_REDUNDANT == IST_M_REDUNDANT {
                return Ok(());
            }
            break;
        }
        let new_chain = self.lists[new].chains.expect("checked above");
        self.tree_add(Slot::Chains(sx), new_chain)?;
        self.tree_put(&mut Slot::Chains(new));
        Ok(())
    }

    /// The action of an unconditional rule, if the syscall has one.
    pub fn unconditional(&self) -> Option<Act> {
        let l = &self.lists[self.root?];
        if l.chains.is_none() {
            l.action
        } else {
            None
        }
    }

    /// The first node of the top level (after the rules were added).
    pub fn first(&self) -> Option<Id> {
        let mut c = self.lists[self.root?].chains?;
        while let Some(p) = self.n(c).lvl_prv {
            c = p;
        }
        Some(c)
    }

    /// The node `id`.
    pub fn node(&self, id: Id) -> &Node {
        self.n(id)
    }

    /// First match in tree order: the action, or `None` for "no rule matched".
    /// (The policy's own evaluator walks the owned tree; this one checks the port.)
    #[cfg(test)]
    pub fn eval(&self, args: &[u64; 6]) -> Option<Act> {
        if let Some(a) = self.unconditional() {
            return Some(a);
        }
        self.eval_level(self.first(), args)
    }

    #[cfg(test)]
    fn eval_level(&self, mut cur: Option<Id>, args: &[u64; 6]) -> Option<Act> {
        while let Some(c) = cur {
            let n = self.n(c);
            let (sub, act) = if n.test(args) {
                (n.nxt_t, n.act_t)
            } else {
                (n.nxt_f, n.act_f)
            };
            if let Some(s) = sub {
                if let Some(a) = self.eval_level(Some(self.level_start(s)), args) {
                    return Some(a);
                }
            } else if let Some(a) = act {
                return Some(a);
            }
            cur = n.lvl_nxt;
        }
        None
    }

    fn level_start(&self, mut c: Id) -> Id {
        while let Some(p) = self.n(c).lvl_prv {
            c = p;
        }
        c
    }

    /// Whether libseccomp 2.5.4's code generator might test a stale accumulator for
    /// this tree: some sub-level can fall through to a later sibling of its parent.
    pub fn codegen_may_differ(&self) -> bool {
        fn walk(t: &Tree, start: Option<Id>) -> bool {
            let mut cur = start;
            while let Some(c) = cur {
                let n = t.n(c);
                let has_sub = n.nxt_t.is_some() || n.nxt_f.is_some();
                if has_sub && n.lvl_nxt.is_some() {
                    return true;
                }
                for s in [n.nxt_t, n.nxt_f].into_iter().flatten() {
                    if walk(t, Some(t.level_start(s))) {
                        return true;
                    }
                }
                cur = n.lvl_nxt;
            }
            false
        }
        walk(self, self.first())
    }
}

mod rule_gen;

#[cfg(test)]
mod tests;
