/* imago_state: documents: check, merge, delta, parse, dump (see state.h). */
#include "state/state.h"

#include "base/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

static int state_name_valid(const char *k)
{
        size_t i, n = strlen(k);

        if (n < 1 || n > IMAGO_STATE_NAME_MAX)
                return 0;
        if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_'))
                return 0;
        for (i = 1; i < n; i++) {
                char c = k[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/*
 * One value at container depth `depth` (the root object is depth 1).  member: the value is
 * an object member (a null there deletes it when patch is set); array elements never null.
 */
static int state_value_check(const json_t *v, int depth, int patch, int member)
{
        const char *k;
        json_t *m;
        size_t i;

        switch (json_typeof(v)) {
        case JSON_STRING:
                return strlen(json_string_value(v)) == json_string_length(v) ? 0 : IMAGO_ESTATE_DOC;
        case JSON_INTEGER:
        case JSON_REAL:
        case JSON_TRUE:
        case JSON_FALSE:
                return 0;
        case JSON_NULL:
                return patch && member ? 0 : IMAGO_ESTATE_DOC;
        case JSON_OBJECT:
                if (depth > IMAGO_STATE_DEPTH)
                        return IMAGO_ESTATE_DOC;
                json_object_foreach((json_t *)v, k, m)
                {
                        if (!state_name_valid(k) || state_value_check(m, depth + 1, patch, 1) != 0)
                                return IMAGO_ESTATE_DOC;
                }
                return 0;
        case JSON_ARRAY:
                if (depth > IMAGO_STATE_DEPTH)
                        return IMAGO_ESTATE_DOC;
                for (i = 0; i < json_array_size(v); i++) {
                        /* Arrays are leaves replaced whole: no deletions inside. */
                        if (state_value_check(json_array_get(v, i), depth + 1, 0, 0) != 0)
                                return IMAGO_ESTATE_DOC;
                }
                return 0;
        }
        return IMAGO_ESTATE_DOC;
}

int imago_state_doc_check(const json_t *doc, int patch)
{
        size_t n;

        if (doc == NULL)
                return IMAGO_EINVAL;
        if (!json_is_object(doc))
                return IMAGO_ESTATE_DOC;
        if (state_value_check(doc, 1, patch, 0) != 0)
                return IMAGO_ESTATE_DOC;
        /* json_dumpb with no buffer returns the length the compact text needs. */
        n = json_dumpb(doc, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
        if (n == 0 || n > IMAGO_STATE_DOC_MAX)
                return IMAGO_ESTATE_DOC;
        return 0;
}

/* RFC 7396 merge of patch into doc (both objects); doc is modified. */
static int state_merge_into(json_t *doc, const json_t *patch)
{
        const char *k;
        json_t *pv;

        json_object_foreach((json_t *)patch, k, pv)
        {
                json_t *dv = json_object_get(doc, k), *nv;

                if (json_is_null(pv)) {
                        json_object_del(doc, k);
                        continue;
                }
                if (json_is_object(pv)) {
                        if (json_is_object(dv)) {
                                if (state_merge_into(dv, pv) != 0)
                                        return IMAGO_ENOMEM;
                                continue;
                        }
                        /* A new object: merge the patch into {} so its nulls vanish. */
                        if ((nv = json_object()) == NULL)
                                return IMAGO_ENOMEM;
                        if (state_merge_into(nv, pv) != 0 || json_object_set_new(doc, k, nv) != 0)
                                return IMAGO_ENOMEM;
                        continue;
                }
                if ((nv = json_deep_copy(pv)) == NULL || json_object_set_new(doc, k, nv) != 0)
                        return IMAGO_ENOMEM;
        }
        return 0;
}

int imago_state_merge(json_t *doc, const json_t *patch)
{
        json_t *copy = NULL;
        int r = IMAGO_EINVAL;

        if (doc == NULL || patch == NULL || !json_is_object(doc))
                goto out;
        if ((r = imago_state_doc_check(patch, 1)) != 0)
                goto out;
        r = IMAGO_ENOMEM;
        if ((copy = json_deep_copy(doc)) == NULL)
                goto out;
        if ((r = state_merge_into(copy, patch)) != 0)
                goto out;
        if ((r = imago_state_doc_check(copy, 0)) != 0)
                goto out;
        r = IMAGO_ENOMEM;
        if (json_object_clear(doc) != 0 || json_object_update(doc, copy) != 0)
                goto out;
        r = 0;
out:
        json_decref(copy);
        return r;
}

/* Equal values; numbers by value (25 and 25.0 are the same setting), the rest as jansson does. */
static int state_equal(const json_t *a, const json_t *b)
{
        if (json_is_number(a) && json_is_number(b)) {
                if (json_is_integer(a) && json_is_integer(b))
                        return json_integer_value(a) == json_integer_value(b);
                return json_number_value(a) == json_number_value(b);
        }
        return json_equal((json_t *)a, (json_t *)b);
}

static int state_delta_into(const json_t *desired, const json_t *reported, json_t *out)
{
        const char *k;
        json_t *dv;

        json_object_foreach((json_t *)desired, k, dv)
        {
                json_t *rv = json_object_get(reported, k), *nv = NULL;

                if (json_is_object(dv) && json_is_object(rv)) {
                        if ((nv = json_object()) == NULL || state_delta_into(dv, rv, nv) != 0) {
                                json_decref(nv);
                                return IMAGO_ENOMEM;
                        }
                        if (json_object_size(nv) == 0) {
                                json_decref(nv);
                                continue;
                        }
                } else if (rv != NULL && state_equal(dv, rv)) {
                        continue;
                } else if ((nv = json_deep_copy(dv)) == NULL) {
                        return IMAGO_ENOMEM;
                }
                if (json_object_set_new(out, k, nv) != 0)
                        return IMAGO_ENOMEM;
        }
        return 0;
}

int imago_state_delta(const json_t *desired, const json_t *reported, json_t **out)
{
        json_t *d = NULL;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (out == NULL || !json_is_object(desired) || !json_is_object(reported))
                goto out;
        r = IMAGO_ENOMEM;
        if ((d = json_object()) == NULL)
                goto out;
        if ((r = state_delta_into(desired, reported, d)) != 0)
                goto out;
        *out = d;
        d = NULL;
        r = 0;
out:
        json_decref(d);
        return r;
}

int imago_state_doc_parse(const char *text, size_t len, int patch, json_t **out)
{
        json_t *doc = NULL;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (out == NULL || (text == NULL && len > 0))
                goto out;
        if ((r = imago_json_object((const uint8_t *)text, len, IMAGO_STATE_DOC_MAX, &doc)) != 0)
                goto out;
        if ((r = imago_state_doc_check(doc, patch)) != 0)
                goto out;
        *out = doc;
        doc = NULL;
out:
        json_decref(doc);
        return r;
}

int imago_state_doc_dump(const json_t *doc, char **out)
{
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (out == NULL || !json_is_object(doc))
                goto out;
        r = IMAGO_ENOMEM;
        if ((*out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        r = 0;
out:
        return r;
}
