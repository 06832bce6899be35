/* See api.h: rollouts (POST/GET /v1/rollouts, GET /v1/rollouts/{id}, POST .../pause|resume|cancel).
 * Who may do what (docs/api.md "Rollouts"): a rollout of a group needs the release_manager role
 * in that group to be created or changed and any role in it to be seen; a tag-only rollout needs
 * release_manager in the group of every one of its devices to be created or changed, and is seen
 * by whoever may view one of its devices.  Owners of devices have no say over rollouts. */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "cloud/director/director.h"
#include "cloud/rollout/rollout.h"
#include "net/https.h"

#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The selected devices of a new rollout. */
struct sel {
        const struct imago_rollout_spec *spec;
        json_t *tagged; /* device id -> true, when the spec has a tag */
        char (*ids)[IMAGO_REG_ID_LEN + 1];
        char (*groups)[IMAGO_AUTH_GROUP_MAX + 1];
        size_t n, cap;
        int over;
};

/* What a request knows of the registry: device id -> group, loaded when first needed. */
struct groups {
        struct api_ctx *x;
        json_t *map;
};

static int unavailable(struct api_ctx *x)
{
        if (x->api->c.rollout != NULL && x->api->c.rollout_ops != NULL)
                return 0;
        imago_https_reply_error(x->req, 503, IMAGO_ESTATE,
                                "rollouts are not enabled on this service", 0);
        return 1;
}

json_t *imago_api_rollout_json(const struct imago_rollout_info *i)
{
        json_t *j, *st = json_array(), *cnt = json_object();
        size_t k;

        if (st == NULL || cnt == NULL)
                goto fail;
        for (k = 0; k < i->spec.nstages && k < IMAGO_ROLLOUT_STAGES_MAX; k++)
                if (json_array_append_new(st, json_integer(i->spec.stages[k])) != 0)
                        goto fail;
        for (k = IMAGO_OTA_QUEUED; k <= IMAGO_OTA_REVERTED; k++) {
                const char *name = imago_vreport_state_name((enum imago_vreport_state)k);

                if (name == NULL ||
                    json_object_set_new(cnt, name, json_integer((json_int_t)i->count[k])) != 0)
                        goto fail;
        }
        j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I,s:I,s:o,s:I,"
                      "s:I}",
                      "id", (json_int_t)i->id, "name", i->spec.name, "target", i->spec.target,
                      "group", i->spec.group, "tag", i->spec.tag, "stages", st, "max_concurrent",
                      (json_int_t)i->spec.max_concurrent, "abort_percent",
                      (json_int_t)i->spec.abort_percent, "abort_min", (json_int_t)i->spec.abort_min,
                      "device_timeout_s", (json_int_t)i->spec.device_timeout_s, "status",
                      imago_rollout_status_name(i->status) != NULL
                          ? imago_rollout_status_name(i->status)
                          : "unknown",
                      "stage", (json_int_t)i->stage, "reason", i->reason, "created_by",
                      (json_int_t)i->created_by, "created_at", (json_int_t)i->created_at,
                      "updated_at", (json_int_t)i->updated_at, "counts", cnt, "total",
                      (json_int_t)i->total, "admitted", (json_int_t)i->admitted);
        return j; /* json_pack's "o" took st and cnt, also on failure */
fail:
        json_decref(st);
        json_decref(cnt);
        return NULL;
}

/* ---- groups of devices ---- */

static int groups_cb(const struct imago_reg_device *d, void *arg)
{
        struct groups *g = arg;

        return json_object_set_new(g->map, d->id, json_string(d->batch)) != 0 ? IMAGO_ENOMEM : 0;
}

static int groups_load(struct groups *g)
{
        int r;

        if (g->map != NULL)
                return IMAGO_OK;
        if ((g->map = json_object()) == NULL)
                return IMAGO_ENOMEM;
        if ((r = imago_registry_list(g->x->api->c.reg, groups_cb, g)) != IMAGO_OK) {
                json_decref(g->map);
                g->map = NULL;
        }
        return r;
}

struct check {
        struct groups *g;
        enum imago_auth_action act;
        int any; /* VIEW: one device is enough */
        int hit;
        char denied[IMAGO_AUTH_GROUP_MAX + 1];
};

static int check_cb(const struct imago_rollout_device *d, void *arg)
{
        struct check *c = arg;
        const char *grp = json_string_value(json_object_get(c->g->map, d->device));
        struct api_ctx *x = c->g->x;

        if (grp == NULL || c->hit || c->denied[0] != '\0')
                return 0; /* gone from the registry: nobody's */
        if (imago_auth_allowed(x->grants, x->ngrants, x->now, grp, c->act)) {
                if (c->any)
                        c->hit = 1;
        } else if (!c->any) {
                snprintf(c->denied, sizeof(c->denied), "%s", grp);
        }
        return 0;
}

/* 1 if the caller may do act on rollout i (0 and the group denied in denied[] if not). */
static int rollout_allowed(struct groups *g, const struct imago_rollout_info *i,
                           enum imago_auth_action act, char *denied, size_t cap, int *err)
{
        struct api_ctx *x = g->x;
        struct check c;

        *err = IMAGO_OK;
        if (denied != NULL)
                denied[0] = '\0';
        if (i->spec.group[0] != '\0') {
                if (imago_auth_allowed(x->grants, x->ngrants, x->now, i->spec.group, act))
                        return 1;
                if (denied != NULL)
                        snprintf(denied, cap, "%s", i->spec.group);
                return 0;
        }
        if (x->ngrants == 0)
                return 0;
        memset(&c, 0, sizeof(c));
        c.g = g;
        c.act = act;
        c.any = act == IMAGO_ACT_VIEW;
        if ((*err = groups_load(g)) != IMAGO_OK ||
            (*err = imago_rollout_devices(x->api->c.rollout, i->id, check_cb, &c)) != IMAGO_OK)
                return 0;
        if (c.any)
                return c.hit;
        if (c.denied[0] != '\0' && denied != NULL)
                snprintf(denied, cap, "%s", c.denied);
        return c.denied[0] == '\0';
}

/* ---- POST /v1/rollouts ---- */

static int tagged_cb(const char *device, void *arg)
{
        struct sel *s = arg;

        return json_object_set_new(s->tagged, device, json_true()) != 0 ? IMAGO_ENOMEM : 0;
}

static int select_cb(const struct imago_reg_device *d, void *arg)
{
        struct sel *s = arg;

        if (d->state != IMAGO_REG_ENROLLED ||
            (s->spec->group[0] != '\0' && strcmp(d->batch, s->spec->group) != 0) ||
            (s->tagged != NULL && json_object_get(s->tagged, d->id) == NULL))
                return 0;
        if (s->n >= IMAGO_ROLLOUT_DEVICES_MAX) {
                s->over = 1;
                return 0;
        }
        if (s->n == s->cap) {
                size_t cap = s->cap == 0 ? 64 : s->cap * 2;
                void *p = realloc(s->ids, cap * sizeof(*s->ids)), *q;

                if (p == NULL)
                        return IMAGO_ENOMEM;
                s->ids = p;
                if ((q = realloc(s->groups, cap * sizeof(*s->groups))) == NULL)
                        return IMAGO_ENOMEM;
                s->groups = q;
                s->cap = cap;
        }
        snprintf(s->ids[s->n], sizeof(s->ids[s->n]), "%s", d->id);
        snprintf(s->groups[s->n], sizeof(s->groups[s->n]), "%s", d->batch);
        s->n++;
        return 0;
}

/* Reply with rollout id's JSON. */
static void reply_rollout(struct api_ctx *x, int status, uint64_t id)
{
        struct imago_rollout_info i;
        int r;

        memset(&i, 0, sizeof(i));
        if ((r = imago_rollout_get(x->api->c.rollout, id, &i)) != IMAGO_OK) {
                imago_api_error(x->req, r, NULL);
                return;
        }
        imago_api_reply(x->req, status, imago_api_rollout_json(&i));
}

void imago_api_h_rollout_create(struct api_ctx *x)
{
        struct imago_director_target t;
        struct imago_rollout_spec spec;
        const char **ids = NULL;
        char *body = NULL, msg[384];
        struct sel s;
        uint64_t id = 0;
        size_t len = 0, k;
        int r;

        msg[0] = '\0';
        memset(&s, 0, sizeof(s));
        if (unavailable(x))
                return;
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_rollout((const uint8_t *)body, len, &spec)) != IMAGO_OK)
                goto out;
        s.spec = &spec;
        if (spec.group[0] != '\0' &&
            !imago_auth_allowed(x->grants, x->ngrants, x->now, spec.group, IMAGO_ACT_RELEASE)) {
                snprintf(msg, sizeof(msg), "releasing needs the release_manager role in group '%s'",
                         spec.group);
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if (x->api->c.data_dir == NULL) {
                imago_https_reply_error(x->req, 503, IMAGO_ESTATE,
                                        "no image repository on this service", 0);
                goto done;
        }
        memset(&t, 0, sizeof(t));
        r = imago_director_target_from_repo(x->api->c.data_dir, spec.target, &t);
        if (r == IMAGO_ENOTFOUND || r == IMAGO_ETUF_NOTARGET) {
                snprintf(msg, sizeof(msg), "target '%s' is not published in the image repository",
                         spec.target);
                r = IMAGO_ENOTFOUND;
        } else if (r == IMAGO_ETUF_FORMAT) {
                snprintf(msg, sizeof(msg),
                         "target '%s' lacks hardware_id, version or security_counter", spec.target);
                r = IMAGO_EINVAL;
        }
        if (r != IMAGO_OK)
                goto out;
        if (spec.tag[0] != '\0') {
                if ((s.tagged = json_object()) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                if ((r = imago_rollout_tagged(x->api->c.rollout, spec.tag, tagged_cb, &s)) !=
                    IMAGO_OK)
                        goto out;
        }
        if ((r = imago_registry_list(x->api->c.reg, select_cb, &s)) != IMAGO_OK)
                goto out;
        if (s.over) {
                snprintf(msg, sizeof(msg), "more than %d devices selected",
                         IMAGO_ROLLOUT_DEVICES_MAX);
                r = IMAGO_ETOOBIG;
                goto out;
        }
        for (k = 0; spec.group[0] == '\0' && k < s.n; k++)
                if (!imago_auth_allowed(x->grants, x->ngrants, x->now, s.groups[k],
                                        IMAGO_ACT_RELEASE)) {
                        snprintf(msg, sizeof(msg),
                                 "releasing needs the release_manager role in group '%s' (a "
                                 "device with tag '%s')",
                                 s.groups[k], spec.tag);
                        r = IMAGO_EAUTH_DENIED;
                        goto out;
                }
        if (s.n == 0) {
                snprintf(msg, sizeof(msg), "no enrolled device matches the group and tag");
                r = IMAGO_ESTATE;
                goto out;
        }
        if ((ids = calloc(s.n, sizeof(*ids))) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        for (k = 0; k < s.n; k++)
                ids[k] = s.ids[k];
        r = imago_rollout_create(x->api->c.rollout, x->api->c.rollout_ops, &spec,
                                 (const char *const *)ids, s.n, x->user, x->now, &id);
        if (r == IMAGO_EEXIST)
                snprintf(msg, sizeof(msg),
                         "a selected device is already in a running or paused "
                         "rollout");
        if (r != IMAGO_OK)
                goto out;
        /* audit: the rollout's ops record rollout.create */
        reply_rollout(x, 201, id);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, msg[0] != '\0' ? msg : NULL);
done:
        free(ids);
        free(s.ids);
        free(s.groups);
        json_decref(s.tagged);
        imago_api_body_free(body, len);
}

/* ---- GET /v1/rollouts ---- */

struct infos {
        struct imago_rollout_info *v;
        size_t n, cap;
};

static int infos_cb(const struct imago_rollout_info *i, void *arg)
{
        struct infos *a = arg;

        if (a->n >= API_LIST_MAX)
                return 0;
        if (a->n == a->cap) {
                size_t cap = a->cap == 0 ? 16 : a->cap * 2;
                void *p = realloc(a->v, cap * sizeof(*a->v));

                if (p == NULL)
                        return IMAGO_ENOMEM;
                a->v = p;
                a->cap = cap;
        }
        a->v[a->n++] = *i;
        return 0;
}

void imago_api_h_rollouts(struct api_ctx *x)
{
        struct groups g = {x, NULL};
        struct infos a = {NULL, 0, 0};
        json_t *arr = NULL, *j;
        size_t k;
        int r;

        if (unavailable(x))
                return;
        if ((arr = json_array()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_rollout_list(x->api->c.rollout, infos_cb, &a)) != IMAGO_OK)
                goto out;
        for (k = 0; k < a.n; k++) {
                if (!rollout_allowed(&g, &a.v[k], IMAGO_ACT_VIEW, NULL, 0, &r)) {
                        if (r != IMAGO_OK)
                                goto out;
                        continue;
                }
                if ((j = imago_api_rollout_json(&a.v[k])) == NULL ||
                    json_array_append_new(arr, j) != 0) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
        }
        imago_api_reply(x->req, 200, json_pack("{s:O}", "rollouts", arr));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(arr);
        json_decref(g.map);
        free(a.v);
}

/* ---- one rollout ---- */

/* The rollout of path segment sid, if the caller may see it (else IMAGO_ENOTFOUND). */
static int visible(struct api_ctx *x, struct groups *g, const char *sid,
                   struct imago_rollout_info *i)
{
        uint64_t id = 0;
        int r;

        memset(i, 0, sizeof(*i));
        if (imago_api_parse_id(sid, &id) != IMAGO_OK)
                return IMAGO_ENOTFOUND;
        if ((r = imago_rollout_get(x->api->c.rollout, id, i)) != IMAGO_OK)
                return r;
        if (!rollout_allowed(g, i, IMAGO_ACT_VIEW, NULL, 0, &r))
                return r != IMAGO_OK ? r : IMAGO_ENOTFOUND;
        return IMAGO_OK;
}

struct devs {
        json_t *arr;
        int truncated;
};

static int devs_cb(const struct imago_rollout_device *d, void *arg)
{
        struct devs *a = arg;
        const char *st = imago_vreport_state_name(d->state);
        json_t *j;

        if (json_array_size(a->arr) >= API_LIST_MAX) {
                a->truncated = 1;
                return 0;
        }
        j = json_pack("{s:s,s:s,s:b,s:s,s:I,s:I}", "device", d->device, "state",
                      st != NULL ? st : "unknown", "admitted", d->admitted, "error", d->error,
                      "progress", (json_int_t)d->progress, "updated_at", (json_int_t)d->updated_at);
        return j == NULL || json_array_append_new(a->arr, j) != 0 ? IMAGO_ENOMEM : 0;
}

void imago_api_h_rollout(struct api_ctx *x, const char *sid)
{
        struct imago_rollout_info i;
        struct groups g = {x, NULL};
        struct devs a = {NULL, 0};
        json_t *j = NULL;
        int r;

        if (unavailable(x))
                return;
        if ((r = visible(x, &g, sid, &i)) != IMAGO_OK)
                goto out;
        if ((a.arr = json_array()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_rollout_devices(x->api->c.rollout, i.id, devs_cb, &a)) != IMAGO_OK)
                goto out;
        if ((j = imago_api_rollout_json(&i)) == NULL || json_object_set(j, "devices", a.arr) != 0 ||
            json_object_set_new(j, "devices_truncated", json_boolean(a.truncated)) != 0) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        imago_api_reply(x->req, 200, j);
        j = NULL;
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(j);
        json_decref(a.arr);
        json_decref(g.map);
}

void imago_api_h_rollout_action(struct api_ctx *x, const char *sid, const char *action)
{
        struct imago_rollout_info i;
        struct groups g = {x, NULL};
        char denied[IMAGO_AUTH_GROUP_MAX + 1], msg[160];
        int r;

        msg[0] = '\0';
        if (unavailable(x))
                return;
        if ((r = visible(x, &g, sid, &i)) != IMAGO_OK)
                goto out;
        if (!rollout_allowed(&g, &i, IMAGO_ACT_RELEASE, denied, sizeof(denied), &r)) {
                if (r != IMAGO_OK)
                        goto out;
                snprintf(msg, sizeof(msg), "releasing needs the release_manager role in group '%s'",
                         denied);
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if (strcmp(action, "pause") == 0)
                r = imago_rollout_pause(x->api->c.rollout, x->api->c.rollout_ops, i.id, x->user,
                                        x->now);
        else if (strcmp(action, "resume") == 0)
                r = imago_rollout_resume(x->api->c.rollout, x->api->c.rollout_ops, i.id, x->user,
                                         x->now);
        else
                r = imago_rollout_cancel(x->api->c.rollout, x->api->c.rollout_ops, i.id, x->user,
                                         x->now);
        if (r == IMAGO_EROLLOUT_STATE)
                snprintf(msg, sizeof(msg), "cannot %s a rollout that is %s", action,
                         imago_rollout_status_name(i.status) != NULL
                             ? imago_rollout_status_name(i.status)
                             : "in another state");
        if (r != IMAGO_OK)
                goto out;
        /* audit: the rollout's ops record rollout.<action> */
        reply_rollout(x, 200, i.id);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, msg[0] != '\0' ? msg : NULL);
        json_decref(g.map);
}
