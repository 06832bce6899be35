/* imago_ota: the health command (execv, no shell, bounded time; see ota.h). */
#define _GNU_SOURCE
#include "device/ota/ota.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int imago_ota_health_cmd(const char *path, uint32_t timeout_ms, int (*stop)(void *arg), void *arg)
{
        char *argv[2];
        uint64_t end = mono_ms() + timeout_ms;
        int status = 0;
        pid_t pid, w;

        if (!path || path[0] != '/')
                return IMAGO_EINVAL;
        pid = fork();
        if (pid < 0)
                return IMAGO_EIO;
        if (pid == 0) {
                argv[0] = (char *)path;
                argv[1] = NULL;
                execve(path, argv, environ);
                _exit(127);
        }
        for (;;) {
                w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return IMAGO_EIO;
                if (mono_ms() >= end || (stop && stop(arg))) {
                        kill(pid, SIGKILL);
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        IMAGO_ERR("health command %s did not finish in %u ms", path, timeout_ms);
                        return IMAGO_EOTA_HEALTH;
                }
                usleep(20000);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return IMAGO_OK;
        IMAGO_ERR("health command %s failed (status %d)", path, status);
        return IMAGO_EOTA_HEALTH;
}
