//! Differential comparison of engines on one resolved policy: the reference evaluator,
//! the compiled program in syscage's interpreter, and the same program in the kernel
//! (through the [`crate::oracle`]). Used by `syscage fuzz` and by the test suite.
//!
//! The reference and the interpreter must return the same 32-bit value; the kernel must
//! show what [`crate::observe::expected`] says the reference's value looks like from a
//! tracer. Events the kernel never sees (bypasses) or that cannot be issued here (other
//! architectures) are compared between reference and interpreter only.

use syscage_core::action::describe_ret;
use syscage_core::bpf::{self, Program};
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;
use syscage_core::policy::{Origin, Policy};

use crate::observe::{expected, Observed};
use crate::oracle::{KernelOracle, OracleError};

/// Which engines take part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engines {
    pub bpf: bool,
    pub kernel: bool,
}

/// One event on which the engines disagree, with each engine's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub event: SeccompData,
    /// `(engine, verdict)` for every engine that answered.
    pub verdicts: Vec<(&'static str, String)>,
}

/// What a comparison found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub events: usize,
    /// Verdicts the kernel was observed giving.
    pub kernel_observed: u64,
    pub disagreement: Option<Disagreement>,
}

/// Why a policy could not be compared at all.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("the policy does not compile: {0}")]
    Compile(String),
    #[error(transparent)]
    Oracle(#[from] OracleError),
}

/// Compares `engines` with the reference on `events`; stops at the first disagreement.
pub fn compare(
    policy: &Policy,
    events: &[SeccompData],
    engines: Engines,
) -> Result<Comparison, CompareError> {
    let reference = Evaluator::new(policy);
    let mut out = Comparison::default();
    if policy.unconfined {
        return Ok(out);
    }
    let prog: Program =
        bpf::compile::compile(policy).map_err(|e| CompareError::Compile(e.to_string()))?;
    let valid = bpf::validate(&prog).map_err(|e| CompareError::Compile(e.to_string()))?;
    let mut oracle = if engines.kernel {
        Some(KernelOracle::new(std::slice::from_ref(&prog))?)
    } else {
        None
    };
    for d in events {
        out.events += 1;
        let (want, origin) = reference.decide(d);
        let mut verdicts = vec![("reference", format!("{} (by {origin})", describe_ret(want)))];
        let mut bad = false;
        if engines.bpf && *origin != Origin::Bypass {
            let got = bpf::run(&valid, d).ret;
            verdicts.push(("bpf", describe_ret(got)));
            bad |= got != want;
        }
        if let Some(o) = oracle.as_mut() {
            let seen = o.observe(d)?;
            verdicts.push(("kernel", seen.describe()));
            bad |= match seen {
                Observed::AllowOrLog | Observed::Ret(_) => seen != expected(want),
                // The kernel oracle refuses these; the reference must know they bypass.
                Observed::Bypass => *origin != Origin::Bypass,
                Observed::Unobservable => false,
            };
        }
        if bad {
            out.disagreement = Some(Disagreement {
                event: *d,
                verdicts,
            });
            break;
        }
    }
    out.kernel_observed = oracle.map_or(0, |o| o.observed());
    Ok(out)
}

/// Compares a foreign program (libseccomp's, seccompiler's) in the kernel with the same
/// program in syscage's interpreter. Returns the number of kernel observations, or the
/// first disagreement.
pub fn program_in_kernel(
    program: &Program,
    events: &[SeccompData],
) -> Result<(u64, Option<Disagreement>), CompareError> {
    let valid = bpf::validate(program).map_err(|e| CompareError::Compile(e.to_string()))?;
    let mut oracle = KernelOracle::new(std::slice::from_ref(program))?;
    for d in events {
        let want = bpf::run(&valid, d).ret;
        let seen = oracle.observe(d)?;
        if seen.is_observed() && seen != expected(want) {
            return Ok((
                oracle.observed(),
                Some(Disagreement {
                    event: *d,
                    verdicts: vec![("bpf", describe_ret(want)), ("kernel", seen.describe())],
                }),
            ));
        }
    }
    Ok((oracle.observed(), None))
}
