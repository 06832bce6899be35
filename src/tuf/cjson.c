/* See tuf.h: canonical JSON as securesystemslib's encode_canonical. */
#include "tuf/tuf.h"

#include "base/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CJSON_MAX_DEPTH 64

struct cbuf {
        char *p;
        size_t len, cap;
};

static int put(struct cbuf *b, const char *s, size_t n)
{
        if (n > SIZE_MAX - b->len - 1)
                return IMAGO_EOVERFLOW;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                char *q;

                while (cap < b->len + n + 1) {
                        if (cap > SIZE_MAX / 2)
                                return IMAGO_EOVERFLOW;
                        cap *= 2;
                }
                if ((q = realloc(b->p, cap)) == NULL)
                        return IMAGO_ENOMEM;
                b->p = q;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return IMAGO_OK;
}

static int put_str(struct cbuf *b, const char *s, size_t n)
{
        size_t i, start = 0;
        int r;

        if ((r = put(b, "\"", 1)) != IMAGO_OK)
                return r;
        for (i = 0; i < n; i++) {
                if (s[i] != '"' && s[i] != '\\')
                        continue;
                if ((r = put(b, s + start, i - start)) != IMAGO_OK ||
                    (r = put(b, "\\", 1)) != IMAGO_OK)
                        return r;
                start = i;
        }
        if ((r = put(b, s + start, n - start)) != IMAGO_OK)
                return r;
        return put(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int enc(struct cbuf *b, const json_t *v, unsigned depth)
{
        char num[32];
        int r = IMAGO_OK;

        if (depth > CJSON_MAX_DEPTH)
                return IMAGO_ETUF_FORMAT;
        switch (json_typeof(v)) {
        case JSON_NULL:
                return put(b, "null", 4);
        case JSON_TRUE:
                return put(b, "true", 4);
        case JSON_FALSE:
                return put(b, "false", 5);
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return put(b, num, strlen(num));
        case JSON_REAL:
                return IMAGO_ETUF_FORMAT;
        case JSON_STRING:
                return put_str(b, json_string_value(v), json_string_length(v));
        case JSON_ARRAY: {
                size_t i;

                if ((r = put(b, "[", 1)) != IMAGO_OK)
                        return r;
                for (i = 0; i < json_array_size(v); i++) {
                        if (i > 0 && (r = put(b, ",", 1)) != IMAGO_OK)
                                return r;
                        if ((r = enc(b, json_array_get(v, i), depth + 1)) != IMAGO_OK)
                                return r;
                }
                return put(b, "]", 1);
        }
        case JSON_OBJECT: {
                size_t n = json_object_size(v), i = 0;
                const char **keys = NULL;
                const char *k;
                json_t *m;

                if (n > 0 && (keys = calloc(n, sizeof(*keys))) == NULL)
                        return IMAGO_ENOMEM;
                json_object_foreach((json_t *)v, k, m)
                {
                        (void)m;
                        if (i < n)
                                keys[i++] = k;
                }
                if (n > 0)
                        qsort(keys, n, sizeof(*keys), cmp_keys);
                if ((r = put(b, "{", 1)) != IMAGO_OK)
                        goto obj_out;
                for (i = 0; i < n; i++) {
                        if (i > 0 && (r = put(b, ",", 1)) != IMAGO_OK)
                                goto obj_out;
                        if ((r = put_str(b, keys[i], strlen(keys[i]))) != IMAGO_OK ||
                            (r = put(b, ":", 1)) != IMAGO_OK ||
                            (r = enc(b, json_object_get(v, keys[i]), depth + 1)) != IMAGO_OK)
                                goto obj_out;
                }
                r = put(b, "}", 1);
        obj_out:
                free(keys);
                return r;
        }
        }
        return IMAGO_ETUF_FORMAT;
}

int imago_tuf_cjson(const json_t *v, char **out, size_t *len)
{
        struct cbuf b = {0};
        int r;

        if (v == NULL || out == NULL || len == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        *len = 0;
        if ((r = enc(&b, v, 0)) != IMAGO_OK)
                goto out;
        if (b.p == NULL && (r = put(&b, "", 0)) != IMAGO_OK)
                goto out;
        *out = b.p;
        *len = b.len;
        b.p = NULL;
        r = IMAGO_OK;
out:
        free(b.p);
        return r;
}
