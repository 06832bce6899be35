/* imago_ota: after a boot: trial, health check, confirm, revert detection (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "boot/host/flashfile.h"

#include <stdlib.h>
#include <string.h>

static int finish(struct imago_ota *o, enum imago_vreport_state s, int err)
{
        ota_clean_downloads(o);
        pthread_mutex_lock(&o->mu);
        o->st.phase = OTA_PH_IDLE;
        pthread_mutex_unlock(&o->mu);
        return ota_report(o, s, err, 100);
}

int imago_ota_boot_start(struct imago_ota *o, const struct imago_ota_boot_env *env,
                         enum imago_ota_boot_action *action)
{
        struct imago_ota_image inst;
        int r, is_target, revert;

        *action = IMAGO_OTA_BOOT_NONE;
        if (o->st.phase != OTA_PH_INSTALLING && o->st.phase != OTA_PH_REBOOTING)
                return IMAGO_OK;
        r = imago_ota_read_installed(o->flash, &inst);
        if (r != IMAGO_OK)
                return r;
        is_target = memcmp(inst.sha256, o->st.sha256, IMAGO_SHA256_LEN) == 0;
        revert = env && env->swap && strcmp(env->swap, "revert") == 0;
        if (is_target && inst.trial) {
                /* The trial of the target (also after a power cut between the request and the
                 * "rebooting" state: the bootloader honoured the request). */
                pthread_mutex_lock(&o->mu);
                o->st.phase = OTA_PH_REBOOTING;
                o->st.trial_seen = 1;
                pthread_mutex_unlock(&o->mu);
                if ((r = ota_save(o)) != IMAGO_OK)
                        return r;
                if (o->st.health_failed) {
                        /* Failed already, the reboot did not happen yet: do it. */
                        *action = IMAGO_OTA_BOOT_NONE;
                        return imago_ota_boot_health(o, IMAGO_EOTA_HEALTH);
                }
                *action = IMAGO_OTA_BOOT_HEALTH;
                return IMAGO_OK;
        }
        if (is_target) {
                /* Confirmed before the report went out. */
                ota_notice(o, "%s runs confirmed", o->st.target);
                return finish(o, IMAGO_OTA_SUCCEEDED, 0);
        }
        if (o->st.phase == OTA_PH_INSTALLING && !o->st.trial_seen && !revert)
                return IMAGO_OK; /* cut before the request: the next check installs again */
        if (revert || o->st.trial_seen) {
                IMAGO_WARN("%s was reverted by the bootloader", o->st.target);
                /* Not confirmed: the health check failed, or never finished. */
                return finish(o, IMAGO_OTA_REVERTED, IMAGO_EOTA_HEALTH);
        }
        /* Rebooting, the old image runs, no swap: the bootloader refused the request. */
        IMAGO_ERR("the bootloader did not swap in %s", o->st.target);
        return finish(o, IMAGO_OTA_FAILED, IMAGO_EOTA_INSTALL);
}

int imago_ota_boot_health(struct imago_ota *o, int err)
{
        struct imago_flashfile *ff;
        int r, rc;

        if (o->st.phase != OTA_PH_REBOOTING || !o->st.trial_seen)
                return IMAGO_ESTATE;
        if (err != IMAGO_OK) {
                pthread_mutex_lock(&o->mu);
                o->st.health_failed = 1;
                pthread_mutex_unlock(&o->mu);
                if ((r = ota_save(o)) != IMAGO_OK)
                        return r;
                IMAGO_ERR_R(err, "health check of %s failed: rebooting to revert", o->st.target);
                /* Not final: the outcome the cloud records is the "reverted" that the next
                 * boot reports (a final "failed" here would hide the revert from a rollout). */
                (void)ota_report(o, IMAGO_OTA_REBOOTING, IMAGO_EOTA_HEALTH, 100);
                ota_wait_ack(o);
                if (o->ops.reboot && (r = o->ops.reboot(o->ops.arg)) != IMAGO_OK)
                        IMAGO_ERR_R(r, "reboot failed");
                return IMAGO_OK;
        }
        ff = calloc(1, sizeof(*ff));
        if (!ff)
                return IMAGO_ENOMEM;
        r = imago_flashfile_open(ff, o->flash, 1);
        if (r == IMAGO_OK) {
                r = imago_boot_confirm(&ff->cfg);
                rc = imago_flashfile_close(ff);
                if (r == IMAGO_OK)
                        r = rc;
        }
        free(ff);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot confirm %s", o->st.target);
                return r;
        }
        ota_notice(o, "%s healthy: confirmed", o->st.target);
        return finish(o, IMAGO_OTA_SUCCEEDED, 0);
}
