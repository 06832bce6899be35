/*
 * libFuzzer target: the broker-hook HTTP request parsers (bodies from the
 * broker, maybe forged by anyone who reaches the endpoint) and the decision
 * on what they parse.  The first byte picks the hook.  Invariants: a body
 * that does not parse is never decided; a decision on a parsed request never
 * allows an identity the registry does not know.
 */
#include "cloud/svc_hook.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int state_of(void *arg, const char *id)
{
        (void)arg;
        /* One enrolled device, one imported; everything else unknown. */
        if (strcmp(id, "0123456789abcdef0123456789abcdef") == 0)
                return 2;
        if (strcmp(id, "11111111111111111111111111111111") == 0)
                return 1;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_svc_hookreq req;
        enum imago_svc_hook hook;
        const char *why = NULL;

        if (size < 1)
                return 0;
        hook = (enum imago_svc_hook)(1 + data[0] % 5);
        if (imago_svc_hook_parse(hook, data + 1, size - 1, &req) != 0)
                return 0;
        if (imago_svc_hook_decide(&req, "imago-cloud", state_of, NULL, &why) == IMAGO_AUTHZ_ALLOW) {
                const char *name = hook == IMAGO_SVC_EMQX_AUTHN ? req.cn : req.username;

                if (why == NULL || (state_of(NULL, name) == 0 && strcmp(name, "imago-cloud") != 0))
                        __builtin_trap();
        }
        return 0;
}
