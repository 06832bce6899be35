/* See api.h: the rollout and device tags body parsers (pure, strict). */
#include "cloud/api/api.h"

#include "base/err.h"
#include "base/name.h"
#include "json/json.h"

#include <string.h>

#define DEF_MAX_CONCURRENT 10U
#define DEF_ABORT_PERCENT  20U
#define DEF_ABORT_MIN      5U
#define DEF_TIMEOUT_S      3600U

int imago_api_tag_valid(const char *s)
{
        return imago_name_valid(s, IMAGO_ROLLOUT_TAG_MAX);
}

/* 1 if s (len bytes) is printable ASCII; no_space: and without spaces. */
static int printable(const char *s, size_t len, int no_space)
{
        size_t i;

        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c > 0x7e || (no_space && c == ' '))
                        return 0;
        }
        return 1;
}

static int target_valid(const char *s, size_t len)
{
        if (len == 0 || len > IMAGO_VREPORT_TARGET_MAX || !printable(s, len, 1) || s[0] == '/' ||
            memchr(s, '\\', len) != NULL || strstr(s, "..") != NULL)
                return 0;
        return 1;
}

/* A string member copied into out (cap bytes with the NUL): 0, IMAGO_ENOTFOUND (absent) or
 * IMAGO_EINVAL (another type, a NUL, too long). */
static int get_str(json_t *root, const char *key, char *out, size_t cap, size_t *len)
{
        const char *s;

        if (json_object_get(root, key) == NULL)
                return IMAGO_ENOTFOUND;
        if ((s = imago_json_str(root, key, len)) == NULL || *len >= cap)
                return IMAGO_EINVAL;
        memcpy(out, s, *len);
        out[*len] = '\0';
        return IMAGO_OK;
}

/* An optional integer member in [lo, hi] (unchanged when absent). */
static int get_uint(json_t *root, const char *key, unsigned lo, unsigned hi, unsigned *out)
{
        json_t *v = json_object_get(root, key);
        json_int_t i;

        if (v == NULL)
                return IMAGO_OK;
        if (!json_is_integer(v))
                return IMAGO_EINVAL;
        i = json_integer_value(v);
        if (i < (json_int_t)lo || i > (json_int_t)hi)
                return IMAGO_EINVAL;
        *out = (unsigned)i;
        return IMAGO_OK;
}

static int get_stages(json_t *root, struct imago_rollout_spec *out)
{
        json_t *a = json_object_get(root, "stages"), *v;
        json_int_t prev = 0;
        size_t i;

        if (a == NULL) {
                out->stages[0] = 100;
                out->nstages = 1;
                return IMAGO_OK;
        }
        if (!json_is_array(a) || json_array_size(a) == 0 ||
            json_array_size(a) > IMAGO_ROLLOUT_STAGES_MAX)
                return IMAGO_EINVAL;
        json_array_foreach(a, i, v)
        {
                json_int_t p;

                if (!json_is_integer(v))
                        return IMAGO_EINVAL;
                p = json_integer_value(v);
                if (p <= prev || p > 100)
                        return IMAGO_EINVAL;
                out->stages[i] = (unsigned)p;
                prev = p;
        }
        if (prev != 100)
                return IMAGO_EINVAL;
        out->nstages = json_array_size(a);
        return IMAGO_OK;
}

int imago_api_parse_rollout(const uint8_t *buf, size_t len, struct imago_rollout_spec *out)
{
        static const char *const keys[] = {"name",          "target",    "group",
                                           "tag",           "stages",    "max_concurrent",
                                           "abort_percent", "abort_min", "device_timeout_s"};
        unsigned timeout = DEF_TIMEOUT_S;
        json_t *root = NULL;
        size_t sl = 0;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if (buf == NULL && len != 0)
                return IMAGO_EINVAL;
        if (len > IMAGO_API_BODY_MAX)
                return IMAGO_ETOOBIG;
        if ((r = imago_json_object(buf, len, IMAGO_API_BODY_MAX, &root)) != IMAGO_OK)
                goto out;
        r = IMAGO_EINVAL;
        if (!imago_json_only_keys(root, keys, sizeof(keys) / sizeof(keys[0])))
                goto out;
        if (get_str(root, "target", out->target, sizeof(out->target), &sl) != IMAGO_OK ||
            !target_valid(out->target, sl))
                goto out;
        switch (get_str(root, "name", out->name, sizeof(out->name), &sl)) {
        case IMAGO_OK:
                if (!printable(out->name, sl, 0))
                        goto out;
                break;
        case IMAGO_ENOTFOUND:
                break;
        default:
                goto out;
        }
        switch (get_str(root, "group", out->group, sizeof(out->group), &sl)) {
        case IMAGO_OK:
                if (!imago_api_tag_valid(out->group))
                        goto out;
                break;
        case IMAGO_ENOTFOUND:
                break;
        default:
                goto out;
        }
        switch (get_str(root, "tag", out->tag, sizeof(out->tag), &sl)) {
        case IMAGO_OK:
                if (!imago_api_tag_valid(out->tag))
                        goto out;
                break;
        case IMAGO_ENOTFOUND:
                break;
        default:
                goto out;
        }
        if (out->group[0] == '\0' && out->tag[0] == '\0')
                goto out;
        out->max_concurrent = DEF_MAX_CONCURRENT;
        out->abort_percent = DEF_ABORT_PERCENT;
        out->abort_min = DEF_ABORT_MIN;
        if (get_stages(root, out) != IMAGO_OK ||
            get_uint(root, "max_concurrent", 1, 100000, &out->max_concurrent) != IMAGO_OK ||
            get_uint(root, "abort_percent", 0, 100, &out->abort_percent) != IMAGO_OK ||
            get_uint(root, "abort_min", 1, 100000, &out->abort_min) != IMAGO_OK ||
            get_uint(root, "device_timeout_s", 60, 2592000, &timeout) != IMAGO_OK)
                goto out;
        out->device_timeout_s = timeout;
        r = imago_rollout_spec_check(out) == IMAGO_OK ? IMAGO_OK : IMAGO_EINVAL;
out:
        if (r != IMAGO_OK)
                memset(out, 0, sizeof(*out));
        json_decref(root);
        return r;
}

int imago_api_parse_tags(const uint8_t *buf, size_t len, struct imago_api_tags *out)
{
        static const char *const keys[] = {"tags"};
        json_t *root = NULL, *a, *v;
        size_t i, k;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if (buf == NULL && len != 0)
                return IMAGO_EINVAL;
        if (len > IMAGO_API_BODY_MAX)
                return IMAGO_ETOOBIG;
        if ((r = imago_json_object(buf, len, IMAGO_API_BODY_MAX, &root)) != IMAGO_OK)
                goto out;
        r = IMAGO_EINVAL;
        if (!imago_json_only_keys(root, keys, 1))
                goto out;
        a = json_object_get(root, "tags");
        if (!json_is_array(a) || json_array_size(a) > IMAGO_ROLLOUT_TAGS_MAX)
                goto out;
        json_array_foreach(a, i, v)
        {
                const char *s = json_string_value(v);
                size_t sl = json_string_length(v);

                if (s == NULL || sl > IMAGO_ROLLOUT_TAG_MAX || strlen(s) != sl ||
                    !imago_api_tag_valid(s))
                        goto out;
                for (k = 0; k < out->n; k++)
                        if (strcmp(out->tags[k], s) == 0)
                                goto out;
                memcpy(out->tags[out->n], s, sl + 1);
                out->n++;
        }
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                memset(out, 0, sizeof(*out));
        json_decref(root);
        return r;
}
