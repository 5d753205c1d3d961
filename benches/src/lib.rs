//! Shared inputs for the criterion benchmarks in `benches/benches/` and the
//! side-by-side comparison programs in `benches/src/bin/`; [`interp`] holds the
//! interpreter's workloads.

use std::path::PathBuf;

use syscage_core::arch::Arch;
use syscage_core::event::Event;
use syscage_core::policy::{resolve, Policy, Target};
use syscage_core::profile::{KernelVersion, Runtime};
use syscage_core::{builtin, trace};

/// The repository's `examples/` directory.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every bundled trace, by file name.
pub fn bundled_traces() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(examples_dir())
        .expect("examples/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "strace" || x == "jsonl"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The events of every bundled trace, decoded.
pub fn bundled_events() -> Vec<Event> {
    bundled_traces()
        .iter()
        .flat_map(|(_, text)| {
            trace::parse(text, Arch::X86_64)
                .expect("bundled traces parse")
                .events
        })
        .collect()
}

/// `runtime/default` resolved for x86_64, kernel 6.18, runc.
pub fn runtime_default() -> Policy {
    let p = builtin::lookup("runtime/default", Runtime::Runc)
        .unwrap()
        .unwrap();
    resolve(
        &p,
        &Target::new(
            Arch::X86_64,
            KernelVersion {
                major: 6,
                minor: 18,
            },
        ),
    )
    .unwrap()
}
pub mod compare;
pub mod interp;
