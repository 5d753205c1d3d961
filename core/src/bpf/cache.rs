//! The kernel's seccomp action cache (5.11+), emulated: which syscalls a filter lets
//! the kernel allow without running it.
//!
//! When a filter is attached the kernel walks it once per syscall number of the native
//! and compat ABIs, knowing only `nr` and `arch` (`seccomp_cache_prepare_bitmap` →
//! `seccomp_is_const_allow` in kernel/seccomp.c). The walk understands `LD` of offsets
//! 0 (nr) and 4 (arch), `JA`, `JEQ/JGE/JGT/JSET` with `K`, `ALU AND K` and `RET K`; any
//! other instruction on the path — an argument load above all — makes the syscall
//! uncacheable. It is cached only if the path ends in `RET` with exactly
//! `SECCOMP_RET_ALLOW`. x32 numbers are never cached (x86_64's cache covers the native
//! and the i386 compat ABI).

use super::*;
use crate::action::ret;
use crate::arch::Arch;

/// Whether the kernel would cache "always allow" for `(arch, nr)` under `prog`.
pub fn is_const_allow(prog: &Program, audit_arch: u32, nr: u32) -> bool {
    let insns = prog.insns();
    let mut a: u32 = 0;
    let mut pc = 0usize;
    while let Some(i) = insns.get(pc) {
        let k = i.k;
        match i.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => match k {
                0 => a = nr,
                4 => a = audit_arch,
                _ => return false,
            },
            c if c == BPF_RET | BPF_K => return k == ret::ALLOW,
            c if c == BPF_JMP | BPF_JA => pc += k as usize,
            c if c == BPF_JMP | BPF_JEQ | BPF_K
                || c == BPF_JMP | BPF_JGE | BPF_K
                || c == BPF_JMP | BPF_JGT | BPF_K
                || c == BPF_JMP | BPF_JSET | BPF_K =>
            {
                let taken = match c & 0xf0 {
                    BPF_JEQ => a == k,
                    BPF_JGE => a >= k,
                    BPF_JGT => a > k,
                    _ => a & k != 0,
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            c if c == BPF_ALU | BPF_AND | BPF_K => a &= k,
            _ => return false,
        }
        pc += 1;
    }
    false
}

/// Whether the kernel keeps an action cache for this ABI at all (native and compat).
pub fn has_cache(arch: Arch) -> bool {
    arch != Arch::X32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(k: u32) -> Insn {
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, k)
    }
    fn ret(k: u32) -> Insn {
        Insn::stmt(BPF_RET | BPF_K, k)
    }

    #[test]
    fn constant_paths_are_cached_only_when_they_allow() {
        // A = nr; if (A == 1) return ALLOW; return ERRNO
        let p = Program::new(vec![
            ld(0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            ret(crate::action::ret::ALLOW),
            ret(crate::action::ret::ERRNO | 1),
        ]);
        assert!(is_const_allow(&p, 0xc000_003e, 1));
        assert!(!is_const_allow(&p, 0xc000_003e, 2));
        // LOG is not ALLOW, even though it lets the call through.
        let p = Program::new(vec![ret(crate::action::ret::LOG)]);
        assert!(!is_const_allow(&p, 0xc000_003e, 1));
    }

    #[test]
    fn argument_loads_and_other_ops_defeat_the_cache() {
        let p = Program::new(vec![ld(16), ret(crate::action::ret::ALLOW)]);
        assert!(!is_const_allow(&p, 0xc000_003e, 0));
        let p = Program::new(vec![
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            ret(crate::action::ret::ALLOW),
        ]);
        assert!(!is_const_allow(&p, 0xc000_003e, 0));
        // AND K and JSET are understood.
        let p = Program::new(vec![
            ld(0),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 0x80, 1, 0),
            ret(crate::action::ret::ALLOW),
            ret(0),
        ]);
        assert!(is_const_allow(&p, 0, 0x100));
        assert!(!is_const_allow(&p, 0, 0x180));
    }
}
