//! Running the guest: one fresh instance per call, with a fuel budget (about one unit
//! per WebAssembly instruction) and a ceiling on its linear memory, so no profile or
//! trace can make the host spin or swell. Everything that can go wrong on the guest's
//! side — exhaustion, a trap, an answer that is not the ABI's — is a [`SimError`];
//! the host never panics on it.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use wasmtime::{Config, Engine, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

use crate::{cache, GUEST_WASM};

/// The ABI version this host speaks (`syscage_abi_version`).
pub const ABI_VERSION: u32 = 1;

/// The sandbox's limits for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Ceiling on the guest's linear memory, in bytes (at most 4 GiB: wasm32).
    pub max_memory: u64,
    /// Fuel: roughly the number of WebAssembly instructions the call may execute.
    pub fuel: u64,
}

impl Limits {
    /// 2 GiB: enough for a trace of a few hundred MB.
    pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
    /// 200 billion: a 100 MB strace trace checks in well under a fifth of that; a
    /// runaway guest stops after a few minutes at worst.
    pub const DEFAULT_FUEL: u64 = 200_000_000_000;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_memory: Limits::DEFAULT_MAX_MEMORY,
            fuel: Limits::DEFAULT_FUEL,
        }
    }
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
        "the simulator ran out of fuel after {fuel} units (about that many WebAssembly \
         instructions); the input is too large or too costly: raise --fuel to allow more"
    )]
    OutOfFuel { fuel: u64 },
    #[error(
        "the simulator needs more memory than its limit of {} MiB; the input is too \
         large: raise --max-memory to allow more",
        limit >> 20
    )]
    OutOfMemory { limit: u64 },
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
}

struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
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
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| SimError::Load(format!("{e:#}")))?;
        let (module, from_cache) = cache::load(&engine, wasm, cache_dir.as_deref())
            .map_err(|e| SimError::Load(format!("{e:#}")))?;
        Ok(Simulator {
            engine,
            module,
            limits,
            from_cache,
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
        let max_memory = usize::try_from(self.limits.max_memory.min(4 << 30)).unwrap_or(usize::MAX);
        let mut store = Store::new(
            &self.engine,
            Limiter {
                max_memory,
                refused: false,
            },
        );
        store.limiter(|l| l);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| SimError::Load(format!("{e:#}")))?;
        let fail = |store: &Store<Limiter>, e: wasmtime::Error| self.classify(store, e);
        let instance = Instance::new(&mut store, &self.module, &[]).map_err(|e| fail(&store, e))?;
        let ex = self.exports(&mut store, &instance)?;

        let put = |store: &mut Store<Limiter>, bytes: &[u8]| -> Result<(u32, u32), SimError> {
            let len = u32::try_from(bytes.len()).map_err(|_| SimError::OutOfMemory {
                limit: self.limits.max_memory,
            })?;
            let ptr = ex
                .alloc
                .call(&mut *store, len)
                .map_err(|e| fail(store, e))?;
            if ptr == 0 {
                return Err(SimError::OutOfMemory {
                    limit: self.limits.max_memory,
                });
            }
            ex.memory
                .write(&mut *store, ptr as usize, bytes)
                .map_err(|e| SimError::Malformed(format!("syscage_alloc returned {ptr}: {e}")))?;
            Ok((ptr, len))
        };
        let (mptr, mlen) = put(&mut store, method.as_bytes())?;
        let (rptr, rlen) = put(&mut store, request)?;
        let packed = match data {
            None => ex.call.call(&mut store, (mptr, mlen, rptr, rlen)),
            Some(data) => {
                let call = ex.call_with_data.as_ref().ok_or_else(|| {
                    SimError::Load("the module does not export syscage_call_with_data".into())
                })?;
                let (dptr, dlen) = put(&mut store, data)?;
                call.call(&mut store, (mptr, mlen, rptr, rlen, dptr, dlen))
            }
        }
        .map_err(|e| fail(&store, e))?;
        if packed == 0 {
            // The guest could not allocate its response.
            return Err(SimError::OutOfMemory {
                limit: self.limits.max_memory,
            });
        }
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let data = ex.memory.data(&store);
        let Some(bytes) = ptr.checked_add(len).and_then(|end| data.get(ptr..end)) else {
            return Err(SimError::Malformed(format!(
                "the response ({len} bytes at {ptr}) lies outside the guest's {} bytes of memory",
                data.len()
            )));
        };
        Ok(read(bytes))
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
            Some(Trap::OutOfFuel) => SimError::OutOfFuel {
                fuel: self.limits.fuel,
            },
            // A refused memory.grow makes Rust's allocator abort (unreachable).
            _ if store.data().refused => SimError::OutOfMemory {
                limit: self.limits.max_memory,
            },
            Some(t) => SimError::Trap(t.to_string()),
            None => SimError::Trap(format!("{e:#}")),
        }
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
