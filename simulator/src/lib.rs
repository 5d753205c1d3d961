//! The WebAssembly simulator guest and its wasmtime host (see issue 5).
