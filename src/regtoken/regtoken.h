/*
 * imago_regtoken: registration tokens (issue 5).  The cloud issues a user a
 * JWE (compact serialization, alg "ECDH-ES", enc "A256GCM", encrypted to the
 * cloud's own P-256 registration key) carrying {"v":1,"user":U,"nonce":N,
 * "iat":T,"exp":T}.  The device only forwards it: it holds no key and can
 * neither read nor forge it.  The cloud redeems it once: decrypt, check
 * expiry, claim the nonce in a replay store, return the user id.
 * docs/commands.md gives the format byte by byte.
 *
 * Issuing uses cjose; redeeming parses the token itself and decrypts with
 * OpenSSL (same algorithms), so no untrusted byte reaches cjose's parser.
 *
 * Strictness (redeem): token at most IMAGO_REGTOKEN_MAX bytes of base64url
 * and dots, exactly five parts, an empty encrypted-key part, a protected
 * header whose only members are alg, enc and epk (alg exactly "ECDH-ES", enc
 * exactly "A256GCM"; anything else, "dir", "none", RSA, "zip", is refused
 * before cjose sees it), an epk on the P-256 curve, claims parsed with
 * src/json (duplicate keys, unknown members refused).
 *
 * Ownership: struct imago_regtoken_key holds a cjose JWK and the same key as an
 * OpenSSL EVP_PKEY; release it with
 * imago_regtoken_key_free() (safe on a zeroed struct).  The key file is the
 * private JWK JSON, mode 0600, never replaced; loading refuses a file group
 * or others may read.  Buffers that held the private JWK or a plaintext are
 * wiped.  imago_regtoken_issue() returns a malloc'd string the caller frees.
 *
 * Replay store: claim_nonce(arg, nonce, exp) records nonce (32 lowercase hex)
 * until exp and returns 0, or IMAGO_EEXIST if it was claimed before (any other
 * error is passed through and the token is not accepted).  An in-memory store
 * is provided for tests and single-process use; the registry-backed one is the
 * caller's.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ETOOBIG (token over the limit), IMAGO_ECMD_TOKEN_ALG
 * (alg/enc other than ECDH-ES/A256GCM, or other header members),
 * IMAGO_ECMD_TOKEN (malformed, tampered, or for another key: does not decrypt;
 * claims not the format), IMAGO_ECMD_TOKEN_EXPIRED, IMAGO_EEXIST (replayed),
 * IMAGO_ENOTFOUND / IMAGO_EKEY_PERM / IMAGO_EKEY_FORMAT / IMAGO_EIO (key files),
 * IMAGO_ENOMEM, IMAGO_ECRYPTO.
 */
#ifndef IMAGO_REGTOKEN_REGTOKEN_H
#define IMAGO_REGTOKEN_REGTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#define IMAGO_REGTOKEN_MAX         2048 /* compact token, bytes */
#define IMAGO_REGTOKEN_USER_MAX    64   /* user id: 1..64 of [A-Za-z0-9_.@-] */
#define IMAGO_REGTOKEN_NONCE_LEN   32   /* 128 bits, lowercase hex */
#define IMAGO_REGTOKEN_MAX_TTL     86400
#define IMAGO_REGTOKEN_CLAIMS_MAX  512
#define IMAGO_REGTOKEN_KEYFILE_MAX 4096

struct imago_regtoken_key {
        void *jwk;  /* cjose_jwk_t: issuing, the key file */
        void *pkey; /* EVP_PKEY, the same key: redeeming (made once at generate/load) */
};

struct imago_regtoken_replay {
        int (*claim_nonce)(void *arg, const char *nonce, int64_t expiry);
        void *arg;
};

int imago_regtoken_key_generate(struct imago_regtoken_key *key);
/* Write the private JWK to path (must not exist), mode 0600. */
int imago_regtoken_key_save(const struct imago_regtoken_key *key, const char *path);
int imago_regtoken_key_load(const char *path, struct imago_regtoken_key *key);
/*
 * The registration key from an OpenSSL P-256 private key (e.g. DIR/keys/regtoken.key,
 * an encrypted PKCS#8 PEM loaded with imago_privkey_load), so the private JWK never
 * exists as a file.  The JWK is built in memory (the scalar's copy is wiped); pkey is
 * borrowed and up-ref'd into key->pkey.  IMAGO_EKEY_FORMAT if pkey is not a P-256 key,
 * IMAGO_ECRYPTO if its private scalar cannot be read (e.g. a key inside a token).
 */
int imago_regtoken_key_from_pkey(EVP_PKEY *pkey, struct imago_regtoken_key *key);
void imago_regtoken_key_free(struct imago_regtoken_key *key);

/* Cloud/API: a token for user, valid from now for ttl seconds (1..IMAGO_REGTOKEN_MAX_TTL). */
int imago_regtoken_issue(const struct imago_regtoken_key *key, const char *user, int64_t now,
                         int64_t ttl, char **token);

/*
 * Cloud: redeem a token forwarded by a device.  On 0, user (cap >=
 * IMAGO_REGTOKEN_USER_MAX + 1) holds the user id and the nonce is claimed.
 * Expiry: refused when now >= exp (the issuer's and redeemer's clocks are the cloud's).
 */
int imago_regtoken_redeem(const struct imago_regtoken_key *key, const char *token, size_t len,
                          int64_t now, const struct imago_regtoken_replay *replay, char *user,
                          size_t cap);

/* 1 if s is a valid user id. */
int imago_regtoken_user_valid(const char *s);

/* In-memory replay store (not thread safe). */
struct imago_regtoken_memstore {
        struct imago_regtoken_memslot *slots;
        size_t n, cap;
};
void imago_regtoken_memstore_init(struct imago_regtoken_memstore *m);
/* Forget nonces whose expiry is before now. */
void imago_regtoken_memstore_prune(struct imago_regtoken_memstore *m, int64_t now);
void imago_regtoken_memstore_free(struct imago_regtoken_memstore *m);
/* claim_nonce for struct imago_regtoken_replay, arg = the memstore. */
int imago_regtoken_memstore_claim(void *arg, const char *nonce, int64_t expiry);

/* Checks the compact serialization and protected header without decrypting (redeem runs it
 * first; exposed for tests and the fuzz target). */
int imago_regtoken_check_compact(const char *token, size_t len);

/* Module-internal: the checked parts of a token (pointers into the token text). */
struct imago_regtoken_parts {
        const char *header_b64; /* the AAD of A256GCM */
        size_t header_b64_len;
        uint8_t epk[65]; /* uncompressed P-256 point, checked on the curve */
        uint8_t iv[12];
        const char *ct_b64;
        size_t ct_b64_len;
        uint8_t tag[16];
};
int imago_regtoken_parse_compact(const char *token, size_t len, struct imago_regtoken_parts *p);

/*
 * Module-internal: ECDH-ES (RFC 7518 4.6: Concat KDF with SHA-256, no apu/apv) and A256GCM
 * decryption of checked parts with OpenSSL (cjose 0.6.2.1 leaks the empty encrypted-key
 * part on every ECDH-ES decryption).  out holds IMAGO_REGTOKEN_CLAIMS_MAX bytes.
 */
/* Module-internal: key->pkey from key->jwk. */
int imago_regtoken_key_pkey(struct imago_regtoken_key *key);
int imago_regtoken_decrypt(const struct imago_regtoken_key *key,
                           const struct imago_regtoken_parts *p, uint8_t *out, size_t *out_len);

/* Parse decrypted claims strictly; user as for redeem, nonce holds NONCE_LEN + 1. */
int imago_regtoken_parse_claims(const uint8_t *buf, size_t len, char *user, size_t cap, char *nonce,
                                int64_t *iat, int64_t *exp);

#endif
