//! Engines: interchangeable answers to one question — what does this stack of filters
//! return for this event? — so that comparing engines is differential testing.
//!
//! * [`Engine::Reference`]: the policy semantics evaluated directly ([`crate::eval`]).
//! * [`Engine::Bpf`]: each layer compiled ([`crate::bpf::compile`]) or read from a raw
//!   `.bpf` file, run by the kernel-exact interpreter ([`crate::bpf::interp`]).
//!
//! Engines that need the OS (the kernel oracle) or a sandbox (wasm) live in other
//! crates and produce the same [`Outcome`]s.

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
        Ok(Prepared {
            kind,
            policies,
            programs,
            kernel,
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
    },
}

impl Evaluator<'_> {
    pub fn evaluate(&self, event: &Event) -> Outcome {
        match self {
            Evaluator::Reference(stack) => stack.evaluate(event),
            Evaluator::Bpf { programs, kernel } => bpf_outcome(programs, *kernel, event),
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

/// Unknown arguments under the bpf engine: the program is probed with values around
/// every constant it compares against, one unknown argument at a time.
fn bpf_outcome(programs: &[ValidProgram], kernel: KernelVersion, event: &Event) -> Outcome {
    let base = event.data_with(0);
    let first = run_stack(programs, kernel, &base);
    let unknown: Vec<usize> = event.unknown_args().collect();
    if unknown.is_empty() {
        return Outcome::Known(first);
    }
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
    let mut possible = vec![first];
    let mut on = Vec::new();
    for &i in &unknown {
        for &c in &candidates {
            let mut d = base;
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
