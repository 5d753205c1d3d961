//! The real runc and crun as the oracle for `runtime::StartupCall`: what each runtime
//! calls under the container's own filter before the program starts, with and without
//! no_new_privs, measured by running it under `syscage record -f` with a profile whose
//! default action is `SCMP_ACT_TRACE` with data 77. Every call the container's filter
//! sees returns RET_TRACE|77 (newer than the recorder's RET_TRACE|0, so its data wins),
//! so the recorded calls with `trace_data` 77 before each process's next exec are
//! exactly the runtime's own calls under the filter. Each must be in the table
//! `syscage generate` adds; otherwise a generated profile would stop the container.
//!
//! Needs root, runc, crun, busybox and unshare; outside CI it skips, saying why.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::{json, Value};
use syscage_core::profile::Runtime;
use syscage_core::runtime::RuntimeRelease;
use syscage_tests::{containers, skip_unless_ci, syscage_bin};

/// The names of the calls the container's filter stopped before the program ran.
fn under_filter(trace: &str) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    let mut filtered = BTreeSet::new();
    let mut done = BTreeSet::new();
    for line in trace.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let pid = e["pid"].as_u64();
        if e["event"] == "exec" {
            if filtered.contains(&pid) {
                done.insert(pid);
            }
            continue;
        }
        if e.get("event").is_some() {
            continue;
        }
        if e["trace_data"] == 77 && !done.contains(&pid) {
            filtered.insert(pid);
            *names
                .entry(e["syscall"].as_str().unwrap_or("?").to_string())
                .or_insert(0) += 1;
        }
    }
    names
}

#[test]
fn the_runtimes_own_calls_under_the_filter_are_all_in_the_table() {
    if let Some(why) = containers::unavailable() {
        skip_unless_ci("the runtime startup measurement", &why);
        return;
    }
    let profile = json!({
        "defaultAction": "SCMP_ACT_TRACE",
        "defaultErrnoRet": 77,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}],
    });
    for runtime in [Runtime::Runc, Runtime::Crun] {
        for nnp in [true, false] {
            let dir = std::env::temp_dir().join(format!(
                "syscage-startup-{}-{runtime}-{nnp}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let bundle = containers::busybox_bundle(&dir, &profile, &["/bin/true"], nnp);
            let state = dir.join("state");
            let id = format!("startup-{runtime}-{nnp}");
            let trace = dir.join("trace.jsonl");
            let out = Command::new(syscage_bin())
                .args(["record", "-f", "-o"])
                .arg(&trace)
                .arg("--")
                .args(containers::run_argv(runtime, &state, &bundle, &id))
                .output()
                .unwrap();
            containers::delete(runtime, &state, &id);
            assert!(
                out.status.success(),
                "{runtime} nnp={nnp}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let seen = under_filter(&std::fs::read_to_string(&trace).unwrap());
            assert!(
                seen.contains_key("execve"),
                "{runtime} nnp={nnp}: the filter saw no execve: {seen:?}"
            );
            let table: BTreeSet<&str> = RuntimeRelease::from(runtime)
                .after_install(nnp)
                .iter()
                .map(|c| c.name)
                .collect();
            let missing: Vec<&String> = seen
                .keys()
                .filter(|n| !table.contains(n.as_str()))
                .collect();
            assert!(
                missing.is_empty(),
                "{runtime} nnp={nnp}: calls under the filter not in the table: {missing:?} (all: {seen:?})"
            );
            let unseen: Vec<&&str> = table.iter().filter(|n| !seen.contains_key(**n)).collect();
            eprintln!("{runtime} nnp={nnp}: {} calls under the filter: {seen:?}; in the table, not seen this run: {unseen:?}", seen.values().sum::<usize>());
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
