/* See api.h: operator grants and the audit log. */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "cloud/audit/audit.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 if the caller may manage grants in group now. */
static int manages(const struct api_ctx *x, const char *group)
{
        return imago_auth_allowed(x->grants, x->ngrants, x->now, group, IMAGO_ACT_MANAGE_GRANTS);
}

struct glist {
        struct api_ctx *x;
        json_t *arr;
};

static int glist_cb(const struct imago_appdb_grant *g, void *arg)
{
        struct glist *a = arg;
        json_t *j;

        if (!manages(a->x, g->group))
                return 0;
        if ((j = imago_api_grant_json(g, a->x->now)) == NULL ||
            json_array_append_new(a->arr, j) != 0)
                return IMAGO_ENOMEM;
        return 0;
}

void imago_api_h_grants(struct api_ctx *x)
{
        struct glist a = {x, NULL};
        int r;

        if (!imago_api_allowed_any(x, IMAGO_ACT_MANAGE_GRANTS)) {
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if ((a.arr = json_array()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_appdb_grant_list(x->api->c.db, 0, glist_cb, &a)) != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200, json_pack("{s:O}", "grants", a.arr));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(a.arr);
}

void imago_api_h_grant_add(struct api_ctx *x)
{
        struct imago_api_grant_req gr;
        struct imago_appdb_grant g;
        struct imago_appdb_user u;
        char *body = NULL, obj[48];
        uint64_t id = 0;
        size_t len = 0;
        int r;

        memset(&g, 0, sizeof(g));
        memset(&u, 0, sizeof(u));
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_grant((const uint8_t *)body, len, &gr)) != IMAGO_OK)
                goto out;
        if (!manages(x, gr.group)) {
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if (gr.not_before == 0)
                gr.not_before = x->now;
        if (gr.expires <= x->now || gr.expires > x->now + API_GRANT_LIFE_MAX ||
            gr.not_before >= gr.expires) {
                imago_api_error(x->req, IMAGO_EINVAL,
                                "expires: in the future, within 366 days, after not_before");
                goto done;
        }
        if ((r = imago_appdb_user_by_name(x->api->c.db, gr.user, &u)) != IMAGO_OK)
                goto out;
        g.user = u.id;
        g.role = (int)gr.role;
        snprintf(g.group, sizeof(g.group), "%s", gr.group);
        g.not_before = gr.not_before;
        g.expires = gr.expires;
        g.granted_by = x->user;
        if ((r = imago_appdb_grant_add(x->api->c.db, &g, &id)) != IMAGO_OK)
                goto out;
        snprintf(obj, sizeof(obj), "grant:%llu", (unsigned long long)id);
        imago_api_audit(x, "grant.add", obj,
                        json_pack("{s:I,s:s,s:s,s:s,s:I,s:I}", "user", (json_int_t)u.id,
                                  "user_name", u.name, "role", imago_auth_role_name(gr.role),
                                  "group", gr.group, "not_before", (json_int_t)gr.not_before,
                                  "expires", (json_int_t)gr.expires));
        imago_api_reply(x->req, 201, json_pack("{s:I}", "id", (json_int_t)id));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
done:
        memset(&u, 0, sizeof(u));
        imago_api_body_free(body, len);
}

void imago_api_h_grant_delete(struct api_ctx *x, const char *gid)
{
        struct imago_appdb_grant g;
        char obj[48];
        uint64_t id = 0;
        int r;

        memset(&g, 0, sizeof(g));
        /* unknown, malformed and not-yours grants alike: 404 */
        if (imago_api_parse_id(gid, &id) != IMAGO_OK) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        if ((r = imago_appdb_grant_get(x->api->c.db, id, &g)) != IMAGO_OK)
                goto out;
        if (!manages(x, g.group)) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        if ((r = imago_appdb_grant_delete(x->api->c.db, id)) != IMAGO_OK)
                goto out;
        snprintf(obj, sizeof(obj), "grant:%llu", (unsigned long long)id);
        imago_api_audit(x, "grant.delete", obj,
                        json_pack("{s:I,s:s,s:s}", "user", (json_int_t)g.user, "role",
                                  imago_auth_role_name((enum imago_auth_role)g.role) != NULL
                                      ? imago_auth_role_name((enum imago_auth_role)g.role)
                                      : "?",
                                  "group", g.group));
        imago_api_reply(x->req, 204, NULL);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
}

/* Decimal 0..max, at most 20 digits, no sign, no leading zero. */
static int parse_dec(const char *s, uint64_t max, uint64_t *out)
{
        uint64_t v = 0;
        size_t i, n = s != NULL ? strlen(s) : 0;

        if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return IMAGO_EINVAL;
                d = (unsigned)(s[i] - '0');
                if (v > (max - d) / 10)
                        return IMAGO_EINVAL;
                v = v * 10 + d;
        }
        *out = v;
        return IMAGO_OK;
}

/* ?after=N&limit=M, each at most once, nothing else. */
static int parse_query(struct evhttp_request *req, uint64_t *after, uint64_t *limit)
{
        const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
        struct evkeyvalq kv;
        struct evkeyval *e;
        int seen_a = 0, seen_l = 0, r = IMAGO_OK;

        *after = 0;
        *limit = API_AUDIT_LIMIT_DEF;
        if (q == NULL || q[0] == '\0')
                return IMAGO_OK;
        memset(&kv, 0, sizeof(kv));
        kv.tqh_last = &kv.tqh_first;
        if (evhttp_parse_query_str(q, &kv) != 0)
                return IMAGO_EINVAL;
        for (e = kv.tqh_first; e != NULL; e = e->next.tqe_next) {
                if (strcmp(e->key, "after") == 0 && !seen_a++)
                        r = parse_dec(e->value, INT64_MAX, after);
                else if (strcmp(e->key, "limit") == 0 && !seen_l++)
                        r = parse_dec(e->value, API_AUDIT_LIMIT_MAX, limit);
                else
                        r = IMAGO_EINVAL;
                if (r != IMAGO_OK)
                        break;
        }
        evhttp_clear_headers(&kv);
        if (r == IMAGO_OK && *limit == 0)
                r = IMAGO_EINVAL;
        return r;
}

static json_t *record_json(const struct imago_audit_record *rec)
{
        char hash[2 * IMAGO_AUDIT_HASH_LEN + 1];
        json_t *detail = NULL;

        imago_hex_encode(rec->hash, IMAGO_AUDIT_HASH_LEN, hash);
        if (rec->detail != NULL && rec->detail[0] != '\0')
                detail = json_loadb(rec->detail, strlen(rec->detail),
                                    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (detail == NULL)
                detail = json_string(rec->detail != NULL ? rec->detail : "");
        return json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:s}", "seq", (json_int_t)rec->seq, "time",
                         (json_int_t)rec->time, "actor", rec->actor, "action", rec->action,
                         "object", rec->object != NULL ? rec->object : "", "detail",
                         detail != NULL ? detail : json_null(), "hash", hash);
}

void imago_api_h_audit(struct api_ctx *x)
{
        struct imago_audit_record rec;
        uint8_t head_hash[IMAGO_AUDIT_HASH_LEN];
        uint64_t after = 0, limit = 0, head = 0, s;
        json_t *arr = NULL, *j;
        int r;

        memset(&rec, 0, sizeof(rec));
        if (!imago_api_allowed_any(x, IMAGO_ACT_READ_AUDIT)) {
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if ((r = parse_query(x->req, &after, &limit)) != IMAGO_OK)
                goto out;
        if ((r = imago_audit_head(x->api->c.audit, &head, head_hash)) != IMAGO_OK)
                goto out;
        if ((arr = json_array()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        for (s = after + 1; s <= head && s - after <= limit; s++) {
                if ((r = imago_audit_read(x->api->c.audit, s, &rec)) != IMAGO_OK)
                        goto out;
                j = record_json(&rec);
                imago_audit_record_free(&rec);
                if (j == NULL || json_array_append_new(arr, j) != 0) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
        }
        imago_api_reply(x->req, 200,
                        json_pack("{s:O,s:I}", "records", arr, "head", (json_int_t)head));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_audit_record_free(&rec);
        json_decref(arr);
}
