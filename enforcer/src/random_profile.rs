//! What the random profiles of differential testing are made of, shared by
//! `syscage fuzz` (which draws from it with a small seeded RNG) and the test suite's
//! proptest strategies (`syscage_tests::gen`): the syscall names rules may name, every
//! action, operator and extra architecture, the `errnoRet` ranges, and the size limits
//! ([`Shape`]). Each side keeps its own way of drawing (a seed must keep reproducing
//! the same `syscage fuzz` run, and proptest must keep shrinking as before); what they
//! draw from is written once, here. Plain data: no OS dependence, no proptest.

use std::ops::Range;

/// Syscalls the generated rules name: common ones, ones with i386 socketcall forms, and
/// one that exists only on some architectures.
pub const NAMES: &[&str] = &[
    "read",
    "write",
    "openat",
    "ioctl",
    "socket",
    "connect",
    "clone",
    "mmap",
    "personality",
    "ptrace",
    "kill",
    "futex",
];

/// Syscalls events ask about besides [`NAMES`]: i386's `socketcall` (where socket
/// calls also go) and one no rule names.
pub const EXTRA_EVENT_NAMES: &[&str] = &["socketcall", "getpid"];

/// Every argument comparison operator.
pub const OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// Every action, NOTIFY included.
pub const ACTIONS: &[&str] = &[
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// Architectures a profile may list besides the native x86_64.
pub const ARCHES: &[&str] = &["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"];

/// `errnoRet` values, one range picked at random: small ones, any errno, and ones
/// that do not fit the 16-bit data field of the return value.
pub const ERRNO_RETS: [Range<u32>; 3] = [0..8, 0..4095, 65536..65600];

/// Knobs for what a generator may produce (oracles cannot express everything).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub actions: &'static [&'static str],
    pub arches: &'static [&'static str],
    pub max_rules: usize,
    pub max_conds: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            actions: ACTIONS,
            arches: ARCHES,
            max_rules: 8,
            max_conds: 3,
        }
    }
}
