/*
 * imago signed images: MCUboot's image format, parsed and verified.
 *
 * This part is boot-safe: no malloc, no OS calls, bounded stack.  It reads
 * the image through an imago_image_src (a memory buffer or a flash area), so
 * the bootloader verifies in place and the CLI verifies a file the same way.
 *
 * Layout (all little-endian), as in MCUboot's bootutil/image.h:
 *   header (ih_hdr_size bytes, the first 32 defined below)
 *   body (ih_img_size bytes)
 *   protected TLV area (ih_protect_tlv_size bytes, 0 if none):
 *       info {u16 magic 0x6908, u16 total incl. this info}, TLVs
 *   TLV area: info {u16 magic 0x6907, u16 total incl. this info}, TLVs
 *   each TLV: {u16 type, u16 len, value}
 * The SHA256 TLV covers header + body + the whole protected area.
 *
 * Ownership: imago_image_verify() borrows src and keyring for the call only
 * and writes *info; it keeps nothing.
 *
 * Errors (each a distinct IMAGO_EIMG_* code, see base/err.h): bad magic,
 * truncated header/body/TLV area, bad TLV info magic, TLV length past its
 * area, size overflow, protected size mismatch, missing/duplicate hash, hash
 * mismatch, unknown key, bad or missing signature, duplicate or unprotected
 * security counter; errors from src->read are passed through.
 */
#ifndef IMAGO_IMAGE_IMAGE_H
#define IMAGO_IMAGE_IMAGE_H

#include "crypto/crypto.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_IMAGE_MAGIC          0x96f3b83dU
#define IMAGO_IMAGE_HEADER_SIZE    32U
#define IMAGO_IMAGE_TLV_INFO_MAGIC 0x6907U
#define IMAGO_IMAGE_TLV_PROT_MAGIC 0x6908U
#define IMAGO_IMAGE_TLV_INFO_SIZE  4U
#define IMAGO_IMAGE_TLV_HDR_SIZE   4U

/* TLV types (MCUboot bootutil/image.h). */
#define IMAGO_TLV_KEYHASH   0x01U
#define IMAGO_TLV_PUBKEY    0x02U
#define IMAGO_TLV_SHA256    0x10U
#define IMAGO_TLV_ECDSA_SIG 0x22U
#define IMAGO_TLV_ED25519   0x24U
#define IMAGO_TLV_SEC_CNT   0x50U

/* Header flags (MCUboot). */
#define IMAGO_IMAGE_F_PIC          0x00000001U
#define IMAGO_IMAGE_F_NON_BOOTABLE 0x00000010U
#define IMAGO_IMAGE_F_RAM_LOAD     0x00000020U
#define IMAGO_IMAGE_F_ROM_FIXED    0x00000100U

struct imago_image_version {
        uint8_t major;
        uint8_t minor;
        uint16_t revision;
        uint32_t build;
};

struct imago_image_hdr {
        uint32_t magic;
        uint32_t load_addr;
        uint16_t hdr_size;
        uint16_t protect_tlv_size;
        uint32_t img_size;
        uint32_t flags;
        struct imago_image_version ver;
};

/* Reads len bytes at off; returns 0 or a negative IMAGO_E* code. */
typedef int (*imago_image_read_fn)(void *ctx, uint32_t off, void *buf, uint32_t len);

struct imago_image_src {
        imago_image_read_fn read;
        void *ctx;
        uint32_t size; /* bytes that may be read: file length or slot size */
};

/* A source over a memory buffer; mem must outlive src. */
struct imago_image_mem {
        const uint8_t *buf;
        size_t len;
};
void imago_image_src_mem(struct imago_image_src *src, struct imago_image_mem *mem,
                         const uint8_t *buf, size_t len);

struct imago_image_keyring {
        const struct imago_pubkey *keys;
        size_t count;
};

struct imago_image_info {
        struct imago_image_hdr hdr;
        uint8_t hash[IMAGO_SHA256_LEN];
        uint32_t tlv_off; /* offset of the (unprotected) TLV info header */
        uint32_t end;     /* offset just past the TLV area: the image's signed length */
        int has_sec_cnt;
        uint32_t sec_cnt;
        int key_index; /* index in the keyring of the key that verified */
        enum imago_key_type sig_type;
};

/* Parse the 32-byte header; checks magic and that hdr_size >= 32. */
int imago_image_hdr_parse(const uint8_t buf[IMAGO_IMAGE_HEADER_SIZE], struct imago_image_hdr *hdr);

/*
 * Verify hash and signature against the keyring (kr may be NULL or empty:
 * then a signed image gives IMAGO_EIMG_KEY_UNKNOWN).  Order of checks:
 * layout (header, sizes with overflow checks, protected area, TLV area),
 * then the SHA256 TLV against the hash of [0, tlv_off) (IMAGO_EIMG_HASH),
 * then signatures: no signature TLV is IMAGO_EIMG_SIG_MISSING; every
 * signature whose preceding KEYHASH names a keyring key must verify
 * (IMAGO_EIMG_SIG_BAD, stricter than MCUboot, which needs only one);
 * signatures by unknown keys are ignored; none verified is
 * IMAGO_EIMG_KEY_UNKNOWN.  Reads at most 256 bytes per src->read call and
 * never past src->size; bytes after info->end are not read.  On error
 * info->key_index is -1 (other fields hold what was parsed so far).
 * See docs/image-format.md.
 */
int imago_image_verify(const struct imago_image_src *src, const struct imago_image_keyring *kr,
                       struct imago_image_info *info);

/* <0, 0, >0 like memcmp; the build number is ignored, as in MCUboot. */
int imago_image_version_cmp(const struct imago_image_version *a,
                            const struct imago_image_version *b);

#endif
