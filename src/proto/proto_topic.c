/* imago_proto: topic names; see proto.h. */
#include "proto/proto.h"

#include "base/err.h"
#include "base/hex.h"

#include <stdio.h>
#include <string.h>

static int fmt(char *buf, size_t size, const char *pre, const char *id, const char *post)
{
        int n;

        if (buf == NULL || !imago_device_id_valid(id))
                return IMAGO_EINVAL;
        n = snprintf(buf, size, "%s%s%s", pre, id, post);
        if (n < 0 || (size_t)n >= size)
                return IMAGO_EINVAL;
        return IMAGO_OK;
}

int imago_proto_topic(enum imago_proto_type t, const char *id, char *buf, size_t size)
{
        switch (t) {
        case IMAGO_PROTO_ENROL:
                return fmt(buf, size, "imago/v1/prov/", id, "/req");
        case IMAGO_PROTO_ROTATE:
                return fmt(buf, size, "imago/v1/d/", id, "/rot/req");
        case IMAGO_PROTO_ROTATE_NOW:
                return fmt(buf, size, "imago/v1/d/", id, "/rot/now");
        default:
                return IMAGO_EINVAL;
        }
}

int imago_proto_resp_topic(enum imago_proto_type request, const char *id, char *buf, size_t size)
{
        switch (request) {
        case IMAGO_PROTO_ENROL:
                return fmt(buf, size, "imago/v1/prov/", id, "/resp");
        case IMAGO_PROTO_ROTATE:
                return fmt(buf, size, "imago/v1/d/", id, "/rot/resp");
        default:
                return IMAGO_EINVAL;
        }
}

int imago_proto_topic_parse(const char *topic, enum imago_proto_type *t, char *id)
{
        static const struct {
                const char *pre, *post;
                enum imago_proto_type type;
        } shapes[] = {
            {"imago/v1/prov/", "/req", IMAGO_PROTO_ENROL},
            {"imago/v1/d/", "/rot/req", IMAGO_PROTO_ROTATE},
            {"imago/v1/d/", "/rot/now", IMAGO_PROTO_ROTATE_NOW},
        };

        if (topic == NULL || t == NULL || id == NULL)
                return IMAGO_EINVAL;
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
                size_t pl = strlen(shapes[i].pre), sl = strlen(shapes[i].post);
                char cand[IMAGO_PROTO_ID_LEN + 1];

                if (strlen(topic) != pl + IMAGO_PROTO_ID_LEN + sl ||
                    strncmp(topic, shapes[i].pre, pl) != 0 ||
                    strcmp(topic + pl + IMAGO_PROTO_ID_LEN, shapes[i].post) != 0)
                        continue;
                memcpy(cand, topic + pl, IMAGO_PROTO_ID_LEN);
                cand[IMAGO_PROTO_ID_LEN] = '\0';
                if (!imago_device_id_valid(cand))
                        return IMAGO_EPROTO_FIELD;
                memcpy(id, cand, sizeof(cand));
                *t = shapes[i].type;
                return IMAGO_OK;
        }
        return IMAGO_EPROTO_FIELD;
}
