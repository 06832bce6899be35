/* imago_director: paths, times, signing and field rules (see director_priv.h). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/director/director_priv.h"

#include "base/err.h"
#include "base/name.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dir_path(char *out, size_t cap, const char *dir, const char *rel)
{
        int n = snprintf(out, cap, "%s/%s", dir, rel);

        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : 0;
}

int dir_time_fmt(int64_t t, char out[32])
{
        struct tm tm;
        time_t tt = (time_t)t;

        if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
                return IMAGO_ERANGE;
        return 0;
}

int dir_sign_doc(const struct imago_privkey *key, json_t *signed_obj, char **out, size_t *len)
{
        json_t *sig = NULL, *doc = NULL;
        int r;

        *out = NULL;
        *len = 0;
        if ((r = imago_tuf_sign(key, signed_obj, &sig)) != 0)
                goto out;
        r = IMAGO_ENOMEM;
        if ((doc = json_pack("{s:O,s:[o]}", "signed", signed_obj, "signatures", sig)) == NULL)
                goto out;
        sig = NULL; /* stolen by doc */
        if ((*out = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
                goto out;
        *len = strlen(*out);
        r = 0;
out:
        json_decref(sig);
        json_decref(doc);
        return r;
}

int dir_hwid_valid(const char *s)
{
        return imago_name_valid(s, IMAGO_VREPORT_HWID_MAX);
}

int dir_version_valid(const char *s)
{
        size_t i, n = s != NULL ? strlen(s) : 0;
        int dots = 0, plus = 0, run = 0;

        if (n < 5 || n > IMAGO_VREPORT_VERSION_MAX)
                return 0;
        for (i = 0; i < n; i++) {
                if (s[i] >= '0' && s[i] <= '9') {
                        run++;
                        continue;
                }
                if (run == 0)
                        return 0;
                if (s[i] == '.' && !plus && dots < 2)
                        dots++;
                else if (s[i] == '+' && dots == 2 && !plus)
                        plus = 1;
                else
                        return 0;
                run = 0;
        }
        return dots == 2 && run > 0;
}

int dir_target_valid(const struct imago_director_target *t)
{
        size_t n;

        if (t == NULL || memchr(t->name, '\0', sizeof(t->name)) == NULL ||
            memchr(t->hardware_id, '\0', sizeof(t->hardware_id)) == NULL ||
            memchr(t->version, '\0', sizeof(t->version)) == NULL)
                return 0;
        n = strlen(t->name);
        if (n == 0 || t->name[0] == '/' || t->name[n - 1] == '/' || strstr(t->name, "..") ||
            strstr(t->name, "//"))
                return 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)t->name[i];
                if (c < 0x21 || c > 0x7e || c == '\\')
                        return 0;
        }
        return t->length > 0 && t->length <= ((uint64_t)1 << 53) &&
               dir_hwid_valid(t->hardware_id) && dir_version_valid(t->version);
}
