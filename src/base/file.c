/* See file.h. */
#define _POSIX_C_SOURCE 200809L
#include "file.h"

#include "err.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_file_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
        struct stat st;
        uint8_t *buf = NULL;
        size_t got = 0;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                r = IMAGO_EIO;
                goto out;
        }
        if ((uint64_t)st.st_size > max) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (buf == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        while (got < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = IMAGO_EIO;
                        goto out;
                }
                got += (size_t)n;
        }
        buf[got] = 0; /* convenience terminator for text files; not counted */
        *data = buf;
        *len = got;
        buf = NULL;
        r = IMAGO_OK;
out:
        if (buf != NULL)
                imago_file_free(buf, got);
        close(fd);
        return r;
}

void imago_file_free(uint8_t *data, size_t len)
{
        if (data == NULL)
                return;
        imago_wipe(data, len);
        free(data);
}

/* Write data to a fresh temporary file next to path (mode applied at creation), fsync, close. */
static int write_temp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
                      size_t tmp_size)
{
        const uint8_t *p = data;
        size_t done = 0;
        int fd, n, r = IMAGO_EIO;

        n = snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());
        if (n < 0 || (size_t)n >= tmp_size)
                return IMAGO_EINVAL;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return IMAGO_EIO;
        if (fchmod(fd, mode) != 0)
                goto out;
        while (done < len) {
                ssize_t w = write(fd, p + done, len - done);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        goto out;
                done += (size_t)w;
        }
        if (fsync(fd) != 0)
                goto out;
        n = close(fd);
        fd = -1;
        if (n == 0)
                r = IMAGO_OK;
out:
        if (fd >= 0)
                close(fd);
        if (r != IMAGO_OK)
                unlink(tmp);
        return r;
}

int imago_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
        char tmp[4096];
        int r = write_temp(path, data, len, mode, tmp, sizeof(tmp));

        if (r != IMAGO_OK)
                return r;
        if (rename(tmp, path) != 0) {
                unlink(tmp);
                return IMAGO_EIO;
        }
        return IMAGO_OK;
}

int imago_file_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
        char tmp[4096];
        int r;

        if (access(path, F_OK) == 0)
                return IMAGO_EEXIST;
        if ((r = write_temp(path, data, len, mode, tmp, sizeof(tmp))) != IMAGO_OK)
                return r;
        if (link(tmp, path) != 0)
                r = errno == EEXIST ? IMAGO_EEXIST : IMAGO_EIO;
        unlink(tmp);
        return r;
}
