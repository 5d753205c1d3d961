//! Builds the simulator guest (`simulator/guest`) for `wasm32-unknown-unknown` and
//! leaves it in `$OUT_DIR/syscage-simulator.wasm`, where `src/lib.rs` embeds it, so
//! every build of `syscage` carries its simulator with no manual step.
//!
//! The guest is built by a nested `cargo build --profile guest` with its own target
//! directory (next to this build's, `wasm-guest/`), so the nested cargo never waits for
//! the lock the outer one holds, and repeated builds (build, test, clippy) share its
//! artifacts.
//!
//! Tuned for speed (under fuel metering, which the host no longer uses; the choices
//! below were measured then and not re-measured since): the `guest` profile is
//! opt-level 3 with LTO, LLVM inlines more than by default ([`GUEST_RUSTFLAGS`]), and
//! where binaryen's `wasm-opt` is on the PATH it optimizes the module again (`-O3`; set
//! `SYSCAGE_WASM_OPT=0` to skip; it is optional).
//! Measured with callgrind on a 5.4 MB strace trace (BENCHMARKS.md): 35% fewer
//! instructions than opt-level "s" with `wasm-opt -Oz`, for a module of 1.0 MB instead
//! of 0.6 MB. Letting binaryen inline further (functions with loops, larger ones) saved
//! another 1% and doubled the size, so it does not.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";
const ARTIFACT: &str = "syscage_simulator_guest.wasm";
/// For the nested build (`CARGO_ENCODED_RUSTFLAGS`, fields separated by 0x1f): LLVM's
/// inliner at a higher threshold (default 225 at opt-level 3).
const GUEST_RUSTFLAGS: &str = "-Cllvm-args=-inline-threshold=1000";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest
        .parent()
        .expect("simulator/ is inside the workspace");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    for path in [
        "core/src",
        "core/build.rs",
        "core/Cargo.toml",
        "simulator/guest/src",
        "simulator/guest/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=SYSCAGE_WASM_OPT");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    require_target(Path::new(&rustc));

    let target_dir = guest_target_dir(&out);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--locked", "-p", "syscage-simulator-guest"])
        .args(["--target", TARGET, "--profile", "guest", "--target-dir"])
        .arg(&target_dir);
    // What the outer build was given for its own target must not leak into the guest's.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", GUEST_RUSTFLAGS);
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the simulator guest: {e}"));
    if !output.status.success() {
        panic!(
            "building the simulator guest (cargo build -p syscage-simulator-guest --target {TARGET} \
             --profile guest) failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let built = target_dir.join(TARGET).join("guest").join(ARTIFACT);
    let dest = out.join("syscage-simulator.wasm");
    if !optimized(&built, &dest, &target_dir) {
        std::fs::copy(&built, &dest)
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
    }
}

/// `wasm-opt` of `built` into `dest`, remembered in `target_dir` by a hash of the input:
/// every build that runs this script (check, clippy, test, release) embeds the same
/// guest, and `wasm-opt -O3` takes 20 s of a cold build on 2 cores. False when no
/// optimized module can be had.
fn optimized(built: &Path, dest: &Path, target_dir: &Path) -> bool {
    use std::hash::{Hash, Hasher};
    if env::var_os("SYSCAGE_WASM_OPT").is_some_and(|v| v == "0") {
        return false;
    }
    let Ok(bytes) = std::fs::read(built) else {
        return false;
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    let memo = target_dir.join(format!("syscage-simulator-{:016x}.opt.wasm", h.finish()));
    if std::fs::copy(&memo, dest).is_ok() {
        return true;
    }
    if !optimize(built, dest) {
        return false;
    }
    let _ = std::fs::copy(dest, &memo);
    true
}

/// Makes sure the Rust standard library for wasm32 is installed: when it is not and the
/// toolchain is rustup's, asks rustup for it (`rust-toolchain.toml` names the target, but
/// rustup installs a file's targets only with the toolchain itself, not into a toolchain
/// that is already there, as `stable` is on a fresh machine); stops with the fix when
/// that does not work.
fn require_target(rustc: &Path) {
    let sysroot = || {
        Command::new(rustc)
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    };
    let installed = |sysroot: &Path| {
        sysroot
            .join("lib/rustlib")
            .join(TARGET)
            .join("lib")
            .is_dir()
    };
    let Some(root) = sysroot() else { return };
    if installed(&root) {
        return;
    }
    // Under rustup, RUSTUP_TOOLCHAIN names the toolchain this build runs with.
    let mut add = Command::new("rustup");
    add.args(["target", "add", TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        add.arg("--toolchain").arg(toolchain);
    }
    let tried = add.output();
    if installed(&root) {
        // Said once, on the build that installed it (cargo replays warnings).
        eprintln!("installed the Rust standard library for {TARGET} with rustup");
        return;
    }
    let why = match tried {
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("cannot run rustup: {e}"),
    };
    panic!(
        "the simulator is built for {TARGET}, whose standard library is not installed in {}, \
         and `rustup target add {TARGET}` did not install it ({why}).\nrun: rustup target add {TARGET}",
        root.display()
    );
}

/// `<target>/wasm-guest` for `OUT_DIR = <target>/[<triple>/]<profile>/build/<pkg>/out`;
/// a directory inside `OUT_DIR` if the layout is not that one.
fn guest_target_dir(out: &Path) -> PathBuf {
    let build = out
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "build"));
    match build.and_then(|b| b.parent()).and_then(|p| p.parent()) {
        Some(target) => target.join("wasm-guest"),
        None => out.join("wasm-guest"),
    }
}

/// `wasm-opt -O3` into `dest`; false when it is unavailable or fails.
fn optimize(input: &Path, dest: &Path) -> bool {
    // The features rustc enables by default for wasm32-unknown-unknown.
    let features = [
        "--enable-bulk-memory",
        "--enable-sign-ext",
        "--enable-nontrapping-float-to-int",
        "--enable-mutable-globals",
        "--enable-multivalue",
        "--enable-reference-types",
    ];
    match Command::new("wasm-opt")
        .arg("-O3")
        .args(features)
        .arg(input)
        .arg("-o")
        .arg(dest)
        .output()
    {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            println!(
                "cargo:warning=wasm-opt failed; embedding the unoptimized simulator: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            false
        }
        Err(_) => false,
    }
}
