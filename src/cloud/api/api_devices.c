/* See api.h: registration tokens, devices and their state documents. */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/wipe.h"
#include "cloud/devsvc/devsvc.h"
#include "regtoken/regtoken.h"
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void imago_api_h_regtoken(struct api_ctx *x)
{
        char *body = NULL, *tok = NULL;
        int64_t ttl = 0;
        size_t len = 0;
        int r;

        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_regtoken((const uint8_t *)body, len, &ttl)) != IMAGO_OK)
                goto out;
        if (ttl == 0)
                ttl = API_REGTOKEN_TTL_DEF;
        if ((r = imago_regtoken_issue(x->api->c.regkey, x->name, x->now, ttl, &tok)) != IMAGO_OK)
                goto out;
        imago_api_audit(x, "regtoken.issue", x->name,
                        json_pack("{s:I}", "expires_at", (json_int_t)(x->now + ttl)));
        imago_api_reply(
            x->req, 201,
            json_pack("{s:s,s:I}", "token", tok, "expires_at", (json_int_t)(x->now + ttl)));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        if (tok != NULL) {
                imago_wipe(tok, strlen(tok));
                free(tok);
        }
        imago_api_body_free(body, len);
}

static json_t *device_json(const struct imago_reg_device *d, int owner, int full)
{
        json_t *j = json_pack("{s:s,s:s,s:s,s:b}", "id", d->id, "state",
                              imago_reg_state_name(d->state), "group", d->batch, "owner", owner);

        if (j != NULL && full &&
            json_object_set_new(j, "enrolled_at", json_integer(d->enrolled_at)) != 0) {
                json_decref(j);
                j = NULL;
        }
        return j;
}

struct list_acc {
        struct api_ctx *x;
        json_t *arr;
        json_t *seen; /* id -> true */
        char (*ids)[IMAGO_REG_ID_LEN + 1];
        size_t n, cap;
        int r;
};

static int owned_cb(const char *device, int64_t bound_at, void *arg)
{
        struct list_acc *a = arg;

        (void)bound_at;
        if (a->n >= API_LIST_MAX)
                return 0;
        if (a->n == a->cap) {
                size_t cap = a->cap == 0 ? 16 : a->cap * 2;
                void *p = realloc(a->ids, cap * sizeof(*a->ids));

                if (p == NULL)
                        return IMAGO_ENOMEM;
                a->ids = p;
                a->cap = cap;
        }
        snprintf(a->ids[a->n++], IMAGO_REG_ID_LEN + 1, "%s", device);
        return 0;
}

static int add_device(struct list_acc *a, const struct imago_reg_device *d, int owner)
{
        json_t *j;

        if (json_object_get(a->seen, d->id) != NULL || json_array_size(a->arr) >= API_LIST_MAX)
                return 0;
        if ((j = device_json(d, owner, 0)) == NULL || json_array_append_new(a->arr, j) != 0 ||
            json_object_set_new(a->seen, d->id, json_true()) != 0)
                return IMAGO_ENOMEM;
        return 0;
}

static int grant_cb(const struct imago_reg_device *d, void *arg)
{
        struct list_acc *a = arg;

        if (!imago_auth_allowed(a->x->grants, a->x->ngrants, a->x->now, d->batch, IMAGO_ACT_VIEW))
                return 0;
        return add_device(a, d, 0);
}

void imago_api_h_devices(struct api_ctx *x)
{
        struct list_acc a;
        size_t i;
        int r;

        memset(&a, 0, sizeof(a));
        a.x = x;
        a.arr = json_array();
        a.seen = json_object();
        if (a.arr == NULL || a.seen == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_appdb_owned(x->api->c.db, x->user, owned_cb, &a)) != IMAGO_OK)
                goto out;
        for (i = 0; i < a.n; i++) {
                struct imago_reg_device d;

                memset(&d, 0, sizeof(d));
                r = imago_registry_get(x->api->c.reg, a.ids[i], &d);
                if (r == IMAGO_OK)
                        r = add_device(&a, &d, 1);
                else if (r == IMAGO_EREG_UNKNOWN)
                        r = IMAGO_OK; /* bound but gone from the registry: not listed */
                imago_registry_device_free(&d);
                if (r != IMAGO_OK)
                        goto out;
        }
        if (x->ngrants > 0 && (r = imago_registry_list(x->api->c.reg, grant_cb, &a)) != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200, json_pack("{s:O}", "devices", a.arr));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(a.arr);
        json_decref(a.seen);
        free(a.ids);
}

void imago_api_h_device(struct api_ctx *x, const char *id)
{
        struct api_dev d;
        int r;

        if ((r = imago_api_device_access(x, id, IMAGO_ACT_VIEW, &d)) != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200, device_json(&d.d, d.is_owner, 1));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_api_dev_free(&d);
}

void imago_api_h_state_get(struct api_ctx *x, const char *id)
{
        struct imago_appdb_state st;
        json_t *rep = NULL, *des = NULL, *delta = NULL;
        struct api_dev d;
        int r;

        memset(&st, 0, sizeof(st));
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_VIEW, &d)) != IMAGO_OK)
                goto out;
        if ((r = imago_appdb_state_get(x->api->c.db, id, &st)) != IMAGO_OK)
                goto out;
        if ((r = imago_state_doc_parse(st.reported, strlen(st.reported), 0, &rep)) != IMAGO_OK ||
            (r = imago_state_doc_parse(st.desired, strlen(st.desired), 0, &des)) != IMAGO_OK ||
            (r = imago_state_delta(des, rep, &delta)) != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200,
                        json_pack("{s:O,s:I,s:O,s:I,s:O}", "reported", rep, "reported_version",
                                  (json_int_t)st.reported_version, "desired", des,
                                  "desired_version", (json_int_t)st.desired_version, "delta",
                                  delta));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(rep);
        json_decref(des);
        json_decref(delta);
        imago_appdb_state_free(&st);
        imago_api_dev_free(&d);
}

void imago_api_h_state_patch(struct api_ctx *x, const char *id)
{
        char *body = NULL, *patch = NULL, msg[96];
        uint64_t version = 0, nv = 0;
        struct api_dev d;
        size_t len = 0;
        int r;

        msg[0] = '\0';
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_SET_STATE, &d)) != IMAGO_OK)
                goto out;
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_state((const uint8_t *)body, len, &patch, &version)) != IMAGO_OK)
                goto out;
        r = imago_devsvc_set_desired(x->api->c.ds, id, x->user, version, patch, strlen(patch), &nv);
        if (r == IMAGO_ESTATE_VERSION)
                snprintf(msg, sizeof(msg), "state: version is stale (current %llu)",
                         (unsigned long long)nv);
        if (r != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200, json_pack("{s:I}", "desired_version", (json_int_t)nv));
out:
        if (r == IMAGO_EREG_UNKNOWN)
                r = IMAGO_ENOTFOUND;
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, msg[0] != '\0' ? msg : NULL);
        free(patch);
        imago_api_body_free(body, len);
        imago_api_dev_free(&d);
}
