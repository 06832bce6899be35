/*
 * imago_flash: the bootloader's only path to flash.
 *
 * A port describes its flash device with struct imago_flash: an ops table
 * (read, write, erase over device offsets), the write alignment (1, 2, 4 or
 * 8 bytes), the erased byte value (0xff or 0x00) and the sector layout as
 * runs of equal sectors from offset 0.  Areas (boot state, primary,
 * secondary, scratch) are byte ranges of the device that start and end on
 * sector boundaries.
 *
 * The helpers below take area-relative offsets and check every range with
 * overflow-checked arithmetic before calling the ops; writes must be
 * aligned and erases must cover whole sectors.  They never allocate and
 * make no OS calls.
 *
 * Ownership: the caller owns the device description, its ops context and
 * the run table; they must outlive every area that refers to them.
 *
 * Errors: IMAGO_EFLASH_RANGE (outside the area), IMAGO_EFLASH_ALIGN,
 * IMAGO_EFLASH_SECTOR (erase or area not on sector boundaries),
 * IMAGO_EFLASH_LAYOUT (unusable description), and whatever the ops return
 * (IMAGO_EFLASH_POWER_CUT, IMAGO_EFLASH_NOT_ERASED, IMAGO_EIO...).
 */
#ifndef IMAGO_BOOT_FLASH_H
#define IMAGO_BOOT_FLASH_H

#include <stddef.h>
#include <stdint.h>

/* Largest write alignment the trailer format supports (MCUboot max_align). */
#define IMAGO_FLASH_MAX_ALIGN 8U

struct imago_flash_ops {
        int (*read)(void *ctx, uint32_t off, void *buf, uint32_t len);
        /* off and len are multiples of the alignment. */
        int (*write)(void *ctx, uint32_t off, const void *buf, uint32_t len);
        /* off and len cover whole sectors. */
        int (*erase)(void *ctx, uint32_t off, uint32_t len);
};

/* count consecutive sectors of size bytes each. */
struct imago_flash_run {
        uint32_t size;
        uint32_t count;
};

struct imago_flash {
        const struct imago_flash_ops *ops;
        void *ctx;
        uint32_t align;
        uint8_t erased;
        const struct imago_flash_run *runs;
        size_t nruns;
};

struct imago_flash_area {
        const struct imago_flash *dev;
        uint32_t off;
        uint32_t size;
};

/* Check the device description: ops present, align 1/2/4/8, erased 0x00 or
 * 0xff, non-empty sectors, total size fits in 32 bits. */
int imago_flash_check(const struct imago_flash *dev);

/* Total size of the device. */
uint32_t imago_flash_dev_size(const struct imago_flash *dev);

/* Device sector containing device offset off: its start and size. */
int imago_flash_dev_sector(const struct imago_flash *dev, uint32_t off, uint32_t *start,
                           uint32_t *size);

/* Set *a to [off, off+size) of dev; both ends must be sector boundaries. */
int imago_flash_area_init(struct imago_flash_area *a, const struct imago_flash *dev, uint32_t off,
                          uint32_t size);

/* Sectors of an area: count, and the idx-th (area-relative start, size). */
uint32_t imago_flash_area_nsectors(const struct imago_flash_area *a);
int imago_flash_area_sector(const struct imago_flash_area *a, uint32_t idx, uint32_t *off,
                            uint32_t *size);
/* Largest sector of the area. */
uint32_t imago_flash_area_max_sector(const struct imago_flash_area *a);

int imago_flash_read(const struct imago_flash_area *a, uint32_t off, void *buf, uint32_t len);
int imago_flash_write(const struct imago_flash_area *a, uint32_t off, const void *buf,
                      uint32_t len);
/* Erase [off, off+len), which must be whole sectors of the area. */
int imago_flash_erase(const struct imago_flash_area *a, uint32_t off, uint32_t len);

/* 1 if every byte of buf equals the erased value of the area's device. */
int imago_flash_buf_erased(const struct imago_flash_area *a, const void *buf, uint32_t len);

/* Copy len bytes from src at soff to dst at doff through the caller's buffer
 * (buf_len > 0, a multiple of the alignment); units that read as erased are
 * skipped, so a copy never programs a location twice. */
int imago_flash_copy(const struct imago_flash_area *dst, uint32_t doff,
                     const struct imago_flash_area *src, uint32_t soff, uint32_t len, uint8_t *buf,
                     uint32_t buf_len);

#endif
