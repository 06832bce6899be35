/*
 * imago_boot_state: the anti-rollback security counter, kept in a dedicated
 * flash area of exactly two sectors as append-only 16-byte records:
 *   u32 magic "IBS1" (0x31534249 LE), u32 counter, u32 ~counter,
 *   u32 CRC-32 (IEEE) of the first 12 bytes.
 * The stored counter is the highest counter of any valid record in either
 * sector (0 when there is none).  A raise appends a record after the last
 * programmed record of the sector holding the highest record; when that
 * sector is full it erases the other sector and starts there.  The sector
 * holding the highest record is never erased, so a power cut at any point
 * leaves the old or the new counter, never less.  Records that fail their
 * check (a torn write, garbage) are ignored and never written over.
 *
 * No allocation; the caller owns the area.  Errors: flash errors passed
 * through; IMAGO_EFLASH_LAYOUT when the area is not two sectors.
 */
#ifndef IMAGO_BOOT_BSTATE_H
#define IMAGO_BOOT_BSTATE_H

#include "flash.h"

#include <stdint.h>

#define IMAGO_BOOT_STATE_REC_LEN 16U
#define IMAGO_BOOT_STATE_MAGIC   0x31534249U

/* Stored counter (0 when the area holds no valid record). */
int imago_boot_state_read(const struct imago_flash_area *a, uint32_t *counter);

/* Make the stored counter at least counter (no flash write if it already is). */
int imago_boot_state_raise(const struct imago_flash_area *a, uint32_t counter);

/* CRC-32 (IEEE 802.3, reflected) of len bytes. */
uint32_t imago_boot_crc32(const void *buf, uint32_t len);

#endif
