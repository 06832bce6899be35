/*
 * Names: the rule [A-Za-z0-9._-]{1,max} that hardware ids, rollout tags and groups, and
 * authorization groups all follow, written once so that every module agrees on it.
 * No allocation; NULL is invalid; max 0 accepts nothing.
 */
#ifndef IMAGO_BASE_NAME_H
#define IMAGO_BASE_NAME_H

#include <stddef.h>

/* 1 if s (NUL-terminated) is 1..max characters of [A-Za-z0-9._-], else 0.  Reads at most
 * max + 1 characters of s. */
int imago_name_valid(const char *s, size_t max);

/* The same rule over len bytes at s (not NUL-terminated; a NUL byte is invalid). */
int imago_name_valid_n(const char *s, size_t len, size_t max);

#endif
