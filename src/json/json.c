/* See json.h. */
#include "json.h"

#include "base/err.h"

#include <string.h>

int imago_json_object(const uint8_t *buf, size_t len, size_t max, json_t **out)
{
        json_error_t jerr;
        json_t *root;

        if (out == NULL || (buf == NULL && len > 0))
                return IMAGO_EINVAL;
        *out = NULL;
        if (len > max)
                return IMAGO_ETOOBIG;
        if (len == 0)
                return IMAGO_EMALFORMED;
        root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL)
                return IMAGO_EMALFORMED;
        if (!json_is_object(root)) {
                json_decref(root);
                return IMAGO_EMALFORMED;
        }
        *out = root;
        return IMAGO_OK;
}

const char *imago_json_str(json_t *obj, const char *key, size_t *len)
{
        json_t *v = json_object_get(obj, key);
        const char *s;

        if (!json_is_string(v))
                return NULL;
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
                return NULL;
        if (len != NULL)
                *len = json_string_length(v);
        return s;
}

int imago_json_only_keys(json_t *obj, const char *const *keys, size_t n)
{
        const char *k;
        json_t *v;

        json_object_foreach(obj, k, v)
        {
                size_t i;

                (void)v;
                for (i = 0; i < n; i++) {
                        if (strcmp(k, keys[i]) == 0)
                                break;
                }
                if (i == n)
                        return 0;
        }
        return 1;
}
