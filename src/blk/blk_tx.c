/* The sender: answers to block requests from a buffer or a file; see blk.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "blk/blk.h"

static int blk_src_buf_read(const struct imago_blk_src *s, uint64_t off, uint8_t *buf, size_t len)
{
        if (off > s->length || len > s->length - off)
                return IMAGO_EINVAL;
        memcpy(buf, s->buf + off, len);
        return IMAGO_OK;
}

void imago_blk_src_buf(struct imago_blk_src *s, const uint8_t *buf, size_t len)
{
        memset(s, 0, sizeof(*s));
        s->length = len;
        s->buf = buf;
        s->fd = -1;
        s->read = blk_src_buf_read;
}

static int blk_src_fd_read(const struct imago_blk_src *s, uint64_t off, uint8_t *buf, size_t len)
{
        size_t got = 0;

        if (off > s->length || len > s->length - off)
                return IMAGO_EINVAL;
        while (got < len) {
                ssize_t n = pread(s->fd, buf + got, len - got, (off_t)(off + got));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return IMAGO_EIO; /* an error, or the file shrank */
                got += (size_t)n;
        }
        return IMAGO_OK;
}

int imago_blk_src_fd(struct imago_blk_src *s, int fd)
{
        struct stat st;

        if (s == NULL || fd < 0)
                return IMAGO_EINVAL;
        if (fstat(fd, &st) != 0)
                return IMAGO_EIO;
        if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size >= IMAGO_BLK_OFF_LIMIT)
                return IMAGO_EINVAL;
        memset(s, 0, sizeof(*s));
        s->length = (uint64_t)st.st_size;
        s->fd = fd;
        s->read = blk_src_fd_read;
        return IMAGO_OK;
}

int imago_blk_serve(const struct imago_blk_req *req, const struct imago_blk_src *src, uint8_t **out,
                    size_t *len)
{
        struct imago_blk_msg m;
        uint8_t *data = NULL;
        int rc = IMAGO_EINVAL;

        if (req == NULL || out == NULL || len == NULL)
                goto out;
        if (src != NULL && (src->read == NULL || src->length >= IMAGO_BLK_OFF_LIMIT))
                goto out;
        memset(&m, 0, sizeof(m));
        memcpy(m.obj, req->obj, sizeof(m.obj));
        m.obj[IMAGO_BLK_OBJ_MAX] = '\0';
        m.tid = req->tid;
        m.off = req->off;
        if (src == NULL || req->off >= src->length) {
                m.type = IMAGO_BLK_ERROR;
                m.code = src == NULL ? IMAGO_BLK_NOTFOUND : IMAGO_BLK_RANGE;
                rc = imago_blk_msg_build(&m, out, len);
                goto out;
        }
        m.type = IMAGO_BLK_BLOCK;
        m.total = src->length;
        m.data_len = req->len;
        if (m.data_len == 0 || m.data_len > IMAGO_BLK_BLOCK_MAX)
                goto out;
        if (m.data_len > src->length - req->off)
                m.data_len = (uint32_t)(src->length - req->off);
        rc = IMAGO_ENOMEM;
        if ((data = malloc(m.data_len)) == NULL)
                goto out;
        if ((rc = src->read(src, req->off, data, m.data_len)) != IMAGO_OK)
                goto out;
        m.data = data;
        rc = imago_blk_msg_build(&m, out, len);
out:
        free(data);
        return rc;
}
