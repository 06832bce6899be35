/* See store.h.  Pure parsers and encoders of the store format. */
#include "store.h"

#include "base/err.h"
#include "base/rd.h"

#include <string.h>

static void le16(uint8_t *b, uint16_t v)
{
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *b, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *b, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

void imago_store_hdr_encode(const struct imago_store_hdr *h, uint8_t out[IMAGO_STORE_HDR_LEN])
{
        memset(out, 0, IMAGO_STORE_HDR_LEN);
        memcpy(out, IMAGO_STORE_MAGIC, 8);
        le16(out + 8, IMAGO_STORE_VERSION);
        le16(out + 10, IMAGO_STORE_HDR_LEN);
        le32(out + 12, 0); /* flags */
        le64(out + 16, h->seq);
        memcpy(out + 24, h->device, IMAGO_P11_SERIAL_LEN);
        memcpy(out + 40, h->iv, IMAGO_P11_GCM_IV_LEN);
        le32(out + 52, h->ct_len);
        /* 56..63 reserved, zero */
}

int imago_store_hdr_parse(struct imago_store_hdr *h, const uint8_t *buf, size_t len)
{
        struct imago_rd rd;
        struct imago_store_hdr t;
        uint8_t magic[8], reserved[8];
        uint16_t version, hdr_len;
        uint32_t flags;
        size_t room;

        if (h == NULL || buf == NULL)
                return IMAGO_EINVAL;
        if (len < IMAGO_STORE_HDR_LEN)
                return IMAGO_ETRUNC;
        imago_rd_init(&rd, buf, IMAGO_STORE_HDR_LEN);
        if (imago_rd_bytes(&rd, magic, 8) != IMAGO_OK ||
            imago_rd_u16le(&rd, &version) != IMAGO_OK ||
            imago_rd_u16le(&rd, &hdr_len) != IMAGO_OK || imago_rd_u32le(&rd, &flags) != IMAGO_OK ||
            imago_rd_u64le(&rd, &t.seq) != IMAGO_OK ||
            imago_rd_bytes(&rd, t.device, sizeof(t.device)) != IMAGO_OK ||
            imago_rd_bytes(&rd, t.iv, sizeof(t.iv)) != IMAGO_OK ||
            imago_rd_u32le(&rd, &t.ct_len) != IMAGO_OK ||
            imago_rd_bytes(&rd, reserved, sizeof(reserved)) != IMAGO_OK ||
            imago_rd_done(&rd) != IMAGO_OK)
                return IMAGO_ETRUNC; /* cannot happen: exactly the header length */
        if (memcmp(magic, IMAGO_STORE_MAGIC, 8) != 0 || version != IMAGO_STORE_VERSION ||
            hdr_len != IMAGO_STORE_HDR_LEN || flags != 0 || t.seq == 0 ||
            !imago_store_is_erased(reserved, sizeof(reserved)))
                return IMAGO_ESTORE_FORMAT;
        room = len - IMAGO_STORE_HDR_LEN;
        if (room < IMAGO_STORE_TAG_LEN || t.ct_len > room - IMAGO_STORE_TAG_LEN ||
            t.ct_len > IMAGO_STORE_PAYLOAD_MAX)
                return IMAGO_ESTORE_FORMAT;
        *h = t;
        return IMAGO_OK;
}

int imago_store_is_erased(const uint8_t *buf, size_t len)
{
        uint8_t acc = 0;

        for (size_t i = 0; i < len; i++)
                acc |= buf[i];
        return acc == 0;
}

int imago_store_name_ok(const uint8_t *name, size_t len)
{
        if (name == NULL || len == 0 || len > IMAGO_STORE_NAME_MAX)
                return IMAGO_EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (name[i] < 0x21 || name[i] > 0x7e)
                        return IMAGO_EINVAL;
        }
        return IMAGO_OK;
}

/* <0, 0, >0 as names compare: bytewise, then shorter first. */
static int name_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
        int c = memcmp(a, b, al < bl ? al : bl);

        if (c != 0)
                return c;
        return al < bl ? -1 : (al > bl ? 1 : 0);
}

int imago_store_records_parse(struct imago_store_index *ix, const uint8_t *buf, size_t len)
{
        struct imago_rd rd;
        uint16_t count;
        int r;

        if (ix == NULL || (buf == NULL && len > 0))
                return IMAGO_EINVAL;
        ix->n = 0;
        imago_rd_init(&rd, buf, len);
        r = imago_rd_u16le(&rd, &count);
        if (r != IMAGO_OK)
                goto out;
        if (count > IMAGO_STORE_RECORDS_MAX) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        for (size_t i = 0; i < count; i++) {
                struct imago_store_entry *e = &ix->e[i];
                const uint8_t *name, *value;
                uint16_t vlen;

                r = imago_rd_u8(&rd, &e->name_len);
                if (r == IMAGO_OK)
                        r = imago_rd_u8(&rd, &e->type);
                if (r == IMAGO_OK)
                        r = imago_rd_u16le(&rd, &vlen);
                if (r != IMAGO_OK)
                        goto out;
                if (vlen > IMAGO_STORE_VALUE_MAX) {
                        r = IMAGO_ETOOBIG;
                        goto out;
                }
                e->value_len = vlen;
                r = imago_rd_ptr(&rd, &name, e->name_len);
                if (r == IMAGO_OK)
                        r = imago_rd_ptr(&rd, &value, vlen);
                if (r != IMAGO_OK)
                        goto out;
                if (imago_store_name_ok(name, e->name_len) != IMAGO_OK ||
                    e->type < IMAGO_STORE_BLOB || e->type > IMAGO_STORE_CONFIG) {
                        r = IMAGO_EMALFORMED;
                        goto out;
                }
                e->name_off = (uint32_t)(name - buf);
                e->value_off = (uint32_t)(value - buf);
                if (i > 0 && name_cmp(buf + ix->e[i - 1].name_off, ix->e[i - 1].name_len, name,
                                      e->name_len) >= 0) {
                        r = IMAGO_EMALFORMED;
                        goto out;
                }
        }
        r = imago_rd_done(&rd);
        if (r == IMAGO_OK)
                ix->n = count;
out:
        if (r != IMAGO_OK)
                ix->n = 0;
        return r;
}
