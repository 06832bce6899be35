/*
 * imago crypto interface: the one header through which imago code (the boot
 * core included) hashes and verifies signatures.
 *
 * Exactly one backend implements it.  The host backend is OpenSSL 3
 * (crypto_openssl.c), selected with IMAGO_CRYPTO_OPENSSL; a build that
 * selects none or two stops here with #error.  An embedded port adds its
 * own backend file and macro.
 *
 * Ownership: all structures are caller-owned and fixed size.  A backend may
 * keep internal state behind `impl` between init and final/abort; after
 * final or abort nothing is held.  Public keys are kept as their
 * SubjectPublicKeyInfo DER, the form MCUboot hashes for its KEYHASH TLV.
 *
 * Errors: IMAGO_EINVAL for bad arguments, IMAGO_EKEY_FORMAT for a key that
 * does not parse, IMAGO_EIMG_SIG_BAD for a signature that does not verify,
 * IMAGO_ECRYPTO for a backend failure.
 */
#ifndef IMAGO_CRYPTO_CRYPTO_H
#define IMAGO_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#if defined(IMAGO_CRYPTO_OPENSSL) + 0 != 1
#error "select exactly one crypto backend (IMAGO_CRYPTO_OPENSSL=1)"
#endif

#define IMAGO_SHA256_LEN   32
#define IMAGO_SPKI_MAX_LEN 96 /* P-256 SPKI is 91 bytes, Ed25519 44 */
#define IMAGO_SIG_MAX_LEN  80 /* DER ECDSA P-256 is at most 72, Ed25519 64 */

struct imago_sha256 {
        void *impl;
};

int imago_sha256_init(struct imago_sha256 *h);
int imago_sha256_update(struct imago_sha256 *h, const void *data, size_t len);
/* Writes the digest and releases the state. */
int imago_sha256_final(struct imago_sha256 *h, uint8_t out[IMAGO_SHA256_LEN]);
/* Releases the state without a digest (error paths). Safe on a zeroed ctx. */
void imago_sha256_abort(struct imago_sha256 *h);
/* One-shot. */
int imago_sha256(const void *data, size_t len, uint8_t out[IMAGO_SHA256_LEN]);
/*
 * SHA-256 of tag (tag_len bytes) then data (len bytes): a digest bound to one use, so that
 * what is signed for one purpose is never valid for another.  Backend-neutral
 * (crypto_tagged.c, on the calls above).
 */
int imago_sha256_tagged(const void *tag, size_t tag_len, const void *data, size_t len,
                        uint8_t out[IMAGO_SHA256_LEN]);

enum imago_key_type {
        IMAGO_KEY_NONE = 0,
        IMAGO_KEY_ED25519 = 1,
        IMAGO_KEY_P256 = 2,
};

struct imago_pubkey {
        enum imago_key_type type;
        uint8_t spki[IMAGO_SPKI_MAX_LEN];
        size_t spki_len;
        uint8_t keyhash[IMAGO_SHA256_LEN]; /* SHA-256 of spki, as in MCUboot's KEYHASH */
};

/* Parse a SubjectPublicKeyInfo DER (Ed25519 or P-256) into k. */
int imago_pubkey_from_spki(struct imago_pubkey *k, const uint8_t *der, size_t len);

/*
 * Verify sig over a SHA-256 digest the way MCUboot does: Ed25519 signs the
 * 32-byte digest as its message; ECDSA P-256 is a DER signature whose
 * signed hash is the digest.
 */
int imago_sig_verify_digest(const struct imago_pubkey *k, const uint8_t digest[IMAGO_SHA256_LEN],
                            const uint8_t *sig, size_t sig_len);

#endif
