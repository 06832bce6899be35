/* imago_ota: open, close, limits (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

void imago_ota_limits_device(struct imago_tuf_limits *l)
{
        imago_tuf_limits_default(l);
        l->root_max = 64 * 1024;
        l->timestamp_max = 16 * 1024;
        l->snapshot_max = 256 * 1024;
        l->targets_max = 512 * 1024;
        l->max_loaded_roles = 2;
}

static int mkdir_p1(const char *p)
{
        if (mkdir(p, 0700) == 0 || errno == EEXIST)
                return IMAGO_OK;
        IMAGO_ERR("cannot create %s", p);
        return IMAGO_EIO;
}

static int init_tuf_dir(struct imago_ota *o, const char *sub, const char *root)
{
        char d[OTA_PATH_MAX], f[OTA_PATH_MAX];
        struct stat sb;
        int r;

        if ((r = ota_path(o, sub, d)) != IMAGO_OK || (r = mkdir_p1(d)) != IMAGO_OK)
                return r;
        if (snprintf(f, sizeof(f), "%s/root.json", d) >= (int)sizeof(f))
                return IMAGO_ETOOBIG;
        if (stat(f, &sb) == 0)
                return IMAGO_OK;
        r = imago_tuf_client_init_dir(d, root);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "cannot initialise %s from the trusted root %s", d, root);
        return r;
}

void ota_notice(struct imago_ota *o, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        IMAGO_INFO("%s", msg);
        if (o->ops.notice)
                o->ops.notice(o->ops.arg, msg);
}

void ota_clean_downloads(struct imago_ota *o)
{
        char d[OTA_PATH_MAX], p[OTA_PATH_MAX];
        struct dirent *e;
        DIR *dir;

        if (ota_path(o, "download", d) != IMAGO_OK || (dir = opendir(d)) == NULL)
                return;
        while ((e = readdir(dir)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                if (snprintf(p, sizeof(p), "%s/%s", d, e->d_name) < (int)sizeof(p))
                        unlink(p);
        }
        closedir(dir);
}

int ota_step(struct imago_ota *o)
{
        o->step++;
        if (o->crash_at > 0 && o->step == o->crash_at)
                return IMAGO_ESTATE;
        return IMAGO_OK;
}

void imago_ota_crash_at(struct imago_ota *o, int step)
{
        o->crash_at = step;
}

void imago_ota_free(struct imago_ota *o)
{
        if (!o)
                return;
        ota_state_clear_report(&o->st);
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
        free(o->dir);
        free(o->director_root);
        free(o->image_root);
        free(o->flash);
        free(o->hwid);
        free(o);
}

int imago_ota_open(const struct imago_ota_config *cfg, const struct imago_ota_ops *ops,
                   struct imago_ota **out)
{
        struct imago_ota *o;
        char p[OTA_PATH_MAX];
        int r;

        *out = NULL;
        if (!cfg || !ops || !cfg->dir || !cfg->director_root || !cfg->image_root || !cfg->flash ||
            !cfg->device_id || !imago_device_id_valid(cfg->device_id) || !cfg->hardware_id ||
            cfg->hardware_id[0] == '\0' || strlen(cfg->hardware_id) > IMAGO_VREPORT_HWID_MAX ||
            !ops->tr.get || !ops->tr.fetch_file || !ops->sign)
                return IMAGO_EINVAL;
        o = calloc(1, sizeof(*o));
        if (!o)
                return IMAGO_ENOMEM;
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv, NULL);
        o->dir = strdup(cfg->dir);
        o->director_root = strdup(cfg->director_root);
        o->image_root = strdup(cfg->image_root);
        o->flash = strdup(cfg->flash);
        o->hwid = strdup(cfg->hardware_id);
        memcpy(o->devid, cfg->device_id, IMAGO_DEVICE_ID_LEN);
        o->production = cfg->production;
        o->ack_wait_ms = cfg->ack_wait_ms;
        o->ops = *ops;
        if (cfg->limits)
                o->lim = *cfg->limits;
        else
                imago_ota_limits_device(&o->lim);
        if (!o->dir || !o->director_root || !o->image_root || !o->flash || !o->hwid) {
                r = IMAGO_ENOMEM;
                goto fail;
        }
        if ((r = mkdir_p1(o->dir)) != IMAGO_OK || (r = ota_path(o, "download", p)) != IMAGO_OK ||
            (r = mkdir_p1(p)) != IMAGO_OK ||
            (r = init_tuf_dir(o, "director", o->director_root)) != IMAGO_OK ||
            (r = init_tuf_dir(o, "image", o->image_root)) != IMAGO_OK ||
            (r = ota_path(o, "state.json", p)) != IMAGO_OK)
                goto fail;
        r = ota_state_load(p, &o->st);
        if (r != IMAGO_OK) {
                /* Not guessed over: restarting from idle would reuse report counters. */
                IMAGO_ERR_R(r, "%s unreadable", p);
                goto fail;
        }
        *out = o;
        return IMAGO_OK;
fail:
        imago_ota_free(o);
        return r;
}
