/* imago_broker deny set and deny file parser: see broker.h. */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/hex.h"
#include "json/json.h"
#include "base/file.h"

int broker_is_device_id(const char *s)
{
        return imago_device_id_valid(s);
}

/* A certificate serial as the registry writes it: whole bytes of lowercase hex. */
int broker_is_serial(const char *s)
{
        return imago_hex_is_lower(s, 2, BROKER_SERIAL_MAX) && strlen(s) % 2 == 0;
}

static int cmp_id(const void *a, const void *b)
{
        return strcmp(((const struct broker_deny_id *)a)->id,
                      ((const struct broker_deny_id *)b)->id);
}

static int cmp_serial(const void *a, const void *b)
{
        return strcmp(((const struct broker_deny_serial *)a)->serial,
                      ((const struct broker_deny_serial *)b)->serial);
}

static struct broker_deny_id *find_id(const struct broker_deny *d, const char *id)
{
        struct broker_deny_id key;

        if (d->n_ids == 0 || !broker_is_device_id(id))
                return NULL;
        memcpy(key.id, id, sizeof(key.id));
        return bsearch(&key, d->ids, d->n_ids, sizeof(*d->ids), cmp_id);
}

enum broker_deny_reason broker_deny_id_reason(const struct broker_deny *d, const char *id)
{
        const struct broker_deny_id *e = find_id(d, id);

        return e == NULL ? BROKER_DENY_NONE : e->reason;
}

int broker_deny_has_serial(const struct broker_deny *d, const char *serial)
{
        struct broker_deny_serial key;
        size_t n;

        if (d->n_serials == 0 || !broker_is_serial(serial))
                return 0;
        n = strlen(serial);
        memset(&key, 0, sizeof(key));
        memcpy(key.serial, serial, n);
        return bsearch(&key, d->serials, d->n_serials, sizeof(*d->serials), cmp_serial) != NULL;
}

/* Make room for one more element of size sz in *arr (capacity *cap, count n). */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
        size_t ncap;
        void *p;

        if (n < *cap)
                return IMAGO_OK;
        if (n >= BROKER_DENY_MAX)
                return IMAGO_ETOOBIG;
        ncap = *cap == 0 ? 16 : *cap * 2;
        if (ncap > BROKER_DENY_MAX)
                ncap = BROKER_DENY_MAX;
        p = realloc(*arr, ncap * sz);
        if (p == NULL)
                return IMAGO_ENOMEM;
        *arr = p;
        *cap = ncap;
        return IMAGO_OK;
}

int broker_deny_add_id(struct broker_deny *d, const char *id, enum broker_deny_reason reason)
{
        struct broker_deny_id *e;
        size_t pos;
        int r;

        if (!broker_is_device_id(id) ||
            (reason != BROKER_DENY_REVOKED && reason != BROKER_DENY_SUSPENDED))
                return IMAGO_EINVAL;
        e = find_id(d, id);
        if (e != NULL) {
                /* revoked is final: a later "suspended" does not soften it */
                if (e->reason != BROKER_DENY_REVOKED)
                        e->reason = reason;
                return IMAGO_OK;
        }
        r = grow((void **)&d->ids, &d->cap_ids, d->n_ids, sizeof(*d->ids));
        if (r != IMAGO_OK)
                return r;
        for (pos = 0; pos < d->n_ids && strcmp(d->ids[pos].id, id) < 0; pos++)
                ;
        memmove(&d->ids[pos + 1], &d->ids[pos], (d->n_ids - pos) * sizeof(*d->ids));
        memcpy(d->ids[pos].id, id, IMAGO_AUTHZ_ID_LEN + 1);
        d->ids[pos].reason = reason;
        d->n_ids++;
        return IMAGO_OK;
}

void broker_deny_remove_id(struct broker_deny *d, const char *id)
{
        struct broker_deny_id *e = find_id(d, id);
        size_t pos;

        if (e == NULL)
                return;
        pos = (size_t)(e - d->ids);
        memmove(&d->ids[pos], &d->ids[pos + 1], (d->n_ids - pos - 1) * sizeof(*d->ids));
        d->n_ids--;
}

int broker_deny_add_serial(struct broker_deny *d, const char *serial)
{
        size_t pos;
        int r;

        if (!broker_is_serial(serial))
                return IMAGO_EINVAL;
        if (broker_deny_has_serial(d, serial))
                return IMAGO_OK;
        r = grow((void **)&d->serials, &d->cap_serials, d->n_serials, sizeof(*d->serials));
        if (r != IMAGO_OK)
                return r;
        for (pos = 0; pos < d->n_serials && strcmp(d->serials[pos].serial, serial) < 0; pos++)
                ;
        memmove(&d->serials[pos + 1], &d->serials[pos], (d->n_serials - pos) * sizeof(*d->serials));
        memset(&d->serials[pos], 0, sizeof(d->serials[pos]));
        memcpy(d->serials[pos].serial, serial, strlen(serial));
        d->n_serials++;
        return IMAGO_OK;
}

void broker_deny_free(struct broker_deny *d)
{
        if (d == NULL)
                return;
        free(d->ids);
        free(d->serials);
        memset(d, 0, sizeof(*d));
}

static enum broker_deny_reason reason_of(const json_t *v)
{
        const char *s = json_string_value(v);

        if (s == NULL || json_string_length(v) != strlen(s))
                return BROKER_DENY_NONE;
        if (strcmp(s, "revoked") == 0)
                return BROKER_DENY_REVOKED;
        if (strcmp(s, "suspended") == 0)
                return BROKER_DENY_SUSPENDED;
        return BROKER_DENY_NONE;
}

static int parse_ids(json_t *ids, struct broker_deny *d)
{
        const char *key;
        json_t *v;
        int r;

        if (!json_is_object(ids))
                return IMAGO_EPROTO_FIELD;
        if (json_object_size(ids) > BROKER_DENY_MAX)
                return IMAGO_ETOOBIG;
        json_object_foreach(ids, key, v)
        {
                enum broker_deny_reason reason = reason_of(v);

                if (!broker_is_device_id(key) || reason == BROKER_DENY_NONE)
                        return IMAGO_EPROTO_FIELD;
                r = grow((void **)&d->ids, &d->cap_ids, d->n_ids, sizeof(*d->ids));
                if (r != IMAGO_OK)
                        return r;
                memcpy(d->ids[d->n_ids].id, key, IMAGO_AUTHZ_ID_LEN + 1);
                d->ids[d->n_ids].reason = reason;
                d->n_ids++;
        }
        /* keys are unique (JSON_REJECT_DUPLICATES) */
        if (d->n_ids > 1)
                qsort(d->ids, d->n_ids, sizeof(*d->ids), cmp_id);
        return IMAGO_OK;
}

static int parse_serials(json_t *serials, struct broker_deny *d)
{
        size_t i;
        json_t *v;
        int r;

        if (!json_is_array(serials))
                return IMAGO_EPROTO_FIELD;
        if (json_array_size(serials) > BROKER_DENY_MAX)
                return IMAGO_ETOOBIG;
        json_array_foreach(serials, i, v)
        {
                const char *s = json_string_value(v);

                if (s == NULL || json_string_length(v) != strlen(s) || !broker_is_serial(s))
                        return IMAGO_EPROTO_FIELD;
                r = grow((void **)&d->serials, &d->cap_serials, d->n_serials, sizeof(*d->serials));
                if (r != IMAGO_OK)
                        return r;
                memset(&d->serials[d->n_serials], 0, sizeof(d->serials[0]));
                memcpy(d->serials[d->n_serials].serial, s, strlen(s));
                d->n_serials++;
        }
        if (d->n_serials > 1)
                qsort(d->serials, d->n_serials, sizeof(*d->serials), cmp_serial);
        for (i = 1; i < d->n_serials; i++)
                if (strcmp(d->serials[i - 1].serial, d->serials[i].serial) == 0)
                        return IMAGO_EPROTO_FIELD; /* duplicate serial */
        return IMAGO_OK;
}

int broker_deny_parse(const uint8_t *buf, size_t len, struct broker_deny *out)
{
        struct broker_deny d;
        json_t *root = NULL, *v, *ids, *serials;
        int r;

        memset(&d, 0, sizeof(d));
        if (buf == NULL || out == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_json_object(buf, len, BROKER_DENY_FILE_MAX, &root)) != IMAGO_OK)
                goto out;
        v = json_object_get(root, "v");
        ids = json_object_get(root, "ids");
        serials = json_object_get(root, "serials");
        if (v == NULL || ids == NULL || serials == NULL || json_object_size(root) != 3) {
                r = IMAGO_EPROTO_FIELD;
                goto out;
        }
        if (!json_is_integer(v) || json_integer_value(v) != 1) {
                r = IMAGO_EPROTO_VERSION;
                goto out;
        }
        if ((r = parse_ids(ids, &d)) != IMAGO_OK || (r = parse_serials(serials, &d)) != IMAGO_OK)
                goto out;
        broker_deny_free(out);
        *out = d;
        memset(&d, 0, sizeof(d));
        r = IMAGO_OK;
out:
        broker_deny_free(&d);
        json_decref(root);
        return r;
}

int broker_deny_load(const char *path, struct broker_deny *out)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        r = imago_file_read(path, BROKER_DENY_FILE_MAX, &data, &len);
        if (r != IMAGO_OK)
                goto out;
        r = broker_deny_parse(data, len, out);
out:
        if (data != NULL)
                imago_file_free(data, len);
        return r;
}
