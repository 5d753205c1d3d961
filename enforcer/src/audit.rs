//! Reading a host's seccomp state from `/proc`: every process's `Seccomp:`,
//! `Seccomp_filters:` and `NoNewPrivs:` lines, its filters (through
//! [`crate::dump`], so needing CAP_SYS_ADMIN and ptrace access), its cgroup and the
//! few environment variables that name a container, into a
//! [`syscage_core::audit::HostAudit`].
//!
//! This module reads; what the text means is core's ([`syscage_core::container`]
//! attributes processes to containers, [`HostAudit::analyse`] finds what to act on),
//! and comparing stacks with profiles is the caller's. Nothing here stops on one
//! process: a process that vanishes mid-scan is left out, and one that cannot be read
//! says what and why in its `unreadable` list.
//!
//! Containers an OCI runtime runs by hand have no engine-shaped cgroup; they are found
//! through the runtime's state directory ([`DEFAULT_RUNTIME_ROOTS`]): runc's
//! `<root>/<id>/state.json` (`init_process_pid`, `init_process_start`) and crun's
//! `<root>/<id>/status` (`pid`, `process-start-time`), and the init process and its
//! descendants are that container. The start time guards against a reused pid.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use syscage_core::audit::{self, HostAudit, Mode, Process, Stack};
use syscage_core::bpf::Program;
use syscage_core::container::{self, Container, Engine, Placement};

use crate::{dump, status};

/// Where runtimes keep container state, by default: runc's and crun's own roots,
/// and the roots containerd's runc shim and dockerd hand runc.
pub const DEFAULT_RUNTIME_ROOTS: &[&str] = &[
    "/run/runc",
    "/run/crun",
    "/run/containerd/runc",
    "/run/docker/runtime-runc",
];

/// `PF_KTHREAD` in the flags of `/proc/PID/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;
/// The most of a process's environment read (the variables wanted are set first by
/// every engine; an environment is bounded by ARG_MAX-like limits anyway).
const ENVIRON_LIMIT: u64 = 1 << 20;

/// What to read.
#[derive(Clone, Debug)]
pub struct Options {
    /// Read each filtered process's filters (ptrace); without, stacks are unknown.
    pub filters: bool,
    /// Runtime state roots to attribute hand-run containers from.
    pub runtime_roots: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filters: true,
            runtime_roots: DEFAULT_RUNTIME_ROOTS.iter().map(PathBuf::from).collect(),
        }
    }
}

/// A scan's result: the document (not yet matched or analysed) and the programs of
/// each distinct stack, by digest, for the caller to compare with profiles.
pub struct Scan {
    pub audit: HostAudit,
    pub programs: BTreeMap<String, Vec<Program>>,
}

/// `/proc/PID/stat`'s fields that matter here.
struct Stat {
    /// `R`, `S`, `D`, `Z`, `T`, ...
    state: char,
    ppid: i32,
    flags: u64,
    start: u64,
}

fn read_stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command is in parentheses and may itself hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state): field n is f[n - 3].
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        flags: f.get(6)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

fn environ(pid: i32) -> Result<Vec<(String, String)>, std::io::Error> {
    let mut buf = Vec::new();
    std::fs::File::open(format!("/proc/{pid}/environ"))?
        .take(ENVIRON_LIMIT)
        .read_to_end(&mut buf)?;
    Ok(buf
        .split(|&b| b == 0)
        .filter_map(|kv| {
            let kv = std::str::from_utf8(kv).ok()?;
            let (k, v) = kv.split_once('=')?;
            container::ENVIRON_KEYS
                .contains(&k)
                .then(|| (k.to_string(), v.to_string()))
        })
        .collect())
}

fn why(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => {
            format!("{e} (reading another user's process needs CAP_SYS_PTRACE)")
        }
        _ => e.to_string(),
    }
}

/// How long one process may take to stop for its filters to be read.
const DUMP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// [`dump::dump`] on a thread of its own, waited for at most [`DUMP_DEADLINE`]: a
/// process that does not stop (in uninterruptible sleep, frozen) cannot hold up the
/// audit. The thread stays behind; it is the tracer, and detaches when the process
/// stops at last (or detaches it by exiting with syscage).
fn dump_bounded(pid: i32) -> Result<Vec<Program>, Option<String>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("dump-{pid}"))
        .spawn(move || {
            let _ = tx.send(dump::dump(pid));
        })
        .map_err(|e| Some(format!("filters: cannot start a thread: {e}")))?;
    match rx.recv_timeout(DUMP_DEADLINE) {
        Ok(Ok(p)) => Ok(p),
        // Gone since /proc was listed.
        Ok(Err(dump::DumpError::Attach {
            errno: nix::errno::Errno::ESRCH,
            ..
        })) => Err(None),
        Ok(Err(e)) => Err(Some(format!("filters: {e}"))),
        Err(_) => Err(Some(format!(
            "filters: the process did not stop within {}s to have them read",
            DUMP_DEADLINE.as_secs()
        ))),
    }
}

/// The filter counts of each thread, from `/proc/PID/task/*/status`.
fn thread_filter_counts(pid: i32) -> Vec<Option<u32>> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let tid: i32 = e.file_name().to_str()?.parse().ok()?;
            let text = std::fs::read_to_string(e.path().join("status")).ok()?;
            Some(status::parse(tid, &text).ok()?.filters)
        })
        .collect()
}

/// A container an OCI runtime's state directory names.
struct Stated {
    container: Container,
    init: i32,
    start: Option<u64>,
}

fn runtime_state(roots: &[PathBuf]) -> Vec<Stated> {
    fn walk(dir: &Path, root: &Path, depth: u32, out: &mut Vec<Stated>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            let Some(id) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let read = |name: &str| -> Option<serde_json::Value> {
                let mut text = String::new();
                std::fs::File::open(path.join(name))
                    .ok()?
                    .take(1 << 20)
                    .read_to_string(&mut text)
                    .ok()?;
                serde_json::from_str(&text).ok()
            };
            let by_root = |default: Engine| {
                let r = root.to_string_lossy();
                if r.contains("containerd") {
                    Engine::Containerd
                } else if r.contains("docker") {
                    Engine::Docker
                } else {
                    default
                }
            };
            let number = |v: &serde_json::Value, k: &str| {
                v.get(k)
                    .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()))
            };
            if let Some(v) = read("state.json") {
                if let Some(pid) = number(&v, "init_process_pid") {
                    out.push(Stated {
                        container: Container::from_runtime_state(by_root(Engine::Runc), &id),
                        init: pid as i32,
                        start: number(&v, "init_process_start"),
                    });
                }
            } else if let Some(v) = read("status") {
                if let Some(pid) = number(&v, "pid") {
                    out.push(Stated {
                        container: Container::from_runtime_state(by_root(Engine::Crun), &id),
                        init: pid as i32,
                        start: number(&v, "process-start-time"),
                    });
                }
            } else if depth < 2 && path.is_dir() {
                walk(&path, root, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for r in roots {
        walk(r, r, 0, &mut out);
    }
    out
}

/// Enters the host's cgroup namespace (on this thread), when syscage runs in a private
/// one: `/proc/PID/cgroup` shows paths relative to the reader's namespace, and from a
/// container's (containerd and CRI-O give each its own on cgroup v2) another pod's
/// `/kubepods/burstable/pod<uid>/<id>` reads `/../../burstable/pod<uid>/<id>`. The
/// host's is kthreadd's (pid 2, when /proc shows the host's pids: kernel threads live
/// in the initial namespaces; pid 1 may not let itself be inspected), else init's.
/// Needs CAP_SYS_ADMIN; `Err` says why not.
fn host_cgroup_namespace() -> Result<(), String> {
    let kthreadd = std::fs::read_to_string("/proc/2/comm").is_ok_and(|c| c.trim() == "kthreadd");
    let host = if kthreadd {
        "/proc/2/ns/cgroup"
    } else {
        "/proc/1/ns/cgroup"
    };
    let mine = std::fs::read_link("/proc/self/ns/cgroup").map_err(|e| e.to_string())?;
    let theirs = std::fs::read_link(host).map_err(|e| format!("{host}: {e}"))?;
    if mine == theirs {
        return Ok(());
    }
    let f = std::fs::File::open(host).map_err(|e| format!("{host}: {e}"))?;
    nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWCGROUP).map_err(|e| format!("setns: {e}"))
}

/// Reads the host. `node` names it in the document.
pub fn scan(node: &str, opts: &Options) -> Scan {
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut audit = HostAudit::new(node, time, &kernel);
    if let Err(why) = host_cgroup_namespace() {
        audit.warnings.push(format!(
            "cannot enter the host's cgroup namespace ({why}): cgroup paths may be \
             relative to syscage's own, and containers outside it go unrecognised"
        ));
    }
    let me = std::process::id() as i32;

    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();

    let mut stats: HashMap<i32, Stat> = HashMap::new();
    for &pid in &pids {
        if let Some(s) = read_stat(pid) {
            stats.insert(pid, s);
        }
    }
    let stated = runtime_state(&opts.runtime_roots);
    let by_init: HashMap<i32, &Stated> = stated
        .iter()
        .filter(|s| {
            stats
                .get(&s.init)
                .is_some_and(|st| s.start.is_none_or(|t| t == st.start))
        })
        .map(|s| (s.init, s))
        .collect();
    // The state-named container a process descends from, if any.
    let stated_of = |pid: i32| -> Option<&Container> {
        let mut p = pid;
        for _ in 0..4096 {
            if let Some(s) = by_init.get(&p) {
                return Some(&s.container);
            }
            p = stats.get(&p)?.ppid;
            if p <= 1 {
                return None;
            }
        }
        None
    };

    let mut programs: BTreeMap<String, Vec<Program>> = BTreeMap::new();
    for pid in pids {
        let Some(stat) = stats.get(&pid) else {
            continue; // gone
        };
        if stat.flags & PF_KTHREAD != 0 {
            audit.kernel_threads += 1;
            continue;
        }
        let mut unreadable = Vec::new();
        let st = match status::read(pid) {
            Ok(s) => Some(s),
            Err(status::StatusError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue; // exited since /proc was listed
            }
            Err(e) => {
                unreadable.push(format!("status: {e}"));
                None
            }
        };
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if cgroup.contains(":/..") {
            unreadable.push("cgroup: relative to another cgroup namespace".into());
        }
        let env = match environ(pid) {
            Ok(v) => v,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                unreadable.push(format!("environ: {}", why(&e)));
                Vec::new()
            }
        };
        let (mut placed, mut monitor) = (None, None);
        match container::identify(&cgroup, &env) {
            Some(Placement::Container(c)) => placed = Some(c),
            Some(Placement::Monitor { engine, id }) => {
                monitor = Some(format!("{engine} {}", audit::short(&id)))
            }
            None => placed = stated_of(pid).cloned(),
        }
        let counts = thread_filter_counts(pid);
        let threads_differ = counts.windows(2).any(|w| w[0] != w[1]);
        let mut stack = None;
        let auditor = pid == me;
        if let Some(s) = &st {
            if s.mode == Mode::Filter && opts.filters && !auditor {
                match stat.state {
                    // Seizing waits for a stop these never reach (or not soon).
                    'D' => unreadable
                        .push("filters: in uninterruptible sleep (state D), not read".to_string()),
                    'Z' | 'X' => unreadable
                        .push("filters: the process has exited (a zombie), not read".into()),
                    _ => match dump_bounded(pid) {
                        Ok(progs) => {
                            let digest = audit::stack_digest(&progs);
                            programs.entry(digest.clone()).or_insert(progs);
                            stack = Some(digest);
                        }
                        Err(None) => continue,
                        Err(Some(why)) => unreadable.push(why),
                    },
                }
            }
        }
        audit.processes.push(Process {
            pid,
            name: st.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
            start: stat.start,
            mode: st.as_ref().map(|s| s.mode),
            filters: st.as_ref().and_then(|s| s.filters),
            no_new_privs: st.as_ref().map(|s| s.no_new_privs),
            stack,
            container: placed,
            monitor,
            threads_differ,
            auditor,
            unreadable,
        });
    }
    audit.stacks = programs
        .iter()
        .map(|(digest, progs)| Stack {
            digest: digest.clone(),
            filters: progs.iter().map(audit::filter_digest).collect(),
            instructions: progs.iter().map(Program::len).collect(),
            matches: None,
            layers: None,
        })
        .collect();
    Scan { audit, programs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_host_and_marks_itself() {
        let s = scan(
            "test",
            &Options {
                filters: false,
                runtime_roots: vec![],
            },
        );
        let me = std::process::id() as i32;
        let p = s
            .audit
            .processes
            .iter()
            .find(|p| p.pid == me)
            .expect("this process is listed");
        assert!(p.auditor);
        assert!(p.mode.is_some());
        assert!(
            s.audit.processes.iter().all(|p| p.pid != 2),
            "kthreadd is a kernel thread"
        );
        assert!(s.audit.kernel_threads > 0);
    }
}
