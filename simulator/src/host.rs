//! Running the guest: a fresh instance per call (or per [`Session`] of calls), with a
//! deadline (wasmtime's epoch interruption: a ticker thread advances the engine's
//! epoch, and the guest traps when its deadline passes; or, [`Deadline::Caller`], the
//! caller's own watchdog) and a ceiling on its linear memory, so no profile or trace can make the host spin or swell. Everything that can
//! go wrong on the guest's side — exhaustion, a trap, an answer that is not the ABI's —
//! is a [`SimError`]; the host never panics on it.
//!
//! Why not fuel: fuel metering counts instructions in the guest's hot loops, and its
//! one advantage, a budget that is the same on every machine, is not worth its cost
//! for a bound that only has to stop runaway inputs. An epoch check is a load and a
//! compare at function entries and loop heads — still about a third of the time of
//! the strace parser's byte loops (BENCHMARKS.md) — so a one-shot process that can end
//! itself at the deadline (`syscage check`) takes [`Deadline::Caller`] and no checks.
//!
//! Address space: wasmtime normally reserves 4 GiB (plus guard pages) of virtual memory
//! per instance, so that the compiled code needs no bounds checks. Under an
//! address-space limit (`ulimit -v`) that reservation fails; the host then configures
//! memories that reserve only what they use, with explicit bounds checks
//! ([`Reservation`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use wasmtime::{Config, Engine, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

use crate::{cache, GUEST_WASM};

/// The ABI version this host speaks (`syscage_abi_version`).
pub const ABI_VERSION: u32 = 1;

/// The sandbox's limits for one call or [`Session`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Ceiling on the guest's linear memory, in bytes (at most 4 GiB: wasm32).
    pub max_memory: u64,
    /// How long the guest may run, in total, for one call or session.
    pub timeout: Duration,
    /// Who enforces `timeout`.
    pub deadline: Deadline,
}

/// How the guest is stopped at its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// wasmtime's epoch interruption: the compiled code checks the engine's epoch at
    /// every function entry and loop head, and the call ends in [`SimError::Timeout`].
    /// The safe choice for a long-lived host; those checks cost about a third of the
    /// time of the strace parser's byte loops (BENCHMARKS.md).
    Epoch,
    /// No checks in the guest's code: the caller enforces `timeout` itself (the
    /// `syscage check` process runs a watchdog that ends the process at the deadline).
    Caller,
}

impl Limits {
    /// 2 GiB: traces are streamed, so this bounds profiles and answers, not traces.
    pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
    /// 10 minutes: a 1 GiB strace trace checks in well under a minute; a runaway guest
    /// stops at the latest then.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_memory: Limits::DEFAULT_MAX_MEMORY,
            timeout: Limits::DEFAULT_TIMEOUT,
            deadline: Deadline::Epoch,
        }
    }
}

/// How often the ticker advances the engine's epoch: the deadline's resolution.
const TICK: Duration = Duration::from_millis(10);

/// How the guest's linear memory is laid out in the host's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// wasmtime's default: 4 GiB reserved up front, no bounds checks in the code.
    Full,
    /// Only what is used (plus room to grow in place), bounds-checked: for a process
    /// under an address-space limit.
    Compact,
}

impl Reservation {
    /// `Compact` when this process has an address-space limit (`ulimit -v`, read from
    /// `/proc/self/limits`) too small for `Full` with room to spare.
    pub fn for_this_process() -> Reservation {
        match address_space_limit() {
            Some(limit) if limit < 64 << 30 => Reservation::Compact,
            _ => Reservation::Full,
        }
    }
}

/// The soft `RLIMIT_AS` of this process in bytes, `None` when unlimited or unknown.
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft = line["Max address space".len()..]
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// The guest's error object (see ABI.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct GuestError {
    pub message: String,
    pub source: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub pointer: Option<String>,
}

impl fmt::Display for GuestError {
    /// The message, which already names the input where that helps; for errors about
    /// the request, where in it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.source.as_deref() == Some("request") {
            if let Some(p) = self.pointer.as_deref().filter(|p| !p.is_empty()) {
                write!(f, " (at {p} in the request)")?;
            }
        }
        Ok(())
    }
}

/// Why a call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The guest answered with an error: the input is at fault.
    #[error("{0}")]
    Guest(GuestError),
    #[error(
        "the simulator did not finish within {} s; the input is too large or too costly: \
         raise --timeout to allow more",
        timeout.as_secs_f64()
    )]
    Timeout { timeout: Duration },
    #[error(
        "the simulator needs more memory than its limit of {} MiB; the input is too \
         large: raise --max-memory to allow more",
        limit >> 20
    )]
    OutOfMemory { limit: u64 },
    #[error(
        "the simulator needs more memory than this process can get (an address-space limit \
         such as `ulimit -v`?); the input is too large for it"
    )]
    HostOutOfMemory,
    #[error("the simulator trapped (a bug in syscage, please report it): {0}")]
    Trap(String),
    #[error("the simulator's answer is malformed: {0}")]
    Malformed(String),
    #[error("cannot load the simulator: {0}")]
    Load(String),
}

/// Records whether a memory growth was refused, to tell a refused allocation (which
/// aborts the guest) from any other trap.
struct Limiter {
    max_memory: usize,
    refused: bool,
    /// The limit allowed a growth the host could not provide.
    host_failed: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.max_memory;
        self.refused |= !ok;
        Ok(ok)
    }

    /// The host could not provide memory the limit allowed (an address-space limit):
    /// as much a refusal as the limit's own.
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.host_failed = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

/// The compiled guest, ready to be instantiated for calls.
pub struct Simulator {
    engine: Engine,
    module: Module,
    limits: Limits,
    from_cache: bool,
    _ticker: Option<Ticker>,
}

/// The thread that advances the engine's epoch every [`TICK`]; stopped on drop.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("syscage-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    call: TypedFunc<(u32, u32, u32, u32), u64>,
    /// `syscage_call_with_data`, which older modules do not export.
    call_with_data: Option<CallWithData>,
}

/// `syscage_call_with_data(method, method_len, request, request_len, data, data_len)`.
type CallWithData = TypedFunc<(u32, u32, u32, u32, u32, u32), u64>;

impl Simulator {
    /// The embedded guest, through the module cache ([`cache::dir`]).
    pub fn new(limits: Limits) -> Result<Simulator, SimError> {
        Simulator::with_cache(limits, cache::dir())
    }

    /// The embedded guest, with the module cache in `cache_dir` (`None`: no cache).
    pub fn with_cache(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Simulator, SimError> {
        Simulator::from_wasm(GUEST_WASM, limits, cache_dir)
    }

    /// Any module that implements the ABI (tests use broken ones).
    pub fn from_wasm(
        wasm: &[u8],
        limits: Limits,
        cache_dir: Option<PathBuf>,
    ) -> Result<Simulator, SimError> {
        Simulator::with_reservation(wasm, limits, cache_dir, Reservation::for_this_process())
    }

    /// [`Simulator::from_wasm`] with the memory layout chosen by the caller.
    pub fn with_reservation(
        wasm: &[u8],
        limits: Limits,
        cache_dir: Option<PathBuf>,
        reservation: Reservation,
    ) -> Result<Simulator, SimError> {
        let mut config = Config::new();
        let epochs = limits.deadline == Deadline::Epoch;
        config.epoch_interruption(epochs);
        if reservation == Reservation::Compact {
            config.memory_reservation(0);
            config.memory_guard_size(0);
            config.memory_reservation_for_growth(16 << 20);
            config.memory_may_move(true);
            // The pooling of guard regions and copy-on-write images reserve too.
            config.guard_before_linear_memory(false);
            config.memory_init_cow(false);
        }
        let engine = Engine::new(&config).map_err(|e| SimError::Load(format!("{e:#}")))?;
        let (module, from_cache) = cache::load(&engine, wasm, cache_dir.as_deref())
            .map_err(|e| SimError::Load(format!("{e:#}")))?;
        let ticker = epochs.then(|| Ticker::start(&engine));
        Ok(Simulator {
            engine,
            module,
            limits,
            from_cache,
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether the compiled module came from the cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Calls `method` with the JSON `request` and hands the raw response bytes (still
    /// in the guest's memory, not copied) to `read`. The bytes are whatever the guest
    /// wrote: [`Simulator::call`] checks and unwraps them.
    pub fn call_raw<R>(
        &self,
        method: &str,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, SimError> {
        self.run(method, request, None, read)
    }

    /// [`Simulator::call_raw`] with a data buffer (`syscage_call_with_data`): the
    /// request's inputs can name ranges of `data` (`{"data": {"offset": 0, "length":
    /// N}}`), so large content crosses as raw bytes instead of an escaped JSON string.
    pub fn call_raw_with_data<R>(
        &self,
        method: &str,
        request: &[u8],
        data: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, SimError> {
        self.run(method, request, Some(data), read)
    }

    fn run<R>(
        &self,
        method: &str,
        request: &[u8],
        data: Option<&[u8]>,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, SimError> {
        self.session()?.call_raw(method, request, data, read)
    }

    /// A fresh instance for a sequence of calls that share the guest's state (the
    /// streamed `check_*` methods), under one deadline and one memory ceiling.
    pub fn session(&self) -> Result<Session<'_>, SimError> {
        let max_memory = usize::try_from(self.limits.max_memory.min(4 << 30)).unwrap_or(usize::MAX);
        let mut store = Store::new(
            &self.engine,
            Limiter {
                max_memory,
                refused: false,
                host_failed: false,
            },
        );
        store.limiter(|l| l);
        if self.limits.deadline == Deadline::Epoch {
            let ticks = self.limits.timeout.as_millis() / TICK.as_millis();
            store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
        }
        let instance =
            Instance::new(&mut store, &self.module, &[]).map_err(|e| self.classify(&store, e))?;
        let exports = self.exports(&mut store, &instance)?;
        Ok(Session {
            sim: self,
            store,
            exports,
        })
    }

    /// Calls `method` with `request` and returns the `result` of a successful answer,
    /// or the guest's error as [`SimError::Guest`].
    pub fn call(&self, method: &str, request: &Value) -> Result<Value, SimError> {
        let req = serde_json::to_vec(request).map_err(|e| SimError::Malformed(e.to_string()))?;
        self.call_raw(method, &req, |bytes| -> Result<Value, SimError> {
            let env: Envelope<'_> = parse_envelope(bytes)?;
            env.into_result()?
                .map(|r| {
                    serde_json::from_str(r.get()).map_err(|e| SimError::Malformed(e.to_string()))
                })
                .unwrap_or(Ok(Value::Null))
        })?
    }

    fn exports(
        &self,
        store: &mut Store<Limiter>,
        instance: &Instance,
    ) -> Result<Exports, SimError> {
        let missing = |what: &str, e: wasmtime::Error| {
            SimError::Load(format!(
                "the module does not export {what} as the ABI says: {e:#}"
            ))
        };
        let version: TypedFunc<(), u32> = instance
            .get_typed_func(&mut *store, "syscage_abi_version")
            .map_err(|e| missing("syscage_abi_version", e))?;
        let v = version
            .call(&mut *store, ())
            .map_err(|e| self.classify(store, e))?;
        if v != ABI_VERSION {
            return Err(SimError::Load(format!(
                "the module speaks ABI version {v}; this host speaks {ABI_VERSION}"
            )));
        }
        Ok(Exports {
            memory: instance
                .get_memory(&mut *store, "memory")
                .ok_or_else(|| SimError::Load("the module exports no \"memory\"".into()))?,
            alloc: instance
                .get_typed_func(&mut *store, "syscage_alloc")
                .map_err(|e| missing("syscage_alloc", e))?,
            free: instance
                .get_typed_func(&mut *store, "syscage_free")
                .map_err(|e| missing("syscage_free", e))?,
            call: instance
                .get_typed_func(&mut *store, "syscage_call")
                .map_err(|e| missing("syscage_call", e))?,
            call_with_data: match instance.get_func(&mut *store, "syscage_call_with_data") {
                None => None,
                Some(f) => Some(
                    f.typed(&*store)
                        .map_err(|e| missing("syscage_call_with_data", e))?,
                ),
            },
        })
    }

    /// What a failed wasm call means.
    fn classify(&self, store: &Store<Limiter>, e: wasmtime::Error) -> SimError {
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => SimError::Timeout {
                timeout: self.limits.timeout,
            },
            // A refused memory.grow makes Rust's allocator abort (unreachable).
            _ if store.data().refused => SimError::OutOfMemory {
                limit: self.limits.max_memory,
            },
            _ if store.data().host_failed => SimError::HostOutOfMemory,
            Some(t) => SimError::Trap(t.to_string()),
            None => SimError::Trap(format!("{e:#}")),
        }
    }
}

/// One instance of the guest for several calls (see [`Simulator::session`]); its
/// buffers are released after each call, so memory stays what one call needs plus what
/// the guest keeps between calls.
pub struct Session<'s> {
    sim: &'s Simulator,
    store: Store<Limiter>,
    exports: Exports,
}

impl Session<'_> {
    /// Calls `method` with the JSON `request` (and a data buffer, if any) and hands the
    /// raw response bytes, still in the guest's memory, to `read`.
    pub fn call_raw<R>(
        &mut self,
        method: &str,
        request: &[u8],
        data: Option<&[u8]>,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, SimError> {
        let sim = self.sim;
        let limit = sim.limits.max_memory;
        let (store, ex) = (&mut self.store, &self.exports);
        let fail = |store: &Store<Limiter>, e: wasmtime::Error| sim.classify(store, e);
        let put = |store: &mut Store<Limiter>, bytes: &[u8]| -> Result<(u32, u32), SimError> {
            let len = u32::try_from(bytes.len()).map_err(|_| SimError::OutOfMemory { limit })?;
            let ptr = ex
                .alloc
                .call(&mut *store, len)
                .map_err(|e| fail(store, e))?;
            if ptr == 0 {
                return Err(SimError::OutOfMemory { limit });
            }
            ex.memory
                .write(&mut *store, ptr as usize, bytes)
                .map_err(|e| SimError::Malformed(format!("syscage_alloc returned {ptr}: {e}")))?;
            Ok((ptr, len))
        };
        let (mptr, mlen) = put(store, method.as_bytes())?;
        let (rptr, rlen) = put(store, request)?;
        let mut buffers = vec![(mptr, mlen), (rptr, rlen)];
        let packed = match data {
            None => ex.call.call(&mut *store, (mptr, mlen, rptr, rlen)),
            Some(data) => {
                let call = ex.call_with_data.as_ref().ok_or_else(|| {
                    SimError::Load("the module does not export syscage_call_with_data".into())
                })?;
                let (dptr, dlen) = put(store, data)?;
                buffers.push((dptr, dlen));
                call.call(&mut *store, (mptr, mlen, rptr, rlen, dptr, dlen))
            }
        }
        .map_err(|e| fail(store, e))?;
        if packed == 0 {
            // The guest could not allocate its response.
            return Err(SimError::OutOfMemory { limit });
        }
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let memory = ex.memory.data(&*store);
        let Some(bytes) = ptr.checked_add(len).and_then(|end| memory.get(ptr..end)) else {
            return Err(SimError::Malformed(format!(
                "the response ({len} bytes at {ptr}) lies outside the guest's {} bytes of memory",
                memory.len()
            )));
        };
        let answer = read(bytes);
        buffers.push((ptr as u32, len as u32));
        for (p, n) in buffers {
            ex.free
                .call(&mut *store, (p, n))
                .map_err(|e| fail(store, e))?;
        }
        Ok(answer)
    }
}

/// The response envelope, with the result left unparsed (it can be large).
#[derive(Deserialize)]
pub struct Envelope<'a> {
    pub ok: bool,
    #[serde(borrow)]
    pub result: Option<&'a RawValue>,
    pub error: Option<GuestError>,
}

impl<'a> Envelope<'a> {
    /// The result of a successful call, or the guest's error.
    pub fn into_result(self) -> Result<Option<&'a RawValue>, SimError> {
        match (self.ok, self.error) {
            (true, _) => Ok(self.result),
            (false, Some(e)) => Err(SimError::Guest(e)),
            (false, None) => Err(SimError::Malformed(
                "\"ok\": false without an \"error\"".into(),
            )),
        }
    }
}

/// Parses a response envelope, borrowing from `bytes`.
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope<'_>, SimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| SimError::Malformed(format!("not a response envelope: {e}")))
}
