/*
 * imago_json: the strict reading of untrusted JSON, in one place.
 *
 * Every parser of JSON from outside (device messages, broker control, deny
 * file, broker hooks, factory manifests) takes its root object through
 * imago_json_object() and its strings through imago_json_str(), so the same
 * rules hold everywhere: a size limit checked before parsing, exactly one
 * object with nothing after it, duplicate keys refused, and strings with an
 * embedded NUL treated as absent (jansson refuses "\u0000" already; this is
 * the second line of defence).
 *
 * Ownership: *out of imago_json_object() is a new reference the caller
 * releases with json_decref(); strings returned by imago_json_str() are
 * borrowed from their object and live as long as it.
 *
 * Errors: IMAGO_ETOOBIG (over max), IMAGO_EMALFORMED (not JSON, not an
 * object, duplicate key, trailing bytes), IMAGO_EINVAL (NULL arguments).
 */
#ifndef IMAGO_JSON_JSON_H
#define IMAGO_JSON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

int imago_json_object(const uint8_t *buf, size_t len, size_t max, json_t **out);

/* The string member key of obj, or NULL if absent, not a string or holding a NUL; *len if not NULL.
 */
const char *imago_json_str(json_t *obj, const char *key, size_t *len);

/* 1 if every key of obj is one of keys[0..n), else 0. */
int imago_json_only_keys(json_t *obj, const char *const *keys, size_t n);

#endif
