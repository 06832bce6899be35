/* imago_state: the channel messages report/ack/delta/register/registered (see state.h). */
#include "state/state.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/wipe.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

/* Wipe the text of a jansson string value in place (the token's copy inside a json_t). */
static void state_wipe_json_str(json_t *s)
{
        if (json_is_string(s))
                imago_wipe((char *)json_string_value(s), json_string_length(s));
}

static int state_token_valid(const char *s, size_t len)
{
        size_t i;

        if (s == NULL || len < 1 || len > IMAGO_STATE_TOKEN_MAX)
                return 0;
        for (i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return 0;
        }
        return 1;
}

static int state_result_valid(const char *s)
{
        int code;

        if (s == NULL || strlen(s) >= sizeof(((struct imago_state_msg *)0)->result))
                return 0;
        if (strcmp(s, "ok") == 0)
                return 1;
        return imago_err_from_name(s, &code) == 0 && code != 0;
}

/* A JSON integer 0..INT64_MAX. */
static int state_version_get(json_t *obj, uint64_t *out)
{
        json_t *v = json_object_get(obj, "version");

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return IMAGO_EPROTO_FIELD;
        *out = (uint64_t)json_integer_value(v);
        return 0;
}

static int state_parse_body(enum imago_state_msg_type type, json_t *root,
                            struct imago_state_msg *out)
{
        static const char *const k_doc[] = {"v", "version", "state"};
        static const char *const k_ack[] = {"v", "version", "accepted"};
        static const char *const k_reg[] = {"v", "nonce", "token"};
        static const char *const k_regd[] = {"v", "nonce", "result"};
        const char *s;
        size_t n;
        json_t *st;

        switch (type) {
        case IMAGO_STATE_MSG_REPORT:
        case IMAGO_STATE_MSG_DELTA:
                if (!imago_json_only_keys(root, k_doc, 3) ||
                    state_version_get(root, &out->version) != 0)
                        return IMAGO_EPROTO_FIELD;
                st = json_object_get(root, "state");
                if (!json_is_object(st))
                        return IMAGO_EPROTO_FIELD;
                if (imago_state_doc_check(st, type == IMAGO_STATE_MSG_REPORT) != 0)
                        return IMAGO_ESTATE_DOC;
                out->state = json_incref(st);
                return 0;
        case IMAGO_STATE_MSG_ACK:
                st = json_object_get(root, "accepted");
                if (!imago_json_only_keys(root, k_ack, 3) ||
                    state_version_get(root, &out->version) != 0 || !json_is_boolean(st))
                        return IMAGO_EPROTO_FIELD;
                out->accepted = json_is_true(st);
                return 0;
        case IMAGO_STATE_MSG_REGISTER:
        case IMAGO_STATE_MSG_REGISTERED:
                if (!imago_json_only_keys(root, type == IMAGO_STATE_MSG_REGISTER ? k_reg : k_regd,
                                          3))
                        return IMAGO_EPROTO_FIELD;
                s = imago_json_str(root, "nonce", &n);
                if (s == NULL || n != 32 || !imago_hex_is_lower(s, 32, 32))
                        return IMAGO_EPROTO_FIELD;
                memcpy(out->nonce, s, 33);
                if (type == IMAGO_STATE_MSG_REGISTER) {
                        s = imago_json_str(root, "token", &n);
                        if (!state_token_valid(s, n))
                                return IMAGO_EPROTO_FIELD;
                        memcpy(out->token, s, n + 1);
                        return 0;
                }
                s = imago_json_str(root, "result", &n);
                if (!state_result_valid(s))
                        return IMAGO_EPROTO_FIELD;
                memcpy(out->result, s, n + 1);
                return 0;
        }
        return IMAGO_EINVAL;
}

int imago_state_msg_parse(enum imago_state_msg_type type, const uint8_t *buf, size_t len,
                          struct imago_state_msg *out)
{
        json_t *root = NULL, *v;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                memset(out, 0, sizeof(*out));
        if (out == NULL || (buf == NULL && len > 0) || type < IMAGO_STATE_MSG_REPORT ||
            type > IMAGO_STATE_MSG_REGISTERED)
                goto out;
        out->type = type;
        if ((r = imago_json_object(buf, len, IMAGO_STATE_MSG_MAX, &root)) != 0)
                goto out;
        /* The version first: a later version may have other members. */
        r = IMAGO_EPROTO_FIELD;
        v = json_object_get(root, "v");
        if (!json_is_integer(v))
                goto out;
        r = IMAGO_EPROTO_VERSION;
        if (json_integer_value(v) != 1)
                goto out;
        r = state_parse_body(type, root, out);
out:
        if (type == IMAGO_STATE_MSG_REGISTER && root != NULL)
                state_wipe_json_str(json_object_get(root, "token"));
        json_decref(root);
        if (r != 0)
                imago_state_msg_free(out);
        return r;
}

static json_t *state_build_json(const struct imago_state_msg *m)
{
        json_int_t ver = (json_int_t)m->version;
        const char *end;
        size_t tl;

        switch (m->type) {
        case IMAGO_STATE_MSG_REPORT:
        case IMAGO_STATE_MSG_DELTA:
                if (m->version > INT64_MAX || m->state == NULL ||
                    imago_state_doc_check(m->state, m->type == IMAGO_STATE_MSG_REPORT) != 0)
                        return NULL;
                return json_pack("{s:i, s:I, s:O}", "v", 1, "version", ver, "state", m->state);
        case IMAGO_STATE_MSG_ACK:
                if (m->version > INT64_MAX)
                        return NULL;
                return json_pack("{s:i, s:I, s:b}", "v", 1, "version", ver, "accepted",
                                 m->accepted != 0);
        case IMAGO_STATE_MSG_REGISTER:
                end = memchr(m->token, 0, sizeof(m->token));
                tl = end != NULL ? (size_t)(end - m->token) : 0;
                if (!imago_hex_is_lower(m->nonce, 32, 32) || !state_token_valid(m->token, tl))
                        return NULL;
                return json_pack("{s:i, s:s, s:s#}", "v", 1, "nonce", m->nonce, "token", m->token,
                                 (int)tl);
        case IMAGO_STATE_MSG_REGISTERED:
                if (!imago_hex_is_lower(m->nonce, 32, 32) ||
                    memchr(m->result, 0, sizeof(m->result)) == NULL ||
                    !state_result_valid(m->result))
                        return NULL;
                return json_pack("{s:i, s:s, s:s}", "v", 1, "nonce", m->nonce, "result", m->result);
        }
        return NULL;
}

int imago_state_msg_build(const struct imago_state_msg *m, char **out, size_t *len)
{
        json_t *msg = NULL;
        char *text = NULL;
        size_t n = 0;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (len != NULL)
                *len = 0;
        if (m == NULL || out == NULL || len == NULL)
                goto out;
        /* Fields breaking the rules of state.h (or, rarely, no memory for the object). */
        if ((msg = state_build_json(m)) == NULL)
                goto out;
        r = IMAGO_ENOMEM;
        if ((text = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        n = strlen(text);
        r = IMAGO_ETOOBIG;
        if (n > IMAGO_STATE_MSG_MAX)
                goto out;
        *out = text;
        *len = n;
        text = NULL;
        r = 0;
out:
        if (text != NULL) {
                imago_wipe(text, n);
                free(text);
        }
        if (m != NULL && m->type == IMAGO_STATE_MSG_REGISTER && msg != NULL)
                state_wipe_json_str(json_object_get(msg, "token"));
        json_decref(msg);
        return r;
}

void imago_state_msg_free(struct imago_state_msg *m)
{
        if (m == NULL)
                return;
        json_decref(m->state);
        imago_wipe(m, sizeof(*m));
}
