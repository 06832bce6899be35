/*
 * imago_sock: blocking operations with a deadline over non-blocking TCP
 * sockets (POSIX), shared by the HTTPS client (src/net) and the TUF HTTP
 * fetcher (src/tuf/client).
 *
 * Deadlines are absolute times of the monotonic clock in milliseconds
 * (imago_mono_ms() + timeout).  A socket from imago_sock_connect() is
 * non-blocking and close-on-exec; the caller owns it and closes it.
 *
 * Errors: IMAGO_EINVAL (bad arguments), IMAGO_EIO (name not resolved,
 * refused, unreachable, poll failure, or the deadline passed).
 */
#ifndef IMAGO_BASE_SOCK_H
#define IMAGO_BASE_SOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t imago_mono_ms(void);

/* Wait until fd is ready for events (POLLIN, POLLOUT) or until passes. */
int imago_sock_wait(int fd, short events, uint64_t until);

/* Resolve host (name or address) and connect to port on the first address that accepts before
 * until; *out gets the socket. */
int imago_sock_connect(const char *host, uint16_t port, uint64_t until, int *out);

#endif
