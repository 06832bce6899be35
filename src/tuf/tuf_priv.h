/*
 * imago_tuf private helpers shared by the files of src/tuf (not for other modules).
 */
#ifndef IMAGO_TUF_TUF_PRIV_H
#define IMAGO_TUF_TUF_PRIV_H

#include "tuf/tuf.h"

/* A delegated targets document kept by a trusted set. */
struct imago_tuf_loaded {
        char name[IMAGO_TUF_ROLE_NAME_MAX + 1];
        struct imago_tuf_meta meta;
};

/* Parse a key object (keytype, scheme, keyval.public) into k (type NONE if unsupported but
 * well formed).  IMAGO_ETUF_FORMAT when not an object of the right shape. */
int tuf_key_parse(json_t *obj, struct imago_tuf_key *k);

/* 0 if sig_hex is a valid signature of k over msg; nonzero otherwise. */
int tuf_sig_check(const struct imago_tuf_key *k, const char *sig_hex, const uint8_t *msg,
                  size_t len);

/* Lookup callback for threshold counting. */
typedef int (*tuf_key_lookup)(void *arg, const char *keyid, struct imago_tuf_key *out);

/* Count distinct keys among keyids[0..n) (public keys compared, not ids) that have a valid
 * signature in signatures (array of {keyid, sig}) over msg. */
int tuf_count_valid(json_t *signatures, const char *const *keyids, size_t n, tuf_key_lookup look,
                    void *arg, const uint8_t *msg, size_t len, unsigned *valid);

/* Digest by TUF hash name: 0 and *out_len, or IMAGO_EUNSUPPORTED. */
const void *tuf_md_by_name(const char *alg);

#endif
