/* A program whose syscalls the record tests and the record-vs-strace benchmark know
 * in advance. Built with `cc -O2 -pthread -o calls calls.c` (x86_64).
 *
 *   calls compat     i386 calls from a 64-bit program (int $0x80: getpid, then
 *                    write(fd, "hi\n", 3) to /dev/null) and an x32 one (getpid with the x32 bit,
 *                    ENOSYS on a kernel without x32); exits 0 if each returned what
 *                    it should. Prints nothing that depends on the pid; the buffer
 *                    is a MAP_32BIT page (an i386 call sees 32-bit pointers).
 *   calls loop N     N getppid calls (raw syscall; glibc caches nothing for it).
 *   calls threads    two threads, each making three getppid calls, joined.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static long x32_getpid(void) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(0x40000000L | 39) : "rcx", "r11", "memory");
    return r;
}

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++) syscall(SYS_getppid);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "compat") == 0) {
        /* i386 calls see 32-bit registers: the buffer must be below 4 GiB. */
        char *hi = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (hi == MAP_FAILED) return 3;
        memcpy(hi, "hi\n", 3);
        long pid = int80(20, 0, 0, 0);
        int fd = open("/dev/null", O_WRONLY);
        long wrote = int80(4, fd, (long)hi, 3);
        long x32 = x32_getpid();
        return (pid == getpid() && wrote == 3 && (x32 == -38 || x32 == getpid())) ? 0 : 1;
    }
    if (argc >= 3 && strcmp(argv[1], "loop") == 0) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) syscall(SYS_getppid);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "threads") == 0) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        return 0;
    }
    return 2;
}
