/*
 * imago-cloud: the broker-hook requests of the HTTP authorization endpoint
 * (docs/protocol.md "HTTP authorization endpoint"), independent of HTTP.
 *
 * imago_svc_hook_parse(): one request body (at most IMAGO_SVC_HOOK_MAX
 * bytes, one JSON object, duplicates refused; the fields the hook needs
 * must be strings without NUL of bounded length; other keys, which the
 * brokers add, are ignored).  VerneMQ auth_on_subscribe carries at most
 * IMAGO_SVC_HOOK_TOPICS topics.
 *
 * imago_svc_hook_decide(): the access decision through src/authz.  Role:
 * EMQX from the OU of cert_subject, checked against the registry (birth:
 * imported or enrolled; device: enrolled); VerneMQ from the registry
 * (enrolled -> device, imported -> birth); the service CN -> service.  A
 * suspended, revoked or unknown id, a client id different from the CN, or
 * anything unexpected is DENY.  state_of(arg, id) returns the registry
 * state (enum imago_reg_state) or 0 for an unknown id or a lookup error.
 *
 * imago_svc_hook_answer(): the body to return ("allow"/"deny" or the
 * VerneMQ shape), static strings.
 *
 * Errors (parse): IMAGO_ETOOBIG, IMAGO_EMALFORMED (not one JSON object),
 * IMAGO_EPROTO_FIELD (missing, mistyped or oversize field; unknown action).
 */
#ifndef IMAGO_CLOUD_SVC_HOOK_H
#define IMAGO_CLOUD_SVC_HOOK_H

#include "authz/authz.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_SVC_HOOK_MAX    16384
#define IMAGO_SVC_HOOK_TOPICS 16

enum imago_svc_hook {
        IMAGO_SVC_EMQX_AUTHN = 1,
        IMAGO_SVC_EMQX_AUTHZ = 2,
        IMAGO_SVC_VMQ_REGISTER = 3,
        IMAGO_SVC_VMQ_PUBLISH = 4,
        IMAGO_SVC_VMQ_SUBSCRIBE = 5,
};

struct imago_svc_hookreq {
        enum imago_svc_hook hook;
        char clientid[IMAGO_AUTHZ_NAME_MAX + 1];
        char username[IMAGO_AUTHZ_NAME_MAX + 1];
        char ou[16];                       /* EMQX: from cert_subject */
        char cn[IMAGO_AUTHZ_NAME_MAX + 1]; /* EMQX authn: cert_common_name */
        enum imago_authz_action action;
        size_t ntopics;
        char topics[IMAGO_SVC_HOOK_TOPICS][IMAGO_AUTHZ_TOPIC_MAX + 1];
};

/* Hook for a request path ("/broker/v1/emqx/authn", ...); IMAGO_ENOTFOUND otherwise. */
int imago_svc_hook_from_path(const char *path, enum imago_svc_hook *hook);

int imago_svc_hook_parse(enum imago_svc_hook hook, const uint8_t *body, size_t len,
                         struct imago_svc_hookreq *req);

enum imago_authz_result imago_svc_hook_decide(const struct imago_svc_hookreq *req,
                                              const char *service_cn,
                                              int (*state_of)(void *arg, const char *id), void *arg,
                                              const char **why);

const char *imago_svc_hook_answer(enum imago_svc_hook hook, enum imago_authz_result res);

#endif
