/*
 * Setup codes: the secret on a device's label that proves physical
 * possession during onboarding.
 *
 * A code is 50 random bits written as 10 Crockford base32 characters in two
 * groups ("7K2QX-M9D4T").  The device keeps only a salted scrypt hash of it
 * ("scrypt$N$r$p$<salt hex>$<hash hex>", at most IMAGO_SETUP_HASH_MAX chars),
 * so a dump of the device's store does not reveal the code and each guess
 * costs a scrypt evaluation.  Parsing a code ignores case, '-' and spaces and
 * maps I/L to 1 and O to 0, as Crockford's alphabet says.
 *
 * Ownership: all buffers are the caller's; wipe the code after use.
 * Errors: IMAGO_EINVAL (not a code), IMAGO_EMALFORMED (bad stored hash),
 * IMAGO_EPERM (code does not match), IMAGO_ECRYPTO.
 */
#ifndef IMAGO_FACTORY_SETUP_CODE_H
#define IMAGO_FACTORY_SETUP_CODE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_SETUP_CODE_BITS 50
#define IMAGO_SETUP_CODE_LEN  11 /* "XXXXX-XXXXX" */
#define IMAGO_SETUP_HASH_MAX  160

/* Format 50 bits (low bits of raw[0..6], big-endian) as a code. */
int imago_setup_code_format(const uint8_t raw[7], char out[IMAGO_SETUP_CODE_LEN + 1]);

/* Hash a code with a fresh random salt. */
int imago_setup_code_hash(const char *code, char out[IMAGO_SETUP_HASH_MAX + 1]);

/* IMAGO_OK if code matches the stored hash (constant-time compare). */
int imago_setup_code_check(const char *code, const char *stored);

#endif
