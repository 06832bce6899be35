/* imago_broker control message parser: see broker.h. */
#include "broker/broker.h"

#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "json/json.h"

static int parse_op(json_t *root, struct broker_control *c)
{
        const char *op = imago_json_str(root, "op", NULL);
        const char *id, *reason, *serial;
        size_t fields = json_object_size(root);

        if (op == NULL)
                return IMAGO_EPROTO_FIELD;
        if (strcmp(op, "deny") == 0) {
                id = imago_json_str(root, "id", NULL);
                reason = imago_json_str(root, "reason", NULL);
                if (fields != 3 || !broker_is_device_id(id) || reason == NULL)
                        return IMAGO_EPROTO_FIELD;
                if (strcmp(reason, "revoked") == 0)
                        c->reason = BROKER_DENY_REVOKED;
                else if (strcmp(reason, "suspended") == 0)
                        c->reason = BROKER_DENY_SUSPENDED;
                else
                        return IMAGO_EPROTO_FIELD;
                memcpy(c->id, id, IMAGO_AUTHZ_ID_LEN + 1);
                c->op = BROKER_OP_DENY;
        } else if (strcmp(op, "allow") == 0) {
                id = imago_json_str(root, "id", NULL);
                if (fields != 2 || !broker_is_device_id(id))
                        return IMAGO_EPROTO_FIELD;
                memcpy(c->id, id, IMAGO_AUTHZ_ID_LEN + 1);
                c->op = BROKER_OP_ALLOW;
        } else if (strcmp(op, "deny-serial") == 0) {
                serial = imago_json_str(root, "serial", NULL);
                if (fields != 2 || !broker_is_serial(serial))
                        return IMAGO_EPROTO_FIELD;
                memcpy(c->serial, serial, strlen(serial) + 1);
                c->op = BROKER_OP_DENY_SERIAL;
        } else if (strcmp(op, "reload") == 0) {
                if (fields != 1)
                        return IMAGO_EPROTO_FIELD;
                c->op = BROKER_OP_RELOAD;
        } else {
                return IMAGO_EPROTO_FIELD;
        }
        return IMAGO_OK;
}

int broker_control_parse(const uint8_t *buf, size_t len, struct broker_control *out)
{
        struct broker_control c;
        json_t *root = NULL;
        int r;

        memset(&c, 0, sizeof(c));
        if (buf == NULL || out == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_json_object(buf, len, BROKER_CONTROL_MAX, &root)) != IMAGO_OK)
                goto out;
        r = parse_op(root, &c);
        if (r != IMAGO_OK)
                goto out;
        *out = c;
out:
        json_decref(root);
        return r;
}
