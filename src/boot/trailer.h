/*
 * imago_boot_trailer: MCUboot's image trailer at the end of a slot, and the
 * slot geometry it implies.
 *
 * Layout, offsets from the end of the slot (max_align 8, so every field sits
 * in its own 8-byte unit and is programmed once, in write-alignment units,
 * the rest of the unit left erased):
 *   end-16  boot magic (16 bytes, 77 c2 95 f3 60 d2 ef 7f 35 52 50 0f 2c b6 79 80)
 *   end-24  image_ok   (0x01 = set)
 *   end-32  copy_done  (0x01 = set)
 *   end-40  swap_info  (swap type in the low nibble, image number 0 above)
 *   end-48  swap_size  (u32 little-endian: bytes of each slot being swapped)
 *   end-48-8*(3*i+s+1)  swap status of region i, step s (0..2), 0x01 = done
 * The trailer sectors (the fewest sectors at the end of the slot that hold
 * 48 + 24 * image_sectors bytes) are never swapped; the image area is the
 * slot before them.  imgtool --pad images put magic and image_ok at the same
 * places.
 *
 * Nothing is allocated; all functions work on caller-provided areas.
 * Errors: flash errors are passed through; IMAGO_EBOOT_TRAILER when a field
 * to be written already holds another value (it is never overwritten);
 * IMAGO_EFLASH_LAYOUT when the slots do not have the same sectors or the
 * trailer does not fit.
 */
#ifndef IMAGO_BOOT_TRAILER_H
#define IMAGO_BOOT_TRAILER_H

#include "flash.h"

#include <stdint.h>

#define IMAGO_BOOT_MAGIC_LEN     16U
#define IMAGO_BOOT_TRAILER_FIXED 48U
#define IMAGO_BOOT_STATUS_STEPS  3U
#define IMAGO_BOOT_FLAG_SET      0x01U

#define IMAGO_BOOT_OFF_MAGIC     16U
#define IMAGO_BOOT_OFF_IMAGE_OK  24U
#define IMAGO_BOOT_OFF_COPY_DONE 32U
#define IMAGO_BOOT_OFF_SWAP_INFO 40U
#define IMAGO_BOOT_OFF_SWAP_SIZE 48U

extern const uint8_t imago_boot_magic[IMAGO_BOOT_MAGIC_LEN];

enum imago_boot_swap {
        IMAGO_BOOT_SWAP_NONE = 1,
        IMAGO_BOOT_SWAP_TEST = 2,
        IMAGO_BOOT_SWAP_PERM = 3,
        IMAGO_BOOT_SWAP_REVERT = 4,
};

/* State of a one-byte field. */
enum imago_boot_flag {
        IMAGO_BOOT_FLAG_UNSET = 0, /* erased */
        IMAGO_BOOT_FLAG_ON = 1,    /* 0x01 */
        IMAGO_BOOT_FLAG_BAD = 2,   /* anything else */
};

struct imago_boot_geom {
        uint32_t nsectors;    /* sectors per slot */
        uint32_t img_sectors; /* sectors of the image area (swapped) */
        uint32_t img_size;    /* bytes of the image area */
        uint32_t max_sector;  /* largest sector of a slot */
};

/* Geometry of a slot pair: same sector sizes in both, trailer fits. */
int imago_boot_geom_init(struct imago_boot_geom *g, const struct imago_flash_area *primary,
                         const struct imago_flash_area *secondary);

struct imago_boot_trailer {
        int magic; /* 1 when the boot magic is present */
        enum imago_boot_flag image_ok;
        enum imago_boot_flag copy_done;
        int swap_type;     /* 0 erased, 1..4 a type, -1 invalid */
        int swap_size_set; /* swap_size was written */
        uint32_t swap_size;
};

int imago_boot_trailer_read(const struct imago_flash_area *slot, struct imago_boot_trailer *t);

/* Erase the trailer sectors of a slot. */
int imago_boot_trailer_erase(const struct imago_flash_area *slot, const struct imago_boot_geom *g);

/* Program one field if erased; no-op if it already holds the value. */
int imago_boot_trailer_set_flag(const struct imago_flash_area *slot, uint32_t off_from_end,
                                uint8_t value);
int imago_boot_trailer_set_magic(const struct imago_flash_area *slot);
int imago_boot_trailer_set_swap_size(const struct imago_flash_area *slot, uint32_t size);

/* Swap status of region idx, step (0..2): *done 1 when the entry is not erased.
 * An entry is written only after its step completed, so a torn entry (neither
 * erased nor 0x01) still means the step is done. */
int imago_boot_status_get(const struct imago_flash_area *slot, uint32_t idx, uint32_t step,
                          int *done);
int imago_boot_status_set(const struct imago_flash_area *slot, uint32_t idx, uint32_t step);

#endif
