#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
#include <malloc.h>

/// Keeps glibc from mmapping and unmapping every multi-megabyte chunk buffer (each cycle costs page faults on fresh,
/// zeroed pages) and from spreading freed buffers over one arena per thread (which inflates resident memory):
/// buffers up to 64 MiB come from at most four heap arenas and are reused.
static inline void csystem_tune_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_ARENA_MAX, 4);
}
#endif
