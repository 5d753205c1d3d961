//! Architectures as seccomp sees them: the `AUDIT_ARCH_*` value in `seccomp_data.arch`,
//! the spellings profiles and traces use for them, and each one's syscall table.
//!
//! This module owns naming and numbering only. Which architectures a filter covers is
//! decided when a profile is resolved ([`crate::policy`]); how numbers are multiplexed
//! (i386 `socketcall`/`ipc`) lives in [`crate::syscalls`].

use std::fmt;
use std::str::FromStr;

/// The x32 ABI's marker bit in `seccomp_data.nr` (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// A syscall ABI that a seccomp filter can be asked about.
///
/// x32 shares `AUDIT_ARCH_X86_64` with x86_64: the kernel tells them apart only by
/// [`X32_SYSCALL_BIT`] in the syscall number, which is why every number syscage keeps
/// for x32 carries that bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(into = "String")]
pub enum Arch {
    X86_64,
    X86,
    X32,
    Aarch64,
    Arm,
    Riscv64,
    S390x,
    S390,
    Ppc64le,
    Ppc64,
    Ppc,
    Mips,
    Mipsel,
    Mips64,
    Mipsel64,
    Mips64n32,
    Mipsel64n32,
    Loongarch64,
}

/// `AUDIT_ARCH_*` values (include/uapi/linux/audit.h).
mod audit {
    pub const X86_64: u32 = 0xc000_003e;
    pub const I386: u32 = 0x4000_0003;
    pub const AARCH64: u32 = 0xc000_00b7;
    pub const ARM: u32 = 0x4000_0028;
    pub const RISCV64: u32 = 0xc000_00f3;
    pub const S390X: u32 = 0x8000_0016;
    pub const S390: u32 = 0x0000_0016;
    pub const PPC64LE: u32 = 0xc000_0015;
    pub const PPC64: u32 = 0x8000_0015;
    pub const PPC: u32 = 0x0000_0014;
    pub const MIPS: u32 = 0x0000_0008;
    pub const MIPSEL: u32 = 0x4000_0008;
    pub const MIPS64: u32 = 0x8000_0008;
    pub const MIPSEL64: u32 = 0xc000_0008;
    pub const MIPS64N32: u32 = 0xa000_0008;
    pub const MIPSEL64N32: u32 = 0xe000_0008;
    pub const LOONGARCH64: u32 = 0xc000_0102;
}

impl Arch {
    /// Every architecture syscage knows, in a stable order.
    pub const ALL: [Arch; 18] = [
        Arch::X86_64,
        Arch::X86,
        Arch::X32,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Riscv64,
        Arch::S390x,
        Arch::S390,
        Arch::Ppc64le,
        Arch::Ppc64,
        Arch::Ppc,
        Arch::Mips,
        Arch::Mipsel,
        Arch::Mips64,
        Arch::Mipsel64,
        Arch::Mips64n32,
        Arch::Mipsel64n32,
        Arch::Loongarch64,
    ];

    /// The value the kernel puts in `seccomp_data.arch`.
    pub const fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => audit::X86_64,
            Arch::X86 => audit::I386,
            Arch::Aarch64 => audit::AARCH64,
            Arch::Arm => audit::ARM,
            Arch::Riscv64 => audit::RISCV64,
            Arch::S390x => audit::S390X,
            Arch::S390 => audit::S390,
            Arch::Ppc64le => audit::PPC64LE,
            Arch::Ppc64 => audit::PPC64,
            Arch::Ppc => audit::PPC,
            Arch::Mips => audit::MIPS,
            Arch::Mipsel => audit::MIPSEL,
            Arch::Mips64 => audit::MIPS64,
            Arch::Mipsel64 => audit::MIPSEL64,
            Arch::Mips64n32 => audit::MIPS64N32,
            Arch::Mipsel64n32 => audit::MIPSEL64N32,
            Arch::Loongarch64 => audit::LOONGARCH64,
        }
    }

    /// The architecture a `(seccomp_data.arch, seccomp_data.nr)` pair belongs to.
    pub fn from_audit(audit_arch: u32, nr: u32) -> Option<Arch> {
        if audit_arch == audit::X86_64 {
            return Some(if nr & X32_SYSCALL_BIT != 0 {
                Arch::X32
            } else {
                Arch::X86_64
            });
        }
        Arch::ALL
            .into_iter()
            .find(|a| *a != Arch::X32 && a.audit_arch() == audit_arch)
    }

    /// Whether libseccomp compares 64-bit arguments on this ABI (high word, then low
    /// word). On the others it compares only the low 32 bits, datums truncated. x32 is
    /// one of the others: its registers are 64-bit and the kernel passes them whole,
    /// but libseccomp declares it `ARCH_SIZE_32` (src/arch-x32.c), as it does the n32
    /// MIPS ABIs.
    pub const fn is_64bit(self) -> bool {
        !matches!(
            self,
            Arch::X86
                | Arch::X32
                | Arch::Arm
                | Arch::S390
                | Arch::Ppc
                | Arch::Mips
                | Arch::Mipsel
                | Arch::Mips64n32
                | Arch::Mipsel64n32
        )
    }

    /// libseccomp's and the OCI runtime-spec's name, e.g. `SCMP_ARCH_X86_64`.
    pub const fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::X86 => "SCMP_ARCH_X86",
            Arch::X32 => "SCMP_ARCH_X32",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
            Arch::Arm => "SCMP_ARCH_ARM",
            Arch::Riscv64 => "SCMP_ARCH_RISCV64",
            Arch::S390x => "SCMP_ARCH_S390X",
            Arch::S390 => "SCMP_ARCH_S390",
            Arch::Ppc64le => "SCMP_ARCH_PPC64LE",
            Arch::Ppc64 => "SCMP_ARCH_PPC64",
            Arch::Ppc => "SCMP_ARCH_PPC",
            Arch::Mips => "SCMP_ARCH_MIPS",
            Arch::Mipsel => "SCMP_ARCH_MIPSEL",
            Arch::Mips64 => "SCMP_ARCH_MIPS64",
            Arch::Mipsel64 => "SCMP_ARCH_MIPSEL64",
            Arch::Mips64n32 => "SCMP_ARCH_MIPS64N32",
            Arch::Mipsel64n32 => "SCMP_ARCH_MIPSEL64N32",
            Arch::Loongarch64 => "SCMP_ARCH_LOONGARCH64",
        }
    }

    /// The short name syscage prints, as libseccomp's `seccomp_arch_resolve_name` spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::X86 => "x86",
            Arch::X32 => "x32",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
            Arch::S390 => "s390",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::Ppc => "ppc",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsel",
            Arch::Mips64 => "mips64",
            Arch::Mipsel64 => "mipsel64",
            Arch::Mips64n32 => "mips64n32",
            Arch::Mipsel64n32 => "mipsel64n32",
            Arch::Loongarch64 => "loongarch64",
        }
    }

    /// Go's `GOARCH` spelling, which moby's `includes.arches`/`excludes.arches` use.
    /// Several ABIs share one (x86_64 and x32 both run on `amd64` hosts, but moby
    /// also accepts `x32` literally), so this is the native name only.
    pub const fn goarch(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::X86 => "386",
            Arch::X32 => "x32",
            Arch::Aarch64 => "arm64",
            Arch::Arm => "arm",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
            Arch::S390 => "s390",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::Ppc => "ppc",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsle",
            Arch::Mips64 => "mips64",
            Arch::Mipsel64 => "mips64le",
            Arch::Mips64n32 => "mips64p32",
            Arch::Mipsel64n32 => "mips64p32le",
            Arch::Loongarch64 => "loong64",
        }
    }

    /// The architecture this build of syscage runs on (the default target).
    pub fn host() -> Arch {
        match std::env::consts::ARCH {
            "x86" => Arch::X86,
            "aarch64" => Arch::Aarch64,
            "arm" => Arch::Arm,
            "riscv64" => Arch::Riscv64,
            "s390x" => Arch::S390x,
            "powerpc64" if cfg!(target_endian = "little") => Arch::Ppc64le,
            "powerpc64" => Arch::Ppc64,
            "loongarch64" => Arch::Loongarch64,
            _ => Arch::X86_64,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Arch> for String {
    fn from(a: Arch) -> String {
        a.name().to_string()
    }
}

/// An architecture name that is not one syscage knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown architecture {0:?} (expected e.g. x86_64, x86, x32, aarch64, arm, SCMP_ARCH_X86_64)"
)]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;

    /// Accepts libseccomp's `SCMP_ARCH_*` tokens, its short names, and the usual
    /// aliases (`amd64`, `i386`, `i686`, `386`, `arm64`).
    fn from_str(s: &str) -> Result<Arch, UnknownArch> {
        let lower = s.to_ascii_lowercase();
        let short = lower.strip_prefix("scmp_arch_").unwrap_or(&lower);
        let arch = match short {
            "x86_64" | "amd64" => Arch::X86_64,
            "x86" | "i386" | "i686" | "386" => Arch::X86,
            "x32" => Arch::X32,
            "aarch64" | "arm64" => Arch::Aarch64,
            "arm" => Arch::Arm,
            "riscv64" => Arch::Riscv64,
            "s390x" => Arch::S390x,
            "s390" => Arch::S390,
            "ppc64le" => Arch::Ppc64le,
            "ppc64" => Arch::Ppc64,
            "ppc" => Arch::Ppc,
            "mips" => Arch::Mips,
            "mipsel" | "mipsle" => Arch::Mipsel,
            "mips64" => Arch::Mips64,
            "mipsel64" | "mips64le" => Arch::Mipsel64,
            "mips64n32" => Arch::Mips64n32,
            "mipsel64n32" => Arch::Mipsel64n32,
            "loongarch64" | "loong64" => Arch::Loongarch64,
            _ => return Err(UnknownArch(s.to_string())),
        };
        Ok(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Arch::ALL {
            assert_eq!(a.scmp_name().parse::<Arch>(), Ok(a));
            assert_eq!(a.name().parse::<Arch>(), Ok(a));
        }
        assert_eq!("amd64".parse::<Arch>(), Ok(Arch::X86_64));
        assert_eq!("i386".parse::<Arch>(), Ok(Arch::X86));
        assert_eq!("arm64".parse::<Arch>(), Ok(Arch::Aarch64));
        assert!("vax".parse::<Arch>().is_err());
    }

    #[test]
    fn x32_is_told_apart_by_the_number() {
        assert_eq!(Arch::from_audit(0xc000_003e, 0), Some(Arch::X86_64));
        assert_eq!(Arch::from_audit(0xc000_003e, 0x4000_0000), Some(Arch::X32));
        assert_eq!(Arch::from_audit(0x4000_0003, 102), Some(Arch::X86));
        assert_eq!(Arch::from_audit(0x1234, 0), None);
    }
}
