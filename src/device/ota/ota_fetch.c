/* imago_ota: getting the verified image into download/ (delta first, then full; see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "delta/delta.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 16384

int ota_file_sha256(const char *path, uint64_t *len, uint8_t out[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h;
        uint8_t buf[CHUNK];
        uint64_t n = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = IMAGO_OK;

        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        imago_sha256_init(&h);
        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = IMAGO_EIO;
                        break;
                }
                if (k == 0)
                        break;
                imago_sha256_update(&h, buf, (size_t)k);
                n += (uint64_t)k;
        }
        close(fd);
        imago_sha256_final(&h, out);
        *len = n;
        return r;
}

/* A target file checked against its TUF entry (length and every hash), streamed. */
static int check_file(const char *path, const struct imago_tuf_target *t)
{
        struct imago_tuf_filecheck c;
        uint8_t buf[CHUNK];
        int fd, r;

        memset(&c, 0, sizeof(c));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        r = imago_tuf_filecheck_init(&c, t);
        while (r == IMAGO_OK) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = IMAGO_EIO;
                        break;
                }
                if (k == 0) {
                        r = imago_tuf_filecheck_final(&c);
                        memset(&c, 0, sizeof(c));
                        break;
                }
                r = imago_tuf_filecheck_update(&c, buf, (size_t)k);
        }
        imago_tuf_filecheck_abort(&c);
        close(fd);
        return r;
}

/* "image/targets/DIR/SHA256.BASE" (consistent snapshot name of the target). */
static int object_name(const struct imago_tuf_target *t, char *out, size_t cap)
{
        uint8_t sh[IMAGO_SHA256_LEN];
        char hex[65];
        const char *slash = strrchr(t->name, '/');
        int n;

        if (ota_target_sha256(t, sh) != IMAGO_OK)
                return IMAGO_ETUF_FORMAT;
        imago_hex_encode(sh, sizeof(sh), hex);
        if (slash)
                n = snprintf(out, cap, "image/targets/%.*s/%s.%s", (int)(slash - t->name), t->name,
                             hex, slash + 1);
        else
                n = snprintf(out, cap, "image/targets/%s.%s", hex, t->name);
        return n < 0 || (size_t)n >= cap ? IMAGO_ETOOBIG : IMAGO_OK;
}

static int fetch(struct imago_ota *o, const struct imago_tuf_target *t, const char *path)
{
        char obj[OTA_PATH_MAX];
        uint64_t from = 0;
        int r = object_name(t, obj, sizeof(obj));

        if (r != IMAGO_OK)
                return r;
        ota_progress_begin(o);
        r = o->ops.tr.fetch_file(o->ops.tr.ctx, obj, t->length, path, &from);
        ota_progress_end(o);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "fetch of %s stopped (resumes next check)", obj);
                return r;
        }
        if (from > 0)
                IMAGO_INFO("%s resumed at %llu of %llu", obj, (unsigned long long)from,
                           (unsigned long long)t->length);
        r = check_file(path, t);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "%s does not match the image repository: deleted", obj);
                unlink(path);
        }
        return r;
}

/* The delta entry for the installed image, if the image repository lists a usable one. */
static int delta_entry(struct imago_tuf_client *img, const struct ota_target *t,
                       const struct imago_ota_image *inst, const struct imago_tuf_target **out)
{
        const struct imago_tuf_target *d;
        struct ota_target dc;
        char name[OTA_PATH_MAX], ihex[65];
        json_t *c, *tl;
        const char *b, *ts;
        int r;

        imago_hex_encode(inst->sha256, IMAGO_SHA256_LEN, ihex);
        if (snprintf(name, sizeof(name), "%s.from-%.16s.zst", t->name, ihex) >= (int)sizeof(name))
                return IMAGO_ETOOBIG;
        r = imago_tuf_client_find(img, name, &d);
        if (r != IMAGO_OK)
                return r;
        c = d->custom;
        if (ota_target_custom(d, &dc) != IMAGO_OK)
                return IMAGO_ETUF_FORMAT;
        b = json_string_value(json_object_get(c, "base_sha256"));
        ts = json_string_value(json_object_get(c, "target_sha256"));
        tl = json_object_get(c, "target_length");
        if (!b || !ts || !json_is_integer(tl) || strcmp(b, ihex) != 0 ||
            strcmp(ts, t->sha_hex) != 0 || json_integer_value(tl) < 0 ||
            (uint64_t)json_integer_value(tl) != t->length || strcmp(dc.hwid, t->hwid) != 0 ||
            strcmp(dc.version, t->version) != 0 || dc.sec != t->sec) {
                IMAGO_WARN("delta %s does not describe this update: not used", name);
                return IMAGO_ETUF_CONSISTENCY;
        }
        *out = d;
        return IMAGO_OK;
}

struct fsink {
        int fd;
};

static int fsink_write(void *arg, const uint8_t *data, size_t len)
{
        struct fsink *s = arg;

        while (len > 0) {
                ssize_t k = write(s->fd, data, len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return IMAGO_EIO;
                data += k;
                len -= (size_t)k;
        }
        return IMAGO_OK;
}

/* Apply dpath against the primary into out (through out.tmp, renamed after the check). */
static int apply(struct imago_ota *o, const char *dpath, const struct ota_target *t,
                 const struct imago_ota_image *inst, const char *out)
{
        struct imago_delta_apply a;
        struct imago_delta_expect exp;
        struct fsink s = {-1};
        char tmp[OTA_PATH_MAX];
        uint8_t *base = NULL, buf[CHUNK];
        size_t blen = 0;
        int fd = -1, r, inited = 0;

        memset(&a, 0, sizeof(a));
        memset(&exp, 0, sizeof(exp));
        exp.length = t->length;
        memcpy(exp.sha256, t->sha256, IMAGO_SHA256_LEN);
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp))
                return IMAGO_ETOOBIG;
        r = ota_read_primary(o->flash, inst->sha256, &base, &blen);
        if (r != IMAGO_OK)
                return r;
        s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        fd = open(dpath, O_RDONLY | O_CLOEXEC);
        if (s.fd < 0 || fd < 0) {
                r = IMAGO_EIO;
                goto out;
        }
        r = imago_delta_apply_init(&a, base, blen, &exp, fsink_write, &s);
        inited = 1;
        while (r == IMAGO_OK) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = IMAGO_EIO;
                        break;
                }
                if (k == 0) {
                        r = imago_delta_apply_final(&a);
                        break;
                }
                r = imago_delta_apply_update(&a, buf, (size_t)k);
        }
        if (r == IMAGO_EDELTA)
                IMAGO_ERR_R(r, "delta refused: %s", imago_delta_why_str(a.why));
        if (r == IMAGO_OK && fsync(s.fd) != 0)
                r = IMAGO_EIO;
        if (r == IMAGO_OK && close(s.fd) != 0)
                r = IMAGO_EIO;
        s.fd = -1;
        if (r == IMAGO_OK && rename(tmp, out) != 0)
                r = IMAGO_EIO;
out:
        if (inited)
                imago_delta_apply_free(&a);
        if (s.fd >= 0)
                close(s.fd);
        if (fd >= 0)
                close(fd);
        if (r != IMAGO_OK)
                unlink(tmp);
        free(base);
        return r;
}

int ota_fetch(struct imago_ota *o, struct imago_tuf_client *img, const struct ota_target *t,
              const struct imago_ota_image *inst, char path[OTA_PATH_MAX])
{
        const struct imago_tuf_target *d = NULL, *full = NULL;
        char dl[OTA_PATH_MAX], part[OTA_PATH_MAX], rel[128];
        uint8_t h[IMAGO_SHA256_LEN];
        uint64_t n = 0;
        int r;

        snprintf(rel, sizeof(rel), "download/%s.img", t->sha_hex);
        if ((r = ota_path(o, rel, path)) != IMAGO_OK)
                return r;
        /* A verified file from an earlier run (renamed into place only after its check). */
        if (ota_file_sha256(path, &n, h) == IMAGO_OK) {
                if (n == t->length && memcmp(h, t->sha256, sizeof(h)) == 0)
                        return IMAGO_OK;
                unlink(path);
        }
        r = delta_entry(img, t, inst, &d);
        if (r == IMAGO_OK) {
                snprintf(rel, sizeof(rel), "download/%s.delta", t->sha_hex);
                if ((r = ota_path(o, rel, dl)) != IMAGO_OK)
                        return r;
                r = fetch(o, d, dl);
                if (r == IMAGO_OK) {
                        r = apply(o, dl, t, inst, path);
                        unlink(dl);
                        if (r == IMAGO_OK) {
                                ota_notice(o, "%s built from a delta (%llu bytes)", t->name,
                                           (unsigned long long)d->length);
                                return IMAGO_OK;
                        }
                        IMAGO_WARN("delta for %s failed (%s): full image instead", t->name,
                                   imago_errname(r));
                } else if (r != IMAGO_ETUF_HASH && r != IMAGO_ETUF_LENGTH && r != IMAGO_ENOTFOUND) {
                        return r; /* transport: resume the delta next check */
                } else {
                        IMAGO_WARN("delta for %s refused (%s): full image instead", t->name,
                                   imago_errname(r));
                }
        } else if (r != IMAGO_ETUF_NOTARGET) {
                IMAGO_WARN("no usable delta for %s (%s): full image", t->name, imago_errname(r));
        }
        r = imago_tuf_client_find(img, t->name, &full);
        if (r != IMAGO_OK)
                return r;
        snprintf(rel, sizeof(rel), "download/%s.part", t->sha_hex);
        if ((r = ota_path(o, rel, part)) != IMAGO_OK)
                return r;
        r = fetch(o, full, part);
        if (r != IMAGO_OK)
                return r;
        if (rename(part, path) != 0)
                return IMAGO_EIO;
        ota_notice(o, "%s downloaded (full image, %llu bytes)", t->name,
                   (unsigned long long)t->length);
        return IMAGO_OK;
}
