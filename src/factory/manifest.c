/* Factory manifest: parse, build and write; see manifest.h. */
#include "manifest.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/name.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#define FORMAT_NAME "imago-factory-manifest"

/* Batch names are device groups: the shared name rule (base/name.h). */
static int is_batch_name(const char *s)
{
        return imago_name_valid(s, 64);
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly. */
static int is_timestamp(const char *s)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

        if (strlen(s) != sizeof(shape) - 1)
                return 0;
        for (size_t i = 0; shape[i] != '\0'; i++) {
                if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
                        return 0;
        }
        return 1;
}

/* Strict base64 of a DER certificate: decode, then re-encode and compare. */
static int decode_cert(const char *b64, uint8_t **der, size_t *der_len)
{
        size_t n = strlen(b64), pad = 0;
        uint8_t *buf = NULL;
        char *again = NULL;
        int got, r = IMAGO_EMANIFEST_FIELD;

        if (n == 0 || n % 4 != 0 || n > (IMAGO_MANIFEST_CERT_MAX / 3 + 1) * 4)
                return IMAGO_EMANIFEST_FIELD;
        if (b64[n - 1] == '=')
                pad++;
        if (b64[n - 2] == '=')
                pad++;
        buf = malloc(n / 4 * 3 + 1);
        again = malloc(n + 1);
        if (buf == NULL || again == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        got = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
        if (got < 0 || (size_t)got < pad)
                goto out;
        got -= (int)pad;
        if (EVP_EncodeBlock((unsigned char *)again, buf, got) != (int)n ||
            memcmp(again, b64, n) != 0)
                goto out;
        *der = buf;
        *der_len = (size_t)got;
        buf = NULL;
        r = IMAGO_OK;
out:
        free(buf);
        free(again);
        return r;
}

void imago_manifest_free(struct imago_manifest *m)
{
        if (m == NULL)
                return;
        for (size_t i = 0; i < m->count; i++)
                free(m->devices[i].cert_der);
        free(m->devices);
        memset(m, 0, sizeof(*m));
}

int imago_manifest_add(struct imago_manifest *m, const char *id, const char *serial,
                       const uint8_t *cert_der, size_t cert_len)
{
        struct imago_manifest_device *d, *grown;

        if (m == NULL || id == NULL || serial == NULL || cert_der == NULL || cert_len == 0)
                return IMAGO_EINVAL;
        if (!imago_device_id_valid(id) || !imago_hex_is_lower(serial, 1, 40) ||
            cert_len > IMAGO_MANIFEST_CERT_MAX)
                return IMAGO_EMANIFEST_FIELD;
        if (m->count >= IMAGO_MANIFEST_MAX_DEVICES)
                return IMAGO_ETOOBIG;
        for (size_t i = 0; i < m->count; i++) {
                if (strcmp(m->devices[i].id, id) == 0 || strcmp(m->devices[i].serial, serial) == 0)
                        return IMAGO_EMANIFEST_DUP;
        }
        grown = realloc(m->devices, (m->count + 1) * sizeof(*grown));
        if (grown == NULL)
                return IMAGO_ENOMEM;
        m->devices = grown;
        d = &m->devices[m->count];
        memset(d, 0, sizeof(*d));
        d->cert_der = malloc(cert_len);
        if (d->cert_der == NULL)
                return IMAGO_ENOMEM;
        memcpy(d->cert_der, cert_der, cert_len);
        d->cert_len = cert_len;
        memcpy(d->id, id, IMAGO_DEVICE_ID_LEN + 1);
        memcpy(d->serial, serial, strlen(serial) + 1);
        m->count++;
        return IMAGO_OK;
}

static int parse_device(json_t *dev, struct imago_manifest *m)
{
        static const char *const keys[] = {"id", "serial", "certificate"};
        const char *id, *serial, *cert;
        uint8_t *der = NULL;
        size_t der_len = 0;
        int r;

        if (!json_is_object(dev))
                return IMAGO_EMANIFEST_FIELD;
        if (!imago_json_only_keys(dev, keys, 3))
                return IMAGO_EMANIFEST_FIELD;
        id = imago_json_str(dev, "id", NULL);
        serial = imago_json_str(dev, "serial", NULL);
        cert = imago_json_str(dev, "certificate", NULL);
        if (id == NULL || serial == NULL || cert == NULL)
                return IMAGO_EMANIFEST_FIELD;
        if ((r = decode_cert(cert, &der, &der_len)) != IMAGO_OK)
                return r;
        r = imago_manifest_add(m, id, serial, der, der_len);
        free(der);
        return r;
}

int imago_manifest_parse(const uint8_t *buf, size_t len, struct imago_manifest *m)
{
        static const char *const keys[] = {"format", "version", "batch", "created", "devices"};
        json_t *root = NULL, *devices, *version;
        const char *s;
        size_t i;
        int r;

        if (buf == NULL || m == NULL)
                return IMAGO_EINVAL;
        memset(m, 0, sizeof(*m));
        r = imago_json_object(buf, len, IMAGO_MANIFEST_MAX_BYTES, &root);
        if (r == IMAGO_EMALFORMED)
                r = IMAGO_EMANIFEST_FORMAT;
        if (r != IMAGO_OK)
                goto out;
        s = imago_json_str(root, "format", NULL);
        version = json_object_get(root, "version");
        if (s == NULL || strcmp(s, FORMAT_NAME) != 0 || !json_is_integer(version) ||
            json_integer_value(version) != 1) {
                r = IMAGO_EMANIFEST_FORMAT;
                goto out;
        }
        if (!imago_json_only_keys(root, keys, 5)) {
                r = IMAGO_EMANIFEST_FIELD;
                goto out;
        }
        r = IMAGO_EMANIFEST_FIELD;
        if ((s = imago_json_str(root, "batch", NULL)) == NULL || !is_batch_name(s))
                goto out;
        memcpy(m->batch, s, strlen(s) + 1);
        if ((s = imago_json_str(root, "created", NULL)) == NULL || !is_timestamp(s))
                goto out;
        memcpy(m->created, s, strlen(s) + 1);
        devices = json_object_get(root, "devices");
        if (!json_is_array(devices))
                goto out;
        if (json_array_size(devices) > IMAGO_MANIFEST_MAX_DEVICES) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        for (i = 0; i < json_array_size(devices); i++) {
                if ((r = parse_device(json_array_get(devices, i), m)) != IMAGO_OK)
                        goto out;
        }
        r = IMAGO_OK;
out:
        json_decref(root);
        if (r != IMAGO_OK)
                imago_manifest_free(m);
        return r;
}

int imago_manifest_write(const struct imago_manifest *m, char **out, size_t *len)
{
        json_t *root = NULL, *devices = NULL;
        char *b64 = NULL, *text = NULL;
        int r = IMAGO_ENOMEM;

        if (m == NULL || out == NULL || len == NULL)
                return IMAGO_EINVAL;
        if (!is_batch_name(m->batch) || !is_timestamp(m->created))
                return IMAGO_EMANIFEST_FIELD;
        root = json_object();
        devices = json_array();
        if (root == NULL || devices == NULL)
                goto out;
        if (json_object_set_new(root, "format", json_string(FORMAT_NAME)) != 0 ||
            json_object_set_new(root, "version", json_integer(1)) != 0 ||
            json_object_set_new(root, "batch", json_string(m->batch)) != 0 ||
            json_object_set_new(root, "created", json_string(m->created)) != 0)
                goto out;
        for (size_t i = 0; i < m->count; i++) {
                const struct imago_manifest_device *d = &m->devices[i];
                json_t *dev;

                b64 = malloc((d->cert_len + 2) / 3 * 4 + 1);
                if (b64 == NULL)
                        goto out;
                EVP_EncodeBlock((unsigned char *)b64, d->cert_der, (int)d->cert_len);
                dev = json_pack("{s:s, s:s, s:s}", "id", d->id, "serial", d->serial, "certificate",
                                b64);
                free(b64);
                b64 = NULL;
                if (dev == NULL || json_array_append_new(devices, dev) != 0)
                        goto out;
        }
        if (json_object_set(root, "devices", devices) != 0)
                goto out;
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text == NULL)
                goto out;
        *len = strlen(text);
        *out = text;
        r = IMAGO_OK;
out:
        json_decref(devices);
        json_decref(root);
        return r;
}
