/*
 * imago image signing (host only, never linked into the boot core).
 *
 * Builds an MCUboot image the way imgtool `sign --pad-header` does:
 *   header (header_size bytes: the 32-byte MCUboot header, then erased_val)
 *   body (the input, unchanged)
 *   protected TLVs, only with a security counter: info {0x6908, 12}, SEC_CNT (u32 LE)
 *   TLVs: info {0x6907, total}, SHA256, KEYHASH (SHA-256 of the SPKI DER),
 *         ED25519 (64 bytes) or ECDSA_SIG (DER)
 *   with pad: erased_val up to the trailer, then imgtool's trailer: erased
 *         bytes, image_ok = 0x01 at slot_size - 24 when confirm, and the
 *         16-byte boot magic in the last 16 bytes.
 * The trailer size is imgtool's: max_sectors * 3 * align + 8 * 4 + 16.
 *
 * Ownership: imago_image_sign() allocates *out; free it with
 * imago_image_sign_free().  The key is borrowed for the call.
 *
 * Errors: IMAGO_EINVAL (bad options), IMAGO_EIMG_TOO_LARGE (image plus
 * trailer larger than the slot, or sizes beyond the format's 32/16-bit
 * fields), IMAGO_EIMG_VERSION (version string), IMAGO_ENOMEM, and key
 * errors from keys.h.
 */
#ifndef IMAGO_IMAGE_IMAGE_SIGN_H
#define IMAGO_IMAGE_IMAGE_SIGN_H

#include "crypto/keys.h"
#include "image/image.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_IMAGE_MAX_ALIGN       8U /* imgtool's MAX_ALIGN */
#define IMAGO_IMAGE_MAX_SECTORS_DEF 128U
#define IMAGO_IMAGE_BOOT_MAGIC_LEN  16U

extern const uint8_t imago_image_boot_magic[IMAGO_IMAGE_BOOT_MAGIC_LEN];

struct imago_image_sign_opts {
        uint32_t header_size; /* >= 32, <= 0xffff; default 32 */
        struct imago_image_version ver;
        int has_sec_cnt;
        uint32_t sec_cnt;
        int pad;     /* pad to slot_size and write a trailer */
        int confirm; /* image_ok = 0x01 in the trailer (implies pad) */
        uint32_t slot_size;
        uint32_t align;       /* flash write size: 1, 2, 4 or 8; default 1 */
        uint32_t max_sectors; /* default 128 */
        uint8_t erased_val;   /* 0xff (default) or 0x00 */
};

/* Defaults, as imgtool's. */
void imago_image_sign_opts_init(struct imago_image_sign_opts *o);

/* "major[.minor[.revision[+build]]]", as imgtool's --version. */
int imago_image_version_parse(const char *s, struct imago_image_version *v);

/* imgtool's security counter "auto": (major << 24) | (minor << 16) | revision. */
uint32_t imago_image_version_sec_cnt(const struct imago_image_version *v);

/* Trailer bytes imgtool reserves at the end of a padded slot. */
int imago_image_trailer_size(uint32_t align, uint32_t max_sectors, uint32_t *out);

int imago_image_sign(const struct imago_privkey *key, const struct imago_image_sign_opts *o,
                     const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len);

void imago_image_sign_free(uint8_t *img);

#endif
