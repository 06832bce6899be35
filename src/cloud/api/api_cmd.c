/* See api.h: commands (sent, waited for, read back) and decommissioning. */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "cloud/devsvc/devsvc.h"
#include "json/json.h"

#include <event2/event.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *imago_api_cmd_json(const struct imago_appdb_cmd *c)
{
        json_t *res = NULL;

        if (c->result != NULL)
                res = json_loadb(c->result, strlen(c->result), JSON_REJECT_DUPLICATES, NULL);
        return json_pack("{s:I,s:s,s:s,s:o,s:I,s:I,s:I}", "command_id", (json_int_t)c->id, "name",
                         c->name, "status", imago_appdb_cmd_status_name(c->status), "result",
                         res != NULL ? res : json_null(), "seq",
                         (json_int_t)(c->seq > INT64_MAX ? INT64_MAX : c->seq), "iat",
                         (json_int_t)c->iat, "exp", (json_int_t)c->exp);
}

/*
 * A client that closed its connection while waiting: libevent detaches the
 * request from the connection (evhttp_request_get_connection() is NULL) and
 * leaves it to us.  Reply only to live requests; free detached ones.
 */
static int req_alive(struct evhttp_request *req)
{
        if (req == NULL)
                return 0;
        if (evhttp_request_get_connection(req) == NULL) {
                evhttp_request_free(req);
                return 0;
        }
        return 1;
}

static void waiter_unlink(struct api_waiter *w)
{
        struct api_waiter **pp;

        for (pp = &w->api->waiters; *pp != NULL; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        break;
                }
        w->next = NULL;
}

/* The command got its result (answered) or the wait is over: answer and forget w. */
static void waiter_finish(struct api_waiter *w, int reply)
{
        struct imago_api *api = w->api;
        struct imago_appdb_cmd c;
        int r, wiped = 0, got;

        memset(&c, 0, sizeof(c));
        waiter_unlink(w);
        if (w->timer != NULL)
                event_free(w->timer);
        w->timer = NULL;
        r = imago_appdb_cmd_get(api->c.db, w->cmd_id, &c);
        got = r == IMAGO_OK && c.status != IMAGO_APPDB_CMD_SENT;
        if (w->decommission) {
                wiped = got && c.status == IMAGO_APPDB_CMD_OK;
                r = imago_devsvc_retire(api->c.ds, w->device, w->user);
                if (r != IMAGO_OK)
                        IMAGO_ERR_R(r, "decommission of %s: retire", w->device);
                if (!reply || !req_alive(w->req))
                        goto out;
                if (r == IMAGO_OK)
                        imago_api_reply(w->req, 200, json_pack("{s:b}", "wiped", wiped));
                else
                        imago_api_error(w->req, r, NULL);
                goto out;
        }
        if (!reply || !req_alive(w->req))
                goto out;
        if (r != IMAGO_OK)
                imago_api_error(w->req, r, NULL);
        else if (got)
                imago_api_reply(w->req, 200, imago_api_cmd_json(&c));
        else
                imago_api_reply(
                    w->req, 202,
                    json_pack("{s:I,s:s}", "command_id", (json_int_t)w->cmd_id, "status", "sent"));
out:
        imago_appdb_cmd_free(&c);
        free(w);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        waiter_finish(arg, 1);
}

static int waiter_new(struct api_ctx *x, uint64_t cmd_id, const char *device, int decommission,
                      uint32_t wait_ms)
{
        struct api_waiter *w = calloc(1, sizeof(*w));
        struct timeval tv;

        if (w == NULL)
                return IMAGO_ENOMEM;
        if ((w->timer = evtimer_new(x->api->base, on_timer, w)) == NULL) {
                free(w);
                return IMAGO_ENOMEM;
        }
        w->api = x->api;
        w->req = x->req;
        w->cmd_id = cmd_id;
        w->user = x->user;
        w->decommission = decommission;
        snprintf(w->device, sizeof(w->device), "%s", device);
        tv.tv_sec = (time_t)(wait_ms / 1000);
        tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
        evtimer_add(w->timer, &tv);
        w->next = x->api->waiters;
        x->api->waiters = w;
        return IMAGO_OK;
}

void imago_api_cmd_done(struct imago_api *api, uint64_t cmd_id)
{
        struct api_waiter *w;

        if (api == NULL)
                return;
        /* one waiter at a time: finishing one may change the list */
        for (;;) {
                for (w = api->waiters; w != NULL && w->cmd_id != cmd_id; w = w->next)
                        ;
                if (w == NULL)
                        break;
                waiter_finish(w, 1);
        }
}

void imago_api_waiters_free(struct imago_api *api)
{
        /* at shutdown: decommissions are completed (retire, no answer); requests are dropped
         * with their connections (detached ones are freed here) */
        while (api->waiters != NULL) {
                struct api_waiter *w = api->waiters;

                if (w->req != NULL && evhttp_request_get_connection(w->req) == NULL)
                        evhttp_request_free(w->req);
                w->req = NULL;
                waiter_finish(w, 0);
        }
}

/* The command status now: 1 if it has a result already. */
static int cmd_answered(struct imago_api *api, uint64_t id)
{
        struct imago_appdb_cmd c;
        int done;

        memset(&c, 0, sizeof(c));
        done =
            imago_appdb_cmd_get(api->c.db, id, &c) == IMAGO_OK && c.status != IMAGO_APPDB_CMD_SENT;
        imago_appdb_cmd_free(&c);
        return done;
}

static int devsvc_err(int r)
{
        return r == IMAGO_EREG_UNKNOWN ? IMAGO_ENOTFOUND : r;
}

void imago_api_h_command(struct api_ctx *x, const char *id)
{
        struct imago_api_cmd_req cr;
        struct imago_appdb_cmd c;
        char *body = NULL;
        struct api_dev d;
        uint64_t cid = 0;
        size_t len = 0;
        int r;

        memset(&cr, 0, sizeof(cr));
        memset(&c, 0, sizeof(c));
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_COMMAND, &d)) != IMAGO_OK)
                goto out;
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_command((const uint8_t *)body, len, &cr)) != IMAGO_OK)
                goto out;
        if (strcmp(cr.name, "wipe") == 0) {
                imago_api_error(x->req, IMAGO_EINVAL,
                                "wipe: use POST /v1/devices/{id}/decommission");
                goto done;
        }
        if ((r = imago_devsvc_command(x->api->c.ds, id, x->user, cr.name, cr.args, cr.ttl, &cid)) !=
            IMAGO_OK) {
                r = devsvc_err(r);
                goto out;
        }
        /* the result may be in already (a device on the same loop answers at once) */
        if (cmd_answered(x->api, cid)) {
                if ((r = imago_appdb_cmd_get(x->api->c.db, cid, &c)) != IMAGO_OK)
                        goto out;
                imago_api_reply(x->req, 200, imago_api_cmd_json(&c));
                goto done;
        }
        if (cr.wait_ms == 0 || (r = waiter_new(x, cid, id, 0, cr.wait_ms)) != IMAGO_OK) {
                r = IMAGO_OK;
                imago_api_reply(
                    x->req, 202,
                    json_pack("{s:I,s:s}", "command_id", (json_int_t)cid, "status", "sent"));
        }
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
done:
        imago_appdb_cmd_free(&c);
        imago_api_cmd_req_free(&cr);
        imago_api_body_free(body, len);
        imago_api_dev_free(&d);
}

void imago_api_h_command_get(struct api_ctx *x, const char *id, const char *cid)
{
        struct imago_appdb_cmd c;
        struct api_dev d;
        uint64_t n = 0;
        int r;

        memset(&c, 0, sizeof(c));
        if ((r = imago_api_device_access(x, id, IMAGO_ACT_VIEW, &d)) != IMAGO_OK)
                goto out;
        if (imago_api_parse_id(cid, &n) != IMAGO_OK) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        if ((r = imago_appdb_cmd_get(x->api->c.db, n, &c)) != IMAGO_OK)
                goto out;
        /* a command of another device: as unknown */
        if (strcmp(c.device, id) != 0) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        imago_api_reply(x->req, 200, imago_api_cmd_json(&c));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_appdb_cmd_free(&c);
        imago_api_dev_free(&d);
}

void imago_api_h_decommission(struct api_ctx *x, const char *id)
{
        struct api_dev d;
        uint64_t cid = 0;
        char *body = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_api_device_access(x, id, IMAGO_ACT_DECOMMISSION, &d)) != IMAGO_OK)
                goto out;
        /* no body, or an empty object */
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK)
                goto out;
        if (len > 0) {
                json_t *root = NULL;

                if ((r = imago_json_object((const uint8_t *)body, len, IMAGO_API_BODY_MAX,
                                           &root)) != IMAGO_OK)
                        goto out;
                r = json_object_size(root) == 0 ? IMAGO_OK : IMAGO_EINVAL;
                json_decref(root);
                if (r != IMAGO_OK)
                        goto out;
        }
        if (d.d.state == IMAGO_REG_REVOKED) {
                /* nothing to wipe: unbind what is left */
                r = imago_devsvc_retire(x->api->c.ds, id, x->user);
                if (r == IMAGO_OK)
                        imago_api_reply(x->req, 200, json_pack("{s:b}", "wiped", 0));
                goto out;
        }
        r = imago_devsvc_command(x->api->c.ds, id, x->user, "wipe", NULL, API_WIPE_TTL, &cid);
        if (r != IMAGO_OK) {
                /* the device cannot be told (not enrolled, offline publish failure): retire */
                IMAGO_WARN("decommission of %s: wipe not sent (%s): retiring", id,
                           imago_errname(r));
                r = imago_devsvc_retire(x->api->c.ds, id, x->user);
                if (r == IMAGO_OK)
                        imago_api_reply(x->req, 200, json_pack("{s:b}", "wiped", 0));
                goto out;
        }
        if ((r = waiter_new(x, cid, id, 1, API_DECOMMISSION_MS)) != IMAGO_OK) {
                (void)imago_devsvc_retire(x->api->c.ds, id, x->user);
                goto out;
        }
        /* answered at once (a device on the same loop) */
        if (cmd_answered(x->api, cid))
                imago_api_cmd_done(x->api, cid);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, devsvc_err(r), NULL);
        imago_api_body_free(body, len);
        imago_api_dev_free(&d);
}
