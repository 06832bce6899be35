/* imago_ota: state.json, read strictly and written atomically (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/num.h"
#include "json/json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const phase_names[] = {"idle", "downloading", "installing", "rebooting"};

const char *ota_phase_name(enum ota_phase p)
{
        return (unsigned)p < 4 ? phase_names[p] : "?";
}

int ota_path(const struct imago_ota *o, const char *rel, char out[OTA_PATH_MAX])
{
        int n = snprintf(out, OTA_PATH_MAX, "%s/%s", o->dir, rel);

        return n < 0 || n >= OTA_PATH_MAX ? IMAGO_ETOOBIG : IMAGO_OK;
}

void ota_state_clear_report(struct ota_state *st)
{
        free(st->report);
        st->report = NULL;
        st->report_len = 0;
        st->nonce[0] = '\0';
}

static int get_str(json_t *obj, const char *key, char *out, size_t cap, int allow_empty)
{
        size_t len;
        const char *s = imago_json_str(obj, key, &len);

        if (!s || len >= cap || (!allow_empty && len == 0))
                return IMAGO_EMALFORMED;
        memcpy(out, s, len + 1);
        return IMAGO_OK;
}

static int get_u64(json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
        json_t *v = json_object_get(obj, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > max)
                return IMAGO_EMALFORMED;
        *out = (uint64_t)json_integer_value(v);
        return IMAGO_OK;
}

static int get_dec(json_t *obj, const char *key, uint64_t *out)
{
        char buf[24];

        if (get_str(obj, key, buf, sizeof(buf), 0) != IMAGO_OK)
                return IMAGO_EMALFORMED;
        return imago_parse_u64(buf, UINT64_MAX, out) == IMAGO_OK ? IMAGO_OK : IMAGO_EMALFORMED;
}

static int get_hash(json_t *obj, const char *key, uint8_t out[IMAGO_SHA256_LEN])
{
        char hex[65];

        if (get_str(obj, key, hex, sizeof(hex), 0) != IMAGO_OK || strlen(hex) != 64 ||
            !imago_hex_is_lower(hex, 64, 64) || imago_hex_decode(hex, out, 32) != IMAGO_OK)
                return IMAGO_EMALFORMED;
        return IMAGO_OK;
}

int ota_state_load(const char *path, struct ota_state *st)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        memset(st, 0, sizeof(*st));
        r = imago_file_read(path, OTA_STATE_MAX, &buf, &len);
        if (r == IMAGO_ENOTFOUND)
                return IMAGO_OK; /* first run: idle */
        if (r != IMAGO_OK)
                return r;
        r = ota_state_parse(buf, len, st);
        imago_file_free(buf, len);
        return r;
}

int ota_state_parse(const uint8_t *buf, size_t len, struct ota_state *st)
{
        static const char *const keys[] = {
            "v",           "phase",         "target",       "rollout",
            "sha256",      "length",        "version",      "security_counter",
            "prev_sha256", "prev_length",   "prev_version", "prev_security_counter",
            "trial_seen",  "health_failed", "reported",     "counter",
            "nonce",       "report"};
        size_t i;
        json_t *j = NULL;
        char ph[16], *rep = NULL;
        uint64_t u;
        int r;

        memset(st, 0, sizeof(*st));
        r = imago_json_object(buf, len, OTA_STATE_MAX, &j);
        if (r != IMAGO_OK)
                goto out;
        r = IMAGO_EMALFORMED;
        if (!imago_json_only_keys(j, keys, sizeof(keys) / sizeof(keys[0])) ||
            get_u64(j, "v", 1, &u) != IMAGO_OK || u != 1 ||
            get_str(j, "phase", ph, sizeof(ph), 0) != IMAGO_OK)
                goto out;
        for (i = 0; i < 4; i++)
                if (strcmp(ph, phase_names[i]) == 0)
                        break;
        if (i == 4)
                goto out;
        st->phase = (enum ota_phase)i;
        if (get_str(j, "target", st->target, sizeof(st->target), 1) != IMAGO_OK ||
            get_dec(j, "rollout", &st->rollout) != IMAGO_OK ||
            get_dec(j, "counter", &st->counter) != IMAGO_OK ||
            get_u64(j, "trial_seen", 1, &u) != IMAGO_OK)
                goto out;
        st->trial_seen = (int)u;
        if (get_u64(j, "health_failed", 1, &u) != IMAGO_OK)
                goto out;
        st->health_failed = (int)u;
        if (get_u64(j, "reported", IMAGO_OTA_REVERTED, &u) != IMAGO_OK)
                goto out;
        st->reported = (int)u;
        if (st->target[0] != '\0') {
                if (get_hash(j, "sha256", st->sha256) != IMAGO_OK ||
                    get_u64(j, "length", UINT32_MAX, &st->length) != IMAGO_OK ||
                    get_str(j, "version", st->version, sizeof(st->version), 1) != IMAGO_OK ||
                    get_u64(j, "security_counter", UINT32_MAX, &u) != IMAGO_OK)
                        goto out;
                st->sec = (uint32_t)u;
                if (get_hash(j, "prev_sha256", st->prev_sha256) != IMAGO_OK ||
                    get_u64(j, "prev_length", UINT32_MAX, &st->prev_length) != IMAGO_OK ||
                    get_str(j, "prev_version", st->prev_version, sizeof(st->prev_version), 1) !=
                        IMAGO_OK ||
                    get_u64(j, "prev_security_counter", UINT32_MAX, &u) != IMAGO_OK)
                        goto out;
                st->prev_sec = (uint32_t)u;
        } else if (st->phase != OTA_PH_IDLE) {
                goto out;
        }
        if (json_object_get(j, "nonce") || json_object_get(j, "report")) {
                size_t rl;
                const char *s;

                if (get_str(j, "nonce", st->nonce, sizeof(st->nonce), 0) != IMAGO_OK ||
                    strlen(st->nonce) != 32 || !imago_hex_is_lower(st->nonce, 32, 32))
                        goto out;
                s = imago_json_str(j, "report", &rl);
                if (!s || rl == 0 || rl > IMAGO_VREPORT_MAX)
                        goto out;
                rep = malloc(rl + 1);
                if (!rep) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                memcpy(rep, s, rl + 1);
                st->report = rep;
                st->report_len = rl;
                rep = NULL;
        }
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK) {
                ota_state_clear_report(st);
                memset(st, 0, sizeof(*st));
        }
        free(rep);
        json_decref(j);
        return r;
}

static json_t *hexj(const uint8_t h[IMAGO_SHA256_LEN])
{
        char hex[65];

        imago_hex_encode(h, IMAGO_SHA256_LEN, hex);
        return json_string(hex);
}

static json_t *decj(uint64_t v)
{
        char b[24];

        snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
        return json_string(b);
}

int ota_state_save(const char *path, const struct ota_state *st)
{
        char *txt = NULL;
        int r = ota_state_dump(st, &txt);

        if (r != IMAGO_OK)
                return r;
        r = imago_file_write_atomic(path, txt, strlen(txt), 0600);
        free(txt);
        return r;
}

int ota_state_dump(const struct ota_state *st, char **out)
{
        json_t *j = json_object();
        char *txt = NULL;
        int r = IMAGO_ENOMEM;

        *out = NULL;

        if (!j)
                return IMAGO_ENOMEM;
        if (json_object_set_new(j, "v", json_integer(1)) ||
            json_object_set_new(j, "phase", json_string(ota_phase_name(st->phase))) ||
            json_object_set_new(j, "target", json_string(st->target)) ||
            json_object_set_new(j, "rollout", decj(st->rollout)) ||
            json_object_set_new(j, "counter", decj(st->counter)) ||
            json_object_set_new(j, "trial_seen", json_integer(st->trial_seen ? 1 : 0)) ||
            json_object_set_new(j, "health_failed", json_integer(st->health_failed ? 1 : 0)) ||
            json_object_set_new(j, "reported", json_integer(st->reported)))
                goto out;
        if (st->target[0] != '\0' &&
            (json_object_set_new(j, "sha256", hexj(st->sha256)) ||
             json_object_set_new(j, "length", json_integer((json_int_t)st->length)) ||
             json_object_set_new(j, "version", json_string(st->version)) ||
             json_object_set_new(j, "security_counter", json_integer(st->sec)) ||
             json_object_set_new(j, "prev_sha256", hexj(st->prev_sha256)) ||
             json_object_set_new(j, "prev_length", json_integer((json_int_t)st->prev_length)) ||
             json_object_set_new(j, "prev_version", json_string(st->prev_version)) ||
             json_object_set_new(j, "prev_security_counter", json_integer(st->prev_sec))))
                goto out;
        if (st->report &&
            (json_object_set_new(j, "nonce", json_string(st->nonce)) ||
             json_object_set_new(j, "report", json_stringn(st->report, st->report_len))))
                goto out;
        txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!txt)
                goto out;
        *out = txt;
        r = IMAGO_OK;
out:
        json_decref(j);
        return r;
}

int ota_save(struct imago_ota *o)
{
        char p[OTA_PATH_MAX];
        int r = ota_path(o, "state.json", p);

        if (r != IMAGO_OK)
                return r;
        pthread_mutex_lock(&o->mu);
        r = ota_state_save(p, &o->st);
        pthread_mutex_unlock(&o->mu);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "cannot write %s", p);
        return r;
}
