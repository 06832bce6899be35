/* The setup portal's POST /v1/configure body; see agent.h. */
#include "agent.h"

#include "base/err.h"
#include "base/wipe.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

static int printable(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                        return 0;
        return 1;
}

static int hex64(const char *s, size_t n)
{
        if (n != 64)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F')))
                        return 0;
        return 1;
}

/* UTF-8 (jansson checked it) without C0 controls or DEL. */
static int no_controls(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
                        return 0;
        return 1;
}

/* JWE compact form: base64url characters and exactly four dots. */
static int jwe_shape(const char *s, size_t n)
{
        size_t dots = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.')
                        dots++;
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_'))
                        return 0;
        }
        return dots == 4;
}

/* A copy of jansson's text in our own allocation; jansson's is wiped and released. */
static int dup_text(char *txt, char **out, size_t *len)
{
        json_malloc_t jm;
        json_free_t jf;
        size_t n;

        if (txt == NULL)
                return IMAGO_ENOMEM;
        n = strlen(txt);
        *out = malloc(n + 1);
        if (*out != NULL) {
                memcpy(*out, txt, n + 1);
                *len = n;
        }
        imago_wipe(txt, n);
        json_get_alloc_funcs(&jm, &jf);
        jf(txt);
        return *out != NULL ? IMAGO_OK : IMAGO_ENOMEM;
}

int imago_agent_configure_parse(const uint8_t *buf, size_t len, struct imago_agent_configure *out)
{
        static const char *const top[] = {"setup_code", "network", "registration_token"};
        static const char *const netk[] = {"ssid", "passphrase"};
        json_t *net;
        size_t n_code = 0, n_ssid = 0, n_pass = 0, n_tok = 0;
        int r;

        if (out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if (buf == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_json_object(buf, len, IMAGO_AGENT_CONFIGURE_MAX, &out->root)) != IMAGO_OK)
                goto out;
        r = IMAGO_EMALFORMED;
        if (!imago_json_only_keys(out->root, top, 3) ||
            !json_is_object(net = json_object_get(out->root, "network")) ||
            !imago_json_only_keys(net, netk, 2))
                goto out;
        out->setup_code = imago_json_str(out->root, "setup_code", &n_code);
        out->token = imago_json_str(out->root, "registration_token", &n_tok);
        out->ssid = imago_json_str(net, "ssid", &n_ssid);
        out->passphrase = imago_json_str(net, "passphrase", &n_pass);
        if (out->setup_code == NULL || n_code == 0 || n_code > IMAGO_AGENT_SETUP_CODE_MAX ||
            !printable(out->setup_code, n_code))
                goto out;
        if (out->ssid == NULL || n_ssid == 0 || n_ssid > IMAGO_AGENT_SSID_MAX ||
            !no_controls(out->ssid, n_ssid))
                goto out;
        /* Present but not a string (or with a NUL): refused, not taken as absent. */
        if (out->passphrase == NULL && json_object_get(net, "passphrase") != NULL)
                goto out;
        if (out->passphrase != NULL && n_pass != 0 &&
            !((n_pass >= 8 && n_pass <= 63 && printable(out->passphrase, n_pass)) ||
              hex64(out->passphrase, n_pass)))
                goto out;
        if (out->token == NULL || n_tok == 0 || n_tok > IMAGO_AGENT_TOKEN_MAX ||
            !jwe_shape(out->token, n_tok))
                goto out;
        r = dup_text(json_dumps(net, JSON_COMPACT | JSON_SORT_KEYS), &out->net_json,
                     &out->net_json_len);
out:
        if (r != IMAGO_OK)
                imago_agent_configure_free(out);
        return r;
}

/* The strings belong to root: overwrite them in place before it is released. */
static void wipe_str(const char *s)
{
        if (s != NULL)
                imago_wipe((char *)(uintptr_t)s, strlen(s));
}

void imago_agent_configure_free(struct imago_agent_configure *c)
{
        if (c == NULL)
                return;
        wipe_str(c->setup_code);
        wipe_str(c->passphrase);
        wipe_str(c->token);
        if (c->net_json != NULL) {
                imago_wipe(c->net_json, c->net_json_len);
                free(c->net_json);
        }
        if (c->root != NULL)
                json_decref(c->root);
        memset(c, 0, sizeof(*c));
}
