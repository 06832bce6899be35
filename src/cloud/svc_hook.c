/* See svc_hook.h. */
#include "cloud/svc_hook.h"

#include "base/err.h"
#include "json/json.h"
#include "cloud/registry/registry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
        const char *path;
        enum imago_svc_hook hook;
} paths[] = {
    {"/broker/v1/emqx/authn", IMAGO_SVC_EMQX_AUTHN},
    {"/broker/v1/emqx/authz", IMAGO_SVC_EMQX_AUTHZ},
    {"/broker/v1/vernemq/auth_on_register", IMAGO_SVC_VMQ_REGISTER},
    {"/broker/v1/vernemq/auth_on_publish", IMAGO_SVC_VMQ_PUBLISH},
    {"/broker/v1/vernemq/auth_on_subscribe", IMAGO_SVC_VMQ_SUBSCRIBE},
};

int imago_svc_hook_from_path(const char *path, enum imago_svc_hook *hook)
{
        if (path == NULL)
                return IMAGO_EINVAL;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                if (strcmp(path, paths[i].path) == 0) {
                        *hook = paths[i].hook;
                        return IMAGO_OK;
                }
        }
        return IMAGO_ENOTFOUND;
}

/* A string member of at most max bytes, no NUL, copied into out[max + 1]. */
static int get_str(json_t *obj, const char *key, char *out, size_t max)
{
        size_t n = 0;
        const char *s = imago_json_str(obj, key, &n);

        if (s == NULL || n > max)
                return IMAGO_EPROTO_FIELD;
        memcpy(out, s, n + 1);
        return IMAGO_OK;
}

/* The one OU of a subject string ("CN=x,OU=device,O=imago", "/O=imago/OU=device/CN=x"). */
static int subject_ou(const char *subj, char *ou, size_t size)
{
        const char *p = subj;
        int found = 0;

        while (*p != '\0') {
                size_t n = strcspn(p, ",/+");
                const char *q = p;

                while (q < p + n && *q == ' ')
                        q++;
                if ((size_t)(p + n - q) >= 2 && q[0] == 'O' && q[1] == 'U') {
                        const char *e = q + 2;

                        while (e < p + n && *e == ' ')
                                e++;
                        if (e < p + n && *e == '=') {
                                size_t vl;

                                e++;
                                while (e < p + n && *e == ' ')
                                        e++;
                                vl = (size_t)(p + n - e);
                                while (vl > 0 && e[vl - 1] == ' ')
                                        vl--;
                                if (found || vl == 0 || vl >= size)
                                        return IMAGO_EPROTO_FIELD;
                                memcpy(ou, e, vl);
                                ou[vl] = '\0';
                                found = 1;
                        }
                }
                p += n;
                if (*p != '\0')
                        p++;
        }
        return found ? IMAGO_OK : IMAGO_EPROTO_FIELD;
}

static int parse_action(json_t *root, enum imago_authz_action *a)
{
        char s[16];

        if (get_str(root, "action", s, sizeof(s) - 1) != IMAGO_OK)
                return IMAGO_EPROTO_FIELD;
        if (strcmp(s, "publish") == 0)
                *a = IMAGO_AUTHZ_PUBLISH;
        else if (strcmp(s, "subscribe") == 0)
                *a = IMAGO_AUTHZ_SUBSCRIBE;
        else
                return IMAGO_EPROTO_FIELD;
        return IMAGO_OK;
}

static int parse_topics(json_t *root, struct imago_svc_hookreq *req)
{
        json_t *arr = json_object_get(root, "topics"), *t;
        size_t i;

        if (!json_is_array(arr) || json_array_size(arr) == 0 ||
            json_array_size(arr) > IMAGO_SVC_HOOK_TOPICS)
                return IMAGO_EPROTO_FIELD;
        json_array_foreach(arr, i, t)
        {
                if (!json_is_object(t) ||
                    get_str(t, "topic", req->topics[i], IMAGO_AUTHZ_TOPIC_MAX) != IMAGO_OK)
                        return IMAGO_EPROTO_FIELD;
        }
        req->ntopics = json_array_size(arr);
        return IMAGO_OK;
}

static int parse_root(enum imago_svc_hook hook, json_t *root, struct imago_svc_hookreq *req)
{
        char subj[512];
        int r = IMAGO_EPROTO_FIELD;

        req->hook = hook;
        switch (hook) {
        case IMAGO_SVC_EMQX_AUTHN:
                if (get_str(root, "clientid", req->clientid, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "username", req->username, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "cert_subject", subj, sizeof(subj) - 1) != 0 ||
                    get_str(root, "cert_common_name", req->cn, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    subject_ou(subj, req->ou, sizeof(req->ou)) != 0)
                        goto out;
                break;
        case IMAGO_SVC_EMQX_AUTHZ:
                if (get_str(root, "clientid", req->clientid, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "username", req->username, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "cert_subject", subj, sizeof(subj) - 1) != 0 ||
                    subject_ou(subj, req->ou, sizeof(req->ou)) != 0 ||
                    get_str(root, "topic", req->topics[0], IMAGO_AUTHZ_TOPIC_MAX) != 0 ||
                    parse_action(root, &req->action) != 0)
                        goto out;
                req->ntopics = 1;
                break;
        case IMAGO_SVC_VMQ_REGISTER:
                if (get_str(root, "client_id", req->clientid, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "username", req->username, IMAGO_AUTHZ_NAME_MAX) != 0)
                        goto out;
                break;
        case IMAGO_SVC_VMQ_PUBLISH:
                if (get_str(root, "client_id", req->clientid, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "username", req->username, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "topic", req->topics[0], IMAGO_AUTHZ_TOPIC_MAX) != 0)
                        goto out;
                req->ntopics = 1;
                req->action = IMAGO_AUTHZ_PUBLISH;
                break;
        case IMAGO_SVC_VMQ_SUBSCRIBE:
                if (get_str(root, "client_id", req->clientid, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    get_str(root, "username", req->username, IMAGO_AUTHZ_NAME_MAX) != 0 ||
                    parse_topics(root, req) != 0)
                        goto out;
                req->action = IMAGO_AUTHZ_SUBSCRIBE;
                break;
        default:
                r = IMAGO_EINVAL;
                goto out;
        }
        r = IMAGO_OK;
out:
        return r;
}

int imago_svc_hook_parse(enum imago_svc_hook hook, const uint8_t *body, size_t len,
                         struct imago_svc_hookreq *req)
{
        json_t *root = NULL;
        int r;

        memset(req, 0, sizeof(*req));
        if (body == NULL && len > 0)
                return IMAGO_EINVAL;
        if ((r = imago_json_object(body, len, IMAGO_SVC_HOOK_MAX, &root)) == IMAGO_OK)
                r = parse_root(hook, root, req);
        json_decref(root);
        if (r != IMAGO_OK) {
                memset(req, 0, sizeof(*req));
                req->hook = hook;
        }
        return r;
}

/* Role of the identity, with the registry's word on devices. */
static enum imago_authz_role role_of(const struct imago_svc_hookreq *req, const char *name,
                                     const char *service_cn, int state)
{
        int emqx = req->hook == IMAGO_SVC_EMQX_AUTHN || req->hook == IMAGO_SVC_EMQX_AUTHZ;

        if (service_cn != NULL && strcmp(name, service_cn) == 0)
                return (!emqx || strcmp(req->ou, "service") == 0) ? IMAGO_AUTHZ_SERVICE
                                                                  : IMAGO_AUTHZ_NONE;
        if (emqx) {
                /*
                 * The broker verified the chain against imago's CAs; the OU
                 * names the CA that may issue it, and the registry must agree.
                 */
                if (strcmp(req->ou, "birth") == 0 &&
                    (state == IMAGO_REG_IMPORTED || state == IMAGO_REG_ENROLLED))
                        return imago_authz_role_of("birth", IMAGO_AUTHZ_ISSUER_FACTORY, name);
                if (strcmp(req->ou, "device") == 0 && state == IMAGO_REG_ENROLLED)
                        return imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, name);
                return IMAGO_AUTHZ_NONE;
        }
        if (state == IMAGO_REG_ENROLLED)
                return imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, name);
        if (state == IMAGO_REG_IMPORTED)
                return imago_authz_role_of("birth", IMAGO_AUTHZ_ISSUER_FACTORY, name);
        return IMAGO_AUTHZ_NONE;
}

enum imago_authz_result imago_svc_hook_decide(const struct imago_svc_hookreq *req,
                                              const char *service_cn,
                                              int (*state_of)(void *arg, const char *id), void *arg,
                                              const char **why)
{
        enum imago_authz_result res = IMAGO_AUTHZ_DENY;
        struct imago_authz_identity who;
        enum imago_authz_role role;
        const char *name, *dummy;
        int state = 0, denied;

        if (why == NULL)
                why = &dummy;
        *why = "bad request";
        if (req == NULL || state_of == NULL)
                goto out;
        /*
         * The identity is the certificate CN (EMQX authn: a username the
         * client sent is ignored, docs/protocol.md); the client id must be it.
         */
        name = req->hook == IMAGO_SVC_EMQX_AUTHN ? req->cn : req->username;
        if (name[0] == '\0') {
                *why = "no identity";
                goto out;
        }
        if (strcmp(req->clientid, name) != 0) {
                *why = "client id is not the certificate CN";
                goto out;
        }
        if (req->ntopics == 0 && req->hook != IMAGO_SVC_EMQX_AUTHN &&
            req->hook != IMAGO_SVC_VMQ_REGISTER) {
                *why = "no topic";
                goto out;
        }
        if (service_cn == NULL || strcmp(name, service_cn) != 0)
                state = state_of(arg, name);
        if ((role = role_of(req, name, service_cn, state)) == IMAGO_AUTHZ_NONE) {
                *why = "unknown identity or role";
                goto out;
        }
        if (imago_authz_identity_set(&who, role, name) != IMAGO_AUTHZ_ALLOW) {
                *why = "name does not fit the role";
                goto out;
        }
        denied = state == IMAGO_REG_SUSPENDED || state == IMAGO_REG_REVOKED;
        if (imago_authz_connect(&who, denied, why) != IMAGO_AUTHZ_ALLOW)
                goto out;
        for (size_t i = 0; i < req->ntopics; i++) {
                if (imago_authz_topic(&who, req->action, req->topics[i], strlen(req->topics[i]),
                                      why) != IMAGO_AUTHZ_ALLOW)
                        goto out;
        }
        *why = "allowed";
        res = IMAGO_AUTHZ_ALLOW;
out:
        return res;
}

const char *imago_svc_hook_answer(enum imago_svc_hook hook, enum imago_authz_result res)
{
        if (hook == IMAGO_SVC_EMQX_AUTHN || hook == IMAGO_SVC_EMQX_AUTHZ)
                return res == IMAGO_AUTHZ_ALLOW ? "{\"result\":\"allow\"}"
                                                : "{\"result\":\"deny\"}";
        return res == IMAGO_AUTHZ_ALLOW ? "{\"result\":\"ok\"}"
                                        : "{\"result\":{\"error\":\"not_allowed\"}}";
}
