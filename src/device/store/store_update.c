/* See store.h.  put / delete and the atomic commit of a new copy. */
#include "store_priv.h"

#include "base/err.h"
#include "base/wipe.h"

#include <string.h>

int imago_store_write(const struct imago_store_ops *ops, int fd, const uint8_t *buf, size_t len,
                      uint64_t off)
{
        for (size_t k = 0; k < len; k += IMAGO_STORE_WRITE_CHUNK) {
                size_t n = len - k < IMAGO_STORE_WRITE_CHUNK ? len - k : IMAGO_STORE_WRITE_CHUNK;
                int r = ops->pwrite(ops->arg, fd, buf + k, n, off + k);

                if (r != IMAGO_OK)
                        return r;
        }
        return IMAGO_OK;
}

/* n rounded up to whole write chunks (n <= IMAGO_STORE_REGION_SIZE). */
static size_t copy_pages(size_t n)
{
        return (n + IMAGO_STORE_WRITE_CHUNK - 1) / IMAGO_STORE_WRITE_CHUNK *
               IMAGO_STORE_WRITE_CHUNK;
}

int imago_store_commit(struct imago_store *s, size_t len)
{
        struct imago_store_hdr h;
        unsigned region = 1u - s->region;
        uint8_t *tmp;
        int r;

        if (len > IMAGO_STORE_PAYLOAD_MAX) {
                r = IMAGO_ESTORE_FULL;
                goto out;
        }
        memset(&h, 0, sizeof(h));
        h.seq = s->seq + 1;
        memcpy(h.device, s->device, sizeof(h.device));
        h.ct_len = (uint32_t)len;
        /* a fresh random IV per copy: a sequence number can be written twice after a failure */
        r = imago_p11_random(s->tok, h.iv, sizeof(h.iv));
        if (r != IMAGO_OK)
                goto out;
        memset(s->io, 0, IMAGO_STORE_REGION_SIZE); /* the padding up to the page end is zero */
        imago_store_hdr_encode(&h, s->io);
        r = imago_p11_gcm_encrypt(s->tok, s->key, h.iv, s->io, IMAGO_STORE_HDR_LEN, s->scratch, len,
                                  s->io + IMAGO_STORE_HDR_LEN);
        if (r != IMAGO_OK)
                goto out;
        /* only the pages the copy covers: stale bytes after its tag are never read */
        r = imago_store_write(s->ops, s->fd, s->io,
                              copy_pages(IMAGO_STORE_HDR_LEN + len + IMAGO_STORE_TAG_LEN),
                              (uint64_t)region * IMAGO_STORE_REGION_SIZE);
        if (r != IMAGO_OK)
                goto out;
        r = s->ops->fsync(s->ops->arg, s->fd);
        if (r != IMAGO_OK)
                goto out;
        r = imago_p11_counter_advance(s->tok, IMAGO_STORE_COUNTER_LABEL, h.seq);
        if (r != IMAGO_OK)
                goto out;
        r = imago_store_records_parse(&s->ix, s->scratch, len);
        if (r != IMAGO_OK) { /* cannot happen: the caller built it; keep the old index */
                imago_store_records_parse(&s->ix, s->pt, s->pt_len);
                goto out;
        }
        tmp = s->pt;
        s->pt = s->scratch;
        s->scratch = tmp;
        s->pt_len = len;
        s->seq = h.seq;
        s->region = region;
out:
        imago_wipe(s->scratch, STORE_PT_CAP);
        return r;
}

/* Bounded append to the scratch list. */
static int emit(uint8_t *buf, size_t *pos, const void *d, size_t n)
{
        if (n > IMAGO_STORE_PAYLOAD_MAX - *pos)
                return IMAGO_ESTORE_FULL;
        if (n > 0)
                memcpy(buf + *pos, d, n);
        *pos += n;
        return IMAGO_OK;
}

static int emit_rec(uint8_t *buf, size_t *pos, const uint8_t *name, size_t name_len, uint8_t type,
                    const uint8_t *value, size_t value_len)
{
        uint8_t h[4] = {(uint8_t)name_len, type, (uint8_t)value_len, (uint8_t)(value_len >> 8)};
        int r;

        r = emit(buf, pos, h, sizeof(h));
        if (r == IMAGO_OK)
                r = emit(buf, pos, name, name_len);
        if (r == IMAGO_OK)
                r = emit(buf, pos, value, value_len);
        return r;
}

static int cmp_entry(const struct imago_store *s, const struct imago_store_entry *e,
                     const uint8_t *name, size_t n)
{
        size_t m = e->name_len < n ? e->name_len : n;
        int c = memcmp(s->pt + e->name_off, name, m);

        if (c != 0)
                return c;
        return e->name_len < n ? -1 : (e->name_len > n ? 1 : 0);
}

/*
 * Build the next list into scratch: the current records with name replaced
 * by (type, value) or, when value is NULL and del is set, removed.
 */
static int rebuild(struct imago_store *s, const uint8_t *name, size_t n, uint8_t type,
                   const uint8_t *value, size_t len, int del, size_t *out_len)
{
        size_t pos = 2, count = 0;
        int placed = 0, found = 0, r = IMAGO_OK;

        for (size_t i = 0; i <= s->ix.n && r == IMAGO_OK; i++) {
                const struct imago_store_entry *e = i < s->ix.n ? &s->ix.e[i] : NULL;
                int c = e != NULL ? cmp_entry(s, e, name, n) : 1;

                if (c == 0)
                        found = 1;
                if (!del && !placed && c >= 0) {
                        r = emit_rec(s->scratch, &pos, name, n, type, value, len);
                        placed = 1;
                        count++;
                }
                if (e != NULL && c != 0 && r == IMAGO_OK) {
                        r = emit_rec(s->scratch, &pos, s->pt + e->name_off, e->name_len, e->type,
                                     s->pt + e->value_off, e->value_len);
                        count++;
                }
        }
        if (r != IMAGO_OK)
                return r;
        if (del && !found)
                return IMAGO_ENOTFOUND;
        if (count > IMAGO_STORE_RECORDS_MAX)
                return IMAGO_ESTORE_FULL;
        s->scratch[0] = (uint8_t)count;
        s->scratch[1] = (uint8_t)(count >> 8);
        *out_len = pos;
        return IMAGO_OK;
}

int imago_store_put(struct imago_store *s, const char *name, uint8_t type, const uint8_t *value,
                    size_t len)
{
        size_t n, out_len = 0;
        int r;

        if (s == NULL || name == NULL || (value == NULL && len > 0))
                return IMAGO_EINVAL;
        n = strlen(name);
        if (imago_store_name_ok((const uint8_t *)name, n) != IMAGO_OK || type < IMAGO_STORE_BLOB ||
            type > IMAGO_STORE_CONFIG)
                return IMAGO_EINVAL;
        if (len > IMAGO_STORE_VALUE_MAX)
                return IMAGO_ESTORE_RECORD_SIZE;
        r = rebuild(s, (const uint8_t *)name, n, type, value, len, 0, &out_len);
        if (r == IMAGO_OK)
                return imago_store_commit(s, out_len);
        imago_wipe(s->scratch, STORE_PT_CAP);
        return r;
}

int imago_store_delete(struct imago_store *s, const char *name)
{
        size_t n, out_len = 0;
        int r;

        if (s == NULL || name == NULL)
                return IMAGO_EINVAL;
        n = strlen(name);
        if (imago_store_name_ok((const uint8_t *)name, n) != IMAGO_OK)
                return IMAGO_EINVAL;
        r = rebuild(s, (const uint8_t *)name, n, 0, NULL, 0, 1, &out_len);
        if (r == IMAGO_OK)
                return imago_store_commit(s, out_len);
        imago_wipe(s->scratch, STORE_PT_CAP);
        return r;
}
