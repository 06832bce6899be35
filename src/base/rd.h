/*
 * imago_rd: a bounded reader over a caller-owned byte buffer.
 *
 * Ownership: the reader borrows buf; the buffer must outlive the reader and
 * any pointer obtained with imago_rd_ptr().  Nothing is allocated.
 *
 * Every read checks the remaining length first.  A read that cannot be
 * satisfied returns IMAGO_ETRUNC and leaves the position (and any output)
 * unchanged, so a caller can retry or report without re-synchronising.
 * Multi-byte integers are read in the byte order their name says.
 */
#ifndef IMAGO_BASE_RD_H
#define IMAGO_BASE_RD_H

#include <stddef.h>
#include <stdint.h>

struct imago_rd {
        const uint8_t *buf;
        size_t len;
        size_t pos;
};

void imago_rd_init(struct imago_rd *rd, const void *buf, size_t len);

/* Bytes left to read. */
size_t imago_rd_left(const struct imago_rd *rd);

int imago_rd_u8(struct imago_rd *rd, uint8_t *v);
int imago_rd_u16le(struct imago_rd *rd, uint16_t *v);
int imago_rd_u32le(struct imago_rd *rd, uint32_t *v);
int imago_rd_u64le(struct imago_rd *rd, uint64_t *v);
int imago_rd_u16be(struct imago_rd *rd, uint16_t *v);
int imago_rd_u32be(struct imago_rd *rd, uint32_t *v);

/* Peek without consuming. */
int imago_rd_peek_u16le(const struct imago_rd *rd, uint16_t *v);

/* Copy n bytes out. */
int imago_rd_bytes(struct imago_rd *rd, void *out, size_t n);

/* Borrow a pointer to the next n bytes and consume them. */
int imago_rd_ptr(struct imago_rd *rd, const uint8_t **p, size_t n);

/* Consume n bytes. */
int imago_rd_skip(struct imago_rd *rd, size_t n);

/* Split off the next n bytes as a reader of their own and consume them. */
int imago_rd_sub(struct imago_rd *rd, struct imago_rd *sub, size_t n);

/* IMAGO_ETRAILING unless every byte was consumed. */
int imago_rd_done(const struct imago_rd *rd);

#endif
