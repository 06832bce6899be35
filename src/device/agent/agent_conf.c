/* imago-agent configuration file parser; see agent.h. */
#define _POSIX_C_SOURCE 200809L
#include "agent.h"

#include "base/err.h"
#include "base/name.h"
#include "base/num.h"
#include "device/ota_https/ota_https.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int conf_fail(char *err, size_t size, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int conf_fail(char *err, size_t size, unsigned line, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(err, size, "line %u: ", line);

        if (n >= 0 && (size_t)n < size) {
                va_start(ap, fmt);
                vsnprintf(err + n, size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return IMAGO_EMALFORMED;
}

static int is_space(char c)
{
        return c == ' ' || c == '\t';
}

static int set_str(char **slot, const char *v, size_t n)
{
        if ((*slot = malloc(n + 1)) == NULL)
                return IMAGO_ENOMEM;
        memcpy(*slot, v, n);
        (*slot)[n] = '\0';
        return IMAGO_OK;
}

static int set_num(const char *v, size_t n, uint32_t lo, uint32_t hi, uint32_t *out)
{
        char buf[16];

        if (n == 0 || n >= sizeof(buf))
                return IMAGO_ERANGE;
        memcpy(buf, v, n);
        buf[n] = '\0';
        if (imago_parse_u32(buf, hi, out) != IMAGO_OK || *out < lo)
                return IMAGO_ERANGE;
        return IMAGO_OK;
}

/* One "key = value" line (no newline); seen marks keys already set. */
static int line_kv(struct imago_agent_conf *c, const char *k, size_t kn, const char *v, size_t vn,
                   unsigned *seen, unsigned ln, char *err, size_t es)
{
        static const char *const keys[] = {
            "mode",        "token",      "module",         "pin_file",
            "key_file",    "store",      "host",           "port",
            "ca",          "root_ca",    "server_name",    "keepalive",
            "backoff_max", "birth_cert", "portal_host",    "portal_port",
            "command_key", "ota_dir",    "director_root",  "image_root",
            "hardware_id", "health_cmd", "health_timeout", "ota_interval",
            "ota_block",   "ota_window", "ota_https_url",  "ota_https_ca"};
        char **strs[] = {NULL,
                         &c->token,
                         &c->module,
                         &c->pin_file,
                         &c->key_file,
                         &c->store,
                         &c->host,
                         NULL,
                         &c->ca,
                         &c->root_ca,
                         &c->server_name,
                         NULL,
                         NULL,
                         &c->birth_cert,
                         &c->portal_host,
                         NULL,
                         &c->command_key,
                         &c->ota_dir,
                         &c->director_root,
                         &c->image_root,
                         &c->hardware_id,
                         &c->health_cmd,
                         NULL,
                         NULL,
                         NULL,
                         NULL,
                         &c->ota_https_url,
                         &c->ota_https_ca};
        _Static_assert(sizeof(strs) / sizeof(strs[0]) == sizeof(keys) / sizeof(keys[0]),
                       "one entry per key");
        size_t i;
        uint32_t num = 0;

        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (strlen(keys[i]) == kn && memcmp(keys[i], k, kn) == 0)
                        break;
        if (i == sizeof(keys) / sizeof(keys[0]))
                return conf_fail(err, es, ln, "unknown key '%.*s'", (int)(kn > 32 ? 32 : kn), k);
        if (*seen & (1U << i))
                return conf_fail(err, es, ln, "duplicate key '%s'", keys[i]);
        *seen |= 1U << i;
        /* hardware_id: [A-Za-z0-9._-]{1,64}, as in version reports */
        if (i == 20 && !imago_name_valid_n(v, vn, 64))
                return conf_fail(err, es, ln, "hardware_id must be [A-Za-z0-9._-]{1,64}");
        if (i == 21 && v[0] != '/')
                return conf_fail(err, es, ln, "health_cmd must be an absolute path");
        if (i == 26) {
                char host[IMAGO_OTA_HTTPS_HOST_MAX + 1], prefix[IMAGO_OTA_HTTPS_PREFIX_MAX + 1];
                char url[IMAGO_AGENT_CONF_LINE_MAX + 1];
                uint16_t port = 0;

                memcpy(url, v, vn);
                url[vn] = '\0';
                if (imago_ota_https_url_parse(url, host, &port, prefix) != IMAGO_OK)
                        return conf_fail(err, es, ln,
                                         "ota_https_url must be https://HOST:PORT/PATH/");
        }
        if (strs[i] != NULL)
                return set_str(strs[i], v, vn);
        switch (i) {
        case 0:
                if (vn == 10 && memcmp(v, "production", 10) == 0)
                        c->production = 1;
                else if (vn == 11 && memcmp(v, "development", 11) == 0)
                        c->production = 0;
                else
                        return conf_fail(err, es, ln, "mode must be production or development");
                return IMAGO_OK;
        case 7:
        case 15:
                if (set_num(v, vn, 1, 65535, &num) != IMAGO_OK)
                        return conf_fail(err, es, ln, "%s must be 1..65535", keys[i]);
                *(i == 7 ? &c->port : &c->portal_port) = (uint16_t)num;
                return IMAGO_OK;
        case 22:
                if (set_num(v, vn, 1, 3600, &c->health_timeout) != IMAGO_OK)
                        return conf_fail(err, es, ln, "health_timeout must be 1..3600");
                return IMAGO_OK;
        case 23:
                if (set_num(v, vn, 1, 604800, &c->ota_interval) != IMAGO_OK)
                        return conf_fail(err, es, ln, "ota_interval must be 1..604800");
                return IMAGO_OK;
        case 24:
                if (set_num(v, vn, 512, 16384, &c->ota_block) != IMAGO_OK)
                        return conf_fail(err, es, ln, "ota_block must be 512..16384");
                return IMAGO_OK;
        case 25:
                if (set_num(v, vn, 1, 16, &c->ota_window) != IMAGO_OK)
                        return conf_fail(err, es, ln, "ota_window must be 1..16");
                return IMAGO_OK;
        case 11:
                if (set_num(v, vn, 5, 3600, &c->keepalive) != IMAGO_OK)
                        return conf_fail(err, es, ln, "keepalive must be 5..3600");
                return IMAGO_OK;
        default: /* backoff_max */
                if (set_num(v, vn, 1, 3600, &c->backoff_max) != IMAGO_OK)
                        return conf_fail(err, es, ln, "backoff_max must be 1..3600");
                return IMAGO_OK;
        }
}

int imago_agent_conf_parse(const char *text, size_t len, struct imago_agent_conf *c, char *err,
                           size_t errsize)
{
        unsigned seen = 0, ln = 0;
        size_t pos = 0;
        int r = IMAGO_OK;

        memset(c, 0, sizeof(*c));
        c->production = 1;
        c->keepalive = 60;
        c->backoff_max = 60;
        c->health_timeout = 60;
        c->ota_interval = 3600;
        if (errsize > 0)
                err[0] = '\0';
        if (len > IMAGO_AGENT_CONF_MAX) {
                snprintf(err, errsize, "file larger than %d bytes", IMAGO_AGENT_CONF_MAX);
                return IMAGO_ETOOBIG;
        }
        while (pos < len && r == IMAGO_OK) {
                const char *s = text + pos, *eq, *k, *v, *e;
                size_t n = 0, kn, vn;

                ln++;
                while (pos + n < len && s[n] != '\n')
                        n++;
                pos += n + (pos + n < len);
                if (n > IMAGO_AGENT_CONF_LINE_MAX) {
                        r = conf_fail(err, errsize, ln, "longer than %d bytes",
                                      IMAGO_AGENT_CONF_LINE_MAX);
                        break;
                }
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
                                r = conf_fail(err, errsize, ln, "control character");
                                break;
                        } else if ((unsigned char)s[i] == 0x7f) {
                                r = conf_fail(err, errsize, ln, "control character");
                                break;
                        }
                if (r != IMAGO_OK)
                        break;
                k = s;
                e = s + n;
                while (k < e && is_space(*k))
                        k++;
                if (k == e || *k == '#')
                        continue;
                if ((eq = memchr(k, '=', (size_t)(e - k))) == NULL) {
                        r = conf_fail(err, errsize, ln, "expected key = value");
                        break;
                }
                kn = (size_t)(eq - k);
                while (kn > 0 && is_space(k[kn - 1]))
                        kn--;
                v = eq + 1;
                while (v < e && is_space(*v))
                        v++;
                vn = (size_t)(e - v);
                while (vn > 0 && is_space(v[vn - 1]))
                        vn--;
                if (kn == 0 || vn == 0) {
                        r = conf_fail(err, errsize, ln, "empty key or value");
                        break;
                }
                r = line_kv(c, k, kn, v, vn, &seen, ln, err, errsize);
        }
        if (r == IMAGO_OK) {
                const char *missing = c->token == NULL         ? "token"
                                      : c->store == NULL       ? "store"
                                      : c->host == NULL        ? "host"
                                      : c->port == 0           ? "port"
                                      : c->ca == NULL          ? "ca"
                                      : c->root_ca == NULL     ? "root_ca"
                                      : c->server_name == NULL ? "server_name"
                                                               : NULL;
                if (missing != NULL) {
                        snprintf(err, errsize, "missing key '%s'", missing);
                        r = IMAGO_EMALFORMED;
                }
        }
        if (r == IMAGO_OK && (c->portal_host == NULL) != (c->portal_port == 0)) {
                snprintf(err, errsize, "portal_host and portal_port go together");
                r = IMAGO_EMALFORMED;
        }
        if (r == IMAGO_OK && (c->ota_https_url == NULL) != (c->ota_https_ca == NULL)) {
                snprintf(err, errsize, "ota_https_url and ota_https_ca go together");
                r = IMAGO_EMALFORMED;
        }
        if (r == IMAGO_OK && c->production && c->birth_cert != NULL) {
                snprintf(err, errsize, "birth_cert is for development mode only");
                r = IMAGO_EMALFORMED;
        }
        if (r == IMAGO_OK && c->module == NULL &&
            (c->module = strdup(IMAGO_AGENT_DEFAULT_MODULE)) == NULL)
                r = IMAGO_ENOMEM;
        if (r != IMAGO_OK)
                imago_agent_conf_free(c);
        return r;
}

void imago_agent_conf_free(struct imago_agent_conf *c)
{
        free(c->token);
        free(c->module);
        free(c->pin_file);
        free(c->key_file);
        free(c->store);
        free(c->birth_cert);
        free(c->host);
        free(c->ca);
        free(c->root_ca);
        free(c->server_name);
        free(c->portal_host);
        free(c->command_key);
        free(c->ota_dir);
        free(c->director_root);
        free(c->image_root);
        free(c->hardware_id);
        free(c->health_cmd);
        free(c->ota_https_url);
        free(c->ota_https_ca);
        memset(c, 0, sizeof(*c));
        c->production = 1;
}
