/* See store.h.  POSIX file operations for the store. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

static int px_open(void *arg, const char *path, int create)
{
        int fd;

        (void)arg;
        do {
                fd =
                    open(path, create ? O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDWR | O_CLOEXEC,
                         0600);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        return fd;
}

static int px_pread(void *arg, int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
        size_t done = 0;

        (void)arg;
        while (done < n) {
                ssize_t k = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return IMAGO_EIO;
                if (k == 0)
                        break;
                done += (size_t)k;
        }
        *got = done;
        return IMAGO_OK;
}

static int px_pwrite(void *arg, int fd, const void *buf, size_t n, uint64_t off)
{
        size_t done = 0;

        (void)arg;
        while (done < n) {
                ssize_t k = pwrite(fd, (const uint8_t *)buf + done, n - done, (off_t)(off + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return IMAGO_EIO;
                done += (size_t)k;
        }
        return IMAGO_OK;
}

static int px_fsync(void *arg, int fd)
{
        (void)arg;
        return fsync(fd) == 0 ? IMAGO_OK : IMAGO_EIO;
}

static void px_close(void *arg, int fd)
{
        (void)arg;
        close(fd);
}

static const struct imago_store_ops posix_ops = {px_open,  px_pread, px_pwrite,
                                                 px_fsync, px_close, NULL};

const struct imago_store_ops *imago_store_posix_ops(void)
{
        return &posix_ops;
}
