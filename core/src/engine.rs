//! Engines: interchangeable answers to one question — what does this stack of filters
//! return for this event? — so that comparing engines is differential testing.
//!
//! * [`Engine::Reference`]: the policy semantics evaluated directly ([`crate::eval`]).
//! * [`Engine::Bpf`]: each layer compiled ([`crate::bpf::compile`]) or read from a raw
//!   `.bpf` file, run by the kernel-exact interpreter ([`crate::bpf::interp`]).
//!
//! Engines that need the OS (the kernel oracle) or a sandbox (wasm) live in other
//! crates and produce the same [`Outcome`]s.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::action::Action;
use crate::arch::Arch;
use crate::bpf::{self, compile::CompileError, ValidProgram};
use crate::eval::{combine_stack, Outcome, Stack, Verdict};
use crate::event::{Event, SeccompData};
use crate::policy::{Origin, Policy};
use crate::profile::KernelVersion;
use crate::syscalls;

/// One installed filter: a resolved profile, or a raw program.
pub enum Layer {
    Policy(Policy),
    Program {
        source: String,
        program: ValidProgram,
    },
}

impl Layer {
    pub fn source(&self) -> &str {
        match self {
            Layer::Policy(p) => &p.source,
            Layer::Program { source, .. } => source,
        }
    }
}

/// Why a stack cannot be evaluated by an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("{origin}: the compiled program was rejected by the validator: {error}")]
    Invalid {
        origin: String,
        error: bpf::ValidateError,
    },
    #[error("{0}: a raw BPF program can only be evaluated by the bpf engine (or the kernel)")]
    NeedsBpf(String),
}

/// Which engine evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Reference,
    Bpf,
}

/// Syscalls the kernel runs without consulting seccomp, for raw programs (policies carry
/// their own list): see `crate::policy`.
fn kernel_bypasses(kernel: KernelVersion, data: &SeccompData) -> bool {
    Arch::from_audit(data.arch, data.nr) == Some(Arch::X86_64)
        && [("uretprobe", (6, 14)), ("uprobe", (6, 18))]
            .iter()
            .any(|(name, min)| {
                (kernel.major, kernel.minor) >= *min
                    && syscalls::number_of(Arch::X86_64, name).is_some_and(|s| s.nr == data.nr)
            })
}

/// A stack of filters, oldest first, with owned compiled programs.
pub struct Prepared {
    kind: EngineKind,
    policies: Vec<Policy>,
    programs: Vec<ValidProgram>,
    kernel: KernelVersion,
    /// The bpf engine's probe values for unknown arguments (see [`bpf_outcome`]),
    /// computed once.
    candidates: Vec<u64>,
}

impl Prepared {
    /// Prepares `layers` for `kind`: the bpf engine compiles each policy layer.
    pub fn new(
        layers: Vec<Layer>,
        kind: EngineKind,
        kernel: KernelVersion,
    ) -> Result<Prepared, EngineError> {
        let mut policies = Vec::new();
        let mut programs = Vec::new();
        for layer in layers {
            match (layer, kind) {
                (Layer::Policy(p), EngineKind::Reference) => policies.push(p),
                (Layer::Policy(p), EngineKind::Bpf) => {
                    if p.unconfined {
                        continue; // installs nothing
                    }
                    let prog = bpf::compile::compile(&p)?;
                    let valid = bpf::validate(&prog).map_err(|error| EngineError::Invalid {
                        origin: p.source.clone(),
                        error,
                    })?;
                    programs.push(valid);
                    policies.push(p);
                }
                (Layer::Program { program, .. }, EngineKind::Bpf) => programs.push(program),
                (Layer::Program { source, .. }, EngineKind::Reference) => {
                    return Err(EngineError::NeedsBpf(source))
                }
            }
        }
        let candidates = probe_values(&programs);
        Ok(Prepared {
            kind,
            policies,
            programs,
            kernel,
            candidates,
        })
    }

    /// The compiled programs (bpf engine), oldest first.
    pub fn programs(&self) -> &[ValidProgram] {
        &self.programs
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// An evaluator over the prepared stack.
    pub fn evaluator(&self) -> Evaluator<'_> {
        match self.kind {
            EngineKind::Reference => Evaluator::Reference(Stack::new(&self.policies)),
            EngineKind::Bpf => Evaluator::Bpf {
                programs: &self.programs,
                kernel: self.kernel,
                candidates: &self.candidates,
                memo: RefCell::default(),
            },
        }
    }
}

/// Evaluates events against a prepared stack.
pub enum Evaluator<'a> {
    Reference(Stack<'a>),
    Bpf {
        programs: &'a [ValidProgram],
        kernel: KernelVersion,
        /// Probe values for unknown arguments.
        candidates: &'a [u64],
        /// Outcomes of events with unknown arguments the stack reads, by what the
        /// event says (at most [`MEMO`] kept): a trace repeats them.
        memo: RefCell<HashMap<MemoKey, Outcome>>,
    },
}

/// How many probed outcomes the bpf engine remembers.
const MEMO: usize = 4096;

/// An event as far as the bpf engine's verdict goes.
type MemoKey = (u32, u32, u64, [Option<u64>; 6]);

impl Evaluator<'_> {
    pub fn evaluate(&self, event: &Event) -> Outcome {
        match self {
            Evaluator::Reference(stack) => stack.evaluate(event),
            Evaluator::Bpf {
                programs,
                kernel,
                candidates,
                memo,
            } => {
                if event.unknown_args().next().is_none() {
                    return bpf_outcome(programs, *kernel, candidates, event);
                }
                let key = (
                    event.sys.arch.audit_arch(),
                    event.sys.nr,
                    event.instruction_pointer,
                    event.args,
                );
                if let Some(o) = memo.borrow().get(&key) {
                    return o.clone();
                }
                let o = bpf_outcome(programs, *kernel, candidates, event);
                let mut memo = memo.borrow_mut();
                if memo.len() >= MEMO {
                    memo.clear();
                }
                memo.insert(key, o.clone());
                o
            }
        }
    }
}

fn run_stack(programs: &[ValidProgram], kernel: KernelVersion, data: &SeccompData) -> Verdict {
    if programs.is_empty() || kernel_bypasses(kernel, data) {
        return Verdict {
            ret: Action::ALLOW.to_ret(),
            origin: if programs.is_empty() {
                Origin::Default {
                    pointer: "unconfined".into(),
                }
            } else {
                Origin::Bypass
            },
            filter: None,
        };
    }
    let verdicts = programs.iter().map(|p| Verdict {
        ret: bpf::run(p, data).ret,
        origin: Origin::Program,
        filter: None,
    });
    let mut v = combine_stack(verdicts).expect("at least one program");
    if programs.len() == 1 {
        v.filter = None;
    }
    v
}

/// The values the bpf engine tries for an unknown argument: around every constant the
/// programs compare against, and the extremes.
fn probe_values(programs: &[ValidProgram]) -> Vec<u64> {
    let mut ks: Vec<u64> = programs
        .iter()
        .flat_map(|p| p.program().insns().iter().map(|i| u64::from(i.k)))
        .collect();
    ks.sort_unstable();
    ks.dedup();
    let mut candidates = vec![u64::MAX];
    for k in ks {
        candidates.extend([
            k,
            k.wrapping_add(1),
            k.wrapping_sub(1) & 0xffff_ffff,
            k << 32,
        ]);
    }
    candidates
}

/// Which arguments the stack loads (either word) when it runs on `data`.
fn arguments_read(programs: &[ValidProgram], data: &SeccompData) -> [bool; 6] {
    use crate::bpf::{BPF_ABS, BPF_LD, BPF_W};
    let mut read = [false; 6];
    for p in programs {
        let (_, path) = bpf::run_traced(p, data);
        let insns = p.program().insns();
        for at in path {
            if let Some(i) = insns.get(usize::from(at)) {
                if i.code == BPF_LD | BPF_W | BPF_ABS && (16..64).contains(&i.k) {
                    read[((i.k - 16) / 8) as usize] = true;
                }
            }
        }
    }
    read
}

/// Unknown arguments under the bpf engine. A program's path depends only on the words
/// it loads, so when the stack, run with the unknown arguments at 0, loads none of them,
/// no value of theirs can change the verdict: one traced run decides (a trace of calls
/// whose arguments the filter never looks at costs what known ones cost). Otherwise the
/// stack is probed with values around every constant it compares against, one
/// unknown argument at a time — only those it loads: varying one it does not load, the
/// others fixed, runs the same path.
fn bpf_outcome(
    programs: &[ValidProgram],
    kernel: KernelVersion,
    candidates: &[u64],
    event: &Event,
) -> Outcome {
    let base = event.data_with(0);
    let first = run_stack(programs, kernel, &base);
    let unknown: Vec<usize> = event.unknown_args().collect();
    if unknown.is_empty() || programs.is_empty() || kernel_bypasses(kernel, &base) {
        return Outcome::Known(first);
    }
    let read = arguments_read(programs, &base);
    let unknown: Vec<usize> = unknown.into_iter().filter(|i| read[*i]).collect();
    if unknown.is_empty() {
        return Outcome::Known(first);
    }
    probe(programs, kernel, candidates, &base, first, &unknown)
}

/// Runs the stack on `base` with each of `unknown` set to each candidate in turn (the
/// others as in `base`, whose verdict is `first`): every verdict seen.
fn probe(
    programs: &[ValidProgram],
    kernel: KernelVersion,
    candidates: &[u64],
    base: &SeccompData,
    first: Verdict,
    unknown: &[usize],
) -> Outcome {
    let mut possible = vec![first];
    let mut on = Vec::new();
    for &i in unknown {
        for &c in candidates {
            let mut d = *base;
            d.args[i] = c;
            let v = run_stack(programs, kernel, &d);
            if !possible.contains(&v) {
                possible.push(v);
                on.push(i as u8);
            }
        }
    }
    if possible.len() == 1 {
        Outcome::Known(possible.swap_remove(0))
    } else {
        possible.sort();
        on.sort_unstable();
        on.dedup();
        Outcome::Depends { possible, on }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{resolve, Target};
    use crate::profile::{parse, Runtime};

    /// The probing without the shortcuts: every unknown argument explored, no memo.
    fn probe_everything(
        programs: &[ValidProgram],
        kernel: KernelVersion,
        event: &Event,
    ) -> Outcome {
        let base = event.data_with(0);
        let unknown: Vec<usize> = event.unknown_args().collect();
        let first = run_stack(programs, kernel, &base);
        probe(
            programs,
            kernel,
            &probe_values(programs),
            &base,
            first,
            &unknown,
        )
    }

    /// Skipping the arguments the stack does not load, and remembering outcomes, change
    /// no verdict: every syscall of the table, under runtime/default and a profile that
    /// conditions on several arguments, each argument unknown in turn and all of them.
    #[test]
    fn unknown_argument_shortcuts_agree_with_probing_everything() {
        let k = KernelVersion {
            major: 6,
            minor: 18,
        };
        let target = Target::new(Arch::X86_64, k);
        let extra = parse(
            "extra.json",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["read","write"],"action":"SCMP_ACT_ERRNO","args":[{"index":2,"value":4096,"op":"SCMP_CMP_GT"}]},
                {"names":["ioctl"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":1,"value":21531,"op":"SCMP_CMP_EQ"},{"index":0,"value":3,"op":"SCMP_CMP_LE"}]}]}"#,
            Runtime::Crun,
        )
        .unwrap();
        let builtin = crate::builtin::lookup("runtime/default", Runtime::Runc)
            .unwrap()
            .unwrap();
        let layers = vec![
            Layer::Policy(resolve(&builtin, &target).unwrap()),
            Layer::Policy(resolve(&extra, &target).unwrap()),
        ];
        let prepared = Prepared::new(layers, EngineKind::Bpf, k).unwrap();
        let ev = prepared.evaluator();
        let mut depends = 0;
        for (sys, _) in syscalls::all(Arch::X86_64) {
            let masks: [[bool; 6]; 8] = [
                [true; 6],
                [false, true, true, true, true, true],
                [true, false, true, true, true, true],
                [true, true, false, true, true, true],
                [true, true, true, true, false, true],
                [false; 6],
                [false, false, true, true, true, true],
                [true, true, false, false, false, false],
            ];
            for mask in masks {
                let mut e = Event::new(sys, [0x5401, 0x541b, 8192, 0, 0, 0]);
                for (a, known) in e.args.iter_mut().zip(mask) {
                    if !known {
                        *a = None;
                    }
                }
                let got = ev.evaluate(&e);
                depends += usize::from(matches!(got, Outcome::Depends { .. }));
                assert_eq!(got, probe_everything(prepared.programs(), k, &e), "{e:?}");
                // And again, from the memo.
                assert_eq!(ev.evaluate(&e), got);
            }
        }
        assert!(depends > 10, "{depends}");
    }
}
