/*
 * Strict number parsing for command lines and text formats.
 *
 * The whole string must be consumed: no sign, no leading or trailing space,
 * no empty string.  Decimal, or hexadecimal with a 0x prefix when the
 * function says so.  Out of range gives IMAGO_ERANGE, anything else that is
 * not a number IMAGO_EINVAL; *out is written only on success.
 */
#ifndef IMAGO_BASE_NUM_H
#define IMAGO_BASE_NUM_H

#include <stdint.h>

/* Decimal or 0x-prefixed hexadecimal, value <= max. */
int imago_parse_u64(const char *s, uint64_t max, uint64_t *out);
int imago_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* Like imago_parse_u32, with an optional K or M suffix (x1024, x1024*1024). */
int imago_parse_size(const char *s, uint32_t max, uint32_t *out);

#endif
