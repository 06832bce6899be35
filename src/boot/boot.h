/*
 * imago_boot: the boot decision of the imago bootloader.
 *
 * The caller (a firmware port, the host program, a test) owns everything:
 * the flash device and its four areas, the keyring of boot public keys and
 * a RAM buffer used to copy flash.  Nothing is allocated and no OS call is
 * made; flash goes through flash.h, crypto through crypto/crypto.h (image
 * verification in image/image.h).
 *
 * Areas: state (exactly two sectors, the anti-rollback counter, see
 * bstate.h); primary and secondary (same size and same sector sizes; the
 * trailer sectors at their end hold the MCUboot trailer, see trailer.h);
 * scratch (at least as large as the largest slot sector).
 *
 * imago_boot_go() runs the boot decision (see docs/boot.md):
 *   1. a swap recorded as in progress in the primary trailer is resumed;
 *   2. else a request in the secondary trailer (magic; image_ok = permanent;
 *      swap_info REVERT written by the bootloader = revert) is honoured if the
 *      secondary image verifies with the boot keys and its security counter
 *      is not below the stored one, otherwise the request is dropped (the
 *      secondary trailer is erased) and the reason is reported;
 *   3. else a primary left in an unconfirmed test state is reverted (the
 *      revert request is made durable in the secondary trailer first);
 *   4. the primary is verified (every boot) and checked against the stored
 *      counter; a confirmed primary raises the stored counter to its own.
 * It returns 0 when the primary may be booted, IMAGO_EBOOT_NO_IMAGE in the
 * recovery state (st says why each slot failed), or a flash error (for
 * example IMAGO_EFLASH_POWER_CUT from the simulator; boot again).
 *
 * imago_boot_inspect() fills the same status without writing flash.
 * imago_boot_confirm() marks a running trial image as good (image_ok), then
 * raises the stored counter to the primary's security counter when that is
 * higher (never lowers it), so a confirmed update is protected at once; a cut
 * between the two is completed by the next boot (step 4).
 * imago_boot_request() asks for the secondary image to be swapped in on
 * the next boot, as a test or permanently, after checking that it verifies.
 */
#ifndef IMAGO_BOOT_BOOT_H
#define IMAGO_BOOT_BOOT_H

#include "flash.h"
#include "trailer.h"
#include "image/image.h"

#include <stdint.h>

/* Smallest RAM copy buffer accepted. */
#define IMAGO_BOOT_BUF_MIN 64U

struct imago_boot_cfg {
        struct imago_flash_area state;
        struct imago_flash_area primary;
        struct imago_flash_area secondary;
        struct imago_flash_area scratch;
        struct imago_image_keyring keys;
        uint8_t *buf;     /* caller-owned RAM, buf_len bytes */
        uint32_t buf_len; /* >= IMAGO_BOOT_BUF_MIN, multiple of 8 */
};

struct imago_boot_status {
        int bootable;                 /* 1: the primary verified and may be booted */
        int slot;                     /* slot booted: 0 = primary */
        enum imago_boot_swap swap;    /* swap performed by this boot (NONE if none) */
        enum imago_boot_swap pending; /* request waiting in the secondary trailer */
        int trial;                    /* primary is an unconfirmed test image */
        int in_progress;              /* a swap is recorded as in progress */
        int confirmed;                /* primary is confirmed (not a trial) */
        struct imago_image_version version;
        int has_sec_cnt;
        uint32_t sec_cnt;        /* security counter of the primary image */
        uint32_t stored_sec_cnt; /* stored anti-rollback counter */
        uint32_t image_size;     /* signed length of the primary image */
        uint8_t hash[IMAGO_SHA256_LEN];
        int primary_err;   /* why the primary is not bootable (0 if it is) */
        int secondary_err; /* why a request or revert was refused (0 if none) */
};

int imago_boot_go(const struct imago_boot_cfg *cfg, struct imago_boot_status *st);
int imago_boot_inspect(const struct imago_boot_cfg *cfg, struct imago_boot_status *st);
/* IMAGO_EBOOT_NOT_CONFIRMABLE while a swap is in progress; IMAGO_EBOOT_TRAILER
 * for a torn image_ok; image errors when the primary no longer verifies (the
 * confirmation stays, the counter is not raised); flash errors. */
int imago_boot_confirm(const struct imago_boot_cfg *cfg);
/* IMAGO_ESTATE while the primary is a trial (the secondary holds its revert
 * image); IMAGO_EBOOT_PENDING when a permanent request is already there and a
 * test is asked; image errors and IMAGO_EBOOT_ROLLBACK from verification. */
int imago_boot_request(const struct imago_boot_cfg *cfg, int permanent);

/* Verify the image in a slot against the keys and the stored counter. */
int imago_boot_verify_slot(const struct imago_boot_cfg *cfg, const struct imago_flash_area *slot,
                           uint32_t stored, struct imago_image_info *info);

/* Name of a swap type ("none", "test", "permanent", "revert"). */
const char *imago_boot_swap_name(enum imago_boot_swap s);

#endif
