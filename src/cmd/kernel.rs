//! The kernel engine for `syscage check --engine kernel`: each event issued in a child
//! under the compiled stack, the kernel's verdict observed with ptrace
//! (`syscage_enforcer::oracle`). ALLOW and LOG look the same to a tracer: both are
//! reported as ALLOW. Unknown arguments are issued as 0. Events of architectures this
//! machine cannot issue (only x86_64, x32 and i386 can be) are answered by the bpf
//! engine, and the note on standard error says how many.

use anyhow::{bail, Result};
use syscage_core::action::ret;
use syscage_core::engine::{Evaluator, Prepared};
use syscage_core::eval::{Outcome, Verdict};
use syscage_core::event::Event;
use syscage_core::policy::Origin;
use syscage_enforcer::observe::Observed;
use syscage_enforcer::oracle::KernelOracle;

/// The kernel's verdicts under a prepared (bpf) stack, one event at a time: one child
/// under the stack serves every event.
pub struct KernelEngine {
    oracle: KernelOracle,
    unknown: usize,
    foreign: usize,
}

impl KernelEngine {
    pub fn new(prepared: &Prepared) -> Result<KernelEngine> {
        let programs: Vec<_> = prepared
            .programs()
            .iter()
            .map(|p| p.program().clone())
            .collect();
        if programs.is_empty() {
            bail!("the kernel engine needs at least one filter (every profile is unconfined)");
        }
        Ok(KernelEngine {
            oracle: KernelOracle::new(&programs)?,
            unknown: 0,
            foreign: 0,
        })
    }

    /// The kernel's verdict for `e`; `bpf` answers for events this machine cannot issue.
    pub fn evaluate(&mut self, bpf: &Evaluator<'_>, e: &Event) -> Result<Outcome> {
        if e.unknown_args().next().is_some() {
            self.unknown += 1;
        }
        let (r, origin) = match self.oracle.observe(&e.data_with(0))? {
            Observed::Ret(r) => (r, Origin::Program),
            Observed::AllowOrLog => (ret::ALLOW, Origin::Program),
            Observed::Bypass => (ret::ALLOW, Origin::Bypass),
            Observed::Unobservable => {
                self.foreign += 1;
                return Ok(bpf.evaluate(e));
            }
        };
        Ok(Outcome::Known(Verdict {
            ret: r,
            origin,
            filter: None,
        }))
    }

    /// The note on standard error about what the kernel could and could not show.
    pub fn note(&self) -> String {
        let (unknown, foreign) = (self.unknown, self.foreign);
        format!(
            "syscage: kernel engine: {} verdicts observed; ALLOW and LOG look the same to a \
             tracer and are both shown as ALLOW{}{}",
            self.oracle.observed(),
            if unknown > 0 {
                format!("; {unknown} events with unknown arguments were issued with 0 there")
            } else {
                String::new()
            },
            if foreign > 0 {
                format!(
                    "; {foreign} events of architectures this machine cannot issue were \
                     answered by the bpf engine"
                )
            } else {
                String::new()
            }
        )
    }
}
