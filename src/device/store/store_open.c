/* See store.h.  Open (copy selection, rollback check), read, list, close. */
#include "store_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <stdlib.h>
#include <string.h>

/*
 * Check and decrypt one region into pt: IMAGO_OK with *seq and *pt_len, or
 * IMAGO_ESTORE_ERASED / _FORMAT / _DEVICE / _AUTH / _CORRUPT.
 */
static int region_load(struct imago_store *s, const uint8_t *reg, uint8_t *pt, size_t *pt_len,
                       uint64_t *seq)
{
        struct imago_store_hdr h;
        struct imago_store_index ix;
        int r;

        if (imago_store_is_erased(reg, IMAGO_STORE_REGION_SIZE))
                return IMAGO_ESTORE_ERASED;
        r = imago_store_hdr_parse(&h, reg, IMAGO_STORE_REGION_SIZE);
        if (r != IMAGO_OK)
                return IMAGO_ESTORE_FORMAT;
        if (memcmp(h.device, s->device, sizeof(h.device)) != 0)
                return IMAGO_ESTORE_DEVICE;
        r = imago_p11_gcm_decrypt(s->tok, s->key, h.iv, reg, IMAGO_STORE_HDR_LEN,
                                  reg + IMAGO_STORE_HDR_LEN, h.ct_len + IMAGO_STORE_TAG_LEN, pt);
        if (r == IMAGO_EP11_DECRYPT)
                return IMAGO_ESTORE_AUTH;
        if (r != IMAGO_OK)
                return r;
        if (imago_store_records_parse(&ix, pt, h.ct_len) != IMAGO_OK) {
                imago_wipe(pt, h.ct_len);
                return IMAGO_ESTORE_CORRUPT;
        }
        *pt_len = h.ct_len;
        *seq = h.seq;
        return IMAGO_OK;
}

/* The error to report when no copy can be used: the most telling one. */
static int worst(const int res[2])
{
        static const int order[] = {IMAGO_ESTORE_DEVICE, IMAGO_ESTORE_AUTH, IMAGO_ESTORE_CORRUPT,
                                    IMAGO_ESTORE_FORMAT};

        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
                if (res[0] == order[i] || res[1] == order[i])
                        return order[i];
        }
        return res[0] != IMAGO_ESTORE_ERASED ? res[0] : res[1];
}

static int alloc_bufs(struct imago_store *s)
{
        s->pt = calloc(1, STORE_PT_CAP);
        s->scratch = calloc(1, STORE_PT_CAP);
        s->io = calloc(1, IMAGO_STORE_FILE_SIZE + 1); /* the whole file at open */
        return s->pt && s->scratch && s->io ? IMAGO_OK : IMAGO_ENOMEM;
}

/* Read the whole file into s->io: exactly IMAGO_STORE_FILE_SIZE bytes. */
static int read_file(struct imago_store *s)
{
        size_t got = 0;
        int r;

        r = s->ops->pread(s->ops->arg, s->fd, s->io, IMAGO_STORE_FILE_SIZE + 1, 0, &got);
        if (r != IMAGO_OK)
                return r;
        if (got < IMAGO_STORE_FILE_SIZE)
                return IMAGO_ETRUNC;
        if (got > IMAGO_STORE_FILE_SIZE)
                return IMAGO_ESTORE_FORMAT;
        if (imago_store_is_erased(s->io, IMAGO_STORE_FILE_SIZE))
                return IMAGO_ESTORE_ERASED;
        return IMAGO_OK;
}

/* Pick the current copy and check it against the token counter. */
static int select_copy(struct imago_store *s)
{
        uint8_t *bufs[2] = {s->pt, s->scratch};
        size_t lens[2] = {0, 0};
        uint64_t seqs[2] = {0, 0}, ctr;
        int res[2], best = -1, r;

        for (int i = 0; i < 2; i++) {
                res[i] = region_load(s, s->io + (size_t)i * IMAGO_STORE_REGION_SIZE, bufs[i],
                                     &lens[i], &seqs[i]);
                if (res[i] != IMAGO_OK && res[i] != IMAGO_ESTORE_ERASED &&
                    res[i] != IMAGO_ESTORE_FORMAT && res[i] != IMAGO_ESTORE_DEVICE &&
                    res[i] != IMAGO_ESTORE_AUTH && res[i] != IMAGO_ESTORE_CORRUPT)
                        return res[i]; /* the token failed */
                if (res[i] == IMAGO_OK && (best < 0 || seqs[i] > seqs[best]))
                        best = i;
        }
        if (best < 0)
                return worst(res);
        r = imago_p11_counter_read(s->tok, IMAGO_STORE_COUNTER_LABEL, &ctr);
        if (r == IMAGO_EP11_KEY)
                return IMAGO_ESTORE_NOKEY;
        if (r != IMAGO_OK)
                return r;
        if (seqs[best] < ctr) {
                /* the newer copy was damaged, or the file was replaced by an old one */
                int other = res[1 - best];

                if (other == IMAGO_ESTORE_AUTH || other == IMAGO_ESTORE_FORMAT ||
                    other == IMAGO_ESTORE_CORRUPT)
                        return IMAGO_ESTORE_AUTH;
                return IMAGO_ESTORE_ROLLBACK;
        }
        if (seqs[best] > ctr + 1) /* the token's counter is behind: token state rolled back */
                return IMAGO_ESTORE_ROLLBACK;
        if (seqs[best] == ctr + 1) { /* an update whose counter step was cut off */
                r = imago_p11_counter_advance(s->tok, IMAGO_STORE_COUNTER_LABEL, seqs[best]);
                if (r != IMAGO_OK)
                        return r;
        }
        if (best == 1) {
                s->pt = bufs[1];
                s->scratch = bufs[0];
        }
        imago_wipe(s->scratch, STORE_PT_CAP);
        s->pt_len = lens[best];
        s->seq = seqs[best];
        s->region = (unsigned)best;
        return imago_store_records_parse(&s->ix, s->pt, s->pt_len);
}

int imago_store_open(const char *path, struct imago_p11 *tok, const struct imago_store_ops *ops,
                     struct imago_store **out)
{
        struct imago_store *s = NULL;
        int r;

        if (path == NULL || tok == NULL || out == NULL)
                return IMAGO_EINVAL;
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return IMAGO_ENOMEM;
        s->fd = -1;
        s->tok = tok;
        s->ops = ops != NULL ? ops : imago_store_posix_ops();
        r = alloc_bufs(s);
        if (r != IMAGO_OK)
                goto out;
        r = s->ops->open(s->ops->arg, path, 0);
        if (r < 0)
                goto out;
        s->fd = r;
        r = read_file(s);
        if (r != IMAGO_OK)
                goto out;
        r = imago_p11_aes_find(tok, IMAGO_STORE_KEY_LABEL, &s->key);
        if (r == IMAGO_EP11_KEY)
                r = IMAGO_ESTORE_NOKEY;
        if (r != IMAGO_OK)
                goto out;
        imago_p11_token_serial(tok, s->device);
        r = select_copy(s);
        if (r != IMAGO_OK)
                goto out;
        *out = s;
        s = NULL;
out:
        if (r != IMAGO_OK)
                IMAGO_DEBUG("store open failed: %s", imago_errname(r));
        imago_store_close(s);
        return r;
}

void imago_store_close(struct imago_store *s)
{
        if (s == NULL)
                return;
        if (s->fd >= 0)
                s->ops->close(s->ops->arg, s->fd);
        if (s->pt != NULL)
                imago_wipe(s->pt, STORE_PT_CAP);
        if (s->scratch != NULL)
                imago_wipe(s->scratch, STORE_PT_CAP);
        if (s->io != NULL)
                imago_wipe(s->io, IMAGO_STORE_FILE_SIZE + 1);
        free(s->pt);
        free(s->scratch);
        free(s->io);
        imago_wipe(s, sizeof(*s));
        free(s);
}

static const struct imago_store_entry *find(const struct imago_store *s, const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < s->ix.n; i++) {
                const struct imago_store_entry *e = &s->ix.e[i];

                if (e->name_len == n && memcmp(s->pt + e->name_off, name, n) == 0)
                        return e;
        }
        return NULL;
}

int imago_store_get(struct imago_store *s, const char *name, uint8_t *type, uint8_t *buf,
                    size_t cap, size_t *len)
{
        const struct imago_store_entry *e;

        if (s == NULL || name == NULL || len == NULL || (buf == NULL && cap > 0))
                return IMAGO_EINVAL;
        if (imago_store_name_ok((const uint8_t *)name, strlen(name)) != IMAGO_OK)
                return IMAGO_EINVAL;
        e = find(s, name);
        if (e == NULL)
                return IMAGO_ENOTFOUND;
        *len = e->value_len;
        if (type != NULL)
                *type = e->type;
        if (cap < e->value_len)
                return IMAGO_ETOOBIG;
        if (e->value_len > 0)
                memcpy(buf, s->pt + e->value_off, e->value_len);
        return IMAGO_OK;
}

size_t imago_store_count(const struct imago_store *s)
{
        return s != NULL ? s->ix.n : 0;
}

int imago_store_entry(const struct imago_store *s, size_t i, char name[IMAGO_STORE_NAME_MAX + 1],
                      uint8_t *type, size_t *len)
{
        const struct imago_store_entry *e;

        if (s == NULL || name == NULL || i >= s->ix.n)
                return IMAGO_EINVAL;
        e = &s->ix.e[i];
        memcpy(name, s->pt + e->name_off, e->name_len);
        name[e->name_len] = 0;
        if (type != NULL)
                *type = e->type;
        if (len != NULL)
                *len = e->value_len;
        return IMAGO_OK;
}

uint64_t imago_store_seq(const struct imago_store *s)
{
        return s != NULL ? s->seq : 0;
}
