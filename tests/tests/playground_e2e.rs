//! The browser playground end to end: `tests/e2e/playground.mjs` drives a real headless
//! Chromium (Debian's `chromium`, through playwright-core) against `syscage serve` and
//! checks what the page shows against `syscage check --format json`.
//!
//! Needs node, `tests/e2e/node_modules` (`npm ci` there) and /usr/bin/chromium; prints
//! why it skips when one is missing, and fails instead when `CI` is set (CI installs
//! them all).

use std::process::Command;

use syscage_tests::{repo_root, syscage_bin};

#[test]
fn playground_in_headless_chromium() {
    let e2e = repo_root().join("tests/e2e");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<String> = [
        (
            Command::new("node").arg("--version").output().is_err(),
            "node".to_string(),
        ),
        (
            !e2e.join("node_modules/playwright-core").is_dir(),
            "tests/e2e/node_modules (run npm ci there)".to_string(),
        ),
        (!std::path::Path::new(&chromium).exists(), chromium.clone()),
    ]
    .into_iter()
    .filter(|(m, _)| *m)
    .map(|(_, what)| what)
    .collect();
    if !missing.is_empty() {
        let why = format!(
            "the playground end-to-end test needs {}",
            missing.join(", ")
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}: CI must install them"
        );
        eprintln!("SKIP: {why}");
        return;
    }
    let shots = repo_root().join("target/e2e-screenshots");
    let out = Command::new("node")
        .arg(e2e.join("playground.mjs"))
        .arg(syscage_bin())
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the playground end-to-end test failed:\n{stdout}"
    );
    assert!(
        shots.join("playground-desktop.png").is_file()
            && shots.join("playground-narrow.png").is_file()
    );
}
