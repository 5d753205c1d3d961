//! The syscage simulator guest: `syscage-core` behind a small, versioned ABI of plain
//! WebAssembly exports, so that the same `.wasm` runs in wasmtime on the command line
//! and in a browser with a few lines of JavaScript.
//!
//! The exports (only in the `wasm32` build, see [`abi`]) move bytes in and out of the
//! guest's memory; everything else is [`call`]: a method name and a UTF-8 JSON request
//! in, a JSON envelope out (`{"ok":true,"result":...}` or `{"ok":false,"error":...}`).
//! `simulator/ABI.md` documents the methods and their shapes; [`methods`] implements
//! them on top of the core, [`input`] reads the pieces requests share, and [`error`]
//! is the error object every failure becomes. No input makes this crate panic: a
//! panic would be a bug, and the release build aborts (traps) on one.

#[cfg(target_arch = "wasm32")]
mod abi;

/// The guest's allocator: talc instead of the standard dlmalloc. Checking a trace makes
/// millions of small allocations (a syscall name per event, the per-event JSON values
/// of `--format json`), and talc serves them with fewer instructions; the module is
/// single-threaded, which is what `WasmDynamicTalc` assumes.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod base64;
pub mod error;
pub mod input;
pub mod methods;

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::input::Data;

/// The ABI version `syscage_abi_version` returns. Bumped on any incompatible change to
/// the exports or to a method's request or response shape; additions (new methods, new
/// optional request fields, new response fields) keep it.
pub const ABI_VERSION: u32 = 1;

/// The methods [`call`] knows, in the order ABI.md documents them.
pub const METHODS: &[&str] = &[
    "version",
    "check",
    "check_begin",
    "check_feed",
    "check_end",
    "compile",
    "disasm",
    "resolve",
    "explain",
    "lint",
    "generate",
    "diff",
];

/// Extensions of ABI version 1 a host can test for (`version`'s `"extensions"`), each
/// with its own version: `check_stream` is `check_begin`/`check_feed`/`check_end`.
pub const EXTENSIONS: &[(&str, u32)] = &[("data", 1), ("check_stream", 1)];

/// Runs `method` on the JSON `request` and returns the response envelope's bytes.
pub fn call(method: &[u8], request: &[u8]) -> Vec<u8> {
    respond(dispatch(method, request, None))
}

/// [`call`] with a data buffer: inputs of the request may name a range of `data`
/// (`{"data": {"offset": 0, "length": 100}}`) instead of carrying their content in the
/// JSON, which then needs no escaping.
pub fn call_with_data(method: &[u8], request: &[u8], data: &[u8]) -> Vec<u8> {
    respond(dispatch(method, request, Some(data)))
}

fn respond(result: Result<Answer, ApiError>) -> Vec<u8> {
    let response = match result {
        Ok(Answer { result, trailer }) => {
            let mut out = Vec::with_capacity(64 + result.len() + trailer.len());
            out.extend_from_slice(b"{\"ok\":true,\"result\":");
            out.extend_from_slice(&result);
            out.push(b'}');
            if !trailer.is_empty() {
                out.push(b'\n');
                out.extend_from_slice(&trailer);
            }
            return out;
        }
        Err(e) => json!({"ok": false, "error": e.to_json()}),
    };
    serde_json::to_vec(&response).unwrap_or_else(|_| {
        br#"{"ok":false,"error":{"message":"cannot encode the error"}}"#.to_vec()
    })
}

/// A method's answer: its result as serialized JSON, and raw bytes that follow the
/// envelope after a newline (only `check_feed`/`check_end` with `"lines": true` have
/// them: ABI.md).
pub struct Answer {
    pub result: Vec<u8>,
    pub trailer: Vec<u8>,
}

impl From<Vec<u8>> for Answer {
    fn from(result: Vec<u8>) -> Answer {
        Answer {
            result,
            trailer: Vec::new(),
        }
    }
}

/// The method's answer.
fn dispatch(method: &[u8], request: &[u8], data: Data<'_>) -> Result<Answer, ApiError> {
    let method = std::str::from_utf8(method)
        .map_err(|_| ApiError::new("the method name is not valid UTF-8"))?;
    let request = input::request_text(request)?;
    let result: Value = match method {
        "version" => json!({
            "abi": ABI_VERSION,
            "simulator": env!("CARGO_PKG_VERSION"),
            "methods": METHODS,
            "extensions": EXTENSIONS.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        }),
        // check writes its own (possibly large) result without building a Value tree.
        "check" => return methods::check::run(input::parse(request)?, data).map(Answer::from),
        "check_begin" => {
            return methods::check::begin_stream(input::parse(request)?, data).map(Answer::from)
        }
        "check_feed" => return methods::check::feed_stream(input::parse(request)?, data),
        "check_end" => return methods::check::end_stream(input::parse(request)?),
        "compile" => methods::compile::run(&input::parse(request)?, data)?,
        "disasm" => methods::disasm::run(&input::parse(request)?, data)?,
        "resolve" => methods::resolve::resolve(&input::parse(request)?, data)?,
        "explain" => methods::resolve::explain(&input::parse(request)?, data)?,
        "lint" => methods::resolve::lint(&input::parse(request)?, data)?,
        "generate" => methods::generate::run(input::parse(request)?, data)?,
        "diff" => methods::diff::run(&input::parse(request)?, data)?,
        other => {
            return Err(ApiError::new(format!(
                "unknown method {other:?} (expected one of: {})",
                METHODS.join(", ")
            )))
        }
    };
    serde_json::to_vec(&result)
        .map(Answer::from)
        .map_err(|e| ApiError::new(format!("cannot encode: {e}")))
}

#[cfg(test)]
mod tests;
