//! The cBPF interpreter's workloads, shared by the `interp` criterion bench and the
//! `probe` instruction-counting program so both measure the same thing: a
//! ~20-instruction filter shaped like compiled output (arch check, x32 guard, binary
//! search over syscall numbers) over a varied mix of 1024 syscall numbers, and
//! syscage's compiled `runtime/default` over the bundled traces' events.

use std::hint::black_box;

use syscage_core::bpf::{asm::assemble, compile::compile, run, validate, ValidProgram};
use syscage_core::event::SeccompData;

use crate::{bundled_events, runtime_default};

/// The 20-instruction filter, as `syscage disasm` prints it.
const FILTER: &str = include_str!("../benches/interp_filter.txt");

/// A validated program and the events it is run on.
pub struct Workload {
    pub program: ValidProgram,
    pub events: Vec<SeccompData>,
}

impl Workload {
    /// The 20-instruction binary-search filter over 1024 mixed syscall numbers (every
    /// 97th from i386, the rest x86_64).
    pub fn binary_search_20() -> Workload {
        let program = validate(&assemble(FILTER).expect("bench filter assembles")).expect("valid");
        let events = (0..1024u32)
            .map(|i| SeccompData {
                nr: (i.wrapping_mul(2_654_435_761) >> 7) % 460,
                arch: if i % 97 == 0 {
                    0x4000_0003
                } else {
                    0xc000_003e
                },
                instruction_pointer: 0,
                args: [u64::from(i); 6],
            })
            .collect();
        Workload { program, events }
    }

    /// syscage's own compiled `runtime/default` over the bundled traces' events.
    pub fn runtime_default_compiled() -> Workload {
        let program = validate(&compile(&runtime_default()).expect("compiles")).expect("valid");
        let events = bundled_events().iter().map(|e| e.data_with(0)).collect();
        Workload { program, events }
    }

    /// Runs the program once on every event; the sum of the return values, so the
    /// work cannot be optimised away.
    #[inline]
    pub fn run_once(&self) -> u32 {
        let mut acc = 0u32;
        for d in &self.events {
            acc = acc.wrapping_add(run(black_box(&self.program), black_box(d)).ret);
        }
        acc
    }
}
