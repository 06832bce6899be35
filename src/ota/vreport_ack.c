/* imago_vreport: the ack of a version report (see vreport.h). */
#include "ota/vreport_priv.h"

#include "base/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define VREPORT_ACK_MAX 256

int imago_vreport_ack_build(const char *nonce, int result, char **out, size_t *len)
{
        const char *res;
        json_t *o = NULL;
        int rc = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (nonce == NULL || out == NULL || len == NULL || !vreport_nonce_valid(nonce))
                goto out;
        res = result == 0 ? "ok" : imago_errname(result);
        if (result != 0 && !vreport_error_valid(res))
                goto out;
        rc = IMAGO_ENOMEM;
        o = json_pack("{s:i, s:s, s:s}", "v", 1, "nonce", nonce, "result", res);
        if (o == NULL || (*out = json_dumps(o, JSON_COMPACT)) == NULL)
                goto out;
        *len = strlen(*out);
        rc = 0;
out:
        json_decref(o);
        return rc;
}

int imago_vreport_ack_parse(const uint8_t *buf, size_t len, char nonce[33], int *result)
{
        static const char *const keys[] = {"v", "nonce", "result"};
        const char *n, *res;
        json_t *o = NULL, *v;
        int rc = IMAGO_EINVAL, code = 0;

        if (buf == NULL || nonce == NULL || result == NULL)
                goto out;
        if ((rc = imago_json_object(buf, len, VREPORT_ACK_MAX, &o)) != 0) {
                if (rc == IMAGO_EMALFORMED)
                        rc = IMAGO_EOTA_REPORT;
                goto out;
        }
        rc = IMAGO_EOTA_REPORT;
        v = json_object_get(o, "v");
        if (!imago_json_only_keys(o, keys, 3) || !json_is_integer(v) || json_integer_value(v) != 1)
                goto out;
        n = imago_json_str(o, "nonce", NULL);
        res = imago_json_str(o, "result", NULL);
        if (n == NULL || res == NULL || !vreport_nonce_valid(n))
                goto out;
        if (strcmp(res, "ok") != 0) {
                if (res[0] == '\0' || !vreport_error_valid(res) ||
                    imago_err_from_name(res, &code) != 0)
                        goto out;
        }
        memcpy(nonce, n, 33);
        *result = code;
        rc = 0;
out:
        json_decref(o);
        return rc;
}
