/*
 * imago_simboot: ready-made simulated devices for tests, the fuzzer and
 * benches: a flash simulator with a named layout and a boot configuration
 * over it (state area, primary, secondary, scratch, in that order).
 *
 * Layouts:
 *   IMAGO_SIMBOOT_UNIFORM  4 KiB sectors, align 8, erased 0xff
 *   IMAGO_SIMBOOT_ZERO     2 KiB sectors, align 4, erased 0x00
 *   IMAGO_SIMBOOT_UNEQUAL  STM32F4-like, scaled down 16x: slots of
 *                          1K,1K,1K,1K,4K + a 1K trailer sector; scratch 4K;
 *                          align 8, erased 0xff
 * slot_sectors (uniform layouts only; 0 = 8) sets the sectors per slot.
 *
 * Ownership: the caller owns sb; imago_simboot_free() releases the
 * simulator memory.  sb must not move after init (the configuration points
 * into it).  The keyring is left empty; set sb->cfg.keys.
 */
#ifndef IMAGO_BOOT_SIM_SIMBOOT_H
#define IMAGO_BOOT_SIM_SIMBOOT_H

#include "boot/boot.h"
#include "flashsim.h"

enum imago_simboot_layout {
        IMAGO_SIMBOOT_UNIFORM = 0,
        IMAGO_SIMBOOT_ZERO = 1,
        IMAGO_SIMBOOT_UNEQUAL = 2,
        IMAGO_SIMBOOT_NLAYOUTS = 3,
};

#define IMAGO_SIMBOOT_BUF 4096U

struct imago_simboot {
        struct imago_flashsim sim;
        struct imago_boot_cfg cfg;
        uint8_t buf[IMAGO_SIMBOOT_BUF];
};

int imago_simboot_init(struct imago_simboot *sb, enum imago_simboot_layout layout,
                       uint32_t slot_sectors);
void imago_simboot_free(struct imago_simboot *sb);
const char *imago_simboot_layout_name(enum imago_simboot_layout layout);

#endif
