/*
 * imago image inspection (host only): what an image says about itself,
 * without trusting it.  Used by `imago image inspect`.
 *
 * imago_image_dump() parses as far as the structure allows and records the
 * first structural error in d->status (an IMAGO_EIMG_* code, 0 when the
 * layout is sound); it does not check signatures (that is
 * imago_image_verify()'s job) but recomputes the hash when it can.
 *
 * Ownership: buf is borrowed for the call; d is caller-owned, fixed size,
 * and holds no pointers.  Returns IMAGO_EINVAL for bad arguments, else 0.
 */
#ifndef IMAGO_IMAGE_IMAGE_DUMP_H
#define IMAGO_IMAGE_IMAGE_DUMP_H

#include "image/image.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_IMAGE_DUMP_MAX_TLVS 32

struct imago_image_dump_tlv {
        uint16_t type;
        uint16_t len;
        uint32_t off; /* offset of the value */
        int prot;     /* in the protected area */
};

struct imago_image_dump {
        int status; /* first structural error, or 0 */
        int has_hdr;
        struct imago_image_hdr hdr;
        uint32_t tlv_off, end;
        size_t ntlv;
        int tlv_more; /* more TLVs than recorded */
        struct imago_image_dump_tlv tlv[IMAGO_IMAGE_DUMP_MAX_TLVS];
        int has_hash_tlv;
        uint8_t hash_tlv[IMAGO_SHA256_LEN];
        int has_hash; /* hash computed over the hashed region */
        uint8_t hash[IMAGO_SHA256_LEN];
        int has_keyhash;
        uint8_t keyhash[IMAGO_SHA256_LEN];
        enum imago_key_type sig_type;
        int has_sec_cnt;
        uint32_t sec_cnt;
        int trailer_magic; /* MCUboot boot magic in the last 16 bytes */
        int image_ok;      /* byte at len - 24 when trailer_magic, else -1 */
};

int imago_image_dump(const uint8_t *buf, size_t len, struct imago_image_dump *d);

/* "SHA256", "KEYHASH", ...; "unknown" otherwise. */
const char *imago_image_tlv_name(uint16_t type);

#endif
