/* imago_cmdenv: the result message a device sends back (see cmdenv.h). */
#include "cmdenv/cmdenv.h"

#include "base/err.h"
#include "json/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imago_cmdenv_result_build(const char *device, uint64_t seq, enum imago_cmdenv_status status,
                              json_t *result, char **out)
{
        const char *sname = imago_cmdenv_status_name(status);
        json_t *msg = NULL, *res = NULL;
        char seqs[24];
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (out == NULL || !imago_device_id_valid(device) || seq == 0 || sname == NULL ||
            (result != NULL && !json_is_object(result)))
                goto out;
        r = IMAGO_ENOMEM;
        snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
        res = result != NULL ? json_incref(result) : json_object();
        msg = json_pack("{s:i, s:s, s:s, s:s, s:O}", "v", 1, "device", device, "seq", seqs,
                        "status", sname, "result", res);
        if (res == NULL || msg == NULL)
                goto out;
        if ((*out = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
                goto out;
        r = 0;
        if (strlen(*out) > IMAGO_CMDENV_RESULT_MAX) {
                free(*out);
                *out = NULL;
                r = IMAGO_ETOOBIG;
        }
out:
        json_decref(res);
        json_decref(msg);
        return r;
}

void imago_cmdenv_result_release(struct imago_cmdenv_result *r)
{
        if (r == NULL)
                return;
        json_decref(r->root);
        memset(r, 0, sizeof(*r));
}

static int cmdenv_status_parse(const char *s, enum imago_cmdenv_status *out)
{
        static const enum imago_cmdenv_status all[] = {IMAGO_CMDENV_OK, IMAGO_CMDENV_FAILED,
                                                       IMAGO_CMDENV_REJECTED, IMAGO_CMDENV_UNKNOWN};
        size_t i;

        for (i = 0; s != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
                if (strcmp(s, imago_cmdenv_status_name(all[i])) == 0) {
                        *out = all[i];
                        return 0;
                }
        }
        return IMAGO_ECMD_MALFORMED;
}

int imago_cmdenv_result_parse(const uint8_t *buf, size_t len, struct imago_cmdenv_result *out)
{
        static const char *const keys[] = {"v", "device", "seq", "status", "result"};
        const char *dev;
        json_t *v;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                memset(out, 0, sizeof(*out));
        if (buf == NULL || out == NULL)
                goto out;
        if ((r = imago_json_object(buf, len, IMAGO_CMDENV_RESULT_MAX, &out->root)) != 0) {
                if (r == IMAGO_EMALFORMED)
                        r = IMAGO_ECMD_MALFORMED;
                goto out;
        }
        r = IMAGO_ECMD_MALFORMED;
        v = json_object_get(out->root, "v");
        dev = imago_json_str(out->root, "device", NULL);
        out->result = json_object_get(out->root, "result");
        if (!imago_json_only_keys(out->root, keys, 5) || !json_is_integer(v) ||
            json_integer_value(v) != 1 || !imago_device_id_valid(dev) ||
            !json_is_object(out->result) ||
            imago_cmdenv_seq_parse(imago_json_str(out->root, "seq", NULL), &out->seq) != 0 ||
            cmdenv_status_parse(imago_json_str(out->root, "status", NULL), &out->status) != 0)
                goto out;
        memcpy(out->device, dev, IMAGO_DEVICE_ID_LEN + 1);
        r = 0;
out:
        if (r != 0)
                imago_cmdenv_result_release(out);
        return r;
}
