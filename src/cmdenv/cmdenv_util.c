/* imago_cmdenv: helpers shared by build, verify and result (see cmdenv.h). */
#include "cmdenv/cmdenv.h"

#include "base/err.h"

#include <string.h>

static const char cmdenv_tag[] = "imago-cmd-v1"; /* hashed with its NUL */

int imago_cmdenv_name_valid(const char *s)
{
        size_t i, n;

        if (s == NULL)
                return 0;
        n = strlen(s);
        if (n < 1 || n > IMAGO_CMDENV_NAME_MAX || s[0] < 'a' || s[0] > 'z')
                return 0;
        for (i = 1; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                      c == '-'))
                        return 0;
        }
        return 1;
}

int imago_cmdenv_seq_parse(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        size_t i, n;

        if (s == NULL || out == NULL)
                return IMAGO_EINVAL;
        n = strlen(s);
        if (n < 1 || n > 20 || s[0] == '0')
                return IMAGO_ECMD_MALFORMED;
        for (i = 0; i < n; i++) {
                uint64_t d;
                if (s[i] < '0' || s[i] > '9')
                        return IMAGO_ECMD_MALFORMED;
                d = (uint64_t)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return IMAGO_ECMD_MALFORMED;
                v = v * 10 + d;
        }
        *out = v;
        return 0;
}

int imago_cmdenv_digest(const char *payload, size_t len, uint8_t out[IMAGO_SHA256_LEN])
{
        return imago_sha256_tagged(cmdenv_tag, sizeof(cmdenv_tag), payload, len, out);
}

const char *imago_cmdenv_status_name(enum imago_cmdenv_status s)
{
        switch (s) {
        case IMAGO_CMDENV_OK:
                return "ok";
        case IMAGO_CMDENV_FAILED:
                return "failed";
        case IMAGO_CMDENV_REJECTED:
                return "rejected";
        case IMAGO_CMDENV_UNKNOWN:
                return "unknown";
        }
        return NULL;
}
