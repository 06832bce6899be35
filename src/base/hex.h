/*
 * Lowercase hexadecimal, and device ids (which are written in it).
 *
 * A device id is the lowercase hex of the first 16 bytes of SHA-256 over the
 * device key's SubjectPublicKeyInfo (src/pki computes it): exactly
 * IMAGO_DEVICE_ID_LEN characters.  Every module that accepts an id from
 * outside checks it with imago_device_id_valid(), so they all agree on what
 * an id is.  No allocation; NULL strings are invalid.
 */
#ifndef IMAGO_BASE_HEX_H
#define IMAGO_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_DEVICE_ID_LEN 32

/* 1 if s (NUL-terminated) is min..max lowercase hex digits, else 0. */
int imago_hex_is_lower(const char *s, size_t min, size_t max);

/* 1 if s is a device id. */
int imago_device_id_valid(const char *s);

/* Lowercase hex of n bytes into out, which holds 2n + 1 chars. */
void imago_hex_encode(const uint8_t *in, size_t n, char *out);

/* Exactly 2n lowercase hex digits into n bytes; IMAGO_EMALFORMED otherwise (out may be partly
 * written). */
int imago_hex_decode(const char *s, uint8_t *out, size_t n);

#endif
