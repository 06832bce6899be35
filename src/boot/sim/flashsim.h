/*
 * imago_flashsim: a NOR flash simulator for tests, the fuzzer and benches
 * (host only; it allocates).
 *
 * Rules enforced, each a recorded violation as well as an error:
 *   - a write to a byte that is not in the erased state: IMAGO_EFLASH_NOT_ERASED
 *   - a write whose offset or length is not a multiple of the alignment:
 *     IMAGO_EFLASH_ALIGN
 *   - an erase that does not cover whole sectors: IMAGO_EFLASH_SECTOR
 *   - any access outside the device: IMAGO_EFLASH_RANGE
 * Counters: reads, writes, erases (operations), and per sector the erases
 * and bytes written.
 * Fault injection: imago_flashsim_cut_before(sim, n) makes the n-th write or
 * erase from now (1-based, both counted together) and every later one fail
 * with IMAGO_EFLASH_POWER_CUT without changing anything, as a power cut
 * just before that operation would; 0 disables it.
 *
 * Ownership: imago_flashsim_init() copies the run table and allocates the
 * memory; imago_flashsim_free() releases it.  sim->flash is the
 * struct imago_flash to hand to the boot core; it points into sim, so sim
 * must not move while in use.
 */
#ifndef IMAGO_BOOT_SIM_FLASHSIM_H
#define IMAGO_BOOT_SIM_FLASHSIM_H

#include "boot/flash.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_FLASHSIM_MAX_RUNS 8

struct imago_flashsim {
        struct imago_flash flash;
        struct imago_flash_run runs[IMAGO_FLASHSIM_MAX_RUNS];
        uint8_t *mem;
        uint32_t size;
        uint32_t nsectors;
        uint32_t *sector_erases; /* per device sector */
        uint64_t *sector_bytes;  /* bytes written per device sector */
        uint64_t reads, writes, erases;
        uint64_t ops;        /* writes + erases attempted since the last cut_before */
        uint64_t cut_at;     /* 0 = no fault */
        int cut;             /* a power cut happened */
        uint64_t violations; /* NOR rule violations */
        int last_violation;  /* error code of the last one */
        int tear;            /* the cut operation is torn, not skipped */
};

int imago_flashsim_init(struct imago_flashsim *sim, const struct imago_flash_run *runs,
                        size_t nruns, uint32_t align, uint8_t erased);
void imago_flashsim_free(struct imago_flashsim *sim);

/* Cut power before the n-th write/erase from now (0: never). */
void imago_flashsim_cut_before(struct imago_flashsim *sim, uint64_t n);
/*
 * Cut power during the n-th write/erase from now: the operation is torn,
 * then it and every later one fail with IMAGO_EFLASH_POWER_CUT.  A torn
 * write programs the first len/2 bytes and half the bits of the next one
 * (that byte is left neither erased nor written); a torn erase erases the
 * first half of its range.
 */
void imago_flashsim_cut_during(struct imago_flashsim *sim, uint64_t n);
/* Zero the counters (not the contents). */
void imago_flashsim_reset_stats(struct imago_flashsim *sim);
/* Index of the device sector holding off. */
uint32_t imago_flashsim_sector_index(const struct imago_flashsim *sim, uint32_t off);

#endif
