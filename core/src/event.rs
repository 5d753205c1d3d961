//! What a filter is asked about: `struct seccomp_data`, and the trace event that carries
//! it together with where it came from and which arguments are actually known.
//!
//! Trace *formats* live in [`crate::trace`]; this module is the shape they produce.

use crate::arch::Arch;
use crate::syscalls::SyscallNr;

/// The kernel's `struct seccomp_data`: nr@0, arch@4, instruction_pointer@8, args@16+8i.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    /// Size of the struct in bytes (`BPF_LD|BPF_W|BPF_LEN` loads this).
    pub const SIZE: u32 = 64;

    pub fn new(sys: SyscallNr, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr: sys.nr,
            arch: sys.arch.audit_arch(),
            instruction_pointer: 0,
            args,
        }
    }

    /// The 32-bit word at byte `offset`, as a `BPF_LD|BPF_W|BPF_ABS` sees it (the
    /// kernel stores the struct in native, here little-endian, order). `None` for an
    /// offset that is out of range or not 4-byte aligned.
    pub fn word(&self, offset: u32) -> Option<u32> {
        if offset & 3 != 0 || offset >= Self::SIZE {
            return None;
        }
        Some(match offset {
            0 => self.nr,
            4 => self.arch,
            8 => self.instruction_pointer as u32,
            12 => (self.instruction_pointer >> 32) as u32,
            _ => {
                let i = ((offset - 16) / 8) as usize;
                let v = self.args[i];
                if (offset - 16) & 7 == 0 {
                    v as u32
                } else {
                    (v >> 32) as u32
                }
            }
        })
    }
}

/// One syscall as a trace recorded it.
///
/// `args[i] == None` means the argument is *unknown* (strace printed something that
/// cannot be decoded back into the register value, or the trace gave fewer arguments):
/// a verdict that depends on it lists every possibility instead of guessing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub sys: SyscallNr,
    pub args: [Option<u64>; 6],
    pub instruction_pointer: u64,
    pub pid: Option<u32>,
    /// The name the trace used, when it used one that the table does not give back for
    /// `sys` (an alias, or a name not in syscage's tables); `None` otherwise.
    pub name: Option<String>,
    /// 1-based line in the trace this event came from.
    pub line: usize,
}

impl Event {
    /// An event with every argument known.
    pub fn new(sys: SyscallNr, args: [u64; 6]) -> Event {
        Event {
            sys,
            args: args.map(Some),
            instruction_pointer: 0,
            pid: None,
            name: None,
            line: 0,
        }
    }

    pub fn arch(&self) -> Arch {
        self.sys.arch
    }

    /// The syscall's name: the trace's own spelling, else the table's, else `syscall_0x..`.
    pub fn syscall_name(&self) -> String {
        match (&self.name, self.sys.name()) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => n.to_string(),
            (None, None) => self.sys.to_string(),
        }
    }

    /// The `seccomp_data` with unknown arguments replaced by `fill`.
    pub fn data_with(&self, fill: u64) -> SeccompData {
        SeccompData {
            nr: self.sys.nr,
            arch: self.sys.arch.audit_arch(),
            instruction_pointer: self.instruction_pointer,
            args: self.args.map(|a| a.unwrap_or(fill)),
        }
    }

    /// Indices of the arguments that are unknown.
    pub fn unknown_args(&self) -> impl Iterator<Item = usize> + '_ {
        self.args
            .iter()
            .enumerate()
            .filter(|(_, a)| a.is_none())
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_little_endian_halves() {
        let d = SeccompData {
            nr: 7,
            arch: 0xc000_003e,
            instruction_pointer: 0x1111_2222_3333_4444,
            args: [0xaaaa_bbbb_cccc_dddd, 1, 2, 3, 4, 0xffff_ffff_0000_0005],
        };
        assert_eq!(d.word(0), Some(7));
        assert_eq!(d.word(4), Some(0xc000_003e));
        assert_eq!(d.word(8), Some(0x3333_4444));
        assert_eq!(d.word(12), Some(0x1111_2222));
        assert_eq!(d.word(16), Some(0xcccc_dddd));
        assert_eq!(d.word(20), Some(0xaaaa_bbbb));
        assert_eq!(d.word(56), Some(5));
        assert_eq!(d.word(60), Some(0xffff_ffff));
        assert_eq!(d.word(64), None);
        assert_eq!(d.word(2), None);
    }
}
