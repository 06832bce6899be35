/*
 * heap_count.h: a counting heap for memory-bound tests and benchmarks (header only).
 *
 * Replaces malloc, calloc, realloc, free, memalign, aligned_alloc and posix_memalign with
 * wrappers around glibc's (__libc_malloc and friends) that keep the number of live heap bytes
 * (malloc_usable_size) and its highest value.  It replaces the copies that
 * tests/unit/test_ota_memory.c, tests/unit/test_tuf_client_memory.c and
 * bench/ota/bench_tuf_verify.c each carried.
 *
 * Include it from exactly ONE translation unit of a program (it defines the allocator's
 * external symbols), after defining _GNU_SOURCE.  Under AddressSanitizer (which owns malloc)
 * nothing is replaced, HEAP_COUNT_OFF is defined, and the measures below are 0: tests skip
 * their memory checks when HEAP_COUNT_OFF is defined.
 *
 * Measure:  size_t base = heap_count_start();  ...work...  used = heap_count_peak_since(base);
 * heap_count_start resets the peak to the bytes live now and returns them;
 * heap_count_peak_since returns the peak since then, above base.  Not thread-safe: the
 * programs that use it allocate from one thread.
 */
#ifndef IMAGO_TESTS_SUPPORT_HEAP_COUNT_H
#define IMAGO_TESTS_SUPPORT_HEAP_COUNT_H

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h> /* the prototypes of the functions replaced */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_COUNT_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_COUNT_OFF 1
#endif
#endif

#ifndef HEAP_COUNT_OFF
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static size_t heap_count_cur, heap_count_peak;

static void heap_count_add(void *p)
{
        if (p != NULL) {
                heap_count_cur += malloc_usable_size(p);
                if (heap_count_cur > heap_count_peak)
                        heap_count_peak = heap_count_cur;
        }
}

static void heap_count_sub(void *p)
{
        if (p != NULL)
                heap_count_cur -= malloc_usable_size(p);
}

void *malloc(size_t n)
{
        void *p = __libc_malloc(n);

        heap_count_add(p);
        return p;
}

void *calloc(size_t a, size_t b)
{
        void *p = __libc_calloc(a, b);

        heap_count_add(p);
        return p;
}

void *realloc(void *old, size_t n)
{
        void *p;

        heap_count_sub(old);
        p = __libc_realloc(old, n);
        heap_count_add(p != NULL ? p : (n == 0 ? NULL : old));
        return p;
}

void free(void *p)
{
        heap_count_sub(p);
        __libc_free(p);
}

void *memalign(size_t a, size_t n)
{
        void *p = __libc_memalign(a, n);

        heap_count_add(p);
        return p;
}

void *aligned_alloc(size_t a, size_t n)
{
        return memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
        void *p = memalign(a, n);

        if (p == NULL)
                return ENOMEM;
        *out = p;
        return 0;
}

static inline size_t heap_count_start(void)
{
        heap_count_peak = heap_count_cur;
        return heap_count_cur;
}

static inline size_t heap_count_peak_since(size_t base)
{
        return heap_count_peak - base;
}
#else
static inline size_t heap_count_start(void)
{
        return 0;
}

static inline size_t heap_count_peak_since(size_t base)
{
        (void)base;
        return 0;
}
#endif

#endif
