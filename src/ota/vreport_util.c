/* imago_vreport: state names and the field rules of a report (see vreport.h). */
#include "ota/vreport_priv.h"

#include "base/err.h"
#include "base/name.h"
#include "blk/blk.h"

#include <openssl/evp.h>

#include <string.h>

static const char vreport_tag[] = "imago-vreport-v1"; /* hashed with its NUL */

static const char *const state_names[] = {
    [IMAGO_OTA_IDLE] = "idle",
    [IMAGO_OTA_QUEUED] = "queued",
    [IMAGO_OTA_DOWNLOADING] = "downloading",
    [IMAGO_OTA_INSTALLING] = "installing",
    [IMAGO_OTA_REBOOTING] = "rebooting",
    [IMAGO_OTA_SUCCEEDED] = "succeeded",
    [IMAGO_OTA_FAILED] = "failed",
    [IMAGO_OTA_REVERTED] = "reverted",
};

const char *imago_vreport_state_name(enum imago_vreport_state s)
{
        if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
                return NULL;
        return state_names[s];
}

int imago_vreport_state_from_name(const char *s, enum imago_vreport_state *out)
{
        size_t i;

        if (s == NULL || out == NULL)
                return IMAGO_EINVAL;
        for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
                if (strcmp(s, state_names[i]) == 0) {
                        *out = (enum imago_vreport_state)i;
                        return 0;
                }
        }
        return IMAGO_ENOTFOUND;
}

int vreport_digest(const char *payload, size_t len, uint8_t out[IMAGO_SHA256_LEN])
{
        return imago_sha256_tagged(vreport_tag, sizeof(vreport_tag), payload, len, out);
}

int vreport_u64_parse(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        size_t i, n;

        if (s == NULL)
                return -1;
        n = strlen(s);
        if (n < 1 || n > 20 || (s[0] == '0' && n > 1))
                return -1;
        for (i = 0; i < n; i++) {
                uint64_t d;
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                d = (uint64_t)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -1;
                v = v * 10 + d;
        }
        *out = v;
        return 0;
}

int vreport_nonce_valid(const char *s)
{
        return imago_hex_is_lower(s, 32, 32);
}

/* n >= 1 digits from *p; advances *p. */
static int digits(const char **p)
{
        const char *s = *p;

        while (**p >= '0' && **p <= '9')
                (*p)++;
        return *p > s;
}

int vreport_version_valid(const char *s)
{
        const char *p = s;

        if (s == NULL || strlen(s) > IMAGO_VREPORT_VERSION_MAX)
                return 0;
        if (!digits(&p) || *p++ != '.' || !digits(&p) || *p++ != '.' || !digits(&p))
                return 0;
        if (*p == '+') {
                p++;
                if (!digits(&p))
                        return 0;
        }
        return *p == '\0';
}

int vreport_hwid_valid(const char *s)
{
        return imago_name_valid(s, IMAGO_VREPORT_HWID_MAX);
}

_Static_assert(IMAGO_VREPORT_TARGET_MAX == IMAGO_BLK_OBJ_MAX, "a target is a block object name");

/* "" (no target) or the rule of imago_blk_obj_valid() (docs/blk.md). */
int vreport_target_valid(const char *s)
{
        if (s == NULL)
                return 0;
        return s[0] == '\0' || imago_blk_obj_valid(s, strlen(s));
}

int vreport_error_valid(const char *s)
{
        int code = 0;

        if (s == NULL)
                return 0;
        if (s[0] == '\0')
                return 1;
        if (strlen(s) >= sizeof(((struct imago_vreport *)0)->error))
                return 0;
        return imago_err_from_name(s, &code) == 0 && code != 0;
}

int vreport_b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *out_len)
{
        unsigned char buf[VREPORT_SIG_B64_MAX], again[VREPORT_SIG_B64_MAX + 1];
        size_t pad = 0;
        int got;

        if (s == NULL || n == 0 || n % 4 != 0 || n > VREPORT_SIG_B64_MAX)
                return -1;
        if (s[n - 1] == '=')
                pad++;
        if (s[n - 2] == '=')
                pad++;
        got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
        if (got < 0 || (size_t)got < pad)
                return -1;
        got -= (int)pad;
        if ((size_t)got > max || got == 0)
                return -1;
        if (EVP_EncodeBlock(again, buf, got) != (int)n || memcmp(again, s, n) != 0)
                return -1;
        memcpy(out, buf, (size_t)got);
        *out_len = (size_t)got;
        return 0;
}
