/* imago_blkc, worker-thread side: blocking get and resumable file fetch; see blkc.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "device/blkc/blkc_priv.h"

/* Bytes between two durable progress records of a file fetch. */
#define BLKC_CHECKPOINT (256u * 1024u)

typedef int (*blkc_out_fn)(void *arg, uint64_t off, const uint8_t *data, size_t len);

static void blkc_wait(struct imago_blkc *b, uint64_t until_ms)
{
        struct timespec ts;
        uint64_t now = imago_blkc_now_ms(), d;

        d = until_ms > now ? until_ms - now : 0;
        if (d > 1000)
                d = 1000;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(d / 1000);
        ts.tv_nsec += (long)(d % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

/*
 * One transfer: hand it to the loop thread, then pass the contiguous blocks
 * to out in order until the total is reached or the transfer fails.
 */
static int blkc_run(struct imago_blkc *b, const char *obj, int known, uint64_t length, uint64_t max,
                    uint64_t done, blkc_out_fn out, void *arg)
{
        uint8_t *buf = NULL;
        uint64_t now, blk, total;
        uint32_t len;
        size_t s;
        int rc = IMAGO_ENOMEM;

        if ((buf = malloc(b->block)) == NULL)
                return rc;
        pthread_mutex_lock(&b->mu);
        b->want.gen++;
        b->want.active = 1;
        memset(b->want.obj, 0, sizeof(b->want.obj));
        memcpy(b->want.obj, obj, strlen(obj));
        b->want.known = known;
        b->want.length = length;
        b->want.max = max;
        b->want.done = done;
        b->res_gen = b->want.gen;
        b->res_err = 0;
        b->res_total_known = known;
        b->res_total = length;
        b->consumed = done / b->block;
        memset(b->slot_len, 0, b->window * sizeof(*b->slot_len));
        b->last_ms = imago_blkc_now_ms();
        pthread_mutex_unlock(&b->mu);
        imago_blkc_wake(b);

        pthread_mutex_lock(&b->mu);
        for (;;) {
                if (b->cancelled) {
                        rc = IMAGO_EIO;
                        break;
                }
                total = b->res_total;
                if (b->res_total_known && (b->consumed * b->block >= total)) {
                        rc = IMAGO_OK;
                        break;
                }
                if (b->res_err != 0) {
                        rc = b->res_err;
                        break;
                }
                s = (size_t)(b->consumed % b->window);
                if (b->slot_len[s] != 0 && b->slot_blk[s] == b->consumed) {
                        len = b->slot_len[s];
                        blk = b->consumed;
                        memcpy(buf, b->slots + s * b->block, len);
                        b->slot_len[s] = 0;
                        b->consumed++;
                        b->last_ms = imago_blkc_now_ms();
                        pthread_mutex_unlock(&b->mu);
                        imago_blkc_wake(b); /* a slot is free: the loop may ask for more */
                        rc = out(arg, blk * b->block, buf, len);
                        pthread_mutex_lock(&b->mu);
                        if (rc != IMAGO_OK)
                                break;
                        continue;
                }
                now = imago_blkc_now_ms();
                if (now - b->last_ms >= b->idle_ms) {
                        rc = IMAGO_EIO;
                        break;
                }
                blkc_wait(b, b->last_ms + b->idle_ms);
        }
        b->want.active = 0;
        pthread_mutex_unlock(&b->mu);
        imago_blkc_wake(b);
        free(buf);
        return rc;
}

struct blkc_get_arg {
        imago_tuf_sink_fn sink;
        void *arg;
};

static int blkc_get_out(void *arg, uint64_t off, const uint8_t *data, size_t len)
{
        struct blkc_get_arg *g = arg;

        (void)off;
        return g->sink(g->arg, data, len);
}

static int blkc_obj_of_url(const char *url, const char **obj)
{
        size_t n;

        if (url == NULL || strncmp(url, "blk:", 4) != 0)
                return IMAGO_EINVAL;
        *obj = url + 4;
        n = strnlen(*obj, IMAGO_BLK_OBJ_MAX + 1);
        return imago_blk_obj_valid(*obj, n) ? IMAGO_OK : IMAGO_EINVAL;
}

int imago_blkc_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink, void *sink_arg)
{
        struct imago_blkc *b = ctx;
        struct blkc_get_arg g = {sink, sink_arg};
        const char *obj = NULL;
        int rc;

        if (b == NULL || sink == NULL)
                return IMAGO_EINVAL;
        if ((rc = blkc_obj_of_url(url, &obj)) != IMAGO_OK)
                return rc;
        return blkc_run(b, obj, 0, 0, max, 0, blkc_get_out, &g);
}

/* ---- resumable file fetch ---- */

struct blkc_file {
        struct imago_blkc *b;
        int fd;
        const char *progress_path;
        struct imago_blk_progress p; /* p.done: durable prefix */
        uint64_t written;            /* contiguous bytes written (not yet durable past p.done) */
};

static int blkc_checkpoint(struct blkc_file *f)
{
        uint8_t rec[IMAGO_BLK_PROGRESS_MAX];
        size_t len = 0;
        int rc;

        if (f->written == f->p.done)
                return IMAGO_OK;
        if (fdatasync(f->fd) != 0)
                return IMAGO_EIO;
        f->p.done = f->written;
        if ((rc = imago_blk_progress_encode(&f->p, rec, sizeof(rec), &len)) != IMAGO_OK)
                return rc;
        return imago_file_write_atomic(f->progress_path, rec, len, 0600);
}

static int blkc_file_out(void *arg, uint64_t off, const uint8_t *data, size_t len)
{
        struct blkc_file *f = arg;
        size_t n = 0;
        ssize_t w;
        int rc;

        if (off != f->written)
                return IMAGO_EBLK;
        while (n < len) {
                w = pwrite(f->fd, data + n, len - n, (off_t)(off + n));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return IMAGO_EIO;
                n += (size_t)w;
        }
        f->written += len;
        if (f->written - f->p.done >= BLKC_CHECKPOINT && f->written != f->p.length &&
            (rc = blkc_checkpoint(f)) != IMAGO_OK)
                return rc;
        if (f->b->progress != NULL)
                f->b->progress(f->b->progress_arg, f->written, f->p.length);
        return IMAGO_OK;
}

/* The durable prefix a stored record allows for (object, length, block) and the file on disk. */
static uint64_t blkc_resume_point(const char *path, const char *progress_path, const char *object,
                                  uint64_t length, uint32_t block)
{
        struct imago_blk_progress p;
        struct stat st;
        uint8_t *rec = NULL;
        size_t len = 0;
        uint64_t done = 0;

        if (imago_file_read(progress_path, IMAGO_BLK_PROGRESS_MAX, &rec, &len) != IMAGO_OK)
                return 0;
        if (imago_blk_progress_decode(rec, len, &p) == IMAGO_OK && strcmp(p.obj, object) == 0 &&
            p.length == length && p.block == block && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_size >= p.done)
                done = p.done;
        imago_file_free(rec, len);
        return done;
}

void imago_blkc_set_progress(struct imago_blkc *b, imago_blkc_progress_fn fn, void *arg)
{
        if (b == NULL)
                return;
        b->progress = fn;
        b->progress_arg = fn != NULL ? arg : NULL;
}

int imago_blkc_fetch_file(struct imago_blkc *b, const char *object, uint64_t length,
                          const char *path, uint64_t *resumed_from)
{
        char progress_path[4096];
        struct blkc_file f;
        uint64_t done;
        int n, rc = IMAGO_EINVAL;

        memset(&f, 0, sizeof(f));
        f.fd = -1;
        if (resumed_from != NULL)
                *resumed_from = 0;
        if (b == NULL || object == NULL || path == NULL ||
            !imago_blk_obj_valid(object, strnlen(object, IMAGO_BLK_OBJ_MAX + 1)))
                goto out;
        rc = IMAGO_ETUF_LENGTH;
        if (length > IMAGO_BLK_LENGTH_MAX ||
            (length + b->block - 1) / b->block > IMAGO_BLK_BLOCKS_MAX)
                goto out;
        rc = IMAGO_EINVAL;
        n = snprintf(progress_path, sizeof(progress_path), "%s.progress", path);
        if (n < 0 || (size_t)n >= sizeof(progress_path))
                goto out;
        done = blkc_resume_point(path, progress_path, object, length, b->block);
        rc = IMAGO_EIO;
        if ((f.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
                goto out;
        if (ftruncate(f.fd, (off_t)done) != 0)
                goto out;
        f.b = b;
        f.progress_path = progress_path;
        memcpy(f.p.obj, object, strlen(object) + 1);
        f.p.length = length;
        f.p.block = b->block;
        f.p.done = done;
        f.written = done;
        if (resumed_from != NULL)
                *resumed_from = done;
        if (done > 0)
                IMAGO_INFO("%s: resuming at %llu of %llu", object, (unsigned long long)done,
                           (unsigned long long)length);
        if (b->progress != NULL)
                b->progress(b->progress_arg, done, length);
        if (done < length) {
                rc = blkc_run(b, object, 1, length, length, done, blkc_file_out, &f);
                if (rc != IMAGO_OK) {
                        (void)blkc_checkpoint(&f); /* keep what arrived for the next try */
                        goto out;
                }
        }
        rc = IMAGO_EIO;
        if (f.written != length || fsync(f.fd) != 0)
                goto out;
        if (unlink(progress_path) != 0 && errno != ENOENT)
                goto out;
        rc = IMAGO_OK;
out:
        if (f.fd >= 0)
                close(f.fd);
        return rc;
}
