/*
 * libFuzzer target: imago_api's request body parsers (src/cloud/api).  The
 * first byte picks the body kind (mod 8): 0 credentials (signup, log-in),
 * 1 refresh token (refresh, logout), 2 registration-token request, 3 desired
 * state patch, 4 command, 5 grant, 6 rollout, 7 device tags; the rest is the
 * body.  What a parser accepts must be consistent: a state patch re-parses to
 * the same text, a command name is a valid name, a grant's group is a valid
 * group, a rollout passes imago_rollout_spec_check, tags are valid and
 * distinct.
 */
#include "base/err.h"
#include "cloud/api/api.h"
#include "cmdenv/cmdenv.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_state(const uint8_t *p, size_t n)
{
        char *patch = NULL, *again = NULL, body[IMAGO_API_BODY_MAX + 64];
        uint64_t v = 0, v2 = 0;
        int len;

        if (imago_api_parse_state(p, n, &patch, &v) != IMAGO_OK)
                return;
        len = snprintf(body, sizeof(body), "{\"desired\":%s,\"version\":%llu}", patch,
                       (unsigned long long)v);
        if (len < 0 || (size_t)len >= sizeof(body) ||
            imago_api_parse_state((const uint8_t *)body, (size_t)len, &again, &v2) != IMAGO_OK ||
            strcmp(patch, again) != 0 || v != v2)
                abort();
        free(patch);
        free(again);
}

static void fz_tags(const uint8_t *p, size_t n)
{
        struct imago_api_tags t;
        size_t i, k;

        if (imago_api_parse_tags(p, n, &t) != IMAGO_OK)
                return;
        if (t.n > IMAGO_ROLLOUT_TAGS_MAX)
                abort();
        for (i = 0; i < t.n; i++) {
                if (!imago_api_tag_valid(t.tags[i]))
                        abort();
                for (k = 0; k < i; k++)
                        if (strcmp(t.tags[i], t.tags[k]) == 0)
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_rollout_spec ro;
        struct imago_api_creds cr;
        struct imago_api_cmd_req cmd;
        struct imago_api_grant_req g;
        char tok[IMAGO_AUTH_REFRESH_LEN + 1];
        int64_t ttl;

        if (size < 1)
                return 0;
        switch (data[0] % 8) {
        case 0:
                if (imago_api_parse_creds(data + 1, size - 1, &cr) == IMAGO_OK &&
                    (cr.password_len == 0 || strlen(cr.password) != cr.password_len))
                        abort();
                imago_api_creds_wipe(&cr);
                break;
        case 1:
                if (imago_api_parse_refresh(data + 1, size - 1, tok) == IMAGO_OK &&
                    strlen(tok) != IMAGO_AUTH_REFRESH_LEN)
                        abort();
                break;
        case 2:
                if (imago_api_parse_regtoken(data + 1, size - 1, &ttl) == IMAGO_OK &&
                    (ttl < 0 || ttl > 86400))
                        abort();
                break;
        case 3:
                fz_state(data + 1, size - 1);
                break;
        case 4:
                if (imago_api_parse_command(data + 1, size - 1, &cmd) == IMAGO_OK &&
                    (!imago_cmdenv_name_valid(cmd.name) || cmd.ttl < 1 || cmd.ttl > 3600 ||
                     cmd.wait_ms > IMAGO_API_WAIT_MAX))
                        abort();
                imago_api_cmd_req_free(&cmd);
                break;
        case 6:
                if (imago_api_parse_rollout(data + 1, size - 1, &ro) == IMAGO_OK &&
                    (imago_rollout_spec_check(&ro) != IMAGO_OK ||
                     (ro.group[0] == '\0' && ro.tag[0] == '\0') || ro.target[0] == '\0'))
                        abort();
                break;
        case 7:
                fz_tags(data + 1, size - 1);
                break;
        default:
                if (imago_api_parse_grant(data + 1, size - 1, &g) == IMAGO_OK &&
                    (!imago_auth_group_valid(g.group) || g.expires <= 0))
                        abort();
                break;
        }
        return 0;
}
