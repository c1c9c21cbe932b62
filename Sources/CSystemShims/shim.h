#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/// Chunk buffers (up to 4 MiB, many sizes) fragment glibc's heap arenas, and freed space there stays resident:
/// measured here, peak RSS of a 1 GiB backup wandered between 255 and 430 MiB. Buffers of 1 MiB and more are
/// mapped instead, and unmapped when freed, so resident memory follows what is in flight (about 75 MiB) at a
/// small page-fault cost; glibc's threshold would otherwise creep up after each large free. Arenas are capped at
/// four.
static inline void csystem_tune_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_ARENA_MAX, 4);
}

/// SIGINT and SIGTERM as bytes on a pipe: the handler only write(2)s the signal's number (async-signal-safe), and a
/// thread of the program's own reads it. Whatever thread the kernel picks, and however busy the program's thread
/// pools are, the stop is seen at once.
static int csystem_stop_signal_fd = -1;

static void csystem_stop_signal_handler(int signal_number) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal_number;
    ssize_t ignored = write(csystem_stop_signal_fd, &byte, 1);
    (void)ignored;
    errno = saved;
}

/// Installs the handler for SIGINT and SIGTERM, writing to `fd`, and unblocks both (a parent's blocked mask is
/// inherited across exec). Returns 0, or -1 with errno set.
static inline int csystem_install_stop_signals(int fd) {
    csystem_stop_signal_fd = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = csystem_stop_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return -1;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    return pthread_sigmask(SIG_UNBLOCK, &stop, NULL) == 0 ? 0 : -1;
}


/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE over a range (length 0: to the end of the file): starts writing its
/// dirty pages back without waiting. glibc declares it only with _GNU_SOURCE, which Swift's Glibc module does not
/// define.
int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);
static inline int csystem_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, 2 /* SYNC_FILE_RANGE_WRITE */);
}
#endif
