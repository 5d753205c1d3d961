//! The real container engines as the oracle (issue "The whole chain to the filter").
//!
//! Each engine Debian ships (dockerd 20.10, containerd 1.6 with `ctr`, Podman 4.3) is
//! started here with its own state directories, runs a busybox container (`sleep`), and
//! the filter the container really runs is read from its process
//! (`PTRACE_SECCOMP_GET_FILTER`, [`syscage_enforcer::dump`]). syscage's model of that
//! engine's default at the installed release (`ENGINE/default@MAJOR.MINOR`), resolved for
//! the container's real capabilities (its `CapBnd`), the running kernel, the installed
//! runc and the host's libseccomp, must give the same verdict on every boundary event.
//! Also a profile handed to the engine as a file (`--security-opt seccomp=FILE`), read
//! the way that engine reads it.
//!
//! Each engine runs twice: with its default capabilities and with every capability this
//! machine lets a container have (this VM's bounding set lacks CAP_SYS_RESOURCE), so
//! the capability-gated rules are compared as well.
//!
//! Needs root, runc, busybox (busybox-static) and the engines (`docker.io`,
//! `containerd`, `podman`). Outside CI a missing engine is skipped, saying why; under CI
//! every engine must run. Every daemon started is stopped by PID, whatever happens.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use syscage_core::arch::Arch;
use syscage_core::builtin::catalog::{self, ContainerEngine};
use syscage_core::policy::{resolve, Target};
use syscage_core::profile::{self, KernelVersion, Profile, Runtime};
use syscage_core::runtime::Release;
use syscage_tests::{real_filter_equals_reference, skip_unless_ci};

/// Every capability Docker 20.10 knows but CAP_SYS_RESOURCE (absent here).
const DOCKER_ALL: &[&str] = &["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE"];

/// A daemon this test started; dropping it stops it by PID (SIGTERM, then SIGKILL).
struct Daemon {
    name: &'static str,
    child: Child,
}

impl Daemon {
    /// Starts `cmd` with its output in `log`.
    fn start(name: &'static str, cmd: &mut Command, log: &Path) -> Daemon {
        let log = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        Daemon { name, child }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{} (pid {pid}) did not stop on SIGTERM: killed", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-engines-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Output of a command that must succeed.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A busybox-static root filesystem, as a directory and as a tarball.
fn rootfs(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("rootfs");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    for applet in ["sh", "sleep", "true"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    for d in ["proc", "dev", "sys", "tmp", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let tar = dir.join("rootfs.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    (root, tar)
}

/// The running kernel's `major.minor`.
fn kernel() -> KernelVersion {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The bounding capabilities of process `pid`.
fn caps_of(pid: i32) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    syscage_core::caps::from_mask(mask)
}

/// What the suite saw.
#[derive(Default)]
struct Tally {
    containers: usize,
    events: usize,
    tolerated: usize,
}

/// Compares the filter on `pid` with `model` resolved for that container.
fn compare(what: &str, model: &Profile, pid: i32, tally: &mut Tally) {
    compare_under(Runtime::Runc, what, model, pid, tally)
}

/// [`compare`] for a container `runtime` started.
fn compare_under(runtime: Runtime, what: &str, model: &Profile, pid: i32, tally: &mut Tally) {
    let mut target = Target::new(Arch::X86_64, kernel());
    target.caps = caps_of(pid).into_iter().collect();
    target.runtime = runtime;
    target.release = syscage_enforcer::host::installed_release(runtime);
    target.libseccomp = syscage_enforcer::host::libseccomp().expect("libseccomp.so.2 loads");
    let policy = resolve(model, &target).unwrap_or_else(|e| panic!("{what}: {e}"));
    let filters = syscage_enforcer::dump::dump(pid).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(filters.len(), 1, "{what}: one filter on the container");
    let (events, tolerated) = real_filter_equals_reference(what, &policy, &filters[0]);
    eprintln!(
        "{what}: {} capabilities, {events} events agree ({tolerated} on syscalls libseccomp \
         2.5.4's codegen bug touches)",
        target.caps.len()
    );
    tally.containers += 1;
    tally.events += events;
    tally.tolerated += tolerated;
}

/// syscage's model of `engine`'s default at `release`; a release not modelled fails
/// under CI and skips elsewhere.
fn model(engine: ContainerEngine, release: Release) -> Option<Profile> {
    match catalog::find(engine, Some(release)) {
        Ok(d) => Some(
            profile::parse(&format!("builtin:{}", d.name()), &d.text(), Runtime::Runc).unwrap(),
        ),
        Err(e) => {
            skip_unless_ci(&format!("{engine} {release}"), &e.to_string());
            None
        }
    }
}

/// A Docker-format profile as a file: the model of another engine's default (rich in
/// capability, architecture and kernel conditions), for `--security-opt seccomp=FILE`.
fn localhost(dir: &Path, name: &str) -> (PathBuf, Profile) {
    let d = syscage_core::builtin::engine_default(name)
        .unwrap()
        .unwrap();
    let path = dir.join(format!("{}.json", name.replace('/', "-")));
    std::fs::write(&path, d.text()).unwrap();
    let p = profile::parse(&path.display().to_string(), &d.text(), Runtime::Runc).unwrap();
    (path, p)
}

/// docker/default@29.7 with containers/common's own fields added — `defaultErrno`
/// ENOSYS over `defaultErrnoRet` 1, a rule answering `acct` with `errno` EACCES — and a
/// rule gated on `minKernel` 99.0 allowing `vhangup`: dockerd ignores the first two and
/// honours the third, Podman and CRI-O the opposite ([`syscage_core::localhost`]).
fn common_fields(dir: &Path, engine: ContainerEngine) -> (PathBuf, Profile) {
    let d = syscage_core::builtin::engine_default("docker/default@29.7")
        .unwrap()
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&d.text()).unwrap();
    v["defaultErrno"] = "ENOSYS".into();
    let rules = v["syscalls"].as_array_mut().unwrap();
    rules.push(
        serde_json::json!({"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"}),
    );
    rules.push(serde_json::json!({"names": ["vhangup"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}));
    let text = serde_json::to_string_pretty(&v).unwrap();
    let path = dir.join("common-fields.json");
    std::fs::write(&path, &text).unwrap();
    let read =
        syscage_core::localhost::read(engine, &path.display().to_string(), &text, Runtime::Runc)
            .unwrap();
    assert!(!read.ignored.is_empty(), "{engine} ignores something here");
    (path, read.profile)
}

/// Waits until `check` succeeds (a daemon's socket answering), up to 60 s.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what} did not come up in 60 s");
}

fn docker(dir: &Path, tar: &Path, tally: &mut Tally) {
    let d = dir.join("docker");
    std::fs::create_dir_all(&d).unwrap();
    let sock = format!("unix://{}", d.join("docker.sock").display());
    let _daemon = Daemon::start(
        "dockerd",
        Command::new("dockerd")
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--ip-masq=false",
                "--shutdown-timeout=2",
            ])
            .arg("--data-root")
            .arg(d.join("root"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .args(["-H", &sock]),
        &d.join("dockerd.log"),
    );
    let cli = || {
        let mut c = Command::new("docker");
        c.args(["-H", &sock]);
        c
    };
    wait_for("dockerd", || {
        cli()
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let version: Release = run(cli().args(["version", "--format", "{{.Server.Version}}"]))
        .parse()
        .unwrap();
    let Some(default) = model(ContainerEngine::Docker, version) else {
        return;
    };
    run(cli().arg("import").arg(tar).arg("syscage-bb:1"));
    let (file, file_profile) = localhost(&d, "docker/default@29.7");
    let seccomp_file = format!("seccomp={}", file.display());
    let (common, common_profile) = common_fields(&d, ContainerEngine::Docker);
    let seccomp_common = format!("seccomp={}", common.display());
    let cases: [(&str, &Profile, Vec<&str>); 4] = [
        ("default profile, default capabilities", &default, vec![]),
        (
            "a file with containers/common's fields, default capabilities",
            &common_profile,
            vec!["--security-opt", seccomp_common.as_str()],
        ),
        (
            "default profile, every capability",
            &default,
            DOCKER_ALL.to_vec(),
        ),
        (
            "docker/default@29.7 as a file, every capability",
            &file_profile,
            [DOCKER_ALL, &["--security-opt", seccomp_file.as_str()]].concat(),
        ),
    ];
    for (i, (what, profile, args)) in cases.iter().enumerate() {
        let name = format!("syscage-{i}");
        run(cli()
            .args(["run", "-d", "--network", "none", "--name", &name])
            .args(args)
            .args(["syscage-bb:1", "/bin/sleep", "60"]));
        let pid: i32 = run(cli().args(["inspect", "-f", "{{.State.Pid}}", &name]))
            .parse()
            .unwrap();
        compare(&format!("dockerd {version}, {what}"), profile, pid, tally);
        if i == 0 {
            // `syscage audit` finds the container by Docker's cgroup name.
            let id = run(cli().args(["inspect", "-f", "{{.Id}}", &name]));
            let container = audited_container(pid);
            assert_eq!(container["engine"], "docker", "{container}");
            assert_eq!(container["id"].as_str(), Some(id.as_str()), "{container}");
        }
        run(cli().args(["rm", "-f", &name]));
    }
}

/// The container `syscage audit` attributes process `pid` to.
fn audited_container(pid: i32) -> serde_json::Value {
    let o = Command::new(syscage_tests::syscage_bin())
        .args(["audit", "--format", "json", "--no-filters"])
        .output()
        .unwrap();
    // Exit 1 is a finding (an unconfined container somewhere on the host).
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == serde_json::json!(pid))
        .map(|p| p["container"].clone())
        .unwrap_or_else(|| panic!("process {pid} is not in the audit"))
}

fn containerd(dir: &Path, root: &Path, tally: &mut Tally) {
    let d = dir.join("containerd");
    std::fs::create_dir_all(&d).unwrap();
    let sock = d.join("containerd.sock");
    let config = d.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "version = 2\nroot = \"{}\"\nstate = \"{}\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \"{}\"\n",
            d.join("root").display(),
            d.join("state").display(),
            sock.display()
        ),
    )
    .unwrap();
    let _daemon = Daemon::start(
        "containerd",
        Command::new("containerd").arg("--config").arg(&config),
        &d.join("containerd.log"),
    );
    let ctr = || {
        let mut c = Command::new("ctr");
        c.arg("-a").arg(&sock);
        c
    };
    wait_for("containerd", || {
        ctr()
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    // `containerd github.com/containerd/containerd 1.6.20~ds1 <commit>`
    let version: Release = run(Command::new("containerd").arg("--version"))
        .split_whitespace()
        .nth(2)
        .expect("containerd --version names a version")
        .parse()
        .unwrap();
    let Some(default) = model(ContainerEngine::Containerd, version) else {
        return;
    };
    let mut every = Vec::new();
    for cap in syscage_core::caps::NAMES {
        if cap != "CAP_SYS_RESOURCE" {
            every.extend(["--cap-add", cap]);
        }
    }
    // A Docker-format file, read as containerd reads it (syscage_core::localhost): no
    // archMap, every rule for every container.
    let (file, _) = localhost(&d, "docker/default@29.7");
    let text = std::fs::read_to_string(&file).unwrap();
    let read = syscage_core::localhost::read(
        ContainerEngine::Containerd,
        &file.display().to_string(),
        &text,
        Runtime::Runc,
    )
    .unwrap();
    assert_eq!(read.ignored.len(), 2, "{:?}", read.ignored);
    let file_arg = file.display().to_string();
    let cases: [(&str, &Profile, Vec<&str>); 3] = [
        ("default profile, default capabilities", &default, vec![]),
        ("default profile, every capability", &default, every),
        (
            "docker/default@29.7 as a file (--seccomp-profile), default capabilities",
            &read.profile,
            vec!["--seccomp-profile", file_arg.as_str()],
        ),
    ];
    for (i, (what, profile, args)) in cases.iter().enumerate() {
        let id = format!("syscage-{i}");
        run(ctr()
            .args(["run", "-d", "--seccomp", "--rootfs"])
            .args(args)
            .arg(root)
            .args([&id, "/bin/sleep", "60"]));
        let tasks = run(ctr().args(["task", "ls"]));
        let pid: i32 = tasks
            .lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(id.as_str())).then(|| f.next().unwrap().parse().unwrap())
            })
            .expect("the task is listed");
        compare(
            &format!("containerd {version}, {what}"),
            profile,
            pid,
            tally,
        );
        if i == 0 {
            bundled_pod_on_bundled_node(version, &caps_of(pid), pid, tally);
        }
        run(ctr().args(["task", "kill", "-s", "KILL", &id]));
        let deadline = Instant::now() + Duration::from_secs(10);
        while ctr()
            .args(["task", "rm", &id])
            .output()
            .is_ok_and(|o| !o.status.success())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        run(ctr().args(["container", "rm", &id]));
    }
}

/// The bundled example's container under the bundled node (containerd 1.6): the chain
/// syscage follows must end in the filter ctr's default gives, with the capabilities
/// the real container has.
fn bundled_pod_on_bundled_node(
    version: Release,
    real_caps: &[String],
    pid: i32,
    tally: &mut Tally,
) {
    let root = syscage_tests::repo_root();
    let node_path = root.join("examples/platform/node.yaml");
    let node_text = std::fs::read_to_string(&node_path).unwrap();
    let node = syscage_core::chain::Node::parse("examples/platform/node.yaml", &node_text).unwrap();
    let pod = std::fs::read_to_string(root.join("examples/platform/pod.json")).unwrap();
    let opts = syscage_core::platform::kubernetes::Options {
        seccomp_root: node.seccomp_profile_root.value.clone(),
        seccomp_default: node.seccomp_default.value,
        kubelet: node.kubelet.value,
        api_server: node.api_server.value,
    };
    let w = syscage_core::platform::kubernetes::resolve("pod.json", &pod, &opts, Some("sidecar"))
        .unwrap();
    let chain = syscage_core::chain::follow(&w.containers[0], &node).unwrap();
    assert_eq!(
        chain.filter.profile_spec(),
        format!("containerd/default@{}.{}", version.major, version.minor),
        "{}",
        chain.line()
    );
    let mut want = chain.caps.clone();
    want.sort();
    let mut got = real_caps.to_vec();
    got.sort();
    assert_eq!(
        want, got,
        "containerd's default capabilities: the model against the container"
    );
    let syscage_core::chain::Filter::Builtin(d) = chain.filter else {
        unreachable!()
    };
    let model = profile::parse("chain", &d.text(), Runtime::Runc).unwrap();
    compare(
        &format!("containerd {version}, the bundled pod's sidecar on the bundled node"),
        &model,
        pid,
        tally,
    );
}

fn podman(dir: &Path, tar: &Path, tally: &mut Tally) {
    let d = dir.join("podman");
    std::fs::create_dir_all(&d).unwrap();
    let cli = || syscage_tests::containers::podman(&d);
    // `podman version 4.3.1`
    let version: Release = run(Command::new("podman").arg("--version"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let Some(default) = model(ContainerEngine::Podman, version) else {
        return;
    };
    run(cli().arg("import").arg(tar).arg("syscage-bb:1"));
    let (file, file_profile) = localhost(&d, "podman/default@5.8");
    let seccomp_file = format!("seccomp={}", file.display());
    let every = ["--cap-add", "all"];
    let (common, common_profile) = common_fields(&d, ContainerEngine::Podman);
    let seccomp_common = format!("seccomp={}", common.display());
    let cases: [(&str, &Profile, Vec<&str>); 4] = [
        ("default profile, default capabilities", &default, vec![]),
        (
            "a file with containers/common's fields, default capabilities",
            &common_profile,
            vec!["--security-opt", seccomp_common.as_str()],
        ),
        (
            "default profile, every capability",
            &default,
            every.to_vec(),
        ),
        (
            "podman/default@5.8 as a file, every capability",
            &file_profile,
            [&every[..], &["--security-opt", seccomp_file.as_str()]].concat(),
        ),
    ];
    // `podman run -d` of one case under `runtime`, as a command line.
    let run_line = |runtime: Runtime, name: &str, args: &[&str]| -> Vec<String> {
        let mut line: Vec<String> = [
            "podman",
            "--root",
            &d.join("root").display().to_string(),
            "--runroot",
            &d.join("runroot").display().to_string(),
            "--cgroup-manager=cgroupfs",
            "--events-backend=file",
            "run",
            "-d",
            "--runtime",
            &runtime.to_string(),
            "--network",
            "none",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "--name",
            name,
        ]
        .map(String::from)
        .to_vec();
        line.extend(args.iter().map(|a| a.to_string()));
        line.extend(["localhost/syscage-bb:1", "/bin/sleep", "60"].map(String::from));
        line
    };
    // Under crun, Podman's default runtime, too: on this hybrid-cgroup machine crun
    // 1.8.1 needs the unified hierarchy out of its way, so Podman runs in its own mount
    // namespace with it unmounted (the container keeps that namespace). Two cases.
    let with_crun = on_path("crun");
    if !with_crun {
        skip_unless_ci("Podman under crun", "crun is not on PATH (Debian: crun)");
    }
    let runs = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (Runtime::Runc, i, c))
        .chain(
            cases
                .iter()
                .enumerate()
                .take(if with_crun { 2 } else { 0 })
                .map(|(i, c)| (Runtime::Crun, i, c)),
        );
    for (runtime, i, (what, profile, args)) in runs {
        let name = format!("syscage-{runtime}-{i}");
        let line = run_line(runtime, &name, args);
        match runtime {
            Runtime::Runc => run(Command::new(&line[0]).args(&line[1..])),
            Runtime::Crun => {
                let quoted: Vec<String> = line.iter().map(|a| format!("'{a}'")).collect();
                run(Command::new("unshare")
                    .args(["-m", "sh", "-c"])
                    .arg(format!(
                        "umount -l /sys/fs/cgroup/unified 2>/dev/null; exec {}",
                        quoted.join(" ")
                    )))
            }
        };
        let pid: i32 = run(cli().args(["inspect", "-f", "{{.State.Pid}}", &name]))
            .parse()
            .unwrap();
        if (runtime, i) == (Runtime::Runc, 0) {
            let mut got = caps_of(pid);
            got.sort();
            let mut want: Vec<String> = syscage_core::caps::PODMAN_DEFAULT
                .iter()
                .map(|c| c.to_string())
                .collect();
            want.sort();
            assert_eq!(
                got, want,
                "Podman's default capabilities: the model against the container"
            );
        }
        let what = match runtime {
            Runtime::Runc => format!("podman {version}, {what}"),
            Runtime::Crun => format!("podman {version} with crun, {what}"),
        };
        compare_under(runtime, &what, profile, pid, tally);
        run(cli().args(["rm", "-f", "-t", "0", &name]));
    }
}

/// One engine's part of the suite.
type Run<'a> = &'a dyn Fn(&mut Tally);

#[test]
fn syscage_equals_the_real_engines() {
    if !running_as_root() {
        skip_unless_ci("the real-engine suite", "needs root");
        return;
    }
    for tool in ["runc", "busybox", "tar"] {
        if !on_path(tool) {
            skip_unless_ci("the real-engine suite", &format!("{tool} is not on PATH"));
            return;
        }
    }
    if let Err(why) = syscage_enforcer::oracle::available() {
        skip_unless_ci("the real-engine suite", &why);
        return;
    }
    let dir = tempdir();
    let (root, tar) = rootfs(&dir);
    let mut tally = Tally::default();
    let engines: [(&str, &str, Run<'_>); 3] = [
        ("dockerd", "docker.io", &|t| docker(&dir, &tar, t)),
        ("containerd", "containerd", &|t| containerd(&dir, &root, t)),
        ("podman", "podman", &|t| podman(&dir, &tar, t)),
    ];
    for (tool, package, go) in engines {
        if !on_path(tool) {
            skip_unless_ci(
                &format!("the {tool} comparison"),
                &format!("{tool} is not on PATH (Debian: {package})"),
            );
            continue;
        }
        go(&mut tally);
    }
    eprintln!(
        "real engines: {} containers, {} events, 0 disagreements ({} on syscalls libseccomp \
         2.5.4's codegen bug touches)",
        tally.containers, tally.events, tally.tolerated
    );
    let _ = std::fs::remove_dir_all(&dir);
}
