# Writes large.json: the hand-made profile of the comparison run (benches/src/bin/compare.rs).
# About 170 rules: an allow-list, unconditional denials with every action, and for ~30
# syscalls several overlapping conditional rules with different actions, using every
# operator, 64-bit datums and multi-argument conditions. libseccomp accepts it (no EEXIST)
# and syscage resolves it; the comparison run checks both.
import json
R = []
def rule(names, action, args=(), errno=None, comment=None):
    r = {"names": names if isinstance(names, list) else [names], "action": action}
    if errno is not None: r["errnoRet"] = errno
    if args:
        r["args"] = [dict(index=a[0], op="SCMP_CMP_" + a[1], value=a[2], valueTwo=(a[3] if len(a) > 3 else 0)) for a in args]
    if comment: r["comment"] = comment
    R.append(r)
A, E, L, T, K, KT, TR = "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG", "SCMP_ACT_TRAP", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_TRACE"

# Unconditional allow-list, some rules naming several syscalls.
pending = []
for n in ["read", "write", "close", "fstat", "lseek", "brk", "rt_sigaction", "rt_sigprocmask",
          "rt_sigreturn", "pread64", "readv", "writev", "access", "pipe", "select",
          "sched_yield", "mremap", "msync", "mincore", "dup", "dup2", "nanosleep", "getpid",
          "sendfile", "connect", "accept", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
          "listen", "getsockname", "getpeername", "socketpair", "getsockopt", "wait4", "uname",
          "fsync", "ftruncate", "getcwd", "chdir", "fchdir", "rename", "mkdir", "rmdir",
          "unlink", "readlink", "umask", "gettimeofday", "getrlimit", "getrusage", "sysinfo",
          "getuid", "getgid", "geteuid", "getegid", "getppid", "sigaltstack", "statfs",
          "fstatfs", "arch_prctl", "gettid", "futex", "set_tid_address", "clock_gettime"]:
    pending.append(n)
    if len(pending) == 3 or n in ("read", "write", "close", "futex", "clock_gettime"):
        rule(pending, A)
        pending = []
if pending:
    rule(pending, A)
rule(["exit", "exit_group"], A)
rule(["epoll_wait", "epoll_ctl", "epoll_pwait", "epoll_create1"], A)
rule(["newfstatat", "statx", "readlinkat", "faccessat", "faccessat2"], A)
rule(["set_robust_list", "get_robust_list", "rseq"], A)
rule(["pipe2", "dup3", "eventfd2", "poll", "ppoll", "pselect6"], A)
rule(["getdents64", "fadvise64", "getrandom", "close_range", "prlimit64", "execve"], A)
rule(["clock_getres", "clock_nanosleep", "timerfd_create", "timerfd_settime"], A)
rule(["unlinkat", "mkdirat", "renameat2", "utimensat", "fchmodat"], A)

# Unconditional denials with assorted actions.
rule(["mount", "umount2", "pivot_root"], E, errno=1)
rule(["reboot", "kexec_load", "kexec_file_load"], K)
rule(["init_module", "finit_module", "delete_module"], KT)
rule(["swapon", "swapoff"], T)
rule(["acct", "settimeofday", "clock_settime"], E, errno=13)
rule(["process_vm_readv", "process_vm_writev"], TR, errno=7)
rule(["bpf", "perf_event_open"], L)
rule("userfaultfd", E, errno=38)
rule(["keyctl", "add_key", "request_key"], E, errno=38)

# personality: a few values allowed, large ones logged, anything else the default.
for v in [0, 8, 0x20000, 0x20008, 0xffffffff]:
    rule("personality", A, [(0, "EQ", v)])
rule("personality", L, [(0, "GE", 0x100000)])

# clone: namespaces refused with EPERM, new user namespaces trap, the rest allowed.
rule("clone", A, [(0, "MASKED_EQ", 0x7E020000, 0)])
rule("clone", E, [(0, "MASKED_EQ", 0x10000000, 0x10000000)], errno=1)
rule("clone", T, [(0, "MASKED_EQ", 0x20000, 0x20000)])
rule("clone", L, [(0, "MASKED_EQ", 0x40000000, 0x40000000)])
rule("clone3", E, errno=38)

# unshare
rule("unshare", A, [(0, "MASKED_EQ", 0x7E020000, 0)])
rule("unshare", E, [(0, "MASKED_EQ", 0x10000000, 0x10000000)], errno=1)
rule("unshare", L, [(0, "EQ", 0x200)])

# socket: families allowed, raw and packet refused in different ways.
for fam in [1, 2, 10]:
    rule("socket", A, [(0, "EQ", fam)])
rule("socket", A, [(0, "EQ", 16), (2, "EQ", 0)])
rule("socket", L, [(0, "EQ", 16), (2, "EQ", 9)])
# (on x86 these also go onto socketcall with arg0 == SYS_SOCKET replacing their arg0
# condition, so each non-ALLOW rule needs a distinct test of arg1 or arg2)
rule("socket", E, [(0, "EQ", 17), (2, "EQ", 0x300)], errno=97)
rule("socket", E, [(0, "GE", 40), (2, "GT", 255)], errno=97)
rule("socket", K, [(0, "EQ", 2), (1, "MASKED_EQ", 0xf, 3)])
rule("socket", T, [(0, "EQ", 10), (1, "EQ", 10)])

# ioctl: terminal queries allowed, TIOCSTI kills, TIOCCONS traps, odd requests logged.
for req in [0x5401, 0x5402, 0x5413, 0x541B, 0x5421, 0x5451, 0x5450]:
    rule("ioctl", A, [(1, "EQ", req)])
rule("ioctl", K, [(1, "EQ", 0x5412)])
rule("ioctl", T, [(1, "EQ", 0x541D)])
rule("ioctl", L, [(1, "GE", 0x80000000)])
rule("ioctl", E, [(1, "MASKED_EQ", 0xff00, 0x8900)], errno=25)

# fcntl
rule("fcntl", A, [(1, "LT", 5)])
rule("fcntl", A, [(1, "EQ", 1030)])
rule("fcntl", A, [(1, "LE", 7), (0, "LT", 1024)])
rule("fcntl", E, [(1, "GT", 1030)], errno=22)
rule("fcntl", L, [(1, "EQ", 1033)])

# mmap / mprotect: W^X.
rule("mmap", A, [(2, "LE", 3)])
rule("mmap", A, [(2, "EQ", 5)])
rule("mmap", E, [(2, "MASKED_EQ", 6, 6)], errno=13)
rule("mmap", L, [(2, "GT", 7)])
rule("mmap", T, [(3, "MASKED_EQ", 0x100000, 0x100000), (2, "EQ", 7)])
rule("mprotect", A, [(2, "LE", 3)])
rule("mprotect", A, [(2, "EQ", 5)])
rule("mprotect", E, [(2, "MASKED_EQ", 6, 6)], errno=13)
rule("mprotect", T, [(2, "GT", 7)])
rule("pkey_mprotect", E, [(2, "MASKED_EQ", 4, 4)], errno=13)
rule("pkey_mprotect", A, [(2, "LE", 3)])

# openat: relative to the cwd allowed, creation logged, truncation refused.
AT_FDCWD = 0xffffffffffffff9c
rule("openat", A, [(0, "EQ", AT_FDCWD), (2, "MASKED_EQ", 3, 0)])
rule("openat", A, [(2, "MASKED_EQ", 0x40, 0)])
rule("openat", L, [(2, "MASKED_EQ", 0x40, 0x40)])
rule("openat", E, [(2, "MASKED_EQ", 0x200, 0x200), (0, "NE", AT_FDCWD)], errno=30)
rule("open", A, [(1, "MASKED_EQ", 3, 0)])
rule("open", E, [(1, "MASKED_EQ", 3, 1)], errno=30)
rule("open", E, [(1, "MASKED_EQ", 3, 2)], errno=13)

# kill and friends
rule("kill", A, [(0, "GT", 1), (1, "NE", 9)])
rule("kill", A, [(1, "EQ", 0)])
rule("kill", E, [(1, "EQ", 19)], errno=1)
rule("kill", T, [(0, "EQ", 0xffffffffffffffff), (1, "EQ", 9)])
rule("tgkill", A, [(2, "NE", 9)])
rule("tgkill", L, [(2, "EQ", 9)])
rule("tkill", A, [(1, "LT", 32)])
rule("tkill", E, [(1, "GE", 32)], errno=22)

# prctl
for opt in [15, 16, 38, 4, 3, 1, 39]:
    rule("prctl", A, [(0, "EQ", opt)])
rule("prctl", E, [(0, "EQ", 22)], errno=22)
rule("prctl", E, [(0, "GT", 60)], errno=22)
rule("prctl", L, [(0, "LT", 1)])

# identity changes: unprivileged ids allowed, root refused, system ids logged.
for n in ["setuid", "setgid", "setfsuid", "setfsgid"]:
    rule(n, A, [(0, "GE", 1000)])
    rule(n, E, [(0, "EQ", 0)], errno=13)
    rule(n, L, [(0, "LT", 100)])
rule(["setresuid", "setresgid"], A, [(0, "GE", 1000), (1, "GE", 1000), (2, "GE", 1000)])
rule(["setresuid", "setresgid"], E, [(0, "EQ", 0)], errno=13)

# madvise
rule("madvise", A, [(2, "LE", 4)])
rule("madvise", A, [(2, "EQ", 8)])
rule("madvise", A, [(2, "EQ", 14)])
rule("madvise", E, [(2, "GE", 100)], errno=22)
rule("madvise", L, [(2, "EQ", 9)])

# sendto / setsockopt
rule("sendto", A, [(4, "EQ", 0)])
rule("sendto", L, [(4, "NE", 0)])
rule("sendto", E, [(3, "MASKED_EQ", 0x8000, 0x8000)], errno=95)
rule("setsockopt", A, [(1, "EQ", 1), (2, "LE", 50)])
rule("setsockopt", A, [(1, "EQ", 6)])
rule("setsockopt", E, [(1, "EQ", 0), (2, "EQ", 64)], errno=92)
rule("setsockopt", L, [(1, "GT", 255)])

# ptrace
rule("ptrace", E, [(0, "EQ", 16)], errno=1)
rule("ptrace", T, [(0, "EQ", 0x4206)])
rule("ptrace", K, [(0, "LE", 6)])
rule("ptrace", A, [(0, "EQ", 0x4200)])

# 64-bit datums: sizes and offsets above 4 GiB.
rule("pwrite64", A, [(2, "LE", 0xffffffff)])
rule("pwrite64", E, [(2, "GT", 0xffffffff)], errno=27)
rule("pwrite64", L, [(3, "GE", 0x8000000000000000)])
rule("fallocate", A, [(3, "LT", 0x100000000)])
rule("fallocate", E, [(3, "GE", 0x100000000)], errno=27)
rule("truncate", A, [(1, "LE", 0x1ffffffff)])
rule("truncate", E, [(1, "GT", 0x1ffffffff)], errno=27)

# ownership: giving files to root refused.
for n in ["chown", "fchown", "lchown"]:
    rule(n, A, [(1, "NE", 0)])
    rule(n, E, [(1, "EQ", 0)], errno=1)
rule("fchownat", A, [(2, "NE", 0)])
rule("fchownat", E, [(2, "EQ", 0)], errno=1)

# accept4 / wait
rule("accept4", A, [(3, "MASKED_EQ", 0x800, 0x800)])
rule("accept4", A, [(3, "EQ", 0)])
rule("accept4", L, [(3, "MASKED_EQ", 0x80000, 0x80000)])
rule("waitid", A, [(0, "LE", 2)])
rule("waitid", E, [(0, "GT", 3)], errno=22)

p = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": R,
}
print(len(R), "rules", sum(len(r["names"]) for r in R), "names", sum(len(r.get("args", [])) for r in R), "conditions")
ops = set(a["op"] for r in R for a in r.get("args", []))
print(sorted(ops))
json.dump(p, open(__import__("os").path.join(__import__("os").path.dirname(__file__), "large.json"), "w"), indent=1)
