/* Image inspection; see image_dump.h. */
#include "image_dump.h"

#include "base/cmath.h"
#include "base/err.h"
#include "base/rd.h"
#include "image/image_sign.h"

#include <string.h>

const char *imago_image_tlv_name(uint16_t type)
{
        switch (type) {
        case IMAGO_TLV_KEYHASH:
                return "KEYHASH";
        case IMAGO_TLV_PUBKEY:
                return "PUBKEY";
        case IMAGO_TLV_SHA256:
                return "SHA256";
        case 0x11:
                return "SHA384";
        case 0x12:
                return "SHA512";
        case 0x20:
                return "RSA2048_PSS";
        case IMAGO_TLV_ECDSA_SIG:
                return "ECDSA_SIG";
        case 0x23:
                return "RSA3072_PSS";
        case IMAGO_TLV_ED25519:
                return "ED25519";
        case 0x40:
                return "DEPENDENCY";
        case IMAGO_TLV_SEC_CNT:
                return "SEC_CNT";
        case 0x60:
                return "BOOT_RECORD";
        default:
                return "unknown";
        }
}

static void add_tlv(struct imago_image_dump *d, uint16_t type, uint16_t len, uint32_t off, int prot)
{
        if (d->ntlv >= IMAGO_IMAGE_DUMP_MAX_TLVS) {
                d->tlv_more = 1;
                return;
        }
        d->tlv[d->ntlv].type = type;
        d->tlv[d->ntlv].len = len;
        d->tlv[d->ntlv].off = off;
        d->tlv[d->ntlv].prot = prot;
        d->ntlv++;
}

/* Walk one TLV area [off + 4, off + tot) of buf; the info header was checked. */
static int walk(const uint8_t *buf, uint32_t off, uint16_t tot, int prot,
                struct imago_image_dump *d)
{
        struct imago_rd rd;
        uint16_t type, len;
        const uint8_t *v;

        imago_rd_init(&rd, buf + off + IMAGO_IMAGE_TLV_INFO_SIZE, tot - IMAGO_IMAGE_TLV_INFO_SIZE);
        while (imago_rd_left(&rd) > 0) {
                uint32_t voff;

                if (imago_rd_u16le(&rd, &type) != IMAGO_OK || imago_rd_u16le(&rd, &len) != IMAGO_OK)
                        return IMAGO_EIMG_TLV_LEN;
                voff = off + IMAGO_IMAGE_TLV_INFO_SIZE + (uint32_t)rd.pos;
                if (imago_rd_ptr(&rd, &v, len) != IMAGO_OK)
                        return IMAGO_EIMG_TLV_LEN;
                add_tlv(d, type, len, voff, prot);
                if (type == IMAGO_TLV_SEC_CNT && len == 4 && prot && !d->has_sec_cnt) {
                        d->has_sec_cnt = 1;
                        d->sec_cnt = (uint32_t)v[0] | ((uint32_t)v[1] << 8) |
                                     ((uint32_t)v[2] << 16) | ((uint32_t)v[3] << 24);
                } else if (type == IMAGO_TLV_SHA256 && len == 32 && !prot && !d->has_hash_tlv) {
                        d->has_hash_tlv = 1;
                        memcpy(d->hash_tlv, v, 32);
                } else if (type == IMAGO_TLV_KEYHASH && len == 32 && !prot && !d->has_keyhash) {
                        d->has_keyhash = 1;
                        memcpy(d->keyhash, v, 32);
                } else if (type == IMAGO_TLV_ED25519 && !prot) {
                        d->sig_type = IMAGO_KEY_ED25519;
                } else if (type == IMAGO_TLV_ECDSA_SIG && !prot) {
                        d->sig_type = IMAGO_KEY_P256;
                }
        }
        return IMAGO_OK;
}

static uint16_t ld16(const uint8_t *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

static int dump(const uint8_t *buf, size_t len, struct imago_image_dump *d)
{
        uint32_t size = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
        uint32_t prot_off, x;
        uint16_t tot;
        int r;

        if (size < IMAGO_IMAGE_HEADER_SIZE)
                return IMAGO_EIMG_HDR_TRUNC;
        if ((r = imago_image_hdr_parse(buf, &d->hdr)) != IMAGO_OK)
                return r;
        d->has_hdr = 1;
        if (imago_add_u32(d->hdr.hdr_size, d->hdr.img_size, &prot_off) != IMAGO_OK ||
            imago_add_u32(prot_off, d->hdr.protect_tlv_size, &d->tlv_off) != IMAGO_OK ||
            imago_add_u32(d->tlv_off, IMAGO_IMAGE_TLV_INFO_SIZE, &x) != IMAGO_OK)
                return IMAGO_EIMG_SIZE_OVERFLOW;
        if (prot_off > size)
                return IMAGO_EIMG_BODY_TRUNC;
        if (x > size)
                return IMAGO_EIMG_TLV_TRUNC;
        if (imago_sha256(buf, d->tlv_off, d->hash) == IMAGO_OK)
                d->has_hash = 1;
        if (d->hdr.protect_tlv_size > 0) {
                if (d->hdr.protect_tlv_size < IMAGO_IMAGE_TLV_INFO_SIZE)
                        return IMAGO_EIMG_PROT_SIZE;
                if (ld16(buf + prot_off) != IMAGO_IMAGE_TLV_PROT_MAGIC)
                        return IMAGO_EIMG_TLV_MAGIC;
                if (ld16(buf + prot_off + 2) != d->hdr.protect_tlv_size)
                        return IMAGO_EIMG_PROT_SIZE;
                if ((r = walk(buf, prot_off, d->hdr.protect_tlv_size, 1, d)) != IMAGO_OK)
                        return r;
        }
        if (ld16(buf + d->tlv_off) != IMAGO_IMAGE_TLV_INFO_MAGIC)
                return IMAGO_EIMG_TLV_MAGIC;
        tot = ld16(buf + d->tlv_off + 2);
        if (tot < IMAGO_IMAGE_TLV_INFO_SIZE)
                return IMAGO_EIMG_TLV_LEN;
        if (imago_add_u32(d->tlv_off, tot, &d->end) != IMAGO_OK || d->end > size)
                return IMAGO_EIMG_TLV_TRUNC;
        return walk(buf, d->tlv_off, tot, 0, d);
}

int imago_image_dump(const uint8_t *buf, size_t len, struct imago_image_dump *d)
{
        if ((buf == NULL && len != 0) || d == NULL)
                return IMAGO_EINVAL;
        memset(d, 0, sizeof(*d));
        d->image_ok = -1;
        d->status = dump(buf, len, d);
        if (len >= IMAGO_IMAGE_BOOT_MAGIC_LEN + IMAGO_IMAGE_MAX_ALIGN &&
            memcmp(buf + len - IMAGO_IMAGE_BOOT_MAGIC_LEN, imago_image_boot_magic,
                   IMAGO_IMAGE_BOOT_MAGIC_LEN) == 0) {
                d->trailer_magic = 1;
                d->image_ok = buf[len - IMAGO_IMAGE_BOOT_MAGIC_LEN - IMAGO_IMAGE_MAX_ALIGN];
        }
        return IMAGO_OK;
}
