//! The syscage simulator: `syscage-core` compiled to one WebAssembly module (the guest,
//! `simulator/guest`, embedded here by `build.rs`) and the native host that runs it in
//! wasmtime with hard limits, for profiles and traces that cannot be trusted.
//!
//! * [`host`]: [`Simulator`] — instantiates the guest for each call (or [`Session`] of
//!   calls) with a deadline and a memory ceiling ([`Limits`]), speaks its ABI
//!   (`simulator/ABI.md`), and turns exhaustion, traps and malformed answers into
//!   [`SimError`]s.
//! * [`cache`]: the compiled-module cache that keeps start-up small.
//!
//! The browser playground loads the very same bytes ([`GUEST_WASM`]).

pub mod cache;
pub mod host;

pub use host::{Deadline, GuestError, Limits, Reservation, Session, SimError, Simulator};

/// The guest module, as built for `wasm32-unknown-unknown`.
pub const GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/syscage-simulator.wasm"));
