/* imago_ota: the check and the update decision (see ota.h, docs/ota.md). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/num.h"
#include "image/image_sign.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ota_target_sha256(const struct imago_tuf_target *t, uint8_t out[IMAGO_SHA256_LEN])
{
        size_t i;

        for (i = 0; i < t->hashes.n; i++) {
                const char *hex = t->hashes.h[i].hex;

                if (strcmp(t->hashes.h[i].alg, "sha256") == 0 && strlen(hex) == 64 &&
                    imago_hex_is_lower(hex, 64, 64) && imago_hex_decode(hex, out, 32) == IMAGO_OK)
                        return IMAGO_OK;
        }
        return IMAGO_ETUF_FORMAT;
}

static int custom_str(json_t *c, const char *key, char *out, size_t cap)
{
        json_t *v = json_object_get(c, key);
        size_t len;

        if (!json_is_string(v))
                return IMAGO_ETUF_FORMAT;
        len = json_string_length(v);
        if (len == 0 || len >= cap || memchr(json_string_value(v), 0, len))
                return IMAGO_ETUF_FORMAT;
        memcpy(out, json_string_value(v), len + 1);
        return IMAGO_OK;
}

int ota_target_custom(const struct imago_tuf_target *t, struct ota_target *out)
{
        json_t *sc;
        int r;

        if (!json_is_object(t->custom))
                return IMAGO_ETUF_FORMAT;
        if ((r = custom_str(t->custom, "hardware_id", out->hwid, sizeof(out->hwid))) != IMAGO_OK ||
            (r = custom_str(t->custom, "version", out->version, sizeof(out->version))) != IMAGO_OK)
                return r;
        sc = json_object_get(t->custom, "security_counter");
        if (!json_is_integer(sc) || json_integer_value(sc) < 0 ||
            json_integer_value(sc) > (json_int_t)UINT32_MAX)
                return IMAGO_ETUF_FORMAT;
        out->sec = (uint32_t)json_integer_value(sc);
        return IMAGO_OK;
}

/* Open and refresh one TUF client (a new one per check: one refresh per object). */
static int refresh(struct imago_ota *o, struct imago_tuf_client *c, const char *sub,
                   const char *url)
{
        struct imago_tuf_fetcher f = {o->ops.tr.get, o->ops.tr.ctx};
        char d[OTA_PATH_MAX];
        int r = ota_path(o, sub, d);

        if (r != IMAGO_OK)
                return r;
        r = imago_tuf_client_open(c, d, url, &f, &o->lim);
        if (r != IMAGO_OK)
                return r;
        c->now = o->ops.now ? o->ops.now(o->ops.arg) : 0;
        r = imago_tuf_client_refresh(c);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "refresh of %s failed", url);
        return r;
}

/* The director's one target for this device, copied out of its trusted set. */
static int director_target(struct imago_ota *o, struct imago_tuf_client *dir, struct ota_target *t,
                           int *none)
{
        const struct imago_tuf_target *dt;
        json_t *dev, *ro;
        size_t n;
        int r;

        *none = 0;
        if (dir->trusted.targets.n_targets == 0) {
                *none = 1;
                return IMAGO_OK;
        }
        if (dir->trusted.targets.n_targets > 1 || dir->trusted.targets.has_delegations) {
                IMAGO_ERR("director lists %zu targets: refused", dir->trusted.targets.n_targets);
                return IMAGO_ETUF_FORMAT;
        }
        dt = &dir->trusted.targets.targets[0];
        n = strlen(dt->name);
        if (n == 0 || n > IMAGO_VREPORT_TARGET_MAX)
                return IMAGO_ETUF_FORMAT;
        memcpy(t->namebuf, dt->name, n + 1);
        t->name = t->namebuf;
        dev = json_is_object(dt->custom) ? json_object_get(dt->custom, "device") : NULL;
        if (!json_is_string(dev) || strcmp(json_string_value(dev), o->devid) != 0) {
                IMAGO_ERR("director target %s is not for this device", dt->name);
                return IMAGO_EOTA_DEVICE;
        }
        ro = json_object_get(dt->custom, "rollout");
        if (ro && (!json_is_string(ro) ||
                   imago_parse_u64(json_string_value(ro), UINT64_MAX, &t->rollout) != IMAGO_OK))
                return IMAGO_ETUF_FORMAT;
        if ((r = ota_target_sha256(dt, t->sha256)) != IMAGO_OK ||
            (r = ota_target_custom(dt, t)) != IMAGO_OK)
                return r;
        imago_hex_encode(t->sha256, IMAGO_SHA256_LEN, t->sha_hex);
        t->length = dt->length;
        return IMAGO_OK;
}

/* The image repository must list T identically; T must be for this hardware. */
static int image_agrees(struct imago_ota *o, struct imago_tuf_client *img,
                        const struct ota_target *t)
{
        const struct imago_tuf_target *it;
        struct ota_target ic;
        uint8_t ish[IMAGO_SHA256_LEN];
        int r;

        r = imago_tuf_client_find(img, t->name, &it);
        if (r == IMAGO_ETUF_NOTARGET) {
                IMAGO_ERR("image repository does not list %s", t->name);
                return IMAGO_EOTA_DISAGREE;
        }
        if (r != IMAGO_OK)
                return r;
        if (ota_target_sha256(it, ish) != IMAGO_OK || ota_target_custom(it, &ic) != IMAGO_OK ||
            it->length != t->length || memcmp(ish, t->sha256, sizeof(ish)) != 0 ||
            strcmp(ic.hwid, t->hwid) != 0 || strcmp(ic.version, t->version) != 0 ||
            ic.sec != t->sec) {
                IMAGO_ERR("director and image repository disagree on %s", t->name);
                return IMAGO_EOTA_DISAGREE;
        }
        if (strcmp(t->hwid, o->hwid) != 0) {
                IMAGO_ERR("target %s is for hardware %s, this is %s", t->name, t->hwid, o->hwid);
                return IMAGO_ETUF_HWID;
        }
        return IMAGO_OK;
}

static int downgrade(const struct ota_target *t, const struct imago_ota_image *inst)
{
        struct imago_image_version tv, iv;

        if (imago_image_version_parse(t->version, &tv) != IMAGO_OK ||
            imago_image_version_parse(inst->version, &iv) != IMAGO_OK)
                return IMAGO_ETUF_FORMAT;
        if (imago_image_version_cmp(&tv, &iv) <= 0 || t->sec < inst->security_counter) {
                IMAGO_ERR("target version %s counter %u vs installed %s counter %u: downgrade",
                          t->version, t->sec, inst->version, inst->security_counter);
                return IMAGO_EOTA_DOWNGRADE;
        }
        return IMAGO_OK;
}

/* Record T as the state's target (a new assignment resets the per-target fields). */
static int adopt(struct imago_ota *o, const struct ota_target *t,
                 const struct imago_ota_image *inst)
{
        int same = strcmp(o->st.target, t->name) == 0 &&
                   memcmp(o->st.sha256, t->sha256, IMAGO_SHA256_LEN) == 0 &&
                   o->st.rollout == t->rollout;

        if (same)
                return 0;
        ota_clean_downloads(o); /* files of an earlier assignment */
        pthread_mutex_lock(&o->mu);
        o->st.phase = OTA_PH_IDLE;
        snprintf(o->st.target, sizeof(o->st.target), "%s", t->name);
        o->st.rollout = t->rollout;
        memcpy(o->st.sha256, t->sha256, IMAGO_SHA256_LEN);
        o->st.length = t->length;
        snprintf(o->st.version, sizeof(o->st.version), "%s", t->version);
        o->st.sec = t->sec;
        memcpy(o->st.prev_sha256, inst->sha256, IMAGO_SHA256_LEN);
        o->st.prev_length = inst->length;
        snprintf(o->st.prev_version, sizeof(o->st.prev_version), "%s", inst->version);
        o->st.prev_sec = inst->security_counter;
        o->st.trial_seen = 0;
        o->st.health_failed = 0;
        o->st.reported = 0;
        pthread_mutex_unlock(&o->mu);
        return 1;
}

static int set_phase(struct imago_ota *o, enum ota_phase p)
{
        pthread_mutex_lock(&o->mu);
        o->st.phase = p;
        pthread_mutex_unlock(&o->mu);
        return ota_save(o);
}

static int refuse(struct imago_ota *o, int err, enum imago_ota_outcome *oc)
{
        *oc = IMAGO_OTA_REFUSED;
        if (o->st.reported != IMAGO_OTA_FAILED || o->st.phase != OTA_PH_IDLE) {
                pthread_mutex_lock(&o->mu);
                o->st.phase = OTA_PH_IDLE;
                pthread_mutex_unlock(&o->mu);
                (void)ota_report(o, IMAGO_OTA_FAILED, err, 0);
        }
        return err;
}

static int check(struct imago_ota *o, enum imago_ota_outcome *oc)
{
        struct imago_tuf_client dir, img;
        struct imago_ota_image inst;
        struct ota_target t;
        char path[OTA_PATH_MAX];
        int r, none = 0;

        memset(&dir, 0, sizeof(dir));
        memset(&img, 0, sizeof(img));
        r = imago_ota_read_installed(o->flash, &inst);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot read the installed image from %s", o->flash);
                return r;
        }
        if (o->st.phase == OTA_PH_REBOOTING) {
                /* Only the after-boot logic leaves this phase. */
                IMAGO_INFO("an update waits for its reboot; no check");
                return IMAGO_OK;
        }
        /* One trusted set at a time (the memory bound of docs/ota.md): the director's target
         * is copied out before the image repository is refreshed. */
        memset(&t, 0, sizeof(t));
        if ((r = refresh(o, &dir, "director", "blk:director/")) != IMAGO_OK ||
            (r = ota_step(o)) != IMAGO_OK)
                goto out;
        r = director_target(o, &dir, &t, &none);
        imago_tuf_client_close(&dir);
        if (r == IMAGO_OK && ((r = refresh(o, &img, "image", "blk:image/metadata/")) != IMAGO_OK ||
                              (r = ota_step(o)) != IMAGO_OK))
                goto out;
        if (r == IMAGO_OK && !none)
                r = image_agrees(o, &img, &t);
        if (r == IMAGO_OK && none) {
                if (o->st.phase != OTA_PH_IDLE) {
                        IMAGO_INFO("assignment withdrawn: back to idle");
                        r = set_phase(o, OTA_PH_IDLE);
                }
                goto out;
        }
        if (r == IMAGO_OK && !o->production)
                IMAGO_INFO("development mode: version order not enforced");
        if (r != IMAGO_OK && r != IMAGO_EOTA_DEVICE && r != IMAGO_EOTA_DISAGREE &&
            r != IMAGO_ETUF_HWID && r != IMAGO_ETUF_FORMAT)
                goto out;
        if (r != IMAGO_OK) {
                /* Refused: reported once per assignment (the director's target if named). */
                if (t.name && strlen(t.name) <= IMAGO_VREPORT_TARGET_MAX)
                        (void)adopt(o, &t, &inst);
                r = refuse(o, r, oc);
                goto out;
        }
        (void)adopt(o, &t, &inst);
        if (memcmp(t.sha256, inst.sha256, IMAGO_SHA256_LEN) == 0) {
                *oc = IMAGO_OTA_UPTODATE;
                if (o->st.reported != IMAGO_OTA_SUCCEEDED || o->st.phase != OTA_PH_IDLE) {
                        pthread_mutex_lock(&o->mu);
                        o->st.phase = OTA_PH_IDLE;
                        pthread_mutex_unlock(&o->mu);
                        r = ota_report(o, IMAGO_OTA_SUCCEEDED, 0, 100);
                } else {
                        *oc = IMAGO_OTA_NOTHING;
                }
                goto out;
        }
        if (o->st.reported != 0 && o->st.phase == OTA_PH_IDLE) {
                /* This assignment ended (failed, reverted): wait for a new one. */
                goto out;
        }
        if (o->production && (r = downgrade(&t, &inst)) != IMAGO_OK) {
                r = refuse(o, r, oc);
                goto out;
        }
        if (o->st.phase == OTA_PH_IDLE) {
                if ((r = set_phase(o, OTA_PH_DOWNLOADING)) != IMAGO_OK ||
                    (r = ota_step(o)) != IMAGO_OK ||
                    (r = ota_report(o, IMAGO_OTA_DOWNLOADING, 0, 0)) != IMAGO_OK)
                        goto out;
        }
        if ((r = ota_step(o)) != IMAGO_OK)
                goto out;
        r = ota_fetch(o, &img, &t, &inst, path);
        if (r == IMAGO_ETUF_HASH || r == IMAGO_ETUF_LENGTH) {
                r = refuse(o, r, oc);
                goto out;
        }
        if (r != IMAGO_OK)
                goto out;
        if ((r = ota_step(o)) != IMAGO_OK)
                goto out;
        r = ota_install(o, path, &t);
        if (r == IMAGO_OK)
                *oc = IMAGO_OTA_REBOOTED;
        else if (r != IMAGO_ESTATE || o->crash_at == 0)
                r = refuse(o, r, oc);
out:
        imago_tuf_client_close(&dir);
        imago_tuf_client_close(&img);
        return r;
}

int imago_ota_check(struct imago_ota *o, enum imago_ota_outcome *outcome)
{
        enum imago_ota_outcome oc = IMAGO_OTA_NOTHING;
        int r;

        if (!o)
                return IMAGO_EINVAL;
        o->step = 0;
        r = check(o, &oc);
        if (outcome)
                *outcome = oc;
        return r;
}
