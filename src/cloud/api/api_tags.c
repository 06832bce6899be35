/* See api.h: device tags (GET/PUT /v1/devices/{id}/tags).  Reading needs what reading the device
 * needs; replacing them what sending it a command needs (operator in its group, or its owner). */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "cloud/rollout/rollout.h"
#include "net/https.h"

#include <string.h>

static int tags_cb(const char *tag, void *arg)
{
        return json_array_append_new(arg, json_string(tag)) != 0 ? IMAGO_ENOMEM : 0;
}

/* Reply {"device","tags"} with the device's tags as stored. */
static void reply_tags(struct api_ctx *x, const char *id)
{
        json_t *arr = json_array();
        int r;

        if (arr == NULL) {
                imago_api_error(x->req, IMAGO_ENOMEM, NULL);
                return;
        }
        if ((r = imago_rollout_tags(x->api->c.rollout, id, tags_cb, arr)) != IMAGO_OK) {
                json_decref(arr);
                imago_api_error(x->req, r, NULL);
                return;
        }
        imago_api_reply(x->req, 200, json_pack("{s:s,s:o}", "device", id, "tags", arr));
}

static int unavailable(struct api_ctx *x)
{
        if (x->api->c.rollout != NULL)
                return 0;
        imago_https_reply_error(x->req, 503, IMAGO_ESTATE,
                                "rollouts are not enabled on this service", 0);
        return 1;
}

void imago_api_h_tags_get(struct api_ctx *x, const char *id)
{
        struct api_dev d;
        int r;

        if (unavailable(x))
                return;
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_VIEW, &d)) != IMAGO_OK) {
                imago_api_error(x->req, r, NULL);
                return;
        }
        reply_tags(x, d.d.id);
        imago_api_dev_free(&d);
}

void imago_api_h_tags_put(struct api_ctx *x, const char *id)
{
        struct imago_api_tags t;
        const char *ptr[IMAGO_ROLLOUT_TAGS_MAX];
        json_t *detail;
        char *body = NULL;
        struct api_dev d;
        size_t len = 0, k;
        int r;

        memset(&d, 0, sizeof(d));
        if (unavailable(x))
                return;
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_COMMAND, &d)) != IMAGO_OK)
                goto out;
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_tags((const uint8_t *)body, len, &t)) != IMAGO_OK)
                goto out;
        for (k = 0; k < t.n; k++)
                ptr[k] = t.tags[k];
        if ((r = imago_rollout_tags_set(x->api->c.rollout, d.d.id, ptr, t.n)) != IMAGO_OK)
                goto out;
        if ((detail = json_array()) != NULL)
                for (k = 0; k < t.n; k++)
                        json_array_append_new(detail, json_string(t.tags[k]));
        imago_api_audit(x, "device.tags", d.d.id, json_pack("{s:o}", "tags", detail));
        reply_tags(x, d.d.id);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_api_body_free(body, len);
        imago_api_dev_free(&d);
}
