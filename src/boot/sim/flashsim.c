/* See flashsim.h. */
#include "flashsim.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

uint32_t imago_flashsim_sector_index(const struct imago_flashsim *sim, uint32_t off)
{
        uint32_t base = 0, idx = 0;
        size_t i;

        for (i = 0; i < sim->flash.nruns; i++) {
                uint32_t len = sim->runs[i].size * sim->runs[i].count;

                if (off - base < len)
                        return idx + (off - base) / sim->runs[i].size;
                base += len;
                idx += sim->runs[i].count;
        }
        return idx;
}

static int violation(struct imago_flashsim *sim, int r)
{
        sim->violations++;
        sim->last_violation = r;
        return r;
}

static int in_range(const struct imago_flashsim *sim, uint32_t off, uint32_t len)
{
        return off <= sim->size && len <= sim->size - off;
}

static int power(struct imago_flashsim *sim)
{
        sim->ops++;
        if (sim->cut_at != 0 && sim->ops >= sim->cut_at) {
                sim->cut = 1;
                return IMAGO_EFLASH_POWER_CUT;
        }
        return IMAGO_OK;
}

static int sim_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        struct imago_flashsim *sim = ctx;

        if (!in_range(sim, off, len))
                return violation(sim, IMAGO_EFLASH_RANGE);
        sim->reads++;
        memcpy(buf, sim->mem + off, len);
        return IMAGO_OK;
}

static int sim_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
        struct imago_flashsim *sim = ctx;
        uint32_t i;
        int r;

        if (!in_range(sim, off, len))
                return violation(sim, IMAGO_EFLASH_RANGE);
        if (off % sim->flash.align != 0 || len % sim->flash.align != 0)
                return violation(sim, IMAGO_EFLASH_ALIGN);
        for (i = 0; i < len; i++)
                if (sim->mem[off + i] != sim->flash.erased)
                        return violation(sim, IMAGO_EFLASH_NOT_ERASED);
        r = power(sim);
        if (r != IMAGO_OK) {
                if (sim->tear && sim->ops == sim->cut_at) {
                        const uint8_t *p = buf;
                        uint32_t k = len / 2;
                        uint8_t e = sim->flash.erased;

                        uint8_t v;

                        memcpy(sim->mem + off, buf, k);
                        /* Byte k: only some of its bits changed (low nibble first). */
                        v = (uint8_t)(e ^ ((e ^ p[k]) & 0x0f));
                        if (v == p[k])
                                v = (uint8_t)(e ^ ((e ^ p[k]) & 0xf0));
                        sim->mem[off + k] = v;
                }
                return r;
        }
        memcpy(sim->mem + off, buf, len);
        sim->writes++;
        for (i = 0; i < len;) {
                uint32_t s, sz, n;

                imago_flash_dev_sector(&sim->flash, off + i, &s, &sz);
                n = s + sz - (off + i);
                if (n > len - i)
                        n = len - i;
                sim->sector_bytes[imago_flashsim_sector_index(sim, off + i)] += n;
                i += n;
        }
        return IMAGO_OK;
}

static int sim_erase(void *ctx, uint32_t off, uint32_t len)
{
        struct imago_flashsim *sim = ctx;
        uint32_t s, sz, o;
        int r;

        if (!in_range(sim, off, len))
                return violation(sim, IMAGO_EFLASH_RANGE);
        if (imago_flash_dev_sector(&sim->flash, off, &s, &sz) != IMAGO_OK || s != off)
                return violation(sim, IMAGO_EFLASH_SECTOR);
        if (off + len != sim->size &&
            (imago_flash_dev_sector(&sim->flash, off + len, &s, &sz) != IMAGO_OK || s != off + len))
                return violation(sim, IMAGO_EFLASH_SECTOR);
        r = power(sim);
        if (r != IMAGO_OK) {
                if (sim->tear && sim->ops == sim->cut_at)
                        memset(sim->mem + off, sim->flash.erased, len / 2);
                return r;
        }
        memset(sim->mem + off, sim->flash.erased, len);
        sim->erases++;
        for (o = off; o < off + len; o += sz) {
                imago_flash_dev_sector(&sim->flash, o, &s, &sz);
                sim->sector_erases[imago_flashsim_sector_index(sim, o)]++;
        }
        return IMAGO_OK;
}

static const struct imago_flash_ops sim_ops = {
    .read = sim_read,
    .write = sim_write,
    .erase = sim_erase,
};

int imago_flashsim_init(struct imago_flashsim *sim, const struct imago_flash_run *runs,
                        size_t nruns, uint32_t align, uint8_t erased)
{
        size_t i;
        int r;

        memset(sim, 0, sizeof(*sim));
        if (nruns == 0 || nruns > IMAGO_FLASHSIM_MAX_RUNS)
                return IMAGO_EFLASH_LAYOUT;
        memcpy(sim->runs, runs, nruns * sizeof(*runs));
        sim->flash.ops = &sim_ops;
        sim->flash.ctx = sim;
        sim->flash.align = align;
        sim->flash.erased = erased;
        sim->flash.runs = sim->runs;
        sim->flash.nruns = nruns;
        r = imago_flash_check(&sim->flash);
        if (r != IMAGO_OK)
                return r;
        sim->size = imago_flash_dev_size(&sim->flash);
        for (i = 0; i < nruns; i++)
                sim->nsectors += runs[i].count;
        sim->mem = malloc(sim->size);
        sim->sector_erases = calloc(sim->nsectors, sizeof(*sim->sector_erases));
        sim->sector_bytes = calloc(sim->nsectors, sizeof(*sim->sector_bytes));
        if (!sim->mem || !sim->sector_erases || !sim->sector_bytes) {
                imago_flashsim_free(sim);
                return IMAGO_ENOMEM;
        }
        memset(sim->mem, erased, sim->size);
        return IMAGO_OK;
}

void imago_flashsim_free(struct imago_flashsim *sim)
{
        free(sim->mem);
        free(sim->sector_erases);
        free(sim->sector_bytes);
        memset(sim, 0, sizeof(*sim));
}

void imago_flashsim_cut_before(struct imago_flashsim *sim, uint64_t n)
{
        sim->ops = 0;
        sim->cut_at = n;
        sim->cut = 0;
        sim->tear = 0;
}

void imago_flashsim_cut_during(struct imago_flashsim *sim, uint64_t n)
{
        imago_flashsim_cut_before(sim, n);
        sim->tear = 1;
}

void imago_flashsim_reset_stats(struct imago_flashsim *sim)
{
        sim->reads = sim->writes = sim->erases = 0;
        sim->ops = 0;
        memset(sim->sector_erases, 0, sim->nsectors * sizeof(*sim->sector_erases));
        memset(sim->sector_bytes, 0, sim->nsectors * sizeof(*sim->sector_bytes));
}
