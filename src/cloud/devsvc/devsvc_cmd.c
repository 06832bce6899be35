/* imago_devsvc: signed commands out, their results in (see devsvc.h, docs/commands.md). */
#include "cloud/devsvc/devsvc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "cloud/appdb/appdb.h"
#include "cmdenv/cmdenv.h"
#include "json/json.h"
#include "state/state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVSVC_TTL_MAX 3600

static int devsvc_args_parse(const char *args, json_t **out, char **text)
{
        int r;

        *text = NULL;
        if (args == NULL)
                r = (*out = json_object()) != NULL ? 0 : IMAGO_ENOMEM;
        else
                r = imago_json_object((const uint8_t *)args, strlen(args), IMAGO_CMDENV_PAYLOAD_MAX,
                                      out);
        if (r == 0 && (*text = json_dumps(*out, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                r = IMAGO_ENOMEM;
        return r;
}

/* A command that could not be sent is closed as failed, so nobody waits for it. */
static void devsvc_cmd_close(struct imago_devsvc *ds, const char *device, uint64_t seq, int why)
{
        json_t *res = json_pack("{s:s}", "error", imago_errname(why));
        char *text = res != NULL ? json_dumps(res, JSON_COMPACT) : NULL;
        uint64_t id = 0;
        int r;

        r = imago_appdb_cmd_result(ds->c.db, device, seq, IMAGO_APPDB_CMD_FAILED,
                                   text != NULL ? text : "{}", imago_devsvc_now(ds), &id);
        if (r != 0)
                IMAGO_ERR_R(r, "closing command %" PRIu64 " of %s", seq, device);
        free(text);
        json_decref(res);
}

int imago_devsvc_command(struct imago_devsvc *ds, const char *device, uint64_t actor,
                         const char *name, const char *args, int64_t ttl, uint64_t *cmd_id)
{
        json_t *a = NULL;
        char *atext = NULL, *env = NULL, who[32];
        uint64_t id = 0, seq = 0;
        int64_t now;
        int r = IMAGO_EINVAL;

        if (cmd_id != NULL)
                *cmd_id = 0;
        if (ds == NULL || cmd_id == NULL || !imago_device_id_valid(device) || actor == 0 ||
            name == NULL || !imago_cmdenv_name_valid(name) || ttl < 1 || ttl > DEVSVC_TTL_MAX)
                goto out;
        if ((r = imago_devsvc_enrolled(ds, device)) != 0)
                goto out;
        if ((r = devsvc_args_parse(args, &a, &atext)) != 0)
                goto out;
        now = imago_devsvc_now(ds);
        /* A trial signature with the longest sequence number: every limit of the envelope is
         * checked before a sequence number is spent. */
        if ((r = imago_cmdenv_build(ds->c.cmd_key, device, UINT64_MAX, now, now + ttl, name, a,
                                    &env)) != 0)
                goto out;
        free(env);
        env = NULL;
        if ((r = imago_appdb_cmd_new(ds->c.db, device, actor, name, atext, now, now + ttl, &id,
                                     &seq)) != 0)
                goto out;
        imago_devsvc_user_actor(actor, who, sizeof(who));
        if ((r = imago_cmdenv_build(ds->c.cmd_key, device, seq, now, now + ttl, name, a, &env)) !=
                0 ||
            (r = imago_devsvc_audit(ds, who, "device.command", device,
                                    json_pack("{s:I, s:I, s:s}", "command_id", (json_int_t)id,
                                              "seq", (json_int_t)seq, "name", name))) != 0 ||
            (r = imago_devsvc_publish(ds, device, IMAGO_STATE_T_CMD, env, strlen(env))) != 0) {
                devsvc_cmd_close(ds, device, seq, r);
                goto out;
        }
        *cmd_id = id;
out:
        free(env);
        free(atext);
        json_decref(a);
        return r;
}

static enum imago_appdb_cmd_status devsvc_status(enum imago_cmdenv_status s)
{
        switch (s) {
        case IMAGO_CMDENV_OK:
                return IMAGO_APPDB_CMD_OK;
        case IMAGO_CMDENV_FAILED:
                return IMAGO_APPDB_CMD_FAILED;
        case IMAGO_CMDENV_REJECTED:
                return IMAGO_APPDB_CMD_REJECTED;
        case IMAGO_CMDENV_UNKNOWN:
                return IMAGO_APPDB_CMD_UNKNOWN;
        }
        return IMAGO_APPDB_CMD_FAILED;
}

void imago_devsvc_on_result(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                            size_t len)
{
        struct imago_cmdenv_result res;
        char *text = NULL;
        uint64_t id = 0;
        int r;

        if ((r = imago_cmdenv_result_parse(buf, len, &res)) != 0) {
                IMAGO_INFO("dropped a command result of %s: %s", device, imago_errname(r));
                goto out;
        }
        if (strcmp(res.device, device) != 0) {
                IMAGO_WARN("dropped a command result of %s naming another device", device);
                goto out;
        }
        if ((text = json_dumps(res.result, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        r = imago_appdb_cmd_result(ds->c.db, device, res.seq, devsvc_status(res.status), text,
                                   imago_devsvc_now(ds), &id);
        if (r != 0) {
                IMAGO_INFO("command result %" PRIu64 " of %s not recorded: %s", res.seq, device,
                           imago_errname(r));
                goto out;
        }
        if (ds->ops.cmd_done != NULL)
                ds->ops.cmd_done(ds->ops.arg, id);
out:
        free(text);
        imago_cmdenv_result_release(&res);
}
