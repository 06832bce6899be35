/*
 * Overflow-checked arithmetic.  Each helper stores the result in *out and
 * returns IMAGO_OK, or returns IMAGO_EOVERFLOW and leaves *out unchanged.
 * Header-only; no allocation, no OS calls (usable in the boot core).
 */
#ifndef IMAGO_BASE_CMATH_H
#define IMAGO_BASE_CMATH_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

static inline int imago_add_u32(uint32_t a, uint32_t b, uint32_t *out)
{
        uint32_t r;

        if (__builtin_add_overflow(a, b, &r))
                return IMAGO_EOVERFLOW;
        *out = r;
        return IMAGO_OK;
}

static inline int imago_mul_u32(uint32_t a, uint32_t b, uint32_t *out)
{
        uint32_t r;

        if (__builtin_mul_overflow(a, b, &r))
                return IMAGO_EOVERFLOW;
        *out = r;
        return IMAGO_OK;
}

static inline int imago_add_size(size_t a, size_t b, size_t *out)
{
        size_t r;

        if (__builtin_add_overflow(a, b, &r))
                return IMAGO_EOVERFLOW;
        *out = r;
        return IMAGO_OK;
}

static inline int imago_mul_size(size_t a, size_t b, size_t *out)
{
        size_t r;

        if (__builtin_mul_overflow(a, b, &r))
                return IMAGO_EOVERFLOW;
        *out = r;
        return IMAGO_OK;
}

/* Round v up to a multiple of align (a power of two, or any non-zero value). */
static inline int imago_align_up_u32(uint32_t v, uint32_t align, uint32_t *out)
{
        uint32_t rem, r;

        if (align == 0)
                return IMAGO_EINVAL;
        rem = v % align;
        if (rem == 0) {
                *out = v;
                return IMAGO_OK;
        }
        if (__builtin_add_overflow(v, align - rem, &r))
                return IMAGO_EOVERFLOW;
        *out = r;
        return IMAGO_OK;
}

#endif
