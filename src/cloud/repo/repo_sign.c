/* See repo_priv.h: snapshot and timestamp documents signed with an online key. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fmt_time(int64_t t, char out[32])
{
        struct tm tm;
        time_t tt = (time_t)t;

        if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
                return IMAGO_ERANGE;
        return IMAGO_OK;
}

int imago_repo_sign_online(const char *type, const struct imago_privkey *key, uint64_t version,
                           int64_t expires, json_t *meta, char **out, size_t *len)
{
        json_t *signed_obj = NULL, *sig = NULL, *doc = NULL;
        char when[32];
        int r;

        *out = NULL;
        *len = 0;
        if (type == NULL || key == NULL || meta == NULL || version == 0 ||
            version > (uint64_t)INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = fmt_time(expires, when)) != IMAGO_OK)
                return r;
        signed_obj = json_pack("{s:s,s:s,s:I,s:s,s:O}", "_type", type, "spec_version", "1.0.31",
                               "version", (json_int_t)version, "expires", when, "meta", meta);
        if (signed_obj == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_tuf_sign(key, signed_obj, &sig)) != IMAGO_OK)
                goto out;
        if ((doc = json_pack("{s:O,s:[o]}", "signed", signed_obj, "signatures", sig)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        sig = NULL; /* stolen by doc (also when json_pack failed) */
        if ((*out = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        *len = strlen(*out);
out:
        json_decref(doc);
        json_decref(signed_obj);
        return r;
}
