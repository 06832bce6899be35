/* imago_regtoken: the claims inside a token (see regtoken.h). */
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/hex.h"
#include "json/json.h"

#include <string.h>

int imago_regtoken_user_valid(const char *s)
{
        size_t i, n;

        if (s == NULL)
                return 0;
        n = strlen(s);
        if (n < 1 || n > IMAGO_REGTOKEN_USER_MAX)
                return 0;
        for (i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '@' || c == '-'))
                        return 0;
        }
        return 1;
}

static int regtoken_time(json_t *obj, const char *key, int64_t *out)
{
        json_t *v = json_object_get(obj, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > ((json_int_t)1 << 53))
                return IMAGO_ECMD_TOKEN;
        *out = (int64_t)json_integer_value(v);
        return 0;
}

int imago_regtoken_parse_claims(const uint8_t *buf, size_t len, char *user, size_t cap, char *nonce,
                                int64_t *iat, int64_t *exp)
{
        static const char *const keys[] = {"v", "user", "nonce", "iat", "exp"};
        const char *u, *n;
        json_t *obj = NULL, *v;
        int r = IMAGO_EINVAL;

        if (buf == NULL || user == NULL || cap < IMAGO_REGTOKEN_USER_MAX + 1 || nonce == NULL ||
            iat == NULL || exp == NULL)
                goto out;
        if ((r = imago_json_object(buf, len, IMAGO_REGTOKEN_CLAIMS_MAX, &obj)) != 0) {
                r = IMAGO_ECMD_TOKEN;
                goto out;
        }
        r = IMAGO_ECMD_TOKEN;
        v = json_object_get(obj, "v");
        u = imago_json_str(obj, "user", NULL);
        n = imago_json_str(obj, "nonce", NULL);
        if (!imago_json_only_keys(obj, keys, 5) || !json_is_integer(v) ||
            json_integer_value(v) != 1 || !imago_regtoken_user_valid(u) ||
            !imago_hex_is_lower(n, IMAGO_REGTOKEN_NONCE_LEN, IMAGO_REGTOKEN_NONCE_LEN) ||
            regtoken_time(obj, "iat", iat) != 0 || regtoken_time(obj, "exp", exp) != 0 ||
            *exp <= *iat || *exp - *iat > IMAGO_REGTOKEN_MAX_TTL)
                goto out;
        memcpy(user, u, strlen(u) + 1);
        memcpy(nonce, n, IMAGO_REGTOKEN_NONCE_LEN + 1);
        r = 0;
out:
        json_decref(obj);
        return r;
}
