/* See config.h. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/config.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_PATH, K_URI, K_HOST, K_PORT, K_CN, K_DAYS, K_POLICY, K_LEVEL, K_ONOFF };

struct key {
        const char *name;
        enum kind kind;
        size_t off;
        size_t cap;
};

#define F(field)                                                                                   \
        offsetof(struct imago_cloud_config, field), sizeof(((struct imago_cloud_config *)0)->field)

static const struct key keys[] = {
    {"data_dir", K_PATH, F(data_dir)},
    {"registry", K_URI, F(registry)},
    {"mqtt_host", K_HOST, F(mqtt_host)},
    {"mqtt_port", K_PORT, F(mqtt_port)},
    {"http_host", K_HOST, F(http_host)},
    {"http_port", K_PORT, F(http_port)},
    {"service_cn", K_CN, F(service_cn)},
    {"cert_days", K_DAYS, F(cert_days)},
    {"enrol_key_policy", K_POLICY, F(enrol_key_policy)},
    {"log_level", K_LEVEL, F(log_level)},
    {"mosquitto_path", K_PATH, F(mosquitto_path)},
    {"plugin_path", K_PATH, F(plugin_path)},
    {"api_host", K_HOST, F(api_host)},
    {"api_port", K_PORT, F(api_port)},
    {"api_signup", K_ONOFF, F(api_signup)},
};
#define NKEYS        (sizeof(keys) / sizeof(keys[0]))
#define KEY_REGISTRY 1

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void imago_cloud_config_defaults(struct imago_cloud_config *c)
{
        memset(c, 0, sizeof(*c));
        snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/imago-cloud");
        snprintf(c->registry, sizeof(c->registry), "sqlite:/var/lib/imago-cloud/registry.db");
        snprintf(c->mqtt_host, sizeof(c->mqtt_host), "127.0.0.1");
        c->mqtt_port = 8883;
        snprintf(c->http_host, sizeof(c->http_host), "127.0.0.1");
        c->http_port = 8884;
        snprintf(c->service_cn, sizeof(c->service_cn), "imago-cloud");
        c->cert_days = 90;
        c->enrol_key_policy = IMAGO_CLOUD_SAME_KEY;
        c->log_level = IMAGO_LOG_INFO;
        snprintf(c->mosquitto_path, sizeof(c->mosquitto_path), "/usr/sbin/mosquitto");
        snprintf(c->plugin_path, sizeof(c->plugin_path), "/usr/lib/imago/imago_broker.so");
        snprintf(c->api_host, sizeof(c->api_host), "127.0.0.1");
        c->api_port = 8443;
        c->api_signup = 1;
}

const char *imago_cloud_key_policy_name(enum imago_cloud_key_policy p)
{
        return p == IMAGO_CLOUD_NEW_KEY ? "new-key" : "same-key";
}

static int only(const char *v, size_t max, const char *set)
{
        size_t n = strlen(v);

        return n >= 1 && n <= max && strspn(v, set) == n;
}

#define ALNUM    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define PATH_SET ALNUM "/._+-@:,=%"

static int valid_path(const char *v, size_t cap)
{
        return v[0] == '/' && only(v, cap - 1, PATH_SET) && strstr(v, "/../") == NULL &&
               (strlen(v) < 3 || strcmp(v + strlen(v) - 3, "/..") != 0);
}

static int valid_uri(const char *v, size_t cap)
{
        size_t i, n = strlen(v);

        if (n >= cap)
                return 0;
        if (strncmp(v, "sqlite:", 7) == 0)
                return valid_path(v + 7, cap - 7);
        if (strncmp(v, "postgres:", 9) != 0 || n == 9)
                return 0;
        for (i = 9; i < n; i++)
                if (v[i] < 0x20 || v[i] > 0x7e)
                        return 0;
        return 1;
}

static int set_value(struct imago_cloud_config *c, const struct key *k, const char *v)
{
        char *field = (char *)c + k->off;
        uint32_t u;
        size_t i;

        switch (k->kind) {
        case K_PATH:
                if (!valid_path(v, k->cap))
                        return IMAGO_ECONF_VALUE;
                break;
        case K_URI:
                if (!valid_uri(v, k->cap))
                        return IMAGO_ECONF_VALUE;
                break;
        case K_HOST:
                if (!only(v, k->cap - 1, ALNUM ".:-"))
                        return IMAGO_ECONF_VALUE;
                break;
        case K_CN:
                if (!only(v, k->cap - 1, ALNUM "._-"))
                        return IMAGO_ECONF_VALUE;
                break;
        case K_PORT:
                if (imago_parse_u32(v, 65535, &u) != 0 || u == 0 || v[0] == '0')
                        return IMAGO_ECONF_VALUE;
                *(uint16_t *)(void *)field = (uint16_t)u;
                return 0;
        case K_DAYS:
                if (imago_parse_u32(v, IMAGO_CLOUD_CERT_DAYS_MAX, &u) != 0 || u == 0 || v[0] == '0')
                        return IMAGO_ECONF_VALUE;
                c->cert_days = u;
                return 0;
        case K_POLICY:
                if (strcmp(v, "same-key") == 0)
                        c->enrol_key_policy = IMAGO_CLOUD_SAME_KEY;
                else if (strcmp(v, "new-key") == 0)
                        c->enrol_key_policy = IMAGO_CLOUD_NEW_KEY;
                else
                        return IMAGO_ECONF_VALUE;
                return 0;
        case K_LEVEL:
                for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                        if (strcmp(v, level_names[i]) == 0) {
                                c->log_level = (enum imago_log_level)i;
                                return 0;
                        }
                }
                return IMAGO_ECONF_VALUE;
        case K_ONOFF:
                if (strcmp(v, "on") == 0)
                        *(int *)(void *)field = 1;
                else if (strcmp(v, "off") == 0)
                        *(int *)(void *)field = 0;
                else
                        return IMAGO_ECONF_VALUE;
                return 0;
        }
        memcpy(field, v, strlen(v) + 1);
        return 0;
}

static const struct key *find_key(const char *name)
{
        size_t i;

        for (i = 0; i < NKEYS; i++)
                if (strcmp(keys[i].name, name) == 0)
                        return &keys[i];
        return NULL;
}

int imago_cloud_config_set(struct imago_cloud_config *c, const char *key, const char *value)
{
        const struct key *k;

        if (c == NULL || key == NULL || value == NULL)
                return IMAGO_EINVAL;
        if ((k = find_key(key)) == NULL)
                return IMAGO_ECONF_KEY;
        return set_value(c, k, value);
}

static int blank(char ch)
{
        return ch == ' ' || ch == '\t';
}

/* One line (no LF) into key and value, trimmed, in buf (cap > len). */
static int parse_line(struct imago_cloud_config *c, const uint8_t *p, size_t n, uint32_t *seen)
{
        char buf[IMAGO_CLOUD_CONF_LINE_MAX + 1];
        char *key, *val, *eq, *end;
        const struct key *k;
        size_t i;
        int r;

        if (n > 0 && p[n - 1] == '\r')
                n--;
        if (n > IMAGO_CLOUD_CONF_LINE_MAX)
                return IMAGO_ECONF_SYNTAX;
        for (i = 0; i < n; i++)
                if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\t')
                        return IMAGO_ECONF_SYNTAX;
        memcpy(buf, p, n);
        buf[n] = '\0';
        key = buf;
        while (blank(*key))
                key++;
        if (*key == '\0' || *key == '#')
                return 0;
        if ((eq = strchr(key, '=')) == NULL)
                return IMAGO_ECONF_SYNTAX;
        val = eq + 1;
        for (end = eq; end > key && blank(end[-1]); end--)
                ;
        *end = '\0';
        while (blank(*val))
                val++;
        for (end = val + strlen(val); end > val && blank(end[-1]); end--)
                ;
        *end = '\0';
        if (*key == '\0' || *val == '\0')
                return IMAGO_ECONF_SYNTAX;
        if ((k = find_key(key)) == NULL)
                return IMAGO_ECONF_KEY;
        if (*seen & (1U << (k - keys)))
                return IMAGO_ECONF_DUP;
        *seen |= 1U << (k - keys);
        r = set_value(c, k, val);
        return r;
}

int imago_cloud_config_parse(const uint8_t *buf, size_t len, struct imago_cloud_config *out,
                             unsigned *line)
{
        struct imago_cloud_config c;
        const uint8_t *nl;
        size_t pos = 0, n;
        unsigned ln = 0;
        uint32_t seen = 0;
        int r;

        if (line != NULL)
                *line = 0;
        if ((buf == NULL && len > 0) || out == NULL)
                return IMAGO_EINVAL;
        if (len > IMAGO_CLOUD_CONF_MAX)
                return IMAGO_ETOOBIG;
        imago_cloud_config_defaults(&c);
        while (pos < len) {
                ln++;
                nl = memchr(buf + pos, '\n', len - pos);
                n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
                if ((r = parse_line(&c, buf + pos, n, &seen)) != 0)
                        goto out;
                pos += n + (nl != NULL ? 1 : 0);
        }
        ln = 0;
        if (!(seen & (1U << KEY_REGISTRY))) {
                n = (size_t)snprintf(c.registry, sizeof(c.registry), "sqlite:%s/registry.db",
                                     c.data_dir);
                if (n >= sizeof(c.registry)) {
                        r = IMAGO_ECONF_VALUE;
                        goto out;
                }
        }
        *out = c;
        r = 0;
out:
        if (r != 0 && line != NULL)
                *line = ln;
        return r;
}

int imago_cloud_config_load(const char *path, struct imago_cloud_config *c, unsigned *line)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (line != NULL)
                *line = 0;
        if ((r = imago_file_read(path, IMAGO_CLOUD_CONF_MAX, &data, &len)) != 0)
                return r;
        r = imago_cloud_config_parse(data, len, c, line);
        imago_file_free(data, len);
        return r;
}

int imago_cloud_config_format(const struct imago_cloud_config *c, char **out, size_t *len)
{
        const size_t cap = 4096;
        char *buf = NULL;
        int n, r;

        if (c == NULL || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if ((buf = malloc(cap)) == NULL)
                return IMAGO_ENOMEM;
        n = snprintf(buf, cap,
                     "# imago-cloud configuration; keys and values: docs/cloud.md\n"
                     "data_dir = %s\n"
                     "registry = %s\n"
                     "mqtt_host = %s\n"
                     "mqtt_port = %u\n"
                     "http_host = %s\n"
                     "http_port = %u\n"
                     "service_cn = %s\n"
                     "cert_days = %u\n"
                     "enrol_key_policy = %s\n"
                     "log_level = %s\n"
                     "mosquitto_path = %s\n"
                     "plugin_path = %s\n"
                     "api_host = %s\n"
                     "api_port = %u\n"
                     "api_signup = %s\n",
                     c->data_dir, c->registry, c->mqtt_host, (unsigned)c->mqtt_port, c->http_host,
                     (unsigned)c->http_port, c->service_cn, (unsigned)c->cert_days,
                     imago_cloud_key_policy_name(c->enrol_key_policy),
                     level_names[(unsigned)c->log_level <= IMAGO_LOG_DEBUG ? c->log_level : 0],
                     c->mosquitto_path, c->plugin_path, c->api_host, (unsigned)c->api_port,
                     c->api_signup ? "on" : "off");
        if (n < 0 || (size_t)n >= cap) {
                r = IMAGO_EOVERFLOW;
                goto out;
        }
        *out = buf;
        buf = NULL;
        if (len != NULL)
                *len = (size_t)n;
        r = 0;
out:
        free(buf);
        return r;
}
