/*
 * Wiping secrets.  imago_wipe() zeroes memory in a way the compiler may not
 * remove (explicit_bzero on the host).  Call it on every buffer that held a
 * key, passphrase or plaintext secret before it goes out of scope.
 */
#ifndef IMAGO_BASE_WIPE_H
#define IMAGO_BASE_WIPE_H

#include <stddef.h>

void imago_wipe(void *p, size_t n);

#endif
