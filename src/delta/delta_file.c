/* imago_delta: files (host side): mapped base, atomic apply and make (see delta.h). */
#define _GNU_SOURCE /* mkostemp */
#include "delta/delta.h"

#include "base/err.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DELTA_READ_CHUNK (64U * 1024U)

int imago_delta_map_open(const char *path, uint64_t max, struct imago_delta_map *m)
{
        struct stat st;
        void *p;
        int fd, r;

        m->data = NULL;
        m->len = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                r = IMAGO_EIO;
                goto out;
        }
        if ((uint64_t)st.st_size > max || (uint64_t)st.st_size > SIZE_MAX) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        r = IMAGO_OK;
        if (st.st_size == 0)
                goto out;
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
                r = IMAGO_EIO;
                goto out;
        }
        m->data = p;
        m->len = (size_t)st.st_size;
out:
        close(fd);
        return r;
}

void imago_delta_map_close(struct imago_delta_map *m)
{
        if (m->data)
                munmap((void *)(uintptr_t)m->data, m->len);
        m->data = NULL;
        m->len = 0;
}

static int fd_sink(void *arg, const uint8_t *data, size_t len)
{
        int fd = *(int *)arg;

        while (len) {
                ssize_t n = write(fd, data, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return IMAGO_EIO;
                data += n;
                len -= (size_t)n;
        }
        return IMAGO_OK;
}

/* Directory of path into dir ("." when none); IMAGO_ETOOBIG if it does not fit. */
static int dir_of(const char *path, char *dir, size_t cap)
{
        const char *s = strrchr(path, '/');
        int n;

        if (!s)
                n = snprintf(dir, cap, ".");
        else if (s == path)
                n = snprintf(dir, cap, "/");
        else
                n = snprintf(dir, cap, "%.*s", (int)(s - path), path);
        return n < 0 || (size_t)n >= cap ? IMAGO_ETOOBIG : IMAGO_OK;
}

static int sync_dir(const char *path)
{
        char dir[4096];
        int fd, r;

        if ((r = dir_of(path, dir, sizeof(dir))) != IMAGO_OK)
                return r;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return IMAGO_EIO;
        r = fsync(fd) == 0 ? IMAGO_OK : IMAGO_EIO;
        close(fd);
        return r;
}

/* Feeds the delta file to a in chunks. */
static int feed_file(struct imago_delta_apply *a, const char *path)
{
        uint8_t *buf = malloc(DELTA_READ_CHUNK);
        int fd = -1, r;

        if (!buf)
                return IMAGO_ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
                goto out;
        }
        for (;;) {
                ssize_t n = read(fd, buf, DELTA_READ_CHUNK);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = IMAGO_EIO;
                        goto out;
                }
                if (n == 0)
                        break;
                if ((r = imago_delta_apply_update(a, buf, (size_t)n)) != IMAGO_OK)
                        goto out;
        }
        r = imago_delta_apply_final(a);
out:
        if (fd >= 0)
                close(fd);
        free(buf);
        return r;
}

int imago_delta_apply_file(const char *base, const char *delta, const char *out,
                           const struct imago_delta_expect *exp, enum imago_delta_why *why)
{
        struct imago_delta_map m = {NULL, 0};
        struct imago_delta_apply a;
        enum imago_delta_why w = IMAGO_DELTA_NONE;
        char tmp[4096];
        int fd = -1, r, have_a = 0, n;

        memset(&a, 0, sizeof(a));
        n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
                tmp[0] = '\0';
                r = IMAGO_ETOOBIG;
                goto out;
        }
        if ((r = imago_delta_map_open(base, IMAGO_DELTA_IMAGE_MAX, &m)) != IMAGO_OK) {
                w = IMAGO_DELTA_IO;
                tmp[0] = '\0';
                goto out;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                tmp[0] = '\0';
                r = IMAGO_EIO;
                w = IMAGO_DELTA_IO;
                goto out;
        }
        if ((r = imago_delta_apply_init(&a, m.data, m.len, exp, fd_sink, &fd)) != IMAGO_OK)
                goto out;
        have_a = 1;
        if ((r = feed_file(&a, delta)) != IMAGO_OK) {
                w = a.why != IMAGO_DELTA_NONE ? a.why : IMAGO_DELTA_IO;
                goto out;
        }
        if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
                r = IMAGO_EIO;
                w = IMAGO_DELTA_IO;
                goto out;
        }
        if (close(fd) != 0) {
                fd = -1;
                r = IMAGO_EIO;
                w = IMAGO_DELTA_IO;
                goto out;
        }
        fd = -1;
        if (rename(tmp, out) != 0) {
                r = IMAGO_EIO;
                w = IMAGO_DELTA_IO;
                goto out;
        }
        tmp[0] = '\0';
        if ((r = sync_dir(out)) != IMAGO_OK)
                w = IMAGO_DELTA_IO;
out:
        if (fd >= 0)
                close(fd);
        if (tmp[0])
                unlink(tmp);
        if (have_a)
                imago_delta_apply_free(&a);
        imago_delta_map_close(&m);
        if (why)
                *why = r == IMAGO_OK ? IMAGO_DELTA_NONE : w;
        return r;
}

int imago_delta_make_file(const char *base, const char *target, const char *out, int level,
                          struct imago_delta_info *info)
{
        struct imago_delta_map b = {NULL, 0}, t = {NULL, 0};
        uint8_t *d = NULL;
        size_t dl = 0;
        int r;

        if ((r = imago_delta_map_open(base, IMAGO_DELTA_IMAGE_MAX, &b)) != IMAGO_OK ||
            (r = imago_delta_map_open(target, IMAGO_DELTA_IMAGE_MAX, &t)) != IMAGO_OK)
                goto out;
        if ((r = imago_delta_make(b.data, b.len, t.data, t.len, level, &d, &dl)) != IMAGO_OK)
                goto out;
        if (info) {
                info->base_len = b.len;
                info->target_len = t.len;
                info->delta_len = dl;
                info->window_log = imago_delta_window_log(b.len, t.len);
                if ((r = imago_sha256(t.data, t.len, info->target_sha256)) != IMAGO_OK)
                        goto out;
        }
        r = imago_file_write_atomic(out, d, dl, 0644);
out:
        imago_delta_free(d);
        imago_delta_map_close(&t);
        imago_delta_map_close(&b);
        return r;
}
