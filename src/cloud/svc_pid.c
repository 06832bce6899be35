/* See svc_priv.h: the PID file. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "base/file.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A PID file naming a live process refuses a second instance; a stale one is replaced. */
int imago_svc_pid_write(const char *path)
{
        uint8_t *old = NULL;
        size_t len = 0;
        char buf[32];
        int n, r;

        if (imago_file_read(path, 31, &old, &len) == IMAGO_OK) {
                char tmp[32];
                long pid;
                char *end;

                memcpy(tmp, old, len);
                tmp[len] = '\0';
                imago_file_free(old, len);
                errno = 0;
                pid = strtol(tmp, &end, 10);
                if (errno == 0 && end != tmp && pid > 0 && pid != (long)getpid() &&
                    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
                        return IMAGO_EEXIST;
        }
        n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
        if (n < 0 || (size_t)n >= sizeof(buf))
                return IMAGO_EINVAL;
        r = imago_file_write_atomic(path, buf, (size_t)n, 0644);
        return r;
}

void imago_svc_pid_remove(const char *path)
{
        (void)unlink(path);
}
