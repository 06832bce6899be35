/* imago_ota_https: resumable image target fetch in range requests; see ota_https.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "blk/blk.h"
#include "device/ota_https/ota_https_priv.h"

/* The progress record's block: ranges are multiples of it (a record's done is too). */
#define REC_BLOCK IMAGO_BLK_BLOCK_MAX

struct fetch {
        struct imago_ota_https *h;
        int fd;
        const char *rec_path;
        struct imago_blk_progress p; /* p.done: durable prefix */
};

/* The durable prefix a stored record allows for (object, length) and the file on disk. */
static uint64_t resume_point(const char *path, const char *rec_path, const char *object,
                             uint64_t length)
{
        struct imago_blk_progress p;
        struct stat st;
        uint8_t *rec = NULL;
        size_t len = 0;
        uint64_t done = 0;

        if (imago_file_read(rec_path, IMAGO_BLK_PROGRESS_MAX, &rec, &len) != IMAGO_OK)
                return 0;
        if (imago_blk_progress_decode(rec, len, &p) == IMAGO_OK && strcmp(p.obj, object) == 0 &&
            p.length == length && p.block == REC_BLOCK && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode) && (uint64_t)st.st_size >= p.done)
                done = p.done;
        imago_file_free(rec, len);
        return done;
}

static int write_at(int fd, uint64_t off, const uint8_t *data, size_t len)
{
        size_t n = 0;
        ssize_t w;

        while (n < len) {
                w = pwrite(fd, data + n, len - n, (off_t)(off + n));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return IMAGO_EIO;
                n += (size_t)w;
        }
        return IMAGO_OK;
}

/* One range [p.done, p.done + n): appended, made durable, recorded. */
static int one_range(struct fetch *f, const char *rpath)
{
        struct imago_httpc_resp resp;
        uint8_t rec[IMAGO_BLK_PROGRESS_MAX];
        uint64_t last, left = f->p.length - f->p.done;
        size_t rlen = 0;
        int r;

        last = f->p.done + (left > IMAGO_OTA_HTTPS_RANGE ? IMAGO_OTA_HTTPS_RANGE : left) - 1;
        if ((r = imago_httpc_get_range(&f->h->c, rpath, f->p.done, last, &resp)) != IMAGO_OK)
                return r;
        if (resp.status != 206)
                r = ota_https_status_err(resp.status);
        else if (resp.range_total != f->p.length)
                r = IMAGO_ETUF_LENGTH;
        else if (resp.range_first != f->p.done || resp.range_last != last)
                r = IMAGO_EHTTP;
        else
                r = write_at(f->fd, f->p.done, (const uint8_t *)resp.body, resp.len);
        imago_httpc_resp_free(&resp);
        if (r != IMAGO_OK)
                return r;
        if (fdatasync(f->fd) != 0)
                return IMAGO_EIO;
        f->p.done = last + 1;
        if ((r = imago_blk_progress_encode(&f->p, rec, sizeof(rec), &rlen)) != IMAGO_OK ||
            (r = imago_file_write_atomic(f->rec_path, rec, rlen, 0600)) != IMAGO_OK)
                return r;
        if (f->h->progress != NULL)
                f->h->progress(f->h->progress_arg, f->p.done, f->p.length);
        return IMAGO_OK;
}

int imago_ota_https_fetch_file(void *ctx, const char *object, uint64_t length, const char *path,
                               uint64_t *resumed_from)
{
        struct imago_ota_https *h = ctx;
        char rec_path[4096], rpath[OTA_HTTPS_PATH_MAX];
        struct fetch f;
        int n, r = IMAGO_EINVAL;

        memset(&f, 0, sizeof(f));
        f.fd = -1;
        if (resumed_from != NULL)
                *resumed_from = 0;
        if (h == NULL || path == NULL ||
            ota_https_path(h, object, "image/targets/", rpath, sizeof(rpath)) != IMAGO_OK)
                goto out;
        r = IMAGO_ETUF_LENGTH;
        if (length > IMAGO_BLK_LENGTH_MAX)
                goto out;
        r = IMAGO_EINVAL;
        n = snprintf(rec_path, sizeof(rec_path), "%s.progress", path);
        if (n < 0 || (size_t)n >= sizeof(rec_path))
                goto out;
        f.h = h;
        f.rec_path = rec_path;
        memcpy(f.p.obj, object, strlen(object) + 1);
        f.p.length = length;
        f.p.block = REC_BLOCK;
        f.p.done = resume_point(path, rec_path, object, length);
        r = IMAGO_EIO;
        if ((f.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
                goto out;
        if (ftruncate(f.fd, (off_t)f.p.done) != 0)
                goto out;
        if (resumed_from != NULL)
                *resumed_from = f.p.done;
        if (f.p.done > 0)
                IMAGO_INFO("%s: resuming at %llu of %llu (https)", object,
                           (unsigned long long)f.p.done, (unsigned long long)length);
        if (h->progress != NULL)
                h->progress(h->progress_arg, f.p.done, length);
        while (f.p.done < length) {
                if (atomic_load(&h->cancelled)) {
                        r = IMAGO_EIO;
                        goto out;
                }
                if ((r = one_range(&f, rpath)) != IMAGO_OK) {
                        IMAGO_ERR_R(r, "https fetch of %s stopped at %llu", rpath,
                                    (unsigned long long)f.p.done);
                        goto out;
                }
        }
        r = IMAGO_EIO;
        if (fsync(f.fd) != 0)
                goto out;
        if (unlink(rec_path) != 0 && errno != ENOENT)
                goto out;
        r = IMAGO_OK;
out:
        if (f.fd >= 0)
                close(f.fd);
        return r;
}
