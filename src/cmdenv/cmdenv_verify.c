/* imago_cmdenv: the device parses and verifies a command envelope (see cmdenv.h). */
#include "cmdenv/cmdenv.h"

#include "base/err.h"
#include "json/json.h"

#include <string.h>

void imago_cmdenv_release(struct imago_cmdenv *c)
{
        if (c == NULL)
                return;
        json_decref(c->root);
        memset(c, 0, sizeof(*c));
}

/* A JSON integer in [0, 2^53], the range every JSON reader keeps exact. */
static int cmdenv_time(json_t *obj, const char *key, int64_t *out)
{
        json_t *v = json_object_get(obj, key);
        json_int_t i;

        if (!json_is_integer(v))
                return IMAGO_ECMD_MALFORMED;
        i = json_integer_value(v);
        if (i < 0 || i > ((json_int_t)1 << 53))
                return IMAGO_ECMD_MALFORMED;
        *out = (int64_t)i;
        return 0;
}

/* Outer object: returns the payload text (borrowed from *env) and the signature. */
static int cmdenv_outer(const uint8_t *buf, size_t len, json_t **env, const char **payload,
                        size_t *plen, uint8_t sig[64])
{
        static const char *const keys[] = {"v", "payload", "sig"};
        const char *sighex;
        size_t slen = 0;
        json_t *v;
        int r;

        if ((r = imago_json_object(buf, len, IMAGO_CMDENV_MAX, env)) != 0) {
                if (r == IMAGO_EMALFORMED)
                        r = IMAGO_ECMD_MALFORMED;
                goto out;
        }
        r = IMAGO_ECMD_MALFORMED;
        v = json_object_get(*env, "v");
        if (!imago_json_only_keys(*env, keys, 3) || !json_is_integer(v) ||
            json_integer_value(v) != 1)
                goto out;
        *payload = imago_json_str(*env, "payload", plen);
        sighex = imago_json_str(*env, "sig", &slen);
        if (*payload == NULL || sighex == NULL || slen != 128 ||
            imago_hex_decode(sighex, sig, 64) != 0)
                goto out;
        r = IMAGO_ETOOBIG;
        if (*plen > IMAGO_CMDENV_PAYLOAD_MAX)
                goto out;
        r = 0;
out:
        return r;
}

static int cmdenv_payload(const char *payload, size_t plen, struct imago_cmdenv *c)
{
        static const char *const keys[] = {"device", "seq", "iat", "exp", "name", "args"};
        const char *dev, *seq, *name;
        int r;

        if ((r = imago_json_object((const uint8_t *)payload, plen, IMAGO_CMDENV_PAYLOAD_MAX,
                                   &c->root)) != 0) {
                if (r == IMAGO_EMALFORMED)
                        r = IMAGO_ECMD_MALFORMED;
                goto out;
        }
        r = IMAGO_ECMD_MALFORMED;
        if (!imago_json_only_keys(c->root, keys, 6))
                goto out;
        dev = imago_json_str(c->root, "device", NULL);
        seq = imago_json_str(c->root, "seq", NULL);
        name = imago_json_str(c->root, "name", NULL);
        c->args = json_object_get(c->root, "args");
        if (!imago_device_id_valid(dev) || !imago_cmdenv_name_valid(name) ||
            !json_is_object(c->args) || imago_cmdenv_seq_parse(seq, &c->seq) != 0 ||
            cmdenv_time(c->root, "iat", &c->iat) != 0 ||
            cmdenv_time(c->root, "exp", &c->exp) != 0 || c->exp <= c->iat ||
            c->exp - c->iat > IMAGO_CMDENV_MAX_LIFE)
                goto out;
        memcpy(c->device, dev, IMAGO_DEVICE_ID_LEN + 1);
        memcpy(c->name, name, strlen(name) + 1);
        r = 0;
out:
        return r;
}

int imago_cmdenv_verify(const uint8_t *buf, size_t len, const struct imago_pubkey *key,
                        const char *device, uint64_t last_seq, int64_t now, int64_t skew,
                        struct imago_cmdenv *out)
{
        uint8_t sig[64], digest[IMAGO_SHA256_LEN];
        const char *payload = NULL;
        json_t *env = NULL;
        size_t plen = 0;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                memset(out, 0, sizeof(*out));
        if (buf == NULL || key == NULL || out == NULL || !imago_device_id_valid(device) ||
            now < 0 || now > ((int64_t)1 << 53) || skew < 0 || skew > IMAGO_CMDENV_MAX_SKEW)
                goto out;
        r = IMAGO_EKEY_TYPE;
        if (key->type != IMAGO_KEY_ED25519)
                goto out;
        if ((r = cmdenv_outer(buf, len, &env, &payload, &plen, sig)) != 0)
                goto out;
        /* The signature first: nothing of the payload is read before it verifies. */
        if ((r = imago_cmdenv_digest(payload, plen, digest)) != 0)
                goto out;
        r = imago_sig_verify_digest(key, digest, sig, sizeof(sig));
        if (r == IMAGO_EIMG_SIG_BAD)
                r = IMAGO_ECMD_SIG;
        if (r != 0)
                goto out;
        if ((r = cmdenv_payload(payload, plen, out)) != 0)
                goto out;
        r = IMAGO_ECMD_DEVICE;
        if (strcmp(out->device, device) != 0)
                goto out;
        r = IMAGO_ECMD_REPLAY;
        if (out->seq <= last_seq)
                goto out;
        r = IMAGO_ECMD_NOTYET;
        if (out->iat > now + skew)
                goto out;
        r = IMAGO_ECMD_EXPIRED;
        if (now > out->exp + skew)
                goto out;
        r = 0;
out:
        json_decref(env);
        if (r != 0)
                imago_cmdenv_release(out);
        return r;
}
