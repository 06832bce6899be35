/* See sock.h. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "base/sock.h"

#include "base/err.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

uint64_t imago_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

int imago_sock_wait(int fd, short events, uint64_t until)
{
        struct pollfd p;
        uint64_t now;
        int n;

        if (fd < 0)
                return IMAGO_EINVAL;
        for (;;) {
                now = imago_mono_ms();
                if (now >= until)
                        return IMAGO_EIO;
                p.fd = fd;
                p.events = events;
                p.revents = 0;
                n = poll(&p, 1, (int)(until - now > 60000 ? 60000 : until - now));
                if (n > 0)
                        return IMAGO_OK;
                if (n < 0 && errno != EINTR)
                        return IMAGO_EIO;
        }
}

static int connect_one(const struct addrinfo *ai, uint64_t until, int *out)
{
        int fd, err = 0, r = IMAGO_EIO;
        socklen_t el = sizeof(err);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
                return IMAGO_EIO;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
                if (errno != EINPROGRESS)
                        goto out;
                if (imago_sock_wait(fd, POLLOUT, until) != IMAGO_OK)
                        goto out;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
                        goto out;
        }
        *out = fd;
        fd = -1;
        r = IMAGO_OK;
out:
        if (fd >= 0)
                close(fd);
        return r;
}

int imago_sock_connect(const char *host, uint16_t port, uint64_t until, int *out)
{
        struct addrinfo hints, *res = NULL, *ai;
        char ps[8];
        int r = IMAGO_EIO;

        if (host == NULL || out == NULL || port == 0)
                return IMAGO_EINVAL;
        *out = -1;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        snprintf(ps, sizeof(ps), "%u", (unsigned)port);
        if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL)
                return IMAGO_EIO;
        for (ai = res; ai != NULL && r != IMAGO_OK; ai = ai->ai_next)
                r = connect_one(ai, until, out);
        freeaddrinfo(res);
        return r;
}
