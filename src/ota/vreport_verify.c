/* imago_vreport: the cloud parses and verifies a version report (see vreport.h). */
#include "ota/vreport_priv.h"

#include "base/err.h"
#include "json/json.h"

#include <string.h>

/* A JSON integer in [0, max]. */
static int int_member(json_t *obj, const char *key, int64_t max, int64_t *out)
{
        json_t *v = json_object_get(obj, key);
        json_int_t i;

        if (!json_is_integer(v))
                return -1;
        i = json_integer_value(v);
        if (i < 0 || i > max)
                return -1;
        *out = (int64_t)i;
        return 0;
}

/* A string member no longer than max bytes, copied into dst (max + 1 bytes). */
static int str_member(json_t *obj, const char *key, char *dst, size_t max)
{
        size_t n = 0;
        const char *s = imago_json_str(obj, key, &n);

        if (s == NULL || n > max)
                return -1;
        memcpy(dst, s, n + 1);
        return 0;
}

/* Outer object: the payload text (borrowed from *env) and the DER signature. */
static int vreport_outer(const uint8_t *buf, size_t len, json_t **env, const char **payload,
                         size_t *plen, uint8_t sig[VREPORT_SIG_DER_MAX], size_t *sig_len)
{
        static const char *const keys[] = {"v", "payload", "sig"};
        const char *sigb64;
        size_t slen = 0;
        json_t *v;
        int r;

        if ((r = imago_json_object(buf, len, IMAGO_VREPORT_MAX, env)) != 0) {
                if (r == IMAGO_EMALFORMED)
                        r = IMAGO_EOTA_REPORT;
                goto out;
        }
        r = IMAGO_EOTA_REPORT;
        v = json_object_get(*env, "v");
        if (!imago_json_only_keys(*env, keys, 3) || !json_is_integer(v) ||
            json_integer_value(v) != 1)
                goto out;
        *payload = imago_json_str(*env, "payload", plen);
        sigb64 = imago_json_str(*env, "sig", &slen);
        if (*payload == NULL || sigb64 == NULL ||
            vreport_b64_decode(sigb64, slen, sig, VREPORT_SIG_DER_MAX, sig_len) != 0)
                goto out;
        r = 0;
out:
        return r;
}

static int vreport_installed(json_t *o, struct imago_vreport *r)
{
        static const char *const keys[] = {"sha256", "length", "version", "security_counter"};
        const char *sha;
        int64_t n = 0, sc = 0;

        if (!json_is_object(o) || !imago_json_only_keys(o, keys, 4) || json_object_size(o) != 4)
                return -1;
        sha = imago_json_str(o, "sha256", NULL);
        if (sha == NULL || !imago_hex_is_lower(sha, 64, 64) ||
            imago_hex_decode(sha, r->installed_sha256, IMAGO_SHA256_LEN) != 0)
                return -1;
        if (int_member(o, "length", VREPORT_JSON_INT_MAX, &n) != 0 ||
            int_member(o, "security_counter", UINT32_MAX, &sc) != 0)
                return -1;
        r->installed_length = (uint64_t)n;
        r->installed_security_counter = (uint32_t)sc;
        if (str_member(o, "version", r->installed_version, IMAGO_VREPORT_VERSION_MAX) != 0 ||
            !vreport_version_valid(r->installed_version))
                return -1;
        return 0;
}

static int vreport_payload(const char *payload, size_t plen, struct imago_vreport *r)
{
        static const char *const keys[] = {"device",    "nonce",       "counter", "time",
                                           "installed", "hardware_id", "state",   "target",
                                           "rollout",   "error",       "progress"};
        const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
        char state[16], counter[24], rollout[24];
        json_t *root = NULL;
        int64_t t = 0, progress = 0;
        int rc;

        if ((rc = imago_json_object((const uint8_t *)payload, plen, IMAGO_VREPORT_MAX, &root)) !=
            0) {
                if (rc == IMAGO_EMALFORMED)
                        rc = IMAGO_EOTA_REPORT;
                goto out;
        }
        rc = IMAGO_EOTA_REPORT;
        if (!imago_json_only_keys(root, keys, nkeys) || json_object_size(root) != nkeys)
                goto out;
        if (str_member(root, "device", r->device, IMAGO_DEVICE_ID_LEN) != 0 ||
            !imago_device_id_valid(r->device))
                goto out;
        if (str_member(root, "nonce", r->nonce, 32) != 0 || !vreport_nonce_valid(r->nonce))
                goto out;
        if (str_member(root, "counter", counter, sizeof(counter) - 1) != 0 ||
            vreport_u64_parse(counter, &r->counter) != 0 || r->counter == 0)
                goto out;
        if (int_member(root, "time", VREPORT_JSON_INT_MAX, &t) != 0)
                goto out;
        r->time = t;
        if (vreport_installed(json_object_get(root, "installed"), r) != 0)
                goto out;
        if (str_member(root, "hardware_id", r->hardware_id, IMAGO_VREPORT_HWID_MAX) != 0 ||
            !vreport_hwid_valid(r->hardware_id))
                goto out;
        if (str_member(root, "state", state, sizeof(state) - 1) != 0 ||
            imago_vreport_state_from_name(state, &r->state) != 0 || r->state == IMAGO_OTA_QUEUED)
                goto out;
        if (str_member(root, "target", r->target, IMAGO_VREPORT_TARGET_MAX) != 0 ||
            !vreport_target_valid(r->target))
                goto out;
        if (str_member(root, "rollout", rollout, sizeof(rollout) - 1) != 0 ||
            vreport_u64_parse(rollout, &r->rollout) != 0)
                goto out;
        if (str_member(root, "error", r->error, sizeof(r->error) - 1) != 0 ||
            !vreport_error_valid(r->error))
                goto out;
        if (int_member(root, "progress", 100, &progress) != 0)
                goto out;
        r->progress = (unsigned)progress;
        rc = 0;
out:
        json_decref(root);
        return rc;
}

int imago_vreport_verify(const uint8_t *buf, size_t len, const struct imago_pubkey *key,
                         const char *expect_device, struct imago_vreport *r)
{
        uint8_t sig[VREPORT_SIG_DER_MAX], digest[IMAGO_SHA256_LEN];
        const char *payload = NULL;
        json_t *env = NULL;
        size_t plen = 0, sig_len = 0;
        int rc = IMAGO_EINVAL;

        if (r != NULL)
                memset(r, 0, sizeof(*r));
        if (buf == NULL || key == NULL || r == NULL || key->type != IMAGO_KEY_P256 ||
            !imago_device_id_valid(expect_device))
                goto out;
        rc = IMAGO_ETOOBIG;
        if (len > IMAGO_VREPORT_MAX)
                goto out;
        if ((rc = vreport_outer(buf, len, &env, &payload, &plen, sig, &sig_len)) != 0)
                goto out;
        /* The signature first: nothing of the payload is read before it verifies. */
        if ((rc = vreport_digest(payload, plen, digest)) != 0)
                goto out;
        rc = imago_sig_verify_digest(key, digest, sig, sig_len);
        if (rc == IMAGO_EIMG_SIG_BAD)
                rc = IMAGO_EOTA_REPORT;
        if (rc != 0)
                goto out;
        if ((rc = vreport_payload(payload, plen, r)) != 0)
                goto out;
        rc = IMAGO_EOTA_REPORT;
        if (strcmp(r->device, expect_device) != 0)
                goto out;
        rc = 0;
out:
        json_decref(env);
        if (rc != 0 && r != NULL)
                memset(r, 0, sizeof(*r));
        return rc;
}
