/* Internals of imago_store shared by its source files. */
#ifndef IMAGO_DEVICE_STORE_PRIV_H
#define IMAGO_DEVICE_STORE_PRIV_H

#include "store.h"

/* Plaintext buffers hold a record list plus room for the tag (C_Decrypt output). */
#define STORE_PT_CAP (IMAGO_STORE_PAYLOAD_MAX + IMAGO_STORE_TAG_LEN)

struct imago_store {
        const struct imago_store_ops *ops;
        int fd;
        struct imago_p11 *tok;
        unsigned long key;
        uint8_t device[IMAGO_P11_SERIAL_LEN];
        uint64_t seq;
        unsigned region; /* 0 (A) or 1 (B): the region holding seq */
        uint8_t *pt;     /* current record list (STORE_PT_CAP) */
        size_t pt_len;
        uint8_t *scratch; /* next record list (STORE_PT_CAP), wiped after use */
        uint8_t *io;      /* one region (IMAGO_STORE_REGION_SIZE) */
        struct imago_store_index ix;
};

/*
 * Encrypt scratch[0..len) as the copy with sequence s->seq + 1, write it over
 * the older region, fsync, advance the counter, and make it current.
 * On failure the store keeps its state.  scratch is wiped in every case.
 */
int imago_store_commit(struct imago_store *s, size_t len);

/* Write len bytes from buf at off in IMAGO_STORE_WRITE_CHUNK pieces. */
int imago_store_write(const struct imago_store_ops *ops, int fd, const uint8_t *buf, size_t len,
                      uint64_t off);

#endif
