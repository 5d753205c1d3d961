//! The compiled-module cache: the guest compiled by cranelift once per machine, then
//! loaded in a few milliseconds.
//!
//! Files live in `$SYSCAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/syscage`, else
//! `~/.cache/syscage` (`SYSCAGE_CACHE_DIR=off` disables the cache). A file's name is a
//! hash of the guest bytes and of wasmtime's compatibility hash for the engine (its
//! version and every setting that affects code), so a new guest, a new wasmtime or a
//! different configuration never reads an old file. Files are written to a temporary
//! name and renamed into place, so a reader never sees a partial file. A cache that
//! cannot be read or written is skipped: the module is compiled instead.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

/// 64-bit FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn fnv() -> Fnv {
    Fnv(0xcbf2_9ce4_8422_2325)
}

/// The cache directory, or `None` when disabled or no home is known.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SYSCAGE_CACHE_DIR") {
        return (!d.is_empty() && d != "off").then(|| PathBuf::from(d));
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("syscage"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/syscage"))
}

/// The file the compiled `wasm` is kept in under `dir`.
pub fn path(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
    let mut h = fnv();
    wasm.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("simulator-{:016x}.cwasm", h.finish()))
}

/// The module for `wasm`: from the cache in `dir` when there, else compiled (and
/// stored for next time). The boolean says whether the cache answered.
pub fn load(engine: &Engine, wasm: &[u8], dir: Option<&Path>) -> wasmtime::Result<(Module, bool)> {
    let Some(dir) = dir else {
        return Ok((Module::new(engine, wasm)?, false));
    };
    let file = path(dir, engine, wasm);
    // Read, not memory-mapped: a file truncated under a mapping would crash the host.
    if let Ok(bytes) = std::fs::read(&file) {
        // SAFETY: `deserialize` runs the machine code in `bytes`, so they must be what
        // `Module::serialize` wrote for a compatible engine. They are: only this
        // function writes into the cache, under a name derived from the exact guest
        // bytes and the engine's compatibility hash, through an atomic rename (never a
        // partial file); wasmtime additionally checks the header, version and settings
        // and fails on a mismatch (then we recompile below). The directory is the
        // user's own cache: whoever can write there can already run code as the user.
        if let Ok(m) = unsafe { Module::deserialize(engine, &bytes) } {
            return Ok((m, true));
        }
    }
    let module = Module::new(engine, wasm)?;
    if let Ok(bytes) = module.serialize() {
        if store(&file, &bytes).is_ok() {
            prune(dir, KEEP, &file);
        }
    }
    Ok((module, false))
}

/// How many compiled modules the cache keeps.
pub const KEEP: usize = 4;

/// Removes all but the `keep` most recently written modules from `dir` (`newest`, the
/// module just stored, is always one of them, however coarse the file system's
/// timestamps), and temporary files older than an hour. Best effort: errors are
/// ignored (another process may be pruning too).
pub fn prune(dir: &Path, keep: usize, newest: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut modules = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        if name.starts_with("simulator-") && name.ends_with(".cwasm") {
            if entry.path() != newest {
                modules.push((modified, entry.path()));
            }
        } else if name.starts_with(".simulator-") && name.ends_with(".tmp") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age > std::time::Duration::from_secs(3600) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    modules.sort_by_key(|m| std::cmp::Reverse(m.0));
    for (_, path) in modules.into_iter().skip(keep.saturating_sub(1)) {
        let _ = std::fs::remove_file(path);
    }
}

fn store(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("module"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
