/*
 * imago_boot_swap: swap-using-scratch of the image areas of the primary and
 * secondary slots, one sector (region) at a time, resumable after a power
 * cut.
 *
 * Region i (sector i of both slots) is swapped in three steps, each recorded
 * as a write-once status entry in the primary trailer once complete:
 *   0: erase scratch, copy secondary[i] -> scratch
 *   1: erase secondary[i], copy primary[i] -> secondary[i]
 *   2: erase primary[i], copy scratch -> primary[i]
 * Each step only reads data that no unrecorded step has changed, so a step
 * cut by a power failure is redone from its start.  Only sectors that cover
 * swap_size bytes are swapped; trailer sectors never are.
 *
 * start(): erases the primary trailer and records swap_size, swap type and
 * finally the magic (the "swap in progress" mark).  The caller made the
 * request durable in the secondary trailer before, so a cut before the
 * magic restarts the swap from the request.
 * resume(): runs the missing steps, then finishes: erase the secondary
 * trailer (the request), image_ok for permanent and revert, then copy_done.
 *
 * No allocation; cfg->buf is the copy buffer.  Errors are flash errors.
 */
#ifndef IMAGO_BOOT_SWAP_H
#define IMAGO_BOOT_SWAP_H

#include "boot.h"
#include "trailer.h"

int imago_boot_swap_start(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                          enum imago_boot_swap type, uint32_t swap_size);
int imago_boot_swap_resume(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                           enum imago_boot_swap type, uint32_t swap_size);

#endif
