//! The kernel engine for `syscage check --engine kernel`: each event issued in a child
//! under the compiled stack, the kernel's verdict observed with ptrace
//! (`syscage_enforcer::oracle`). ALLOW and LOG look the same to a tracer: both are
//! reported as ALLOW. Unknown arguments are issued as 0. Events of architectures this
//! machine cannot issue (only x86_64, x32 and i386 can be) are answered by the bpf
//! engine, and the note on standard error says how many.

use anyhow::{bail, Result};
use syscage_core::action::ret;
use syscage_core::engine::Prepared;
use syscage_core::eval::{Outcome, Verdict};
use syscage_core::event::Event;
use syscage_core::policy::Origin;
use syscage_enforcer::observe::Observed;
use syscage_enforcer::oracle::KernelOracle;

/// The kernel's verdict for each event under the prepared (bpf) stack.
pub fn evaluate(prepared: &Prepared, events: &[&Event]) -> Result<Vec<Outcome>> {
    let programs: Vec<_> = prepared
        .programs()
        .iter()
        .map(|p| p.program().clone())
        .collect();
    if programs.is_empty() {
        bail!("the kernel engine needs at least one filter (every profile is unconfined)");
    }
    let mut oracle = KernelOracle::new(&programs)?;
    let mut unknown = 0;
    let mut foreign = 0;
    let bpf = prepared.evaluator();
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if e.unknown_args().next().is_some() {
            unknown += 1;
        }
        let (r, origin) = match oracle.observe(&e.data_with(0))? {
            Observed::Ret(r) => (r, Origin::Program),
            Observed::AllowOrLog => (ret::ALLOW, Origin::Program),
            Observed::Bypass => (ret::ALLOW, Origin::Bypass),
            Observed::Unobservable => {
                foreign += 1;
                out.push(bpf.evaluate(e));
                continue;
            }
        };
        out.push(Outcome::Known(Verdict {
            ret: r,
            origin,
            filter: None,
        }));
    }
    eprintln!(
        "syscage: kernel engine: {} verdicts observed; ALLOW and LOG look the same to a \
         tracer and are both shown as ALLOW{}{}",
        oracle.observed(),
        if unknown > 0 {
            format!("; {unknown} events with unknown arguments were issued with 0 there")
        } else {
            String::new()
        },
        if foreign > 0 {
            format!(
                "; {foreign} events of architectures this machine cannot issue were answered \
                 by the bpf engine"
            )
        } else {
            String::new()
        }
    );
    Ok(out)
}
