/*
 * Image verification; see image.h.
 *
 * Boot-safe: no malloc, no OS calls, no stdio; the image is read through
 * src->read in chunks of IMAGO_IMAGE_CHUNK bytes into stack buffers.  Only
 * memcpy/memset/memcmp and imago_* symbols may be referenced from here.
 */
#include "image.h"

#include "base/cmath.h"
#include "base/err.h"

#include <string.h>

#define IMAGO_IMAGE_CHUNK 256U

static uint16_t ld16(const uint8_t *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t ld32(const uint8_t *p)
{
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
               ((uint32_t)p[3] << 24);
}

/* Bounded read: never asks src->read for bytes past src->size. */
static int src_read(const struct imago_image_src *src, uint32_t off, void *buf, uint32_t len,
                    int trunc_err)
{
        uint32_t end;

        if (imago_add_u32(off, len, &end) != IMAGO_OK || end > src->size)
                return trunc_err;
        return src->read(src->ctx, off, buf, len);
}

static int mem_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        const struct imago_image_mem *mem = ctx;
        size_t end;

        if (imago_add_size(off, len, &end) != IMAGO_OK || end > mem->len)
                return IMAGO_ETRUNC;
        if (len > 0)
                memcpy(buf, mem->buf + off, len);
        return IMAGO_OK;
}

void imago_image_src_mem(struct imago_image_src *src, struct imago_image_mem *mem,
                         const uint8_t *buf, size_t len)
{
        mem->buf = buf;
        mem->len = len > UINT32_MAX ? UINT32_MAX : len;
        src->read = mem_read;
        src->ctx = mem;
        src->size = (uint32_t)mem->len;
}

int imago_image_hdr_parse(const uint8_t buf[IMAGO_IMAGE_HEADER_SIZE], struct imago_image_hdr *hdr)
{
        struct imago_image_hdr h;

        if (buf == NULL || hdr == NULL)
                return IMAGO_EINVAL;
        h.magic = ld32(buf + 0);
        h.load_addr = ld32(buf + 4);
        h.hdr_size = ld16(buf + 8);
        h.protect_tlv_size = ld16(buf + 10);
        h.img_size = ld32(buf + 12);
        h.flags = ld32(buf + 16);
        h.ver.major = buf[20];
        h.ver.minor = buf[21];
        h.ver.revision = ld16(buf + 22);
        h.ver.build = ld32(buf + 24);
        /* bytes 28..31: ih_pad1, ignored as in MCUboot */
        if (h.magic != IMAGO_IMAGE_MAGIC)
                return IMAGO_EIMG_MAGIC;
        if (h.hdr_size < IMAGO_IMAGE_HEADER_SIZE)
                return IMAGO_EIMG_HDR_SIZE;
        *hdr = h;
        return IMAGO_OK;
}

int imago_image_version_cmp(const struct imago_image_version *a,
                            const struct imago_image_version *b)
{
        if (a->major != b->major)
                return a->major < b->major ? -1 : 1;
        if (a->minor != b->minor)
                return a->minor < b->minor ? -1 : 1;
        if (a->revision != b->revision)
                return a->revision < b->revision ? -1 : 1;
        return 0;
}

/* Layout of one image, every offset checked against src->size. */
struct layout {
        uint32_t prot_off; /* start of the protected area = end of the body */
        uint32_t tlv_off;  /* start of the unprotected TLV area = end of the hashed region */
        uint32_t end;      /* end of the unprotected TLV area */
};

static int check_layout(const struct imago_image_src *src, const struct imago_image_hdr *h,
                        struct layout *l)
{
        uint32_t x;

        if (imago_add_u32(h->hdr_size, h->img_size, &l->prot_off) != IMAGO_OK)
                return IMAGO_EIMG_SIZE_OVERFLOW;
        if (imago_add_u32(l->prot_off, h->protect_tlv_size, &l->tlv_off) != IMAGO_OK)
                return IMAGO_EIMG_SIZE_OVERFLOW;
        if (imago_add_u32(l->tlv_off, IMAGO_IMAGE_TLV_INFO_SIZE, &x) != IMAGO_OK)
                return IMAGO_EIMG_SIZE_OVERFLOW;
        if (h->hdr_size > src->size)
                return IMAGO_EIMG_HDR_TRUNC;
        if (l->prot_off > src->size)
                return IMAGO_EIMG_BODY_TRUNC;
        if (x > src->size)
                return IMAGO_EIMG_TLV_TRUNC;
        return IMAGO_OK;
}

/* The unprotected TLV info header: sets l->end. */
static int read_tlv_info(const struct imago_image_src *src, struct layout *l)
{
        uint8_t info[IMAGO_IMAGE_TLV_INFO_SIZE];
        int r;

        r = src_read(src, l->tlv_off, info, sizeof(info), IMAGO_EIMG_TLV_TRUNC);
        if (r != IMAGO_OK)
                return r;
        if (ld16(info) != IMAGO_IMAGE_TLV_INFO_MAGIC)
                return IMAGO_EIMG_TLV_MAGIC;
        if (ld16(info + 2) < IMAGO_IMAGE_TLV_INFO_SIZE)
                return IMAGO_EIMG_TLV_LEN;
        if (imago_add_u32(l->tlv_off, ld16(info + 2), &l->end) != IMAGO_OK)
                return IMAGO_EIMG_SIZE_OVERFLOW;
        if (l->end > src->size)
                return IMAGO_EIMG_TLV_TRUNC;
        return IMAGO_OK;
}

/* A TLV iterator over [start, end); no interior pointers, nothing to free. */
struct tlv_it {
        uint32_t off;
        uint32_t end;
};

/*
 * Next TLV: 1 with *type, *voff, *vlen set; 0 at the end; <0 on error.  A
 * TLV header or value that does not fit in the area is IMAGO_EIMG_TLV_LEN.
 */
static int tlv_next(const struct imago_image_src *src, struct tlv_it *it, uint16_t *type,
                    uint32_t *voff, uint16_t *vlen)
{
        uint8_t th[IMAGO_IMAGE_TLV_HDR_SIZE];
        uint32_t v, e;
        int r;

        if (it->off == it->end)
                return 0;
        if (imago_add_u32(it->off, IMAGO_IMAGE_TLV_HDR_SIZE, &v) != IMAGO_OK || v > it->end)
                return IMAGO_EIMG_TLV_LEN;
        r = src_read(src, it->off, th, sizeof(th), IMAGO_EIMG_TLV_TRUNC);
        if (r != IMAGO_OK)
                return r;
        if (imago_add_u32(v, ld16(th + 2), &e) != IMAGO_OK || e > it->end)
                return IMAGO_EIMG_TLV_LEN;
        *type = ld16(th);
        *voff = v;
        *vlen = ld16(th + 2);
        it->off = e;
        return 1;
}

static int walk_protected(const struct imago_image_src *src, const struct imago_image_hdr *h,
                          const struct layout *l, struct imago_image_info *info)
{
        uint8_t buf[4];
        struct tlv_it it;
        uint32_t voff;
        uint16_t type, vlen;
        int r;

        if (h->protect_tlv_size == 0)
                return IMAGO_OK;
        if (h->protect_tlv_size < IMAGO_IMAGE_TLV_INFO_SIZE)
                return IMAGO_EIMG_PROT_SIZE;
        r = src_read(src, l->prot_off, buf, IMAGO_IMAGE_TLV_INFO_SIZE, IMAGO_EIMG_TLV_TRUNC);
        if (r != IMAGO_OK)
                return r;
        if (ld16(buf) != IMAGO_IMAGE_TLV_PROT_MAGIC)
                return IMAGO_EIMG_TLV_MAGIC;
        if (ld16(buf + 2) != h->protect_tlv_size)
                return IMAGO_EIMG_PROT_SIZE;
        it.off = l->prot_off + IMAGO_IMAGE_TLV_INFO_SIZE; /* <= tlv_off, checked above */
        it.end = l->tlv_off;
        while ((r = tlv_next(src, &it, &type, &voff, &vlen)) == 1) {
                if (type != IMAGO_TLV_SEC_CNT)
                        continue; /* other protected TLVs are not interpreted here */
                if (info->has_sec_cnt)
                        return IMAGO_EIMG_SECCNT_DUP;
                if (vlen != 4)
                        return IMAGO_EIMG_TLV_BAD;
                r = src_read(src, voff, buf, 4, IMAGO_EIMG_TLV_TRUNC);
                if (r != IMAGO_OK)
                        return r;
                info->has_sec_cnt = 1;
                info->sec_cnt = ld32(buf);
        }
        return r;
}

/* First pass over the unprotected area: structure, the SHA256 TLV, TLV lengths. */
static int walk_unprotected(const struct imago_image_src *src, const struct layout *l,
                            uint8_t hash_tlv[IMAGO_SHA256_LEN], int *nsig)
{
        struct tlv_it it;
        uint32_t voff;
        uint16_t type, vlen;
        int r, have_hash = 0;

        *nsig = 0;
        it.off = l->tlv_off + IMAGO_IMAGE_TLV_INFO_SIZE;
        it.end = l->end;
        while ((r = tlv_next(src, &it, &type, &voff, &vlen)) == 1) {
                switch (type) {
                case IMAGO_TLV_SHA256:
                        if (have_hash)
                                return IMAGO_EIMG_TLV_DUP;
                        if (vlen != IMAGO_SHA256_LEN)
                                return IMAGO_EIMG_TLV_BAD;
                        r = src_read(src, voff, hash_tlv, IMAGO_SHA256_LEN, IMAGO_EIMG_TLV_TRUNC);
                        if (r != IMAGO_OK)
                                return r;
                        have_hash = 1;
                        break;
                case IMAGO_TLV_SEC_CNT:
                        return IMAGO_EIMG_SECCNT_UNPROT;
                case IMAGO_TLV_KEYHASH:
                        if (vlen != IMAGO_SHA256_LEN)
                                return IMAGO_EIMG_TLV_BAD;
                        break;
                case IMAGO_TLV_ED25519:
                        if (vlen != 64)
                                return IMAGO_EIMG_TLV_BAD;
                        (*nsig)++;
                        break;
                case IMAGO_TLV_ECDSA_SIG:
                        if (vlen == 0 || vlen > IMAGO_SIG_MAX_LEN)
                                return IMAGO_EIMG_TLV_BAD;
                        (*nsig)++;
                        break;
                default:
                        break; /* unknown TLVs are skipped, as in MCUboot */
                }
        }
        if (r < 0)
                return r;
        return have_hash ? IMAGO_OK : IMAGO_EIMG_NO_HASH;
}

static int hash_region(const struct imago_image_src *src, uint32_t len,
                       uint8_t out[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h = {0};
        uint8_t chunk[IMAGO_IMAGE_CHUNK];
        uint32_t off = 0, n;
        int r;

        if ((r = imago_sha256_init(&h)) != IMAGO_OK)
                return r;
        while (off < len) {
                n = len - off < IMAGO_IMAGE_CHUNK ? len - off : IMAGO_IMAGE_CHUNK;
                if ((r = src_read(src, off, chunk, n, IMAGO_EIMG_BODY_TRUNC)) != IMAGO_OK)
                        goto out;
                if ((r = imago_sha256_update(&h, chunk, n)) != IMAGO_OK)
                        goto out;
                off += n;
        }
        r = imago_sha256_final(&h, out);
out:
        imago_sha256_abort(&h);
        return r;
}

static int find_key(const struct imago_image_keyring *kr, const uint8_t keyhash[IMAGO_SHA256_LEN])
{
        size_t i;

        if (kr == NULL || kr->keys == NULL)
                return -1;
        for (i = 0; i < kr->count && i < 0x7fffffff; i++)
                if (memcmp(kr->keys[i].keyhash, keyhash, IMAGO_SHA256_LEN) == 0)
                        return (int)i;
        return -1;
}

/*
 * Second pass: every signature TLV whose preceding KEYHASH names a keyring key
 * must verify (one bad signature fails the image); at least one must exist.
 */
static int check_signatures(const struct imago_image_src *src, const struct imago_image_keyring *kr,
                            const struct layout *l, struct imago_image_info *info)
{
        uint8_t keyhash[IMAGO_SHA256_LEN];
        uint8_t sig[IMAGO_SIG_MAX_LEN];
        struct tlv_it it;
        uint32_t voff;
        uint16_t type, vlen;
        int r, key = -1, verified = 0;
        enum imago_key_type want;

        it.off = l->tlv_off + IMAGO_IMAGE_TLV_INFO_SIZE;
        it.end = l->end;
        while ((r = tlv_next(src, &it, &type, &voff, &vlen)) == 1) {
                if (type == IMAGO_TLV_KEYHASH) {
                        r = src_read(src, voff, keyhash, IMAGO_SHA256_LEN, IMAGO_EIMG_TLV_TRUNC);
                        if (r != IMAGO_OK)
                                return r;
                        key = find_key(kr, keyhash);
                        continue;
                }
                if (type == IMAGO_TLV_ED25519)
                        want = IMAGO_KEY_ED25519;
                else if (type == IMAGO_TLV_ECDSA_SIG)
                        want = IMAGO_KEY_P256;
                else
                        continue;
                if (key < 0)
                        continue; /* not by a key we know: ignored, as in MCUboot */
                if (kr->keys[key].type != want)
                        return IMAGO_EIMG_SIG_BAD;
                r = src_read(src, voff, sig, vlen, IMAGO_EIMG_TLV_TRUNC);
                if (r != IMAGO_OK)
                        return r;
                r = imago_sig_verify_digest(&kr->keys[key], info->hash, sig, vlen);
                if (r != IMAGO_OK)
                        return r;
                if (!verified) {
                        verified = 1;
                        info->key_index = key;
                        info->sig_type = want;
                }
                key = -1; /* a KEYHASH names the one signature that follows it */
        }
        if (r < 0)
                return r;
        return verified ? IMAGO_OK : IMAGO_EIMG_KEY_UNKNOWN;
}

int imago_image_verify(const struct imago_image_src *src, const struct imago_image_keyring *kr,
                       struct imago_image_info *info)
{
        uint8_t buf[IMAGO_IMAGE_HEADER_SIZE];
        uint8_t hash_tlv[IMAGO_SHA256_LEN];
        struct layout l;
        int r, nsig = 0;

        if (src == NULL || src->read == NULL || info == NULL)
                return IMAGO_EINVAL;
        memset(info, 0, sizeof(*info));
        info->key_index = -1;
        info->sig_type = IMAGO_KEY_NONE;
        if ((r = src_read(src, 0, buf, sizeof(buf), IMAGO_EIMG_HDR_TRUNC)) != IMAGO_OK)
                goto out;
        if ((r = imago_image_hdr_parse(buf, &info->hdr)) != IMAGO_OK)
                goto out;
        if ((r = check_layout(src, &info->hdr, &l)) != IMAGO_OK)
                goto out;
        info->tlv_off = l.tlv_off;
        if ((r = walk_protected(src, &info->hdr, &l, info)) != IMAGO_OK)
                goto out;
        if ((r = read_tlv_info(src, &l)) != IMAGO_OK)
                goto out;
        info->end = l.end;
        if ((r = walk_unprotected(src, &l, hash_tlv, &nsig)) != IMAGO_OK)
                goto out;
        if ((r = hash_region(src, l.tlv_off, info->hash)) != IMAGO_OK)
                goto out;
        if (memcmp(info->hash, hash_tlv, IMAGO_SHA256_LEN) != 0) {
                r = IMAGO_EIMG_HASH;
                goto out;
        }
        if (nsig == 0) {
                r = IMAGO_EIMG_SIG_MISSING;
                goto out;
        }
        r = check_signatures(src, kr, &l, info);
out:
        if (r != IMAGO_OK) {
                info->key_index = -1;
                info->sig_type = IMAGO_KEY_NONE;
        }
        return r;
}
