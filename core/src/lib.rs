//! syscage-core: seccomp profiles in, verdicts out — pure computation.
//!
//! Data flows one way:
//!
//! ```text
//! profile text --profile--> Profile --policy::resolve--> Policy --eval--> Verdict
//!                                                           \--bpf::compile--> Program --bpf::interp--> Verdict
//! ```
//!
//! * [`arch`], [`syscalls`], [`action`], [`event`]: the vocabulary (architectures and their
//!   syscall tables, `SECCOMP_RET_*` actions, `seccomp_data` and trace events).
//! * [`profile`]: format-faithful models of OCI, Docker/moby, OCI-bundle and seccompiler
//!   JSON profiles, with errors that name the file, line and JSON path.
//! * [`policy`]: a profile resolved for one target (arch, capabilities, kernel, runtime) into
//!   the normalized IR every engine consumes, each rule carrying its provenance.
//! * [`eval`]: the reference engine — the specification of what a policy returns.
//! * [`bpf`]: classic BPF: program model, validator, kernel-exact interpreter, compiler,
//!   disassembler.
//! * [`trace`]: JSON Lines and strace readers.
//! * [`report`]: verdict summaries for people and JSON for machines.
//! * [`caps`]: capability names and the sets engines grant by default.
//! * [`libseccomp`]: which syscall names the runtime's libseccomp resolves.
//! * [`localhost`]: how each container engine reads a profile file it is handed.
//! * [`runtime`]: runc and crun by release, and what changed between releases.
//! * [`chain`]: the node below the platform (engine, runtime, libseccomp, kernel) and
//!   one container followed down it to its filter.
//! * [`distinguish`]: the events that tell policies apart (verdict equivalence).
//! * [`diff`]: the verdict-level difference between two filters, by architecture,
//!   syscall and argument region.
//! * [`lint`]: findings about a profile or a raw filter, with stable ids, places and
//!   fixes; SARIF for code scanning.
//! * [`identify`]: which profile a filter (a live process's, as installed) is.
//! * [`generate`]: the smallest profile that runs what a trace shows (or the smallest
//!   widening of a base), written in each deployable format and verified by replay.
//! * [`merge`]: the union of profiles, verdict-exact, with its conflicts explained.
//! * [`container`]: which container (engine, ID, Kubernetes pod, Marathon app) a
//!   process's cgroup and environment name.
//! * [`audit`]: one host's seccomp state (every process's mode, stack digest and
//!   container) and what an operator must act on.
//! * [`shard`]: splitting a numbered run of fuzz cases across workers, and what each
//!   shard reports.
//! * [`cluster`]: many hosts' audits and many shards merged into one view.
//! * [`platform`]: which profile Kubernetes, OpenShift or DC/OS-Mesos applies to a workload.
//!
//! No module here makes an OS call: the crate builds for `wasm32-unknown-unknown`.
pub mod action;
pub mod arch;
pub mod audit;
pub mod bpf;
pub mod builtin;
pub mod caps;
pub mod chain;
pub mod cluster;
pub mod container;
pub mod diff;
pub mod distinguish;
pub mod engine;
pub mod eval;
pub mod event;
pub mod generate;
pub mod identify;
pub mod libseccomp;
pub mod lint;
pub mod localhost;
pub mod merge;
pub mod platform;
pub mod policy;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod shard;
pub mod syscalls;
pub mod trace;
