/*
 * imago-cloud config file (DIR/imago-cloud.conf): a small strict format.
 *
 *   # comment (a line whose first non-blank character is '#')
 *   key = value
 *
 * One setting per line; blank lines allowed; spaces or tabs around the key
 * and the value are ignored; no quoting, no escapes, no inline comments.
 * Lines are at most IMAGO_CLOUD_CONF_LINE_MAX bytes, the file at most
 * IMAGO_CLOUD_CONF_MAX; only printable ASCII, tab, LF (and CR before LF).
 * Every key is known, given at most once, and typed:
 *
 *   data_dir          absolute path            /var/lib/imago-cloud
 *   registry          sqlite:<abs path> | postgres:<conninfo>
 *                                              sqlite:<data_dir>/registry.db
 *   mqtt_host         host name or IP          127.0.0.1
 *   mqtt_port         1..65535                 8883
 *   http_host         host name or IP          127.0.0.1 (broker-hook endpoint)
 *   http_port         1..65535                 8884
 *   service_cn        1..64 of [A-Za-z0-9._-]  imago-cloud
 *   cert_days         1..825                   90 (operational certificate lifetime)
 *   enrol_key_policy  same-key | new-key       same-key
 *   log_level         error|warn|info|debug    info
 *   mosquitto_path    absolute path            /usr/sbin/mosquitto
 *   plugin_path       absolute path            /usr/lib/imago/imago_broker.so
 *   api_host          host name or IP          127.0.0.1 (HTTPS API for apps, docs/api.md)
 *   api_port          1..65535                 8443
 *   api_signup        on | off                 on (POST /v1/users open to anyone)
 *
 * Paths are 1..IMAGO_CLOUD_PATH_MAX-1 bytes without spaces, '#' or quotes
 * (they are written into mosquitto.conf); host names 1..253 of
 * [A-Za-z0-9.:-].
 *
 * The config struct is plain data owned by the caller; nothing to free.
 * Parsing starts from imago_cloud_config_defaults(), so absent keys keep
 * their default; the struct is written only on success.
 *
 * Errors: IMAGO_ECONF_SYNTAX (no '=', empty key or value, bad byte, line too
 * long), IMAGO_ECONF_KEY (unknown key), IMAGO_ECONF_VALUE (bad value),
 * IMAGO_ECONF_DUP (key given twice), IMAGO_ETOOBIG (file too large),
 * IMAGO_ENOTFOUND / IMAGO_EIO (load).  *line gets the 1-based number of the
 * offending line (0 when the error is not about a line).
 */
#ifndef IMAGO_CLOUD_CONFIG_H
#define IMAGO_CLOUD_CONFIG_H

#include "base/log.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_CLOUD_CONF_MAX      (64U * 1024U)
#define IMAGO_CLOUD_CONF_LINE_MAX 1024U
#define IMAGO_CLOUD_PATH_MAX      256U
#define IMAGO_CLOUD_URI_MAX       512U
#define IMAGO_CLOUD_HOST_MAX      254U
#define IMAGO_CLOUD_CN_MAX        64U
#define IMAGO_CLOUD_CERT_DAYS_MAX 825U
#define IMAGO_CLOUD_CONF_FILE     "imago-cloud.conf"

enum imago_cloud_key_policy {
        IMAGO_CLOUD_SAME_KEY = 0, /* the CSR must be signed by the birth key */
        IMAGO_CLOUD_NEW_KEY =
            1, /* the CSR may carry a new key (signed by the birth key's holder) */
};

struct imago_cloud_config {
        char data_dir[IMAGO_CLOUD_PATH_MAX];
        char registry[IMAGO_CLOUD_URI_MAX];
        char mqtt_host[IMAGO_CLOUD_HOST_MAX];
        uint16_t mqtt_port;
        char http_host[IMAGO_CLOUD_HOST_MAX];
        uint16_t http_port;
        char service_cn[IMAGO_CLOUD_CN_MAX + 1];
        uint32_t cert_days;
        enum imago_cloud_key_policy enrol_key_policy;
        enum imago_log_level log_level;
        char mosquitto_path[IMAGO_CLOUD_PATH_MAX];
        char plugin_path[IMAGO_CLOUD_PATH_MAX];
        char api_host[IMAGO_CLOUD_HOST_MAX];
        uint16_t api_port;
        int api_signup; /* 1 on, 0 off */
};

void imago_cloud_config_defaults(struct imago_cloud_config *c);

/* Parse buf over the defaults; registry defaults to sqlite:<data_dir>/registry.db. */
int imago_cloud_config_parse(const uint8_t *buf, size_t len, struct imago_cloud_config *c,
                             unsigned *line);

/* Read and parse a file (at most IMAGO_CLOUD_CONF_MAX bytes). */
int imago_cloud_config_load(const char *path, struct imago_cloud_config *c, unsigned *line);

/* Write every key in the format above; *out is malloc'd (NUL-terminated), caller frees. */
int imago_cloud_config_format(const struct imago_cloud_config *c, char **out, size_t *len);

/* Setters with the parser's checks (for command-line options); IMAGO_ECONF_KEY / _VALUE. */
int imago_cloud_config_set(struct imago_cloud_config *c, const char *key, const char *value);

const char *imago_cloud_key_policy_name(enum imago_cloud_key_policy p);

#endif
