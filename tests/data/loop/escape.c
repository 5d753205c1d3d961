/* The calls a generated profile must deny: run with "escape", it tries to make a user
 * namespace, to be traced, and to mount, and prints what each returned; without
 * arguments it only prints "done" (the run a profile is generated from). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <unistd.h>

static void report(const char *what, long r) {
    printf("%s: %s\n", what, r == 0 ? "allowed" : strerror(errno));
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "escape") == 0) {
        /* mount first: in a new user namespace it would fail for want of privilege. */
        long m = mount("none", argv[2], "tmpfs", 0, 0);
        report("mount(tmpfs)", m);
        if (m == 0)
            umount(argv[2]);
        report("ptrace(PTRACE_TRACEME)", ptrace(PTRACE_TRACEME, 0, 0, 0));
        report("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
    }
    printf("done\n");
    return 0;
}
