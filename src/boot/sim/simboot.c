/* See simboot.h. */
#include "simboot.h"

#include "base/err.h"

#include <string.h>

const char *imago_simboot_layout_name(enum imago_simboot_layout layout)
{
        switch (layout) {
        case IMAGO_SIMBOOT_UNIFORM:
                return "uniform-4k-a8-ff";
        case IMAGO_SIMBOOT_ZERO:
                return "uniform-2k-a4-00";
        case IMAGO_SIMBOOT_UNEQUAL:
                return "unequal-stm32f4-scaled";
        default:
                return "?";
        }
}

int imago_simboot_init(struct imago_simboot *sb, enum imago_simboot_layout layout,
                       uint32_t slot_sectors)
{
        struct imago_flash_run runs[IMAGO_FLASHSIM_MAX_RUNS];
        uint32_t align = 8, sec, slot, scratch, off;
        uint8_t erased = 0xff;
        size_t n = 0;
        int r;

        memset(sb, 0, sizeof(*sb));
        if (slot_sectors == 0)
                slot_sectors = 8;
        switch (layout) {
        case IMAGO_SIMBOOT_UNIFORM:
        case IMAGO_SIMBOOT_ZERO:
                sec = layout == IMAGO_SIMBOOT_UNIFORM ? 4096 : 2048;
                if (layout == IMAGO_SIMBOOT_ZERO) {
                        align = 4;
                        erased = 0x00;
                }
                runs[n++] = (struct imago_flash_run){sec, 2 + 2 * slot_sectors + 1};
                slot = sec * slot_sectors;
                scratch = sec;
                break;
        case IMAGO_SIMBOOT_UNEQUAL:
                runs[n++] = (struct imago_flash_run){1024, 2 + 4};
                runs[n++] = (struct imago_flash_run){4096, 1};
                runs[n++] = (struct imago_flash_run){1024, 1 + 4};
                runs[n++] = (struct imago_flash_run){4096, 1};
                runs[n++] = (struct imago_flash_run){1024, 1};
                runs[n++] = (struct imago_flash_run){4096, 1};
                sec = 1024;
                slot = 9 * 1024;
                scratch = 4096;
                break;
        default:
                return IMAGO_EINVAL;
        }
        r = imago_flashsim_init(&sb->sim, runs, n, align, erased);
        if (r != IMAGO_OK)
                return r;
        off = 0;
        r = imago_flash_area_init(&sb->cfg.state, &sb->sim.flash, off, 2 * sec);
        off += 2 * sec;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&sb->cfg.primary, &sb->sim.flash, off, slot);
        off += slot;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&sb->cfg.secondary, &sb->sim.flash, off, slot);
        off += slot;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&sb->cfg.scratch, &sb->sim.flash, off, scratch);
        if (r != IMAGO_OK) {
                imago_flashsim_free(&sb->sim);
                return r;
        }
        sb->cfg.buf = sb->buf;
        sb->cfg.buf_len = sizeof(sb->buf);
        return IMAGO_OK;
}

void imago_simboot_free(struct imago_simboot *sb)
{
        imago_flashsim_free(&sb->sim);
}
