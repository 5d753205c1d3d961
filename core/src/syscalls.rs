//! Syscall names and numbers per architecture, and i386's multiplexed calls.
//!
//! The tables are generated at build time from the `syscalls` crate (see `core/build.rs`);
//! this module only looks things up. Numbers are as the kernel puts them in
//! `seccomp_data.nr`: x32 numbers carry [`crate::arch::X32_SYSCALL_BIT`].

use std::fmt;

use crate::arch::Arch;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/syscall_tables.rs"));
}

/// A syscall number on one architecture, as `seccomp_data.nr` carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SyscallNr {
    pub arch: Arch,
    pub nr: u32,
}

impl SyscallNr {
    /// The syscall's name on its architecture, if the table has one.
    pub fn name(self) -> Option<&'static str> {
        name_of(self.arch, self.nr)
    }
}

impl fmt::Display for SyscallNr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "syscall_{:#x}", self.nr),
        }
    }
}

struct Table {
    by_nr: &'static [(u32, &'static str)],
    by_name: &'static [(&'static str, u32)],
}

fn table(arch: Arch) -> Option<Table> {
    use generated::*;
    let (by_nr, by_name) = match arch {
        Arch::X86_64 => (X86_64_BY_NR, X86_64_BY_NAME),
        Arch::X32 => (X32_BY_NR, X32_BY_NAME),
        Arch::X86 => (X86_BY_NR, X86_BY_NAME),
        Arch::Aarch64 => (AARCH64_BY_NR, AARCH64_BY_NAME),
        Arch::Arm => (ARM_BY_NR, ARM_BY_NAME),
        Arch::Riscv64 => (RISCV64_BY_NR, RISCV64_BY_NAME),
        Arch::S390x => (S390X_BY_NR, S390X_BY_NAME),
        Arch::Ppc64le | Arch::Ppc64 => (PPC64_BY_NR, PPC64_BY_NAME),
        Arch::Ppc => (PPC_BY_NR, PPC_BY_NAME),
        Arch::Mips | Arch::Mipsel => (MIPS_BY_NR, MIPS_BY_NAME),
        Arch::Mips64 | Arch::Mipsel64 => (MIPS64_BY_NR, MIPS64_BY_NAME),
        Arch::Loongarch64 => (LOONGARCH64_BY_NR, LOONGARCH64_BY_NAME),
        Arch::S390 | Arch::Mips64n32 | Arch::Mipsel64n32 => return None,
    };
    Some(Table { by_nr, by_name })
}

/// Whether syscage has a syscall table for `arch` (a filter can still name the arch;
/// without a table, names cannot be resolved for it).
pub fn has_table(arch: Arch) -> bool {
    table(arch).is_some()
}

/// The number of `name` on `arch`, as `seccomp_data.nr` would carry it.
pub fn number_of(arch: Arch, name: &str) -> Option<SyscallNr> {
    let t = table(arch)?;
    let i = t.by_name.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    Some(SyscallNr {
        arch,
        nr: t.by_name[i].1,
    })
}

/// The name of syscall `nr` on `arch`.
pub fn name_of(arch: Arch, nr: u32) -> Option<&'static str> {
    let t = table(arch)?;
    let i = t.by_nr.binary_search_by(|(n, _)| n.cmp(&nr)).ok()?;
    Some(t.by_nr[i].1)
}

/// Whether any architecture's table knows `name`. libseccomp resolves a name known on
/// *some* architecture (to a pseudo-number where it does not exist natively) and rejects
/// only names it does not know at all, which runtimes then skip with a warning.
pub fn known_anywhere(name: &str) -> bool {
    Arch::ALL.iter().any(|a| number_of(*a, name).is_some())
}

/// Every name of every architecture's table, sorted, once each.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    let names: std::collections::BTreeSet<&'static str> = Arch::ALL
        .iter()
        .flat_map(|&a| all(a).map(|(_, n)| n))
        .collect();
    names.into_iter()
}

/// Every syscall of `arch`, ordered by number.
pub fn all(arch: Arch) -> impl Iterator<Item = (SyscallNr, &'static str)> {
    table(arch)
        .map(|t| t.by_nr)
        .unwrap_or(&[])
        .iter()
        .map(move |&(nr, name)| (SyscallNr { arch, nr }, name))
}

/// The highest syscall number in `arch`'s table (ignoring ARM's private range).
pub fn max_nr(arch: Arch) -> Option<u32> {
    let t = table(arch)?;
    t.by_nr
        .iter()
        .map(|(nr, _)| *nr)
        .filter(|nr| arch != Arch::Arm || *nr < 0x0f_0000)
        .max()
}

/// i386 multiplexes the socket and SysV IPC calls through `socketcall(2)` and `ipc(2)`;
/// the first argument picks the call. libseccomp copies a rule on, say, `connect` onto
/// `socketcall` with `arg0 == SYS_CONNECT` (see [`crate::policy`] for what happens to
/// the rule's own conditions there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Multiplexed {
    /// `socketcall` or `ipc`.
    pub via: &'static str,
    /// The call number the multiplexer's `arg0` must equal.
    pub call: u32,
}

/// The multiplexed form of `name` on `arch`, if it has one (i386 only).
pub fn multiplexed(arch: Arch, name: &str) -> Option<Multiplexed> {
    if arch != Arch::X86 {
        return None;
    }
    // include/uapi/linux/net.h SYS_* and include/uapi/linux/ipc.h call numbers.
    const SOCKETCALL: &[(&str, u32)] = &[
        ("socket", 1),
        ("bind", 2),
        ("connect", 3),
        ("listen", 4),
        ("accept", 5),
        ("getsockname", 6),
        ("getpeername", 7),
        ("socketpair", 8),
        ("send", 9),
        ("recv", 10),
        ("sendto", 11),
        ("recvfrom", 12),
        ("shutdown", 13),
        ("setsockopt", 14),
        ("getsockopt", 15),
        ("sendmsg", 16),
        ("recvmsg", 17),
        ("accept4", 18),
        ("recvmmsg", 19),
        ("sendmmsg", 20),
    ];
    const IPC: &[(&str, u32)] = &[
        ("semop", 1),
        ("semget", 2),
        ("semctl", 3),
        ("semtimedop", 4),
        ("msgsnd", 11),
        ("msgrcv", 12),
        ("msgget", 13),
        ("msgctl", 14),
        ("shmat", 21),
        ("shmdt", 22),
        ("shmget", 23),
        ("shmctl", 24),
    ];
    if let Some((_, call)) = SOCKETCALL.iter().find(|(n, _)| *n == name) {
        return Some(Multiplexed {
            via: "socketcall",
            call: *call,
        });
    }
    IPC.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, call)| Multiplexed {
            via: "ipc",
            call: *call,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_numbers() {
        assert_eq!(number_of(Arch::X86_64, "read").unwrap().nr, 0);
        assert_eq!(number_of(Arch::X86_64, "openat").unwrap().nr, 257);
        assert_eq!(number_of(Arch::X86, "socketcall").unwrap().nr, 102);
        assert_eq!(number_of(Arch::Aarch64, "openat").unwrap().nr, 56);
        assert_eq!(number_of(Arch::Arm, "breakpoint").unwrap().nr, 0x0f0001);
        assert_eq!(name_of(Arch::X86_64, 59), Some("execve"));
    }

    #[test]
    fn x32_numbers_carry_the_bit_and_use_x32_entries() {
        assert_eq!(number_of(Arch::X32, "read").unwrap().nr, 0x4000_0000);
        // ioctl is 16 on x86_64 but 514 on x32; 16 is not an x32 syscall.
        assert_eq!(number_of(Arch::X32, "ioctl").unwrap().nr, 0x4000_0000 | 514);
        assert_eq!(name_of(Arch::X32, 0x4000_0000 | 16), None);
        assert_eq!(number_of(Arch::X32, "uretprobe"), None);
        // 64-bit only in syscall_64.tbl (`453 64 map_shadow_stack`).
        assert_eq!(number_of(Arch::X32, "map_shadow_stack"), None);
        assert_eq!(name_of(Arch::X32, 0x4000_0000 | 453), None);
        assert!(number_of(Arch::X86_64, "map_shadow_stack").is_some());
    }

    #[test]
    fn socketcall_multiplexing_is_i386_only() {
        assert_eq!(
            multiplexed(Arch::X86, "connect"),
            Some(Multiplexed {
                via: "socketcall",
                call: 3
            })
        );
        assert_eq!(multiplexed(Arch::X86, "shmget").unwrap().via, "ipc");
        assert_eq!(multiplexed(Arch::X86_64, "connect"), None);
        assert_eq!(multiplexed(Arch::X86, "read"), None);
    }
}
