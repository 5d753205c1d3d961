//! The host's own libseccomp, loaded at run time (`libseccomp.so.2`, the runtime
//! library nearly every Linux has) rather than linked: building syscage needs no
//! `libseccomp-dev`, and a machine without the library gets a clear
//! [`LoadError`] instead of a link failure.
//!
//! This module owns the binding: which C functions are used, their signatures (from
//! libseccomp's `seccomp.h`, stable across 2.x), and a safe [`Filter`] around a
//! `scmp_filter_ctx`. It answers what the real library answers — which names it
//! resolves on each arch, what it refuses (the negative errno of each call), the
//! program it exports — and models nothing: the tests use it as an oracle, the
//! comparison benchmarks as a competitor, and syscage can ask it which syscalls the
//! host's runtimes can name. It does not convert profiles to rules (that is the caller's
//! choice: runc's way, usually) and does not install filters ([`crate::install`]).

use std::ffi::{c_char, c_int, c_uint, c_void, CString};
use std::fmt;
use std::io::{Read, Seek};
use std::sync::{Arc, OnceLock};

use libloading::Library;

/// The file name `dlopen` is asked for: the ABI-stable runtime library.
pub const SONAME: &str = "libseccomp.so.2";

/// Why the host's libseccomp cannot be used.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot load {SONAME} (install the libseccomp runtime library, e.g. Debian's libseccomp2): {0}")]
    Open(String),
    #[error("{SONAME} has no symbol {symbol}: {message}")]
    Symbol {
        symbol: &'static str,
        message: String,
    },
}

/// A libseccomp call that failed: the function and the negative errno it returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{call} failed: {}", errno_text(*errno))]
pub struct CallError {
    pub call: &'static str,
    /// The (positive) errno, e.g. `libc::EEXIST`.
    pub errno: i32,
}

fn errno_text(errno: i32) -> String {
    format!(
        "{} (errno {errno})",
        std::io::Error::from_raw_os_error(errno)
    )
}

/// libseccomp's version, as `seccomp_version()` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// `enum scmp_compare` (seccomp.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CmpOp {
    Ne = 1,
    Lt = 2,
    Le = 3,
    Eq = 4,
    Ge = 5,
    Gt = 6,
    MaskedEq = 7,
}

/// `struct scmp_arg_cmp` (seccomp.h): for `MaskedEq`, `datum_a` is the mask and
/// `datum_b` the value; otherwise `datum_a` is the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct ArgCmp {
    pub arg: c_uint,
    pub op: CmpOp,
    pub datum_a: u64,
    pub datum_b: u64,
}

/// `enum scmp_filter_attr` (seccomp.h), the attributes syscage sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Attr {
    /// The action for an architecture not in the filter.
    ActBadArch = 2,
    /// Whether loading sets no_new_privs (irrelevant to export).
    CtlNnp = 3,
    /// 1: priority/sorted (the default), 2: binary tree.
    CtlOptimize = 8,
}

#[repr(C)]
struct RawVersion {
    major: c_uint,
    minor: c_uint,
    micro: c_uint,
}

type Ctx = *mut c_void;

/// The functions syscage calls, resolved once.
struct Api {
    init: unsafe extern "C" fn(u32) -> Ctx,
    release: unsafe extern "C" fn(Ctx),
    arch_add: unsafe extern "C" fn(Ctx, u32) -> c_int,
    arch_exist: unsafe extern "C" fn(Ctx, u32) -> c_int,
    arch_resolve_name: unsafe extern "C" fn(*const c_char) -> u32,
    attr_set: unsafe extern "C" fn(Ctx, c_uint, u32) -> c_int,
    resolve_name: unsafe extern "C" fn(*const c_char) -> c_int,
    resolve_name_arch: unsafe extern "C" fn(u32, *const c_char) -> c_int,
    rule_add_array: unsafe extern "C" fn(Ctx, u32, c_int, c_uint, *const ArgCmp) -> c_int,
    export_bpf: unsafe extern "C" fn(Ctx, c_int) -> c_int,
    version: unsafe extern "C" fn() -> *const RawVersion,
}

/// The loaded library. Cheap to clone; the library stays loaded while any clone or
/// [`Filter`] lives.
#[derive(Clone)]
pub struct Libseccomp {
    api: Arc<Api>,
    // Keeps the code behind `api` mapped. Declared after `api`, dropped after it.
    _lib: Arc<Library>,
}

impl fmt::Debug for Libseccomp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Libseccomp({})", self.version())
    }
}

static SHARED: OnceLock<Result<Libseccomp, LoadError>> = OnceLock::new();

impl Libseccomp {
    /// The host's library, loaded on first use and shared afterwards.
    pub fn host() -> Result<Libseccomp, LoadError> {
        SHARED.get_or_init(Self::load).clone()
    }

    /// Loads [`SONAME`] and resolves every function syscage uses.
    pub fn load() -> Result<Libseccomp, LoadError> {
        // SAFETY: dlopen runs the library's initialisers; libseccomp's only set up its
        // static tables and have no preconditions on the caller.
        let lib = unsafe { Library::new(SONAME) }.map_err(|e| LoadError::Open(e.to_string()))?;
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol's type is the prototype in libseccomp's seccomp.h
                // (stable since 2.0); the pointer is only used while `lib` is loaded
                // (`Libseccomp` keeps it alive alongside `api`).
                let s = unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| {
                    LoadError::Symbol {
                        symbol: $name,
                        message: e.to_string(),
                    }
                })?;
                *s
            }};
        }
        let api = Api {
            init: sym!("seccomp_init"),
            release: sym!("seccomp_release"),
            arch_add: sym!("seccomp_arch_add"),
            arch_exist: sym!("seccomp_arch_exist"),
            arch_resolve_name: sym!("seccomp_arch_resolve_name"),
            attr_set: sym!("seccomp_attr_set"),
            resolve_name: sym!("seccomp_syscall_resolve_name"),
            resolve_name_arch: sym!("seccomp_syscall_resolve_name_arch"),
            rule_add_array: sym!("seccomp_rule_add_array"),
            export_bpf: sym!("seccomp_export_bpf"),
            version: sym!("seccomp_version"),
        };
        Ok(Libseccomp {
            api: Arc::new(api),
            _lib: Arc::new(lib),
        })
    }

    /// `seccomp_version()`.
    pub fn version(&self) -> Version {
        // SAFETY: seccomp_version returns a pointer to a static struct (never null in
        // any release that exports it).
        let v = unsafe { (self.api.version)() };
        if v.is_null() {
            return Version {
                major: 0,
                minor: 0,
                micro: 0,
            };
        }
        // SAFETY: non-null, points to libseccomp's static `struct scmp_version`.
        let v = unsafe { &*v };
        Version {
            major: v.major,
            minor: v.minor,
            micro: v.micro,
        }
    }

    /// The `SCMP_ARCH_*` token for an arch name as libseccomp spells it (`x86_64`,
    /// `x86`, `aarch64`, ...; a `SCMP_ARCH_` prefix is accepted); `None` if the library
    /// does not know it.
    pub fn arch_token(&self, name: &str) -> Option<u32> {
        let name = name
            .strip_prefix("SCMP_ARCH_")
            .map_or_else(|| name.to_string(), str::to_ascii_lowercase);
        let c = CString::new(name).ok()?;
        // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
        let token = unsafe { (self.api.arch_resolve_name)(c.as_ptr()) };
        (token != 0).then_some(token)
    }

    /// The number libseccomp gives `name` on the native arch (`seccomp_syscall_resolve_name`:
    /// what runc asks), or on `arch` (a token). Negative numbers are libseccomp's
    /// pseudo-syscalls (e.g. i386 `socket` without socketcall multiplexing); `None`: the
    /// library does not know the name.
    pub fn resolve(&self, name: &str, arch: Option<u32>) -> Option<i32> {
        let c = CString::new(name).ok()?;
        // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
        let nr = unsafe {
            match arch {
                None => (self.api.resolve_name)(c.as_ptr()),
                Some(a) => (self.api.resolve_name_arch)(a, c.as_ptr()),
            }
        };
        // __NR_SCMP_ERROR is -1.
        (nr != -1).then_some(nr)
    }

    /// A new filter context with `default_action` (a `SECCOMP_RET_*` value).
    pub fn filter(&self, default_action: u32) -> Result<Filter, CallError> {
        // SAFETY: seccomp_init has no preconditions; it returns NULL on failure.
        let ctx = unsafe { (self.api.init)(default_action) };
        if ctx.is_null() {
            return Err(CallError {
                call: "seccomp_init",
                errno: libc::EINVAL,
            });
        }
        Ok(Filter {
            ctx,
            lib: self.clone(),
        })
    }
}

/// A `scmp_filter_ctx`, released on drop.
pub struct Filter {
    ctx: Ctx,
    lib: Libseccomp,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Filter")
    }
}

fn check(call: &'static str, rc: c_int) -> Result<(), CallError> {
    if rc < 0 {
        Err(CallError { call, errno: -rc })
    } else {
        Ok(())
    }
}

impl Filter {
    /// `seccomp_attr_set`.
    pub fn set(&mut self, attr: Attr, value: u32) -> Result<(), CallError> {
        // SAFETY: `ctx` is a live context owned by `self`.
        check("seccomp_attr_set", unsafe {
            (self.lib.api.attr_set)(self.ctx, attr as c_uint, value)
        })
    }

    /// Whether the arch (a token) is in the filter (`seccomp_arch_exist`).
    pub fn has_arch(&self, token: u32) -> bool {
        // SAFETY: `ctx` is a live context owned by `self`.
        unsafe { (self.lib.api.arch_exist)(self.ctx, token) == 0 }
    }

    /// `seccomp_arch_add` (a no-op when the arch is already there).
    pub fn add_arch(&mut self, token: u32) -> Result<(), CallError> {
        if self.has_arch(token) {
            return Ok(());
        }
        // SAFETY: `ctx` is a live context owned by `self`.
        check("seccomp_arch_add", unsafe {
            (self.lib.api.arch_add)(self.ctx, token)
        })
    }

    /// `seccomp_rule_add_array`: one rule, its conditions ANDed.
    pub fn add_rule(
        &mut self,
        action: u32,
        syscall: i32,
        conds: &[ArgCmp],
    ) -> Result<(), CallError> {
        let n = c_uint::try_from(conds.len()).map_err(|_| CallError {
            call: "seccomp_rule_add_array",
            errno: libc::EINVAL,
        })?;
        // SAFETY: `ctx` is live; `conds` points to `n` valid `struct scmp_arg_cmp`
        // (ArgCmp is `repr(C)` with the header's layout) for the call's duration, and
        // libseccomp copies them.
        check("seccomp_rule_add_array", unsafe {
            (self.lib.api.rule_add_array)(self.ctx, action, syscall, n, conds.as_ptr())
        })
    }

    /// `seccomp_export_bpf`: the raw program (8-byte `struct sock_filter`s), through a
    /// memory file (2.5 has no export to memory).
    pub fn export_bpf(&self) -> Result<Vec<u8>, CallError> {
        use std::os::fd::AsRawFd;
        let io = |call: &'static str| {
            move |e: std::io::Error| CallError {
                call,
                errno: e.raw_os_error().unwrap_or(libc::EIO),
            }
        };
        let fd = nix::sys::memfd::memfd_create(
            c"syscage-export",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )
        .map_err(|e| CallError {
            call: "memfd_create",
            errno: e as i32,
        })?;
        // SAFETY: `ctx` is live; `fd` is an open, writable descriptor we own.
        check("seccomp_export_bpf", unsafe {
            (self.lib.api.export_bpf)(self.ctx, fd.as_raw_fd())
        })?;
        let mut file = std::fs::File::from(fd);
        file.rewind().map_err(io("lseek"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read"))?;
        Ok(bytes)
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from seccomp_init and is released exactly once.
        unsafe { (self.lib.api.release)(self.ctx) }
    }
}

// struct scmp_arg_cmp: unsigned int, an int-sized enum, two uint64_t.
const _: () = assert!(std::mem::size_of::<ArgCmp>() == 24);

#[cfg(test)]
mod tests {
    use super::*;

    /// Skips (with a reason) where the library is missing, except under CI.
    fn lib() -> Option<Libseccomp> {
        match Libseccomp::host() {
            Ok(l) => Some(l),
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIP: {e}");
                None
            }
            Err(e) => panic!("under CI the host's libseccomp must load: {e}"),
        }
    }

    #[test]
    fn resolves_names_and_arches_as_the_library_does() {
        let Some(l) = lib() else { return };
        assert!(l.version().major >= 2, "{}", l.version());
        let x86_64 = l.arch_token("x86_64").unwrap();
        assert_eq!(l.arch_token("SCMP_ARCH_X86_64"), Some(x86_64));
        assert_eq!(x86_64, 0xc000_003e); // AUDIT_ARCH_X86_64
        assert_eq!(l.arch_token("no-such-arch"), None);
        assert_eq!(l.resolve("read", Some(x86_64)), Some(0));
        assert_eq!(l.resolve("openat", Some(x86_64)), Some(257));
        assert_eq!(l.resolve("no_such_syscall", Some(x86_64)), None);
        // i386 socket resolves to socketcall's multiplexed form (a negative pseudo
        // number) or, since the direct syscall exists, to 359; either way it is known.
        let x86 = l.arch_token("x86").unwrap();
        assert!(l.resolve("socket", Some(x86)).is_some());
    }

    #[test]
    fn exports_a_program_and_reports_refusals() {
        let Some(l) = lib() else { return };
        let errno_eperm = 0x0005_0001;
        let mut f = l.filter(errno_eperm).unwrap();
        f.set(Attr::ActBadArch, 0).unwrap();
        let eq = |v| ArgCmp {
            arg: 0,
            op: CmpOp::Eq,
            datum_a: v,
            datum_b: 0,
        };
        f.add_rule(0x7fff_0000, 39, &[]).unwrap(); // getpid
        f.add_rule(0x7fff_0000, 0, &[eq(3)]).unwrap(); // read(3, ...)
                                                       // The same condition with another action: libseccomp refuses it (EEXIST).
        let e = f.add_rule(0x0005_0002, 0, &[eq(3)]).unwrap_err();
        assert_eq!(e.errno, libc::EEXIST, "{e}");
        let bytes = f.export_bpf().unwrap();
        assert!(!bytes.is_empty() && bytes.len() % 8 == 0, "{}", bytes.len());
        // The first instruction loads the arch (offset 4).
        assert_eq!(&bytes[..2], &[0x20, 0x00]);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 4);
    }
}
