/*
 * libFuzzer target: the topic decision of src/authz.  The first byte picks the
 * identity and the action; the rest is the topic or filter.  Oracle: an
 * ALLOW is only ever given to a topic inside the identity's own space, with
 * no NUL, no wildcard in a publish and no wildcard in the fixed prefix.
 */
#include "authz/authz.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID_A "0123456789abcdef0123456789abcdef"

static int starts(const char *t, size_t n, const char *p)
{
        size_t pn = strlen(p);

        return n >= pn && memcmp(t, p, pn) == 0;
}

static int equals(const char *t, size_t n, const char *p)
{
        return n == strlen(p) && memcmp(t, p, n) == 0;
}

static int inside(enum imago_authz_role role, enum imago_authz_action act, const char *t, size_t n)
{
        switch (role) {
        case IMAGO_AUTHZ_BIRTH:
                return equals(t, n,
                              act == IMAGO_AUTHZ_PUBLISH ? "imago/v1/prov/" ID_A "/req"
                                                         : "imago/v1/prov/" ID_A "/resp");
        case IMAGO_AUTHZ_DEVICE:
                return starts(t, n, "imago/v1/d/" ID_A "/") && n > strlen("imago/v1/d/" ID_A "/");
        case IMAGO_AUTHZ_SERVICE:
                if (act == IMAGO_AUTHZ_PUBLISH && equals(t, n, "$CONTROL/imago/v1"))
                        return 1;
                return starts(t, n, "imago/v1/") && n > strlen("imago/v1/");
        case IMAGO_AUTHZ_NONE:
        default:
                return 0;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const enum imago_authz_role roles[4] = {IMAGO_AUTHZ_NONE, IMAGO_AUTHZ_BIRTH,
                                                       IMAGO_AUTHZ_DEVICE, IMAGO_AUTHZ_SERVICE};
        struct imago_authz_identity who;
        enum imago_authz_role role;
        enum imago_authz_action act;
        const char *t, *why = NULL;
        size_t n;

        if (size < 1)
                return 0;
        role = roles[data[0] & 3];
        act = (data[0] & 4) ? IMAGO_AUTHZ_SUBSCRIBE : IMAGO_AUTHZ_PUBLISH;
        t = (const char *)data + 1;
        n = size - 1;
        if (imago_authz_identity_set(&who, role,
                                     role == IMAGO_AUTHZ_SERVICE ? "imago-cloud" : ID_A) !=
            IMAGO_AUTHZ_ALLOW)
                memset(&who, 0, sizeof(who));
        if (imago_authz_topic(&who, act, t, n, &why) != IMAGO_AUTHZ_ALLOW) {
                if (why == NULL)
                        __builtin_trap();
                return 0;
        }
        if (why == NULL || !inside(role, act, t, n))
                __builtin_trap();
        if (memchr(t, '\0', n) != NULL || n > IMAGO_AUTHZ_TOPIC_MAX)
                __builtin_trap();
        if (act == IMAGO_AUTHZ_PUBLISH && (memchr(t, '+', n) != NULL || memchr(t, '#', n) != NULL))
                __builtin_trap();
        return 0;
}
