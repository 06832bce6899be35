/* imago_cmdenv: the cloud builds and signs a command envelope (see cmdenv.h). */
#include "cmdenv/cmdenv.h"

#include "base/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imago_cmdenv_build(const struct imago_privkey *key, const char *device, uint64_t seq,
                       int64_t iat, int64_t exp, const char *name, json_t *args, char **out)
{
        json_t *payload = NULL, *env = NULL, *a = NULL;
        char *ptext = NULL, seqs[24], sighex[2 * IMAGO_SIG_MAX_LEN + 1];
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        size_t plen, sig_len = 0;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (key == NULL || out == NULL || !imago_device_id_valid(device) || seq == 0 || iat < 0 ||
            exp <= iat || exp > ((int64_t)1 << 53) || exp - iat > IMAGO_CMDENV_MAX_LIFE ||
            !imago_cmdenv_name_valid(name) || (args != NULL && !json_is_object(args)))
                goto out;
        r = IMAGO_EKEY_TYPE;
        if (key->type != IMAGO_KEY_ED25519)
                goto out;
        r = IMAGO_ENOMEM;
        snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
        a = args != NULL ? json_incref(args) : json_object();
        payload = json_pack("{s:s, s:s, s:I, s:I, s:s, s:O}", "device", device, "seq", seqs, "iat",
                            (json_int_t)iat, "exp", (json_int_t)exp, "name", name, "args", a);
        if (a == NULL || payload == NULL)
                goto out;
        ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
        if (ptext == NULL)
                goto out;
        plen = strlen(ptext);
        r = IMAGO_ETOOBIG;
        if (plen > IMAGO_CMDENV_PAYLOAD_MAX)
                goto out;
        if ((r = imago_cmdenv_digest(ptext, plen, digest)) != 0 ||
            (r = imago_privkey_sign_digest(key, digest, sig, &sig_len)) != 0)
                goto out;
        r = IMAGO_ECRYPTO;
        if (sig_len != 64)
                goto out;
        imago_hex_encode(sig, sig_len, sighex);
        r = IMAGO_ENOMEM;
        env = json_pack("{s:i, s:s, s:s}", "v", 1, "payload", ptext, "sig", sighex);
        if (env == NULL)
                goto out;
        *out = json_dumps(env, JSON_COMPACT);
        if (*out == NULL)
                goto out;
        r = 0;
        if (strlen(*out) > IMAGO_CMDENV_MAX) {
                free(*out);
                *out = NULL;
                r = IMAGO_ETOOBIG;
        }
out:
        json_decref(a);
        json_decref(payload);
        json_decref(env);
        free(ptext);
        return r;
}
