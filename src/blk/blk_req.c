/* The block request (JSON, device -> cloud); see blk.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "blk/blk.h"
#include "json/json.h"

static const char *const blk_req_keys[] = {"v", "type", "tid", "obj", "off", "len"};

/* The integer member key of o in [min, max], or -1 (absent, not an integer, out of range). */
static int blk_req_int(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
        json_t *v = json_object_get(o, key);
        json_int_t i;

        if (!json_is_integer(v))
                return -1;
        i = json_integer_value(v);
        if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
                return -1;
        *out = (uint64_t)i;
        return 0;
}

int imago_blk_req_parse(const uint8_t *buf, size_t len, struct imago_blk_req *r)
{
        struct imago_blk_req tmp;
        uint64_t v, tid, off, blen;
        const char *type, *obj;
        size_t olen;
        json_t *o = NULL;
        int rc;

        if (buf == NULL || r == NULL)
                return IMAGO_EINVAL;
        if ((rc = imago_json_object(buf, len, IMAGO_BLK_REQ_MAX, &o)) != IMAGO_OK)
                goto out;
        rc = IMAGO_EBLK;
        if (json_object_size(o) != sizeof(blk_req_keys) / sizeof(blk_req_keys[0]) ||
            !imago_json_only_keys(o, blk_req_keys, sizeof(blk_req_keys) / sizeof(blk_req_keys[0])))
                goto out;
        if (blk_req_int(o, "v", 1, 1, &v) != 0 || blk_req_int(o, "tid", 1, UINT32_MAX, &tid) != 0 ||
            blk_req_int(o, "off", 0, IMAGO_BLK_OFF_LIMIT - 1, &off) != 0 ||
            blk_req_int(o, "len", 1, IMAGO_BLK_BLOCK_MAX, &blen) != 0)
                goto out;
        type = imago_json_str(o, "type", NULL);
        obj = imago_json_str(o, "obj", &olen);
        if (type == NULL || strcmp(type, "req") != 0 || obj == NULL ||
            !imago_blk_obj_valid(obj, olen))
                goto out;
        memset(&tmp, 0, sizeof(tmp));
        tmp.tid = (uint32_t)tid;
        memcpy(tmp.obj, obj, olen);
        tmp.off = off;
        tmp.len = (uint32_t)blen;
        *r = tmp;
        rc = IMAGO_OK;
out:
        json_decref(o);
        return rc;
}

int imago_blk_req_build(const struct imago_blk_req *r, char **out, size_t *len)
{
        json_t *o = NULL;
        char *text = NULL;
        size_t olen;
        int rc = IMAGO_EINVAL;

        if (r == NULL || out == NULL || len == NULL)
                goto out;
        olen = strnlen(r->obj, sizeof(r->obj));
        if (r->tid == 0 || r->off >= IMAGO_BLK_OFF_LIMIT || r->len == 0 ||
            r->len > IMAGO_BLK_BLOCK_MAX || !imago_blk_obj_valid(r->obj, olen))
                goto out;
        rc = IMAGO_ENOMEM;
        o = json_pack("{s:i, s:s, s:I, s:s, s:I, s:I}", "v", 1, "type", "req", "tid",
                      (json_int_t)r->tid, "obj", r->obj, "off", (json_int_t)r->off, "len",
                      (json_int_t)r->len);
        if (o == NULL || (text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
                goto out;
        *out = text;
        *len = strlen(text);
        rc = IMAGO_OK;
out:
        json_decref(o);
        return rc;
}
