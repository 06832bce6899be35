/* imago_ota: the secondary slot, the test request, the reboot (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "boot/host/flashfile.h"

#include <stdlib.h>
#include <string.h>

/* Write the verified file (hash checked again on the bytes written) and request a test swap. */
static int write_request(struct imago_ota *o, const char *path, const struct ota_target *t)
{
        struct imago_flashfile *ff = NULL;
        struct imago_boot_status st;
        uint8_t *img = NULL, d[IMAGO_SHA256_LEN];
        size_t len = 0;
        int r, rc;

        r = imago_file_read(path, t->length, &img, &len);
        if (r != IMAGO_OK)
                return r;
        imago_sha256(img, len, d);
        if (len != t->length || memcmp(d, t->sha256, sizeof(d)) != 0) {
                IMAGO_ERR("%s changed since it was verified: not installed", path);
                r = IMAGO_ETUF_HASH;
                goto out;
        }
        ff = calloc(1, sizeof(*ff));
        if (!ff) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = imago_flashfile_open(ff, o->flash, 1);
        if (r != IMAGO_OK)
                goto out;
        r = imago_boot_inspect(&ff->cfg, &st);
        if (r == IMAGO_OK && (st.trial || st.in_progress)) {
                IMAGO_ERR("the running image is an unconfirmed trial: no install");
                r = IMAGO_ESTATE;
        }
        if (r == IMAGO_OK && len > ff->cfg.secondary.size)
                r = IMAGO_EIMG_TOO_LARGE;
        if (r == IMAGO_OK)
                r = imago_flashfile_write_slot(ff, &ff->cfg.secondary, img, len);
        if (r == IMAGO_OK && (r = ota_step(o)) == IMAGO_OK)
                r = imago_boot_request(&ff->cfg, 0);
        rc = imago_flashfile_close(ff);
        if (r == IMAGO_OK)
                r = rc;
        if (r != IMAGO_OK && r != IMAGO_ESTATE)
                IMAGO_ERR_R(r, "installing %s failed", t->name);
out:
        free(ff);
        imago_file_free(img, len);
        return r;
}

int ota_install(struct imago_ota *o, const char *path, const struct ota_target *t)
{
        int r;

        pthread_mutex_lock(&o->mu);
        o->st.phase = OTA_PH_INSTALLING;
        pthread_mutex_unlock(&o->mu);
        if ((r = ota_save(o)) != IMAGO_OK ||
            (r = ota_report(o, IMAGO_OTA_INSTALLING, 0, 100)) != 0 || (r = ota_step(o)) != IMAGO_OK)
                return r;
        r = write_request(o, path, t);
        if (r != IMAGO_OK) {
                if (o->crash_at > 0 && o->step == o->crash_at)
                        return r;
                return r == IMAGO_ESTATE ? IMAGO_EOTA_INSTALL : r;
        }
        /* A cut here: the request exists, the phase is still "installing" (the next boot swaps;
         * the start-up logic finds the trial of T). */
        if ((r = ota_step(o)) != IMAGO_OK)
                return r;
        pthread_mutex_lock(&o->mu);
        o->st.phase = OTA_PH_REBOOTING;
        o->st.trial_seen = 0;
        o->st.health_failed = 0;
        pthread_mutex_unlock(&o->mu);
        if ((r = ota_save(o)) != IMAGO_OK || (r = ota_step(o)) != IMAGO_OK ||
            (r = ota_report(o, IMAGO_OTA_REBOOTING, 0, 100)) != IMAGO_OK)
                return r;
        ota_wait_ack(o);
        if ((r = ota_step(o)) != IMAGO_OK)
                return r;
        ota_notice(o, "%s installed in the secondary slot: rebooting into a trial", t->name);
        if (o->ops.reboot) {
                r = o->ops.reboot(o->ops.arg);
                if (r != IMAGO_OK)
                        IMAGO_ERR_R(r, "reboot failed");
        }
        return IMAGO_OK;
}
