/* imago_vreport: the device builds and signs a version report (see vreport.h). */
#include "ota/vreport_priv.h"

#include "base/err.h"
#include "json/json.h"

#include <openssl/evp.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 if every field of r is what verify accepts. */
static int report_valid(const struct imago_vreport *r)
{
        return imago_device_id_valid(r->device) && vreport_nonce_valid(r->nonce) &&
               r->counter >= 1 && r->time >= 0 && r->time <= VREPORT_JSON_INT_MAX &&
               r->installed_length <= (uint64_t)VREPORT_JSON_INT_MAX &&
               vreport_version_valid(r->installed_version) && vreport_hwid_valid(r->hardware_id) &&
               r->state != IMAGO_OTA_QUEUED && imago_vreport_state_name(r->state) != NULL &&
               memchr(r->target, '\0', sizeof(r->target)) != NULL &&
               vreport_target_valid(r->target) &&
               memchr(r->error, '\0', sizeof(r->error)) != NULL && vreport_error_valid(r->error) &&
               r->progress <= 100;
}

static json_t *payload_json(const struct imago_vreport *r)
{
        char sha[2 * IMAGO_SHA256_LEN + 1], counter[24], rollout[24];

        imago_hex_encode(r->installed_sha256, IMAGO_SHA256_LEN, sha);
        snprintf(counter, sizeof(counter), "%" PRIu64, r->counter);
        snprintf(rollout, sizeof(rollout), "%" PRIu64, r->rollout);
        return json_pack(
            "{s:s, s:s, s:s, s:I, s:{s:s, s:I, s:s, s:I}, s:s, s:s, s:s, s:s, s:s, "
            "s:I}",
            "device", r->device, "nonce", r->nonce, "counter", counter, "time", (json_int_t)r->time,
            "installed", "sha256", sha, "length", (json_int_t)r->installed_length, "version",
            r->installed_version, "security_counter", (json_int_t)r->installed_security_counter,
            "hardware_id", r->hardware_id, "state", imago_vreport_state_name(r->state), "target",
            r->target, "rollout", rollout, "error", r->error, "progress", (json_int_t)r->progress);
}

int imago_vreport_build(const struct imago_vreport *r, imago_vreport_sign_fn sign, void *arg,
                        char **out, size_t *len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char sigb64[VREPORT_SIG_B64_MAX + 1], *ptext = NULL;
        json_t *payload = NULL, *env = NULL;
        size_t plen, sig_len = 0;
        int rc = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (r == NULL || sign == NULL || out == NULL || len == NULL ||
            memchr(r->device, '\0', sizeof(r->device)) == NULL ||
            memchr(r->nonce, '\0', sizeof(r->nonce)) == NULL ||
            memchr(r->installed_version, '\0', sizeof(r->installed_version)) == NULL ||
            memchr(r->hardware_id, '\0', sizeof(r->hardware_id)) == NULL || !report_valid(r))
                goto out;
        rc = IMAGO_ENOMEM;
        if ((payload = payload_json(r)) == NULL)
                goto out;
        if ((ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        plen = strlen(ptext);
        if ((rc = vreport_digest(ptext, plen, digest)) != 0)
                goto out;
        if ((rc = sign(arg, digest, sig, &sig_len)) != 0)
                goto out;
        rc = IMAGO_ECRYPTO;
        if (sig_len < 8 || sig_len > VREPORT_SIG_DER_MAX)
                goto out;
        EVP_EncodeBlock((unsigned char *)sigb64, sig, (int)sig_len);
        rc = IMAGO_ENOMEM;
        env = json_pack("{s:i, s:s, s:s}", "v", 1, "payload", ptext, "sig", sigb64);
        if (env == NULL || (*out = json_dumps(env, JSON_COMPACT)) == NULL)
                goto out;
        *len = strlen(*out);
        rc = 0;
        if (*len > IMAGO_VREPORT_MAX) {
                free(*out);
                *out = NULL;
                *len = 0;
                rc = IMAGO_ETOOBIG;
        }
out:
        json_decref(payload);
        json_decref(env);
        free(ptext);
        return rc;
}
