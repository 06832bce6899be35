/* See svc_ota.h: block requests answered from the director and DIR/repo. */
#define _GNU_SOURCE
#include "cloud/svc_ota_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "blk/blk.h"
#include "cloud/director/director.h"
#include "cloud/svc_log.h"
#include "cloud/svc_priv.h"
#include "net/https.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OBJ_DIRECTOR "director/"
#define OBJ_META     "image/metadata/"
#define OBJ_TARGETS  "image/targets/"

int imago_svc_ota_open_beneath(int dirfd, const char *base, const char *rel)
{
        char path[IMAGO_BLK_OBJ_MAX + 32];
        int n = snprintf(path, sizeof(path), "%s/%s", base, rel);

        if (n < 0 || (size_t)n >= sizeof(path))
                return -1;
        return imago_file_open_beneath(dirfd, path);
}

static int enrolled(struct imago_svc_ota *o, const char *id)
{
        struct imago_svc_ota_ecache *e;
        struct imago_reg_device d;
        uint64_t now = imago_svc_ota_mono_ms();
        unsigned h = 0;
        size_t i;

        for (i = 0; id[i] != '\0'; i++)
                h = h * 31u + (unsigned char)id[i];
        e = &o->ecache[h % IMAGO_SVC_OTA_ECACHE];
        if (strcmp(e->id, id) == 0 && now < e->until_ms)
                return e->enrolled;
        memset(&d, 0, sizeof(d));
        if (imago_registry_get(o->s->reg, id, &d) != IMAGO_OK)
                return 0; /* not remembered: an error may pass */
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->enrolled = d.state == IMAGO_REG_ENROLLED;
        e->until_ms = now + IMAGO_SVC_OTA_ECACHE_MS;
        imago_registry_device_free(&d);
        return e->enrolled;
}

void imago_svc_ota_blk(struct imago_svc_ota *o, const char *id, const void *buf, size_t len)
{
        struct imago_blk_req req;
        struct imago_blk_src src, *srcp = NULL;
        char topic[IMAGO_BLK_TOPIC_MAX];
        uint8_t *mem = NULL, *out = NULL;
        size_t mem_len = 0, out_len = 0;
        const char *result = "ok";
        int fd = -1, r;

        if ((r = imago_blk_req_parse(buf, len, &req)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_WARN, "ota_blk", "device=%s result=%s", id,
                              imago_errname(r));
                return;
        }
        if (!enrolled(o, id)) {
                imago_svc_log(IMAGO_LOG_WARN, "ota_blk", "device=%s object=%s result=not_enrolled",
                              id, req.obj);
                return;
        }
        if (imago_ratelimit_take(o->rl, id, imago_svc_ota_mono_ms(), NULL) != IMAGO_OK) {
                /* no answer: the device asks again after its timeout */
                imago_svc_log(IMAGO_LOG_DEBUG, "ota_blk",
                              "device=%s object=%s offset=%llu result=rate_limited", id, req.obj,
                              (unsigned long long)req.off);
                return;
        }
        if (strncmp(req.obj, OBJ_DIRECTOR, strlen(OBJ_DIRECTOR)) == 0) {
                r = imago_director_object(o->dir, id, req.obj + strlen(OBJ_DIRECTOR), time(NULL),
                                          &mem, &mem_len);
                if (r == IMAGO_OK) {
                        imago_blk_src_buf(&src, mem, mem_len);
                        srcp = &src;
                } else if (r != IMAGO_ENOTFOUND) {
                        imago_svc_log(IMAGO_LOG_ERROR, "ota_blk", "device=%s object=%s result=%s",
                                      id, req.obj, imago_errname(r));
                        goto out;
                }
        } else if (strncmp(req.obj, OBJ_META, strlen(OBJ_META)) == 0) {
                /* metadata files are flat */
                if (strchr(req.obj + strlen(OBJ_META), '/') == NULL)
                        fd = imago_svc_ota_open_beneath(o->data_fd, "repo/metadata",
                                                        req.obj + strlen(OBJ_META));
        } else if (strncmp(req.obj, OBJ_TARGETS, strlen(OBJ_TARGETS)) == 0) {
                fd = imago_svc_ota_open_beneath(o->data_fd, "repo/targets",
                                                req.obj + strlen(OBJ_TARGETS));
        }
        if (fd >= 0 && imago_blk_src_fd(&src, fd) == IMAGO_OK)
                srcp = &src;
        if (srcp == NULL)
                result = "not_found";
        else if (req.off >= srcp->length)
                result = "range";
        if ((r = imago_blk_serve(&req, srcp, &out, &out_len)) != IMAGO_OK ||
            (r = imago_blk_topic(id, 0, topic, sizeof(topic))) != IMAGO_OK ||
            (r = imago_svc_publish(o->s, topic, out, out_len)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "ota_blk", "device=%s object=%s result=%s", id,
                              req.obj, imago_errname(r));
                goto out;
        }
        imago_svc_log(IMAGO_LOG_DEBUG, "ota_blk",
                      "device=%s object=%s offset=%llu len=%u result=%s", id, req.obj,
                      (unsigned long long)req.off, (unsigned)req.len, result);
out:
        if (fd >= 0)
                close(fd);
        free(mem);
        free(out);
}
