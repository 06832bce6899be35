/* See datadir.h: SIGHUP to a running imago-cloud named by DIR/imago-cloud.pid. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/datadir.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PID_FILE_MAX 32U

/*
 * True if /proc/<pid>/comm is imago-cloud (a recycled pid names another
 * program).  /proc files report size 0, so this reads them directly.
 */
static int is_imago_cloud(pid_t pid)
{
        char path[64], comm[32];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return 0;
        n = read(fd, comm, sizeof(comm));
        close(fd);
        return n == 12 && memcmp(comm, "imago-cloud\n", 12) == 0;
}

int imago_cloud_datadir_notify(const char *data_dir, pid_t *pid)
{
        char path[PATH_MAX], text[PID_FILE_MAX + 1];
        uint8_t *data = NULL;
        size_t len = 0;
        uint32_t v;
        int r;

        if (pid == NULL)
                return IMAGO_EINVAL;
        *pid = 0;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), data_dir, IMAGO_CLOUD_F_PID)) != 0)
                return r;
        r = imago_file_read(path, PID_FILE_MAX, &data, &len);
        if (r == IMAGO_ENOTFOUND)
                return 0;
        if (r != 0)
                return r;
        memcpy(text, data, len);
        text[len] = '\0';
        imago_file_free(data, len);
        if (len > 0 && text[len - 1] == '\n')
                text[len - 1] = '\0';
        if (imago_parse_u32(text, INT_MAX, &v) != 0 || v < 2 || text[0] == '0')
                return 0; /* not a pid: no service to tell */
        if (!is_imago_cloud((pid_t)v))
                return 0;
        if (kill((pid_t)v, SIGHUP) != 0)
                return errno == ESRCH ? 0 : IMAGO_EPERM;
        *pid = (pid_t)v;
        return 0;
}
