//! syscage-enforcer: where syscage touches a real Linux kernel.
//!
//! It installs what `syscage-core` compiled and runs a command under it ([`install`],
//! [`exec`]), asks the running kernel what it returns for a syscall without running the
//! syscall ([`oracle`], x86_64 only), reads the seccomp state and the installed filters of
//! live processes ([`status`], [`dump`]) and of a whole host ([`audit`]) or as a runtime installs them ([`capture`]), records
//! what a program does, call by call, under ptrace ([`record`], x86_64 only), runs a
//! command in complain mode, reporting what its profiles would stop ([`permissive`],
//! x86_64 only), asks the host's own libseccomp what it knows and builds ([`libseccomp`], loaded at run time), and compares engines ([`differential`];
//! [`observe`] says how a kernel observation relates to an engine's return value;
//! [`random_profile`] is what the random profiles compared on are made of).
//!
//! Everything OS-specific is Linux-only: on other systems this crate is empty, so the
//! workspace still builds there.

#[cfg(target_os = "linux")]
pub mod audit;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod capture;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod differential;
#[cfg(target_os = "linux")]
pub mod dump;
#[cfg(target_os = "linux")]
pub mod exec;
#[cfg(target_os = "linux")]
pub mod host;
#[cfg(target_os = "linux")]
pub mod install;
#[cfg(target_os = "linux")]
pub mod libseccomp;
pub mod observe;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod oracle;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod permissive;
pub mod random_profile;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod record;
#[cfg(target_os = "linux")]
pub mod status;
