/* imago_devsvc: the handle, topic parsing and dispatch, shared helpers (see devsvc.h). */
#include "cloud/devsvc/devsvc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "cloud/audit/audit.h"
#include "cloud/registry/registry.h"
#include "state/state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEVSVC_PREFIX    "imago/v1/d/"
#define DEVSVC_TOPIC_MAX 128

int imago_devsvc_new(const struct imago_devsvc_config *c, const struct imago_devsvc_ops *ops,
                     struct imago_devsvc **out)
{
        struct imago_devsvc *ds;

        if (out != NULL)
                *out = NULL;
        if (c == NULL || ops == NULL || out == NULL || c->db == NULL || c->audit == NULL ||
            c->reg == NULL || c->regkey == NULL || c->cmd_key == NULL || ops->publish == NULL ||
            ops->revoke == NULL)
                return IMAGO_EINVAL;
        if ((ds = calloc(1, sizeof(*ds))) == NULL)
                return IMAGO_ENOMEM;
        ds->c = *c;
        ds->ops = *ops;
        *out = ds;
        return 0;
}

void imago_devsvc_free(struct imago_devsvc *ds)
{
        free(ds);
}

int64_t imago_devsvc_now(const struct imago_devsvc *ds)
{
        return ds->c.now != NULL ? ds->c.now() : (int64_t)time(NULL);
}

int imago_devsvc_enrolled(struct imago_devsvc *ds, const char *device)
{
        struct imago_reg_device d;
        int r;

        memset(&d, 0, sizeof(d));
        if ((r = imago_registry_get(ds->c.reg, device, &d)) == 0 && d.state != IMAGO_REG_ENROLLED)
                r = IMAGO_EREG_STATE;
        imago_registry_device_free(&d);
        return r;
}

int imago_devsvc_publish(struct imago_devsvc *ds, const char *device, const char *suffix,
                         const char *text, size_t len)
{
        char topic[DEVSVC_TOPIC_MAX];
        int n = snprintf(topic, sizeof(topic), DEVSVC_PREFIX "%s/%s", device, suffix);

        if (n < 0 || (size_t)n >= sizeof(topic))
                return IMAGO_EINVAL;
        return ds->ops.publish(ds->ops.arg, topic, text, len);
}

void imago_devsvc_user_actor(uint64_t user, char *buf, size_t cap)
{
        snprintf(buf, cap, "user:%" PRIu64, user);
}

int imago_devsvc_audit(struct imago_devsvc *ds, const char *actor, const char *action,
                       const char *device, json_t *detail)
{
        char *text = NULL;
        int r = IMAGO_ENOMEM;

        if (detail != NULL && (text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        r = imago_audit_append(ds->c.audit, imago_devsvc_now(ds), actor, action, device,
                               text != NULL ? text : "", NULL, NULL);
        if (r != 0)
                IMAGO_ERR_R(r, "audit %s of %s", action, device);
out:
        free(text);
        json_decref(detail);
        return r;
}

int imago_devsvc_publish_delta(struct imago_devsvc *ds, const char *device, const json_t *desired,
                               uint64_t desired_version, const json_t *reported)
{
        struct imago_state_msg m;
        char *text = NULL;
        size_t len = 0;
        int r;

        memset(&m, 0, sizeof(m));
        if ((r = imago_state_delta(desired, reported, &m.state)) != 0 ||
            json_object_size(m.state) == 0)
                goto out;
        m.type = IMAGO_STATE_MSG_DELTA;
        m.version = desired_version;
        if ((r = imago_state_msg_build(&m, &text, &len)) != 0)
                goto out;
        r = imago_devsvc_publish(ds, device, IMAGO_STATE_T_DELTA, text, len);
out:
        if (r != 0)
                IMAGO_WARN("delta for %s not published: %s", device, imago_errname(r));
        free(text);
        imago_state_msg_free(&m);
        return r;
}

enum devsvc_kind {
        DEVSVC_REGISTER,
        DEVSVC_REPORT,
        DEVSVC_RESULT,
};

/* imago/v1/d/<32 lowercase hex>/<suffix>, exactly. */
static int devsvc_topic_parse(const char *topic, char device[IMAGO_DEVICE_ID_LEN + 1],
                              enum devsvc_kind *kind)
{
        static const struct {
                const char *suffix;
                enum devsvc_kind kind;
        } kinds[] = {
            {IMAGO_STATE_T_REGISTER, DEVSVC_REGISTER},
            {IMAGO_STATE_T_REPORT, DEVSVC_REPORT},
            {IMAGO_STATE_T_CMD_RESULT, DEVSVC_RESULT},
        };
        const size_t pl = strlen(DEVSVC_PREFIX);
        const char *rest;
        size_t i, n = 0;

        while (n < DEVSVC_TOPIC_MAX && topic[n] != '\0')
                n++;
        if (n == DEVSVC_TOPIC_MAX || n < pl + IMAGO_DEVICE_ID_LEN + 2 ||
            memcmp(topic, DEVSVC_PREFIX, pl) != 0)
                return IMAGO_EPROTO_FIELD;
        memcpy(device, topic + pl, IMAGO_DEVICE_ID_LEN);
        device[IMAGO_DEVICE_ID_LEN] = '\0';
        rest = topic + pl + IMAGO_DEVICE_ID_LEN;
        if (!imago_device_id_valid(device) || *rest != '/')
                return IMAGO_EPROTO_FIELD;
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                if (strcmp(rest + 1, kinds[i].suffix) == 0) {
                        *kind = kinds[i].kind;
                        return 0;
                }
        }
        return IMAGO_EPROTO_FIELD;
}

void imago_devsvc_on_message(struct imago_devsvc *ds, const char *topic, const uint8_t *buf,
                             size_t len)
{
        char device[IMAGO_DEVICE_ID_LEN + 1];
        enum devsvc_kind kind;
        int r;

        if (ds == NULL || topic == NULL || (buf == NULL && len > 0))
                return;
        if (devsvc_topic_parse(topic, device, &kind) != 0) {
                IMAGO_INFO("dropped a message on a topic not for the device service");
                return;
        }
        if ((r = imago_devsvc_enrolled(ds, device)) != 0) {
                IMAGO_INFO("dropped a message of device %s: %s", device, imago_errname(r));
                return;
        }
        switch (kind) {
        case DEVSVC_REGISTER:
                imago_devsvc_on_register(ds, device, buf, len);
                break;
        case DEVSVC_REPORT:
                imago_devsvc_on_report(ds, device, buf, len);
                break;
        case DEVSVC_RESULT:
                imago_devsvc_on_result(ds, device, buf, len);
                break;
        }
}
