/* Image signing; see image_sign.h. */
#include "image_sign.h"

#include "base/cmath.h"
#include "base/err.h"
#include "base/num.h"
#include "base/wipe.h"

#include <stdlib.h>
#include <string.h>

const uint8_t imago_image_boot_magic[IMAGO_IMAGE_BOOT_MAGIC_LEN] = {
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

/* Protected area with a security counter: info + one TLV of 4 bytes. */
#define PROT_SEC_CNT_SIZE (IMAGO_IMAGE_TLV_INFO_SIZE + IMAGO_IMAGE_TLV_HDR_SIZE + 4U)

/* Unprotected area: info, SHA256, KEYHASH, signature. */
#define TLV_MAX_SIZE                                                                               \
        (IMAGO_IMAGE_TLV_INFO_SIZE + 3U * IMAGO_IMAGE_TLV_HDR_SIZE + 2U * IMAGO_SHA256_LEN +       \
         IMAGO_SIG_MAX_LEN)

void imago_image_sign_opts_init(struct imago_image_sign_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->header_size = IMAGO_IMAGE_HEADER_SIZE;
        o->align = 1;
        o->max_sectors = IMAGO_IMAGE_MAX_SECTORS_DEF;
        o->erased_val = 0xff;
}

/* One decimal component of a version: digits only, value <= max. */
static int version_part(const char **s, char stop, uint32_t max, uint32_t *out)
{
        char buf[16];
        size_t n = 0;

        while ((*s)[n] != '\0' && (*s)[n] != stop && (*s)[n] != '.' && (*s)[n] != '+') {
                if ((*s)[n] < '0' || (*s)[n] > '9' || n + 1 >= sizeof(buf))
                        return IMAGO_EIMG_VERSION;
                buf[n] = (*s)[n];
                n++;
        }
        if (n == 0)
                return IMAGO_EIMG_VERSION;
        buf[n] = '\0';
        if (imago_parse_u32(buf, max, out) != IMAGO_OK)
                return IMAGO_EIMG_VERSION;
        *s += n;
        return IMAGO_OK;
}

int imago_image_version_parse(const char *s, struct imago_image_version *v)
{
        struct imago_image_version r = {0, 0, 0, 0};
        uint32_t x;

        if (s == NULL || v == NULL)
                return IMAGO_EINVAL;
        if (version_part(&s, '.', 0xff, &x) != IMAGO_OK)
                return IMAGO_EIMG_VERSION;
        r.major = (uint8_t)x;
        if (*s == '.') {
                s++;
                if (version_part(&s, '.', 0xff, &x) != IMAGO_OK)
                        return IMAGO_EIMG_VERSION;
                r.minor = (uint8_t)x;
                if (*s == '.') {
                        s++;
                        if (version_part(&s, '+', 0xffff, &x) != IMAGO_OK)
                                return IMAGO_EIMG_VERSION;
                        r.revision = (uint16_t)x;
                        if (*s == '+') {
                                s++;
                                if (version_part(&s, '\0', 0xffffffffU, &x) != IMAGO_OK)
                                        return IMAGO_EIMG_VERSION;
                                r.build = x;
                        }
                }
        }
        if (*s != '\0')
                return IMAGO_EIMG_VERSION;
        *v = r;
        return IMAGO_OK;
}

uint32_t imago_image_version_sec_cnt(const struct imago_image_version *v)
{
        return ((uint32_t)v->major << 24) | ((uint32_t)v->minor << 16) | v->revision;
}

int imago_image_trailer_size(uint32_t align, uint32_t max_sectors, uint32_t *out)
{
        uint32_t t;

        if (align != 1 && align != 2 && align != 4 && align != 8)
                return IMAGO_EINVAL;
        if (max_sectors == 0)
                return IMAGO_EINVAL;
        if (imago_mul_u32(max_sectors, 3U * align, &t) != IMAGO_OK ||
            imago_add_u32(t, IMAGO_IMAGE_MAX_ALIGN * 4U + IMAGO_IMAGE_BOOT_MAGIC_LEN, &t) !=
                IMAGO_OK)
                return IMAGO_EOVERFLOW;
        *out = t;
        return IMAGO_OK;
}

static uint8_t *st16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        return p + 2;
}

static uint8_t *st32(uint8_t *p, uint32_t v)
{
        p = st16(p, (uint16_t)v);
        return st16(p, (uint16_t)(v >> 16));
}

static uint8_t *tlv(uint8_t *p, uint16_t type, const void *val, uint16_t len)
{
        p = st16(p, type);
        p = st16(p, len);
        memcpy(p, val, len);
        return p + len;
}

static int check_opts(const struct imago_image_sign_opts *o)
{
        if (o->header_size < IMAGO_IMAGE_HEADER_SIZE || o->header_size > 0xffffU)
                return IMAGO_EINVAL;
        if (o->erased_val != 0xff && o->erased_val != 0x00)
                return IMAGO_EINVAL;
        if ((o->pad || o->confirm) && o->slot_size == 0)
                return IMAGO_EINVAL;
        return IMAGO_OK;
}

int imago_image_sign(const struct imago_privkey *key, const struct imago_image_sign_opts *o,
                     const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len)
{
        struct imago_pubkey pub;
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        uint8_t *img = NULL, *p, *tlv_start;
        uint32_t prot, hashed, total, trailer = 0, alloc;
        size_t sig_len = 0;
        int r;

        if (key == NULL || o == NULL || (body == NULL && body_len != 0) || out == NULL ||
            out_len == NULL)
                return IMAGO_EINVAL;
        if ((r = check_opts(o)) != IMAGO_OK)
                return r;
        if ((r = imago_privkey_public(key, &pub)) != IMAGO_OK)
                return r;
        prot = o->has_sec_cnt ? PROT_SEC_CNT_SIZE : 0;
        if (body_len > UINT32_MAX ||
            imago_add_u32(o->header_size, (uint32_t)body_len, &hashed) != IMAGO_OK ||
            imago_add_u32(hashed, prot, &hashed) != IMAGO_OK ||
            imago_add_u32(hashed, TLV_MAX_SIZE, &total) != IMAGO_OK)
                return IMAGO_EIMG_TOO_LARGE;
        alloc = total;
        if (o->pad || o->confirm) {
                if ((r = imago_image_trailer_size(o->align, o->max_sectors, &trailer)) != IMAGO_OK)
                        return r;
                /* The real TLV size is known only after signing; checked again below. */
                if (o->slot_size < trailer)
                        return IMAGO_EIMG_TOO_LARGE;
                if (o->slot_size > alloc)
                        alloc = o->slot_size;
        }
        if ((img = malloc(alloc)) == NULL)
                return IMAGO_ENOMEM;
        memset(img, o->erased_val, alloc);

        p = img;
        p = st32(p, IMAGO_IMAGE_MAGIC);
        p = st32(p, 0); /* load address */
        p = st16(p, (uint16_t)o->header_size);
        p = st16(p, (uint16_t)prot);
        p = st32(p, (uint32_t)body_len);
        p = st32(p, 0); /* flags */
        *p++ = o->ver.major;
        *p++ = o->ver.minor;
        p = st16(p, o->ver.revision);
        p = st32(p, o->ver.build);
        st32(p, 0); /* pad1 */
        p = img + o->header_size;
        if (body_len > 0)
                memcpy(p, body, body_len);
        p += body_len;
        if (o->has_sec_cnt) {
                uint8_t v[4];

                st32(v, o->sec_cnt);
                p = st16(p, IMAGO_IMAGE_TLV_PROT_MAGIC);
                p = st16(p, (uint16_t)prot);
                p = tlv(p, IMAGO_TLV_SEC_CNT, v, 4);
        }
        if ((r = imago_sha256(img, hashed, digest)) != IMAGO_OK)
                goto out;
        if ((r = imago_privkey_sign_digest(key, digest, sig, &sig_len)) != IMAGO_OK)
                goto out;
        tlv_start = p;
        p += IMAGO_IMAGE_TLV_INFO_SIZE;
        p = tlv(p, IMAGO_TLV_SHA256, digest, IMAGO_SHA256_LEN);
        p = tlv(p, IMAGO_TLV_KEYHASH, pub.keyhash, IMAGO_SHA256_LEN);
        p = tlv(p, key->type == IMAGO_KEY_ED25519 ? IMAGO_TLV_ED25519 : IMAGO_TLV_ECDSA_SIG, sig,
                (uint16_t)sig_len);
        st16(tlv_start, IMAGO_IMAGE_TLV_INFO_MAGIC);
        st16(tlv_start + 2, (uint16_t)(p - tlv_start));
        total = (uint32_t)(p - img);
        if (o->pad || o->confirm) {
                /* imgtool: error unless image + trailer <= slot size. */
                if (total > o->slot_size - trailer) {
                        r = IMAGO_EIMG_TOO_LARGE;
                        goto out;
                }
                memset(img + total, o->erased_val, o->slot_size - total);
                memcpy(img + o->slot_size - IMAGO_IMAGE_BOOT_MAGIC_LEN, imago_image_boot_magic,
                       IMAGO_IMAGE_BOOT_MAGIC_LEN);
                if (o->confirm)
                        img[o->slot_size - IMAGO_IMAGE_BOOT_MAGIC_LEN - IMAGO_IMAGE_MAX_ALIGN] =
                            0x01;
                total = o->slot_size;
        }
        *out = img;
        *out_len = total;
        img = NULL;
        r = IMAGO_OK;
out:
        imago_wipe(sig, sizeof(sig));
        free(img);
        return r;
}

void imago_image_sign_free(uint8_t *img)
{
        free(img);
}
