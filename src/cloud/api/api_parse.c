/* See api.h: the request body parsers (pure, strict). */
#include "cloud/api/api.h"

#include "base/err.h"
#include "base/wipe.h"
#include "cmdenv/cmdenv.h"
#include "json/json.h"
#include "regtoken/regtoken.h"
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

/* The root object of a body (size limit, one object, no duplicate keys, no trailing bytes) with
 * only the given members. */
static int root_of(const uint8_t *buf, size_t len, const char *const *keys, size_t n, json_t **out)
{
        json_t *root = NULL;
        int r;

        *out = NULL;
        if (buf == NULL && len != 0)
                return IMAGO_EINVAL;
        if (len > IMAGO_API_BODY_MAX)
                return IMAGO_ETOOBIG;
        if ((r = imago_json_object(buf, len, IMAGO_API_BODY_MAX, &root)) != IMAGO_OK)
                return r;
        if (!imago_json_only_keys(root, keys, n)) {
                json_decref(root);
                return IMAGO_EINVAL;
        }
        *out = root;
        return IMAGO_OK;
}

/* A string member of min..max bytes copied into out (cap > max): 0, IMAGO_ENOTFOUND when
 * absent, IMAGO_EINVAL when of another type, holding NUL or of another length. */
static int get_str(json_t *root, const char *key, size_t min, size_t max, char *out, size_t cap)
{
        json_t *v = json_object_get(root, key);
        const char *s;
        size_t len = 0;

        if (v == NULL)
                return IMAGO_ENOTFOUND;
        s = imago_json_str(root, key, &len);
        if (s == NULL || len < min || len > max || len >= cap)
                return IMAGO_EINVAL;
        memcpy(out, s, len);
        out[len] = '\0';
        return IMAGO_OK;
}

/* An integer member in [lo, hi]: 0, IMAGO_ENOTFOUND when absent, IMAGO_EINVAL otherwise. */
static int get_int(json_t *root, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
        json_t *v = json_object_get(root, key);
        json_int_t i;

        if (v == NULL)
                return IMAGO_ENOTFOUND;
        if (!json_is_integer(v))
                return IMAGO_EINVAL;
        i = json_integer_value(v);
        if (i < lo || i > hi)
                return IMAGO_EINVAL;
        *out = (int64_t)i;
        return IMAGO_OK;
}

void imago_api_creds_wipe(struct imago_api_creds *c)
{
        if (c != NULL)
                imago_wipe(c, sizeof(*c));
}

int imago_api_parse_creds(const uint8_t *buf, size_t len, struct imago_api_creds *out)
{
        static const char *const keys[] = {"user", "password"};
        json_t *root = NULL, *pw;
        const char *s;
        size_t pl = 0;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if ((r = root_of(buf, len, keys, 2, &root)) != IMAGO_OK)
                goto out;
        if ((r = get_str(root, "user", 1, IMAGO_REGTOKEN_USER_MAX, out->user, sizeof(out->user))) !=
            IMAGO_OK) {
                r = IMAGO_EINVAL;
                goto out;
        }
        pw = json_object_get(root, "password");
        s = imago_json_str(root, "password", &pl);
        if (pw == NULL || s == NULL || pl < 1 || pl > IMAGO_AUTH_PASSWORD_MAX) {
                r = IMAGO_EINVAL;
                goto out;
        }
        memcpy(out->password, s, pl);
        out->password[pl] = '\0';
        out->password_len = pl;
        /* jansson keeps its own copy of the password: wipe it before the release */
        imago_wipe((void *)s, pl);
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                imago_api_creds_wipe(out);
        json_decref(root);
        return r;
}

int imago_api_parse_refresh(const uint8_t *buf, size_t len, char tok[IMAGO_AUTH_REFRESH_LEN + 1])
{
        static const char *const keys[] = {"refresh_token"};
        uint8_t hash[32];
        json_t *root = NULL;
        int r;

        if (tok == NULL)
                return IMAGO_EINVAL;
        memset(tok, 0, IMAGO_AUTH_REFRESH_LEN + 1);
        if ((r = root_of(buf, len, keys, 1, &root)) != IMAGO_OK)
                goto out;
        if (json_object_get(root, "refresh_token") == NULL ||
            !json_is_string(json_object_get(root, "refresh_token"))) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if (get_str(root, "refresh_token", IMAGO_AUTH_REFRESH_LEN, IMAGO_AUTH_REFRESH_LEN, tok,
                    IMAGO_AUTH_REFRESH_LEN + 1) != IMAGO_OK ||
            imago_auth_refresh_hash(tok, hash) != IMAGO_OK) {
                r = IMAGO_EAUTH_REFRESH;
                goto out;
        }
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                imago_wipe(tok, IMAGO_AUTH_REFRESH_LEN + 1);
        if (root != NULL) {
                const char *s = json_string_value(json_object_get(root, "refresh_token"));

                if (s != NULL)
                        imago_wipe((void *)s, strlen(s));
        }
        imago_wipe(hash, sizeof(hash));
        json_decref(root);
        return r;
}

int imago_api_parse_regtoken(const uint8_t *buf, size_t len, int64_t *ttl)
{
        static const char *const keys[] = {"ttl"};
        json_t *root = NULL;
        int r;

        if (ttl == NULL)
                return IMAGO_EINVAL;
        *ttl = 0;
        if (len == 0)
                return IMAGO_OK;
        if ((r = root_of(buf, len, keys, 1, &root)) != IMAGO_OK)
                goto out;
        r = get_int(root, "ttl", 1, IMAGO_REGTOKEN_MAX_TTL, ttl);
        if (r == IMAGO_ENOTFOUND)
                r = IMAGO_OK;
out:
        json_decref(root);
        return r;
}

int imago_api_parse_state(const uint8_t *buf, size_t len, char **patch, uint64_t *version)
{
        static const char *const keys[] = {"desired", "version"};
        json_t *root = NULL, *d;
        int64_t v = 0;
        int r;

        if (patch == NULL || version == NULL)
                return IMAGO_EINVAL;
        *patch = NULL;
        *version = 0;
        if ((r = root_of(buf, len, keys, 2, &root)) != IMAGO_OK)
                goto out;
        d = json_object_get(root, "desired");
        if (d == NULL || !json_is_object(d) ||
            get_int(root, "version", 0, INT64_MAX, &v) != IMAGO_OK) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_state_doc_check(d, 1)) != IMAGO_OK)
                goto out;
        if ((r = imago_state_doc_dump(d, patch)) != IMAGO_OK)
                goto out;
        if (strlen(*patch) > IMAGO_STATE_DOC_MAX) {
                free(*patch);
                *patch = NULL;
                r = IMAGO_ESTATE_DOC;
                goto out;
        }
        *version = (uint64_t)v;
        r = IMAGO_OK;
out:
        json_decref(root);
        return r;
}

void imago_api_cmd_req_free(struct imago_api_cmd_req *r)
{
        if (r == NULL)
                return;
        free(r->args);
        memset(r, 0, sizeof(*r));
}

int imago_api_parse_command(const uint8_t *buf, size_t len, struct imago_api_cmd_req *out)
{
        static const char *const keys[] = {"name", "args", "ttl", "wait_ms"};
        json_t *root = NULL, *a;
        int64_t i;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        out->ttl = IMAGO_API_CMD_TTL_DEF;
        out->wait_ms = IMAGO_API_WAIT_DEF;
        if ((r = root_of(buf, len, keys, 4, &root)) != IMAGO_OK)
                goto out;
        if (get_str(root, "name", 1, IMAGO_CMDENV_NAME_MAX, out->name, sizeof(out->name)) !=
                IMAGO_OK ||
            !imago_cmdenv_name_valid(out->name)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = get_int(root, "ttl", 1, 3600, &i)) == IMAGO_OK)
                out->ttl = i;
        else if (r != IMAGO_ENOTFOUND)
                goto out;
        if ((r = get_int(root, "wait_ms", 0, IMAGO_API_WAIT_MAX, &i)) == IMAGO_OK)
                out->wait_ms = (uint32_t)i;
        else if (r != IMAGO_ENOTFOUND)
                goto out;
        a = json_object_get(root, "args");
        if (a != NULL) {
                if (!json_is_object(a)) {
                        r = IMAGO_EINVAL;
                        goto out;
                }
                out->args = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
                if (out->args == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                if (strlen(out->args) > IMAGO_CMDENV_PAYLOAD_MAX) {
                        r = IMAGO_ETOOBIG;
                        goto out;
                }
        }
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                imago_api_cmd_req_free(out);
        json_decref(root);
        return r;
}

int imago_api_parse_grant(const uint8_t *buf, size_t len, struct imago_api_grant_req *out)
{
        static const char *const keys[] = {"user", "role", "group", "expires", "not_before"};
        char role[32];
        json_t *root = NULL;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if ((r = root_of(buf, len, keys, 5, &root)) != IMAGO_OK)
                goto out;
        r = IMAGO_EINVAL;
        if (get_str(root, "user", 1, IMAGO_REGTOKEN_USER_MAX, out->user, sizeof(out->user)) !=
                IMAGO_OK ||
            !imago_regtoken_user_valid(out->user))
                goto out;
        if (get_str(root, "role", 1, sizeof(role) - 1, role, sizeof(role)) != IMAGO_OK ||
            imago_auth_role_from_name(role, &out->role) != IMAGO_OK)
                goto out;
        if (get_str(root, "group", 1, IMAGO_AUTH_GROUP_MAX, out->group, sizeof(out->group)) !=
                IMAGO_OK ||
            !imago_auth_group_valid(out->group))
                goto out;
        /* times: unix seconds within 1970..9999 */
        if (get_int(root, "expires", 1, 253402300799LL, &out->expires) != IMAGO_OK)
                goto out;
        r = get_int(root, "not_before", 0, 253402300799LL, &out->not_before);
        if (r == IMAGO_ENOTFOUND)
                r = IMAGO_OK;
        else if (r == IMAGO_OK && out->not_before >= out->expires)
                r = IMAGO_EINVAL;
out:
        if (r != IMAGO_OK)
                memset(out, 0, sizeof(*out));
        json_decref(root);
        return r;
}
