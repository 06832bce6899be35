/* imago_proto: message parser and builder; see proto.h. */
#define _POSIX_C_SOURCE 200809L
#include "proto/proto.h"

#include "base/err.h"
#include "base/hex.h"
#include "json/json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Fields each type carries besides v, type, id and nonce. */
enum {
        F_CSR = 1 << 0,
        F_CERT = 1 << 1,
        F_CHAIN = 1 << 2,
        F_CODE = 1 << 3,
        F_MESSAGE = 1 << 4,
};

static const struct {
        enum imago_proto_type type;
        const char *name;
        unsigned fields;
} types[] = {
    {IMAGO_PROTO_ENROL, "enrol", F_CSR},          {IMAGO_PROTO_ROTATE, "rotate", F_CSR},
    {IMAGO_PROTO_CERT, "cert", F_CERT | F_CHAIN}, {IMAGO_PROTO_ERROR, "error", F_CODE | F_MESSAGE},
    {IMAGO_PROTO_ROTATE_NOW, "rotate-now", 0},
};

static const struct {
        const char *key;
        unsigned field;
} extra_keys[] = {
    {"csr", F_CSR}, {"cert", F_CERT}, {"chain", F_CHAIN}, {"code", F_CODE}, {"message", F_MESSAGE},
};

#define NTYPES (sizeof(types) / sizeof(types[0]))
#define NEXTRA (sizeof(extra_keys) / sizeof(extra_keys[0]))

const char *imago_proto_type_name(enum imago_proto_type t)
{
        for (size_t i = 0; i < NTYPES; i++) {
                if (types[i].type == t)
                        return types[i].name;
        }
        return NULL;
}

static unsigned type_fields(enum imago_proto_type t)
{
        for (size_t i = 0; i < NTYPES; i++) {
                if (types[i].type == t)
                        return types[i].fields;
        }
        return 0;
}

/* PEM text: printable ASCII lines, starting with a BEGIN marker. */
static int pem_ok(const char *s, size_t len)
{
        static const char begin[] = "-----BEGIN ";

        if (len == 0 || len > IMAGO_PROTO_PEM_MAX)
                return len == 0 ? IMAGO_EPROTO_FIELD : IMAGO_ETOOBIG;
        if (len < sizeof(begin) - 1 || memcmp(s, begin, sizeof(begin) - 1) != 0)
                return IMAGO_EPROTO_FIELD;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (!(c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f)))
                        return IMAGO_EPROTO_FIELD;
        }
        return IMAGO_OK;
}

/* An IMAGO_E* name: "IMAGO_E" then [A-Z0-9_]. */
static int code_ok(const char *s, size_t len)
{
        if (len > IMAGO_PROTO_CODE_MAX)
                return IMAGO_ETOOBIG;
        if (len < 8 || memcmp(s, "IMAGO_E", 7) != 0)
                return IMAGO_EPROTO_FIELD;
        for (size_t i = 7; i < len; i++) {
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return IMAGO_EPROTO_FIELD;
        }
        return IMAGO_OK;
}

/* Free text (valid UTF-8, checked by jansson or the caller): no control characters. */
static int text_ok(const char *s, size_t len)
{
        if (len > IMAGO_PROTO_TEXT_MAX)
                return IMAGO_ETOOBIG;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c == 0x7f)
                        return IMAGO_EPROTO_FIELD;
        }
        return IMAGO_OK;
}

static int dup_pem(json_t *root, const char *key, char **out)
{
        size_t len = 0;
        const char *s = imago_json_str(root, key, &len);
        int r;

        if (s == NULL)
                return IMAGO_EPROTO_FIELD;
        if ((r = pem_ok(s, len)) != IMAGO_OK)
                return r;
        if ((*out = strdup(s)) == NULL)
                return IMAGO_ENOMEM;
        return IMAGO_OK;
}

static int parse_root(json_t *root, struct imago_proto_msg *m)
{
        json_t *v = json_object_get(root, "v");
        const char *s, *k;
        json_t *val;
        unsigned fields = 0, seen = 0;
        size_t len = 0, i;
        int r;

        /* The version first: a later version may carry other fields. */
        if (!json_is_integer(v))
                return IMAGO_EPROTO_FIELD;
        if (json_integer_value(v) != 1)
                return IMAGO_EPROTO_VERSION;
        if ((s = imago_json_str(root, "type", &len)) == NULL)
                return IMAGO_EPROTO_FIELD;
        for (i = 0; i < NTYPES; i++) {
                if (strcmp(s, types[i].name) == 0)
                        break;
        }
        if (i == NTYPES)
                return IMAGO_EPROTO_FIELD;
        m->type = types[i].type;
        fields = types[i].fields;

        /* Only the keys of this type. */
        json_object_foreach(root, k, val)
        {
                (void)val;
                if (strcmp(k, "v") == 0 || strcmp(k, "type") == 0 || strcmp(k, "id") == 0 ||
                    strcmp(k, "nonce") == 0)
                        continue;
                for (i = 0; i < NEXTRA; i++) {
                        if (strcmp(k, extra_keys[i].key) == 0)
                                break;
                }
                if (i == NEXTRA || (fields & extra_keys[i].field) == 0)
                        return IMAGO_EPROTO_FIELD;
                seen |= extra_keys[i].field;
        }
        if (seen != fields)
                return IMAGO_EPROTO_FIELD;

        if ((s = imago_json_str(root, "id", &len)) == NULL || !imago_device_id_valid(s))
                return IMAGO_EPROTO_FIELD;
        memcpy(m->id, s, IMAGO_PROTO_ID_LEN + 1);
        if ((s = imago_json_str(root, "nonce", &len)) == NULL ||
            !imago_hex_is_lower(s, IMAGO_PROTO_NONCE_LEN, IMAGO_PROTO_NONCE_LEN))
                return IMAGO_EPROTO_FIELD;
        memcpy(m->nonce, s, IMAGO_PROTO_NONCE_LEN + 1);

        if ((fields & F_CSR) && (r = dup_pem(root, "csr", &m->csr)) != IMAGO_OK)
                return r;
        if ((fields & F_CERT) && (r = dup_pem(root, "cert", &m->cert)) != IMAGO_OK)
                return r;
        if ((fields & F_CHAIN) && (r = dup_pem(root, "chain", &m->chain)) != IMAGO_OK)
                return r;
        if (fields & F_CODE) {
                if ((s = imago_json_str(root, "code", &len)) == NULL)
                        return IMAGO_EPROTO_FIELD;
                if ((r = code_ok(s, len)) != IMAGO_OK)
                        return r;
                memcpy(m->code, s, len + 1);
        }
        if (fields & F_MESSAGE) {
                if ((s = imago_json_str(root, "message", &len)) == NULL)
                        return IMAGO_EPROTO_FIELD;
                if ((r = text_ok(s, len)) != IMAGO_OK)
                        return r;
                memcpy(m->message, s, len + 1);
        }
        return IMAGO_OK;
}

int imago_proto_parse(const uint8_t *buf, size_t len, struct imago_proto_msg *m)
{
        json_t *root = NULL;
        int r;

        if (m == NULL)
                return IMAGO_EINVAL;
        memset(m, 0, sizeof(*m));
        if ((r = imago_json_object(buf, len, IMAGO_PROTO_MAX, &root)) == IMAGO_OK)
                r = parse_root(root, m);
        json_decref(root);
        if (r != IMAGO_OK)
                imago_proto_free(m);
        return r;
}

void imago_proto_free(struct imago_proto_msg *m)
{
        if (m == NULL)
                return;
        free(m->csr);
        free(m->cert);
        free(m->chain);
        memset(m, 0, sizeof(*m));
}

/* json_string() refuses invalid UTF-8 (a caller's message text): a field error. */
static int set_str(json_t *root, const char *key, const char *s)
{
        json_t *v = json_string(s);

        if (v == NULL)
                return IMAGO_EPROTO_FIELD;
        return json_object_set_new(root, key, v) == 0 ? IMAGO_OK : IMAGO_ENOMEM;
}

/* The builder applies the parser's rules: it never emits what the parser refuses. */
static int check_msg(const struct imago_proto_msg *m, unsigned fields)
{
        int r = IMAGO_OK; /* set before every use; gcc with sanitizers cannot tell */

        if (!imago_device_id_valid(m->id) ||
            !imago_hex_is_lower(m->nonce, IMAGO_PROTO_NONCE_LEN, IMAGO_PROTO_NONCE_LEN))
                return IMAGO_EPROTO_FIELD;
        if ((fields & F_CSR) && (m->csr == NULL || (r = pem_ok(m->csr, strlen(m->csr))) != 0))
                return m->csr == NULL ? IMAGO_EPROTO_FIELD : r;
        if ((fields & F_CERT) && (m->cert == NULL || (r = pem_ok(m->cert, strlen(m->cert))) != 0))
                return m->cert == NULL ? IMAGO_EPROTO_FIELD : r;
        if ((fields & F_CHAIN) &&
            (m->chain == NULL || (r = pem_ok(m->chain, strlen(m->chain))) != 0))
                return m->chain == NULL ? IMAGO_EPROTO_FIELD : r;
        if ((fields & F_CODE) && (r = code_ok(m->code, strnlen(m->code, sizeof(m->code)))) != 0)
                return r;
        if ((fields & F_MESSAGE) &&
            (r = text_ok(m->message, strnlen(m->message, sizeof(m->message)))) != 0)
                return r;
        return IMAGO_OK;
}

int imago_proto_build(const struct imago_proto_msg *m, char **out, size_t *len)
{
        json_t *root = NULL;
        char *text = NULL;
        const char *name;
        unsigned fields;
        int r;

        if (m == NULL || out == NULL || len == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        *len = 0;
        if ((name = imago_proto_type_name(m->type)) == NULL) {
                r = IMAGO_EPROTO_FIELD;
                goto out;
        }
        fields = type_fields(m->type);
        if ((r = check_msg(m, fields)) != IMAGO_OK)
                goto out;
        r = IMAGO_ENOMEM;
        if ((root = json_object()) == NULL || json_object_set_new(root, "v", json_integer(1)) != 0)
                goto out;
        if ((r = set_str(root, "type", name)) != 0 || (r = set_str(root, "id", m->id)) != 0 ||
            (r = set_str(root, "nonce", m->nonce)) != 0)
                goto out;
        if (((fields & F_CSR) && (r = set_str(root, "csr", m->csr)) != 0) ||
            ((fields & F_CERT) && (r = set_str(root, "cert", m->cert)) != 0) ||
            ((fields & F_CHAIN) && (r = set_str(root, "chain", m->chain)) != 0) ||
            ((fields & F_CODE) && (r = set_str(root, "code", m->code)) != 0) ||
            ((fields & F_MESSAGE) && (r = set_str(root, "message", m->message)) != 0))
                goto out;
        r = IMAGO_ENOMEM;
        if ((text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
                goto out;
        if (strlen(text) > IMAGO_PROTO_MAX) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        *len = strlen(text);
        *out = text;
        text = NULL;
        r = IMAGO_OK;
out:
        free(text);
        json_decref(root);
        return r;
}
