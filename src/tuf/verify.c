/* See tuf.h: threshold verification of signatures. */
#include "tuf/tuf_priv.h"

#include "base/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_KEYIDS 1024 /* bound for the json_t interface (parsed metadata has its own) */
#define VERIFY_MAX_SIGS   1024

int tuf_count_valid(json_t *signatures, const char *const *keyids, size_t n, tuf_key_lookup look,
                    void *arg, const uint8_t *msg, size_t len, unsigned *valid)
{
        struct imago_tuf_key k;
        uint8_t(*seen)[IMAGO_SHA256_LEN] = NULL;
        size_t i, j, n_seen = 0, n_sigs;
        unsigned count = 0;
        int r;

        *valid = 0;
        if (!json_is_array(signatures))
                return IMAGO_ETUF_FORMAT;
        n_sigs = json_array_size(signatures);
        if (n > 0 && (seen = calloc(n, sizeof(*seen))) == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < n; i++) {
                int dup = 0, ok = 0;

                /* a key id listed twice counts once */
                for (j = 0; j < i; j++)
                        dup |= strcmp(keyids[i], keyids[j]) == 0;
                if (dup)
                        continue;
                memset(&k, 0, sizeof(k));
                if (look(arg, keyids[i], &k) != IMAGO_OK || k.type == IMAGO_KEY_NONE)
                        continue;
                /* the same public key under two ids counts once */
                for (j = 0; j < n_seen; j++)
                        dup |= memcmp(seen[j], k.pub.keyhash, IMAGO_SHA256_LEN) == 0;
                if (dup)
                        continue;
                for (j = 0; j < n_sigs && !ok; j++) {
                        json_t *s = json_array_get(signatures, j);
                        const char *id = imago_json_str(s, "keyid", NULL);
                        const char *sig = imago_json_str(s, "sig", NULL);

                        if (id == NULL || sig == NULL || strcmp(id, keyids[i]) != 0)
                                continue;
                        ok = tuf_sig_check(&k, sig, msg, len) == 0;
                }
                if (!ok)
                        continue;
                memcpy(seen[n_seen++], k.pub.keyhash, IMAGO_SHA256_LEN);
                count++;
        }
        *valid = count;
        r = IMAGO_OK;
        free(seen);
        return r;
}

struct json_look {
        const json_t *keys;
};

static int json_lookup(void *arg, const char *keyid, struct imago_tuf_key *out)
{
        const struct json_look *l = arg;
        json_t *o = json_object_get(l->keys, keyid);

        if (o == NULL)
                return IMAGO_ENOTFOUND;
        out->keyid = keyid;
        return tuf_key_parse(o, out);
}

int imago_tuf_verify_threshold(const json_t *signed_obj, const json_t *signatures,
                               const json_t *keys, const json_t *keyids, unsigned threshold,
                               unsigned *valid)
{
        struct json_look l = {keys};
        const char **ids = NULL;
        char *c = NULL;
        size_t n, i, cl;
        unsigned v = 0;
        int r;

        if (valid != NULL)
                *valid = 0;
        if (signed_obj == NULL || signatures == NULL || keys == NULL || keyids == NULL ||
            threshold == 0)
                return IMAGO_EINVAL;
        if (!json_is_object(keys) || !json_is_array(keyids) || !json_is_array(signatures))
                return IMAGO_ETUF_FORMAT;
        n = json_array_size(keyids);
        if (n > VERIFY_MAX_KEYIDS || json_array_size(signatures) > VERIFY_MAX_SIGS)
                return IMAGO_ETOOBIG;
        if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < n; i++) {
                json_t *e = json_array_get(keyids, i);

                if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
                        r = IMAGO_ETUF_FORMAT;
                        goto out;
                }
                ids[i] = json_string_value(e);
        }
        if ((r = imago_tuf_cjson(signed_obj, &c, &cl)) != IMAGO_OK)
                goto out;
        if ((r = tuf_count_valid((json_t *)signatures, ids, n, json_lookup, &l, (uint8_t *)c, cl,
                                 &v)) != IMAGO_OK)
                goto out;
        if (valid != NULL)
                *valid = v;
        r = v >= threshold ? IMAGO_OK : IMAGO_ETUF_THRESHOLD;
out:
        free(ids);
        free(c);
        return r;
}

const struct imago_tuf_key *imago_tuf_meta_key(const struct imago_tuf_meta *keys_holder,
                                               const char *keyid)
{
        size_t i;

        if (keys_holder == NULL || keyid == NULL)
                return NULL;
        for (i = 0; i < keys_holder->n_keys; i++) {
                if (strcmp(keys_holder->keys[i].keyid, keyid) == 0)
                        return keys_holder->keys[i].type == IMAGO_KEY_NONE ? NULL
                                                                           : &keys_holder->keys[i];
        }
        return NULL;
}

static int meta_lookup(void *arg, const char *keyid, struct imago_tuf_key *out)
{
        const struct imago_tuf_key *k = imago_tuf_meta_key(arg, keyid);

        if (k == NULL)
                return IMAGO_ENOTFOUND;
        *out = *k;
        return IMAGO_OK;
}

int imago_tuf_meta_verify(const struct imago_tuf_meta *m, const struct imago_tuf_meta *keys_holder,
                          const struct imago_tuf_role *role, unsigned *valid)
{
        unsigned v = 0;
        int r;

        if (valid != NULL)
                *valid = 0;
        if (m == NULL || keys_holder == NULL || role == NULL || m->canonical == NULL)
                return IMAGO_EINVAL;
        if (role->threshold == 0)
                return IMAGO_ETUF_FORMAT;
        r = tuf_count_valid(m->signatures, role->keyids, role->n_keyids, meta_lookup,
                            (void *)keys_holder, (const uint8_t *)m->canonical, m->canonical_len,
                            &v);
        if (r != IMAGO_OK)
                return r;
        if (valid != NULL)
                *valid = v;
        return v >= role->threshold ? IMAGO_OK : IMAGO_ETUF_THRESHOLD;
}
