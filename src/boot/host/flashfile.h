/*
 * imago_flashfile: a whole flash chip kept in a host file, for the
 * imago-boot program (host only: it uses file descriptors).
 *
 * File layout, from offset 0, all sectors of the named layout:
 *   boot area (one sector): a descriptor standing for what a real
 *     bootloader has compiled in: magic "IMAGOFL1", u32 format version 1,
 *     u32 layout id, u32 slot size, u32 key count (1..IMAGO_FLASHFILE_MAX_KEYS),
 *     then per key u16 SPKI length + 96 bytes SPKI DER, then the CRC-32 of
 *     all of it (all integers little-endian); the rest of the sector is erased
 *   boot-state area (two sectors, see boot/bstate.h)
 *   primary slot, secondary slot, scratch
 * The file length must equal the layout's size; the descriptor's CRC and
 * every field are checked on open, so a wrong or damaged file is an error
 * (IMAGO_EMALFORMED, IMAGO_EFLASH_LAYOUT, IMAGO_ETRUNC), not a guess.
 *
 * Flash operations are pread/pwrite on the file with NOR rules checked (a
 * write over a non-erased byte fails with IMAGO_EFLASH_NOT_ERASED).  One
 * operation is one pwrite: a failure in the middle of a command leaves the
 * file as a power cut at that point would.  create() writes the whole new
 * file atomically (temporary file + rename).
 *
 * Ownership: the caller owns struct imago_flashfile; open() fills it (the
 * boot configuration in ff->cfg points into it, so it must not move) and
 * close() releases the descriptor.  Errors: IMAGO_ENOTFOUND, IMAGO_EIO,
 * IMAGO_EEXIST (create over an existing file), those above.
 */
#ifndef IMAGO_BOOT_HOST_FLASHFILE_H
#define IMAGO_BOOT_HOST_FLASHFILE_H

#include "boot/boot.h"
#include "crypto/crypto.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_FLASHFILE_MAX_KEYS 4
#define IMAGO_FLASHFILE_MAX_RUNS 12

struct imago_flashfile_layout {
        const char *name;
        const char *desc;
        uint32_t id;
        uint32_t align;
        uint8_t erased;
        uint32_t default_slot;
};

struct imago_flashfile {
        int fd;
        int writable;
        const struct imago_flashfile_layout *layout;
        uint32_t slot_size;
        struct imago_flash flash;
        struct imago_flash_run runs[IMAGO_FLASHFILE_MAX_RUNS];
        struct imago_flash_area boot;
        struct imago_pubkey keys[IMAGO_FLASHFILE_MAX_KEYS];
        size_t nkeys;
        struct imago_boot_cfg cfg;
        uint8_t buf[4096];  /* the boot core's copy buffer */
        uint8_t chk[4096];  /* NOR check in the write op */
        uint8_t wbuf[4096]; /* write_slot staging */
        uint32_t cut_after; /* test hook: writes/erases allowed before a "power cut"; 0 = off */
        uint32_t ops;       /* writes/erases done since open */
};

/* Layouts: index 0..count-1; NULL past the end. */
const struct imago_flashfile_layout *imago_flashfile_layout_at(size_t i);
const struct imago_flashfile_layout *imago_flashfile_layout_find(const char *name);

/* Create a new erased flash file (refuses to overwrite); slot_size 0 = default. */
int imago_flashfile_create(const char *path, const char *layout, uint32_t slot_size,
                           const struct imago_pubkey *keys, size_t nkeys);

int imago_flashfile_open(struct imago_flashfile *ff, const char *path, int writable);
/* fsync (when writable) and close; returns the first error. */
int imago_flashfile_close(struct imago_flashfile *ff);

/*
 * Test hook (host only): every write or erase after the first n fails with
 * IMAGO_EFLASH_POWER_CUT and changes nothing, as if power were cut there
 * (n 0 turns it off).  Used by `imago-boot run` with IMAGO_BOOT_TEST_CUT_FILE.
 */
void imago_flashfile_cut_after(struct imago_flashfile *ff, uint32_t n);

/* Erase a slot and program data at its start (erased units are skipped). */
int imago_flashfile_write_slot(struct imago_flashfile *ff, const struct imago_flash_area *slot,
                               const uint8_t *data, size_t len);

#endif
