//! Reading inputs: profiles (builtin names or files), traces (files or stdin), and the
//! target options shared by every subcommand that resolves a profile.

use std::collections::BTreeSet;
use std::io::Read;

use anyhow::{bail, Context, Result};
use clap::Args;
use syscage_core::arch::Arch;
use syscage_core::builtin;
use syscage_core::libseccomp::Libseccomp;
use syscage_core::policy::{Policy, Target, DOCKER_DEFAULT_CAPS};
use syscage_core::profile::{self, AnyProfile, KernelVersion, Runtime};
use syscage_core::runtime::{Release, RuntimeRelease};

use crate::input::{self, Kind};

/// The target a profile is resolved for.
#[derive(Args, Clone, Debug, Default)]
pub struct TargetArgs {
    /// Native architecture of the host the profile runs on (x86_64, aarch64, ...).
    /// Sub-architectures come from the profile (`architectures`, `archMap`).
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<Arch>,
    /// The container's capabilities, comma-separated (`CAP_` optional). Default:
    /// Docker's default set. `none` for no capabilities.
    #[arg(long, value_name = "CAPS")]
    pub caps: Option<String>,
    /// Kernel version for `minKernel` conditions and seccomp bypasses (major.minor).
    /// Default: the running kernel.
    #[arg(long, value_name = "VERSION")]
    pub kernel: Option<KernelVersion>,
    /// Which runtime installs the profile, optionally at a release: runc, crun,
    /// runc@1.1.5, crun@1.8. runc adds its ENOSYS stub, crun does not; what changed
    /// between releases is modelled (runc before 1.1.15 builds the stub only for the
    /// architectures the profile lists, runc 1.1 refuses `flags`). Default: runc.
    /// Without a release, the one installed here (`runc --version` on PATH), else the
    /// newest modelled.
    #[arg(long, value_name = "RUNTIME[@RELEASE]")]
    pub runtime: Option<RuntimeRelease>,
    /// Which libseccomp the runtime links, for the syscall names it knows (runc and crun
    /// skip rules naming syscalls it does not): `host` asks this machine's
    /// libseccomp.so.2 (else the newest tabulated), a release (2.5.0 ... 2.6.1, or 2.5
    /// for its newest patch release) uses libseccomp's own table of that release,
    /// `latest` the newest tabulated. Default: host.
    #[arg(long, value_name = "host|VERSION|latest")]
    pub libseccomp: Option<String>,
}

impl TargetArgs {
    pub fn target(&self) -> Result<Target> {
        let kernel = match self.kernel {
            Some(k) => k,
            None => running_kernel()?,
        };
        let mut t = Target::new(self.arch.unwrap_or_else(Arch::host), kernel);
        let runtime = self.runtime.unwrap_or_default();
        t.runtime = runtime.runtime;
        t.release = runtime
            .release
            .or_else(|| syscage_enforcer::host::installed_release(runtime.runtime));
        t.libseccomp = match self.libseccomp.as_deref().unwrap_or("host") {
            "host" => syscage_enforcer::host::libseccomp().unwrap_or_else(Libseccomp::latest),
            "latest" => Libseccomp::latest(),
            v => {
                let r: Release = v
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--libseccomp: {e}"))?;
                Libseccomp::release(r).map_err(|e| anyhow::anyhow!("--libseccomp: {e}"))?
            }
        };
        if let Some(caps) = &self.caps {
            t.caps = parse_caps(caps)?;
        }
        Ok(t)
    }
}

fn parse_caps(list: &str) -> Result<BTreeSet<String>> {
    if list.trim().eq_ignore_ascii_case("none") || list.trim().is_empty() {
        return Ok(BTreeSet::new());
    }
    if list.trim().eq_ignore_ascii_case("default") {
        return Ok(DOCKER_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect());
    }
    list.split(',')
        .map(|c| {
            let c = c.trim().to_ascii_uppercase();
            let c = if c.starts_with("CAP_") {
                c
            } else {
                format!("CAP_{c}")
            };
            if c.len() <= 4
                || !c[4..]
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch == '_')
            {
                bail!("--caps: {c:?} is not a capability name (e.g. CAP_SYS_ADMIN or sys_admin)");
            }
            Ok(c)
        })
        .collect()
}

/// The running kernel's version, from `/proc/sys/kernel/osrelease`.
fn running_kernel() -> Result<KernelVersion> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .context("cannot read the running kernel's version; pass --kernel MAJOR.MINOR")?;
    release
        .trim()
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{e}; pass --kernel MAJOR.MINOR"))
}

/// A profile by builtin name (`runtime/default`, `unconfined`) or path; `FILE#NAME`
/// picks the filter `NAME` of a seccompiler JSON file.
pub fn profile(spec: &str, runtime: Runtime) -> Result<AnyProfile> {
    if let Some(p) = builtin::lookup(spec, runtime) {
        return Ok(AnyProfile::Oci(p?));
    }
    let (file, filter) = split_spec(spec);
    let (path, text) = profile_text(file)?;
    Ok(profile::parse_any(&path, &text, runtime, filter)?)
}

/// `FILE#NAME` -> (`FILE`, `NAME`) when `FILE` exists and the whole spec does not (a
/// file whose name contains `#` stays readable); anything else is a plain path.
pub fn split_spec(spec: &str) -> (&str, Option<&str>) {
    let exists =
        |p: &str| input::exists(p) || p.strip_prefix("localhost/").is_some_and(input::exists);
    if exists(spec) {
        return (spec, None);
    }
    match spec.rsplit_once('#') {
        Some((file, name)) if exists(file) => (file, Some(name)),
        _ => (spec, None),
    }
}

/// The path and text of a profile file (not a builtin): read within the profile size
/// limit, and checked to be UTF-8.
pub fn profile_text(spec: &str) -> Result<(String, String)> {
    let path = spec
        .strip_prefix("localhost/")
        .filter(|p| input::exists(p))
        .unwrap_or(spec);
    if !input::exists(path) && path != "-" {
        bail!(
            "cannot read profile {path:?} (not a file, nor a builtin: {})",
            builtin::names().join(", ")
        );
    }
    let text = input::read_text(path, Kind::Profile)?;
    Ok((path.to_string(), text))
}

/// A profile file read the way container engine `engine` reads it
/// (`syscage_core::localhost`), or as [`profile`] reads it when `engine` is `None` or
/// `spec` is a builtin.
pub fn profile_read_as(
    spec: &str,
    runtime: Runtime,
    reader: Option<syscage_core::localhost::Reader>,
) -> Result<AnyProfile> {
    match reader {
        Some(r) if !builtin::is_builtin(spec) => {
            let (path, text) = profile_text(spec)?;
            Ok(AnyProfile::Oci(
                syscage_core::localhost::read_by(r, &path, &text, runtime)?.profile,
            ))
        }
        _ => profile(spec, runtime),
    }
}

/// Resolves each profile for the target, printing the profile warnings to stderr.
pub fn policies(specs: &[String], t: &TargetArgs, quiet: bool) -> Result<Vec<Policy>> {
    policies_read_as(specs, t, quiet, None)
}

/// [`policies`], with profile files read as `reader` (an engine, or Mesos) reads them.
pub fn policies_read_as(
    specs: &[String],
    t: &TargetArgs,
    quiet: bool,
    engine: Option<syscage_core::localhost::Reader>,
) -> Result<Vec<Policy>> {
    let target = t.target()?;
    specs
        .iter()
        .map(|spec| {
            let p = profile_read_as(spec, target.runtime, engine)?;
            let policy = syscage_core::policy::resolve_any(&p, &target)?;
            if !quiet {
                for w in &policy.warnings {
                    eprintln!("syscage: warning: {w}");
                }
            }
            Ok(policy)
        })
        .collect()
}

/// How much of a trace is read at a time.
pub const TRACE_CHUNK: usize = 1 << 20;

/// Streams the traces (standard input when none is given, or `-`), in order, to `each`
/// in chunks of at most [`TRACE_CHUNK`] bytes: `each(name, bytes, last)`, where `last`
/// marks a trace's final (possibly empty) chunk. Memory: one chunk.
pub fn trace_chunks(
    paths: &[String],
    mut each: impl FnMut(&str, &[u8], bool) -> Result<()>,
) -> Result<()> {
    let stdin = ["-".to_string()];
    let paths = if paths.is_empty() { &stdin[..] } else { paths };
    let mut buf = vec![0u8; TRACE_CHUNK];
    for path in paths {
        let name = input::display_name(path);
        let mut r = input::open(path, Kind::Trace)?;
        loop {
            let n =
                fill(&mut r, &mut buf).with_context(|| format!("cannot read trace {name:?}"))?;
            let last = n < buf.len();
            each(name, &buf[..n], last)?;
            if last {
                break;
            }
        }
    }
    Ok(())
}

/// Reads the traces (as [`trace_chunks`] streams them, the format detected per trace)
/// and hands each event to `each` with the trace's name, in order; trace warnings go to
/// standard error unless `quiet`. A trace error names the trace.
pub fn trace_events(
    paths: &[String],
    arch: syscage_core::arch::Arch,
    quiet: bool,
    mut each: impl FnMut(&str, syscage_core::event::Event) -> Result<()>,
) -> Result<()> {
    use syscage_core::trace::TraceReader;
    let mut reader: Option<TraceReader> = None;
    let mut events = Vec::new();
    trace_chunks(paths, |name, bytes, last| {
        let r = reader.get_or_insert_with(|| TraceReader::new(arch));
        let mut read = r.feed(bytes, &mut events);
        if last && read.is_ok() {
            read = r.finish(&mut events);
        }
        if !quiet {
            for w in r.take_warnings() {
                eprintln!("syscage: warning: {name}: {w}");
            }
        }
        read.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        for event in events.drain(..) {
            each(name, event)?;
        }
        if last {
            reader = None;
        }
        Ok(())
    })
}

/// Checks, before any expensive work, that every trace can be opened (see
/// [`input::open`]): a FIFO or a missing file is reported at once.
pub fn check_traces(paths: &[String]) -> Result<()> {
    for path in paths.iter().filter(|p| *p != "-") {
        if let Some(why) = input::refusal(path) {
            bail!("cannot read trace {path:?}: {why}");
        }
    }
    Ok(())
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
