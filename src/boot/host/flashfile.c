/* See flashfile.h. */
#define _GNU_SOURCE
#include "flashfile.h"

#include "base/cmath.h"
#include "base/err.h"
#include "base/file.h"
#include "boot/bstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DESC_MAGIC   "IMAGOFL1"
#define DESC_VERSION 1U
#define KEY_REC      (2U + IMAGO_SPKI_MAX_LEN)
#define DESC_FIXED   24U
#define DESC_LEN     (DESC_FIXED + IMAGO_FLASHFILE_MAX_KEYS * KEY_REC + 4U)

enum { L_UNIFORM_4K = 1, L_ZERO_2K = 2, L_STM32F4 = 3 };

static const struct imago_flashfile_layout layouts[] = {
    {"uniform-4k", "4 KiB sectors, write align 8, erased 0xff", L_UNIFORM_4K, 8, 0xff, 256 * 1024},
    {"uniform-2k-zero", "2 KiB sectors, write align 4, erased 0x00", L_ZERO_2K, 4, 0x00,
     256 * 1024},
    {"stm32f4", "STM32F4-like: slot = 4x16K, 64K, N x 128K, 16K trailer sector; align 8, 0xff",
     L_STM32F4, 8, 0xff, 272 * 1024},
};

const struct imago_flashfile_layout *imago_flashfile_layout_at(size_t i)
{
        return i < sizeof(layouts) / sizeof(layouts[0]) ? &layouts[i] : NULL;
}

const struct imago_flashfile_layout *imago_flashfile_layout_find(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
                if (strcmp(layouts[i].name, name) == 0)
                        return &layouts[i];
        return NULL;
}

/* Sector runs of the whole device and the sizes of its areas. */
struct geometry {
        struct imago_flash_run runs[IMAGO_FLASHFILE_MAX_RUNS];
        size_t nruns;
        uint32_t boot, state, slot, scratch;
};

static int geometry(const struct imago_flashfile_layout *l, uint32_t slot, struct geometry *g)
{
        memset(g, 0, sizeof(*g));
        g->slot = slot;
        if (l->id == L_UNIFORM_4K || l->id == L_ZERO_2K) {
                uint32_t sec = l->id == L_UNIFORM_4K ? 4096 : 2048, n;

                if (slot == 0 || slot % sec != 0 || slot / sec < 4 || slot > 256U * 1024 * 1024)
                        return IMAGO_ERANGE;
                n = slot / sec;
                g->runs[0] = (struct imago_flash_run){sec, 1 + 2 + 2 * n + 1};
                g->nruns = 1;
                g->boot = sec;
                g->state = 2 * sec;
                g->scratch = sec;
                return IMAGO_OK;
        }
        if (l->id == L_STM32F4) {
                const uint32_t k16 = 16384, k64 = 65536, k128 = 131072;
                uint32_t base = 4 * k16 + k64 + k16, k;

                if (slot < base || (slot - base) % k128 != 0 || slot > 64U * 1024 * 1024)
                        return IMAGO_ERANGE;
                k = (slot - base) / k128;
                g->runs[g->nruns++] = (struct imago_flash_run){k16, 1 + 2 + 4};
                g->runs[g->nruns++] = (struct imago_flash_run){k64, 1};
                if (k)
                        g->runs[g->nruns++] = (struct imago_flash_run){k128, k};
                g->runs[g->nruns++] = (struct imago_flash_run){k16, 1 + 4};
                g->runs[g->nruns++] = (struct imago_flash_run){k64, 1};
                if (k)
                        g->runs[g->nruns++] = (struct imago_flash_run){k128, k};
                g->runs[g->nruns++] = (struct imago_flash_run){k16, 1};
                g->runs[g->nruns++] = (struct imago_flash_run){k ? k128 : k64, 1};
                g->boot = k16;
                g->state = 2 * k16;
                g->scratch = k ? k128 : k64;
                return IMAGO_OK;
        }
        return IMAGO_EINVAL;
}

static uint32_t geometry_size(const struct geometry *g)
{
        return g->boot + g->state + 2 * g->slot + g->scratch;
}

static void put32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int imago_flashfile_create(const char *path, const char *layout, uint32_t slot_size,
                           const struct imago_pubkey *keys, size_t nkeys)
{
        const struct imago_flashfile_layout *l = imago_flashfile_layout_find(layout);
        struct geometry g;
        struct stat sb;
        uint8_t *mem, *d;
        uint32_t size;
        size_t i;
        int r;

        if (!l)
                return IMAGO_ENOTFOUND;
        if (nkeys == 0 || nkeys > IMAGO_FLASHFILE_MAX_KEYS)
                return IMAGO_EINVAL;
        r = geometry(l, slot_size ? slot_size : l->default_slot, &g);
        if (r != IMAGO_OK)
                return r;
        if (stat(path, &sb) == 0)
                return IMAGO_EEXIST;
        size = geometry_size(&g);
        mem = malloc(size);
        if (!mem)
                return IMAGO_ENOMEM;
        memset(mem, l->erased, size);
        d = mem;
        memcpy(d, DESC_MAGIC, 8);
        put32(d + 8, DESC_VERSION);
        put32(d + 12, l->id);
        put32(d + 16, g.slot);
        put32(d + 20, (uint32_t)nkeys);
        memset(d + DESC_FIXED, 0, IMAGO_FLASHFILE_MAX_KEYS * KEY_REC);
        for (i = 0; i < nkeys; i++) {
                uint8_t *k = d + DESC_FIXED + i * KEY_REC;

                if (keys[i].spki_len == 0 || keys[i].spki_len > IMAGO_SPKI_MAX_LEN) {
                        free(mem);
                        return IMAGO_EKEY_FORMAT;
                }
                k[0] = (uint8_t)keys[i].spki_len;
                k[1] = (uint8_t)(keys[i].spki_len >> 8);
                memcpy(k + 2, keys[i].spki, keys[i].spki_len);
        }
        put32(d + DESC_LEN - 4, imago_boot_crc32(d, DESC_LEN - 4));
        r = imago_file_write_atomic(path, mem, size, 0644);
        free(mem);
        return r;
}

static int ff_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        struct imago_flashfile *ff = ctx;
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = pread(ff->fd, p, len, off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return IMAGO_EIO;
                p += n;
                off += (uint32_t)n;
                len -= (uint32_t)n;
        }
        return IMAGO_OK;
}

static int ff_pwrite(struct imago_flashfile *ff, uint32_t off, const uint8_t *p, uint32_t len)
{
        if (!ff->writable)
                return IMAGO_EPERM;
        while (len > 0) {
                ssize_t n = pwrite(ff->fd, p, len, off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return IMAGO_EIO;
                p += n;
                off += (uint32_t)n;
                len -= (uint32_t)n;
        }
        return IMAGO_OK;
}

/* The test hook: 1 when this write/erase falls after the simulated power cut. */
static int ff_cut(struct imago_flashfile *ff)
{
        if (ff->cut_after == 0)
                return 0;
        if (ff->ops >= ff->cut_after)
                return 1;
        ff->ops++;
        return 0;
}

void imago_flashfile_cut_after(struct imago_flashfile *ff, uint32_t n)
{
        ff->cut_after = n;
        ff->ops = 0;
}

static int ff_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
        struct imago_flashfile *ff = ctx;
        uint32_t done = 0;
        int r;

        if (ff_cut(ff))
                return IMAGO_EFLASH_POWER_CUT;

        /* NOR rule: only erased bytes may be programmed. */
        while (done < len) {
                uint32_t n = len - done < sizeof(ff->chk) ? len - done : (uint32_t)sizeof(ff->chk);
                uint32_t i;

                r = ff_read(ff, off + done, ff->chk, n);
                if (r != IMAGO_OK)
                        return r;
                for (i = 0; i < n; i++)
                        if (ff->chk[i] != ff->flash.erased)
                                return IMAGO_EFLASH_NOT_ERASED;
                done += n;
        }
        return ff_pwrite(ff, off, buf, len);
}

static int ff_erase(void *ctx, uint32_t off, uint32_t len)
{
        struct imago_flashfile *ff = ctx;
        uint8_t ones[4096];
        uint32_t done = 0;
        int r;

        if (ff_cut(ff))
                return IMAGO_EFLASH_POWER_CUT;
        memset(ones, ff->flash.erased, sizeof(ones));
        while (done < len) {
                uint32_t n = len - done < sizeof(ones) ? len - done : (uint32_t)sizeof(ones);

                r = ff_pwrite(ff, off + done, ones, n);
                if (r != IMAGO_OK)
                        return r;
                done += n;
        }
        return IMAGO_OK;
}

static const struct imago_flash_ops ff_ops = {
    .read = ff_read,
    .write = ff_write,
    .erase = ff_erase,
};

static int parse_descriptor(struct imago_flashfile *ff, const uint8_t *d, uint64_t file_size)
{
        const struct imago_flashfile_layout *l = NULL;
        struct geometry g;
        uint32_t id, nkeys, off, i;
        int r;

        if (memcmp(d, DESC_MAGIC, 8) != 0 || get32(d + 8) != DESC_VERSION ||
            get32(d + DESC_LEN - 4) != imago_boot_crc32(d, DESC_LEN - 4))
                return IMAGO_EMALFORMED;
        id = get32(d + 12);
        for (i = 0; imago_flashfile_layout_at(i); i++)
                if (imago_flashfile_layout_at(i)->id == id)
                        l = imago_flashfile_layout_at(i);
        if (!l)
                return IMAGO_EFLASH_LAYOUT;
        r = geometry(l, get32(d + 16), &g);
        if (r != IMAGO_OK)
                return IMAGO_EFLASH_LAYOUT;
        if (file_size != geometry_size(&g))
                return file_size < geometry_size(&g) ? IMAGO_ETRUNC : IMAGO_ETRAILING;
        nkeys = get32(d + 20);
        if (nkeys == 0 || nkeys > IMAGO_FLASHFILE_MAX_KEYS)
                return IMAGO_EMALFORMED;
        for (i = 0; i < nkeys; i++) {
                const uint8_t *k = d + DESC_FIXED + i * KEY_REC;
                size_t klen = (size_t)k[0] | (size_t)k[1] << 8;

                if (klen == 0 || klen > IMAGO_SPKI_MAX_LEN)
                        return IMAGO_EMALFORMED;
                r = imago_pubkey_from_spki(&ff->keys[i], k + 2, klen);
                if (r != IMAGO_OK)
                        return r;
        }
        ff->nkeys = nkeys;
        ff->layout = l;
        ff->slot_size = g.slot;
        memcpy(ff->runs, g.runs, sizeof(g.runs));
        ff->flash.ops = &ff_ops;
        ff->flash.ctx = ff;
        ff->flash.align = l->align;
        ff->flash.erased = l->erased;
        ff->flash.runs = ff->runs;
        ff->flash.nruns = g.nruns;
        off = 0;
        r = imago_flash_area_init(&ff->boot, &ff->flash, off, g.boot);
        off += g.boot;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&ff->cfg.state, &ff->flash, off, g.state);
        off += g.state;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&ff->cfg.primary, &ff->flash, off, g.slot);
        off += g.slot;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&ff->cfg.secondary, &ff->flash, off, g.slot);
        off += g.slot;
        if (r == IMAGO_OK)
                r = imago_flash_area_init(&ff->cfg.scratch, &ff->flash, off, g.scratch);
        if (r != IMAGO_OK)
                return r;
        ff->cfg.keys.keys = ff->keys;
        ff->cfg.keys.count = ff->nkeys;
        ff->cfg.buf = ff->buf;
        ff->cfg.buf_len = sizeof(ff->buf);
        return IMAGO_OK;
}

int imago_flashfile_open(struct imago_flashfile *ff, const char *path, int writable)
{
        uint8_t d[DESC_LEN];
        struct stat sb;
        int r;

        memset(ff, 0, sizeof(*ff));
        ff->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (ff->fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        ff->writable = writable;
        if (fstat(ff->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                r = IMAGO_EIO;
                goto out;
        }
        if ((uint64_t)sb.st_size < DESC_LEN) {
                r = IMAGO_ETRUNC;
                goto out;
        }
        r = ff_read(ff, 0, d, DESC_LEN);
        if (r == IMAGO_OK)
                r = parse_descriptor(ff, d, (uint64_t)sb.st_size);
out:
        if (r != IMAGO_OK) {
                close(ff->fd);
                ff->fd = -1;
        }
        return r;
}

int imago_flashfile_close(struct imago_flashfile *ff)
{
        int r = IMAGO_OK;

        if (ff->fd < 0)
                return IMAGO_OK;
        if (ff->writable && fsync(ff->fd) != 0)
                r = IMAGO_EIO;
        if (close(ff->fd) != 0 && r == IMAGO_OK)
                r = IMAGO_EIO;
        ff->fd = -1;
        return r;
}

int imago_flashfile_write_slot(struct imago_flashfile *ff, const struct imago_flash_area *slot,
                               const uint8_t *data, size_t len)
{
        uint32_t align = ff->flash.align, done = 0;
        int r;

        if (len > slot->size)
                return IMAGO_EIMG_TOO_LARGE;
        r = imago_flash_erase(slot, 0, slot->size);
        if (r != IMAGO_OK)
                return r;
        /* Program through the buffer, unit by unit, skipping erased units. */
        while (done < len) {
                uint32_t n = (uint32_t)len - done < sizeof(ff->wbuf) ? (uint32_t)len - done
                                                                     : (uint32_t)sizeof(ff->wbuf);
                uint32_t wlen, u;

                memset(ff->wbuf, ff->flash.erased, sizeof(ff->wbuf));
                memcpy(ff->wbuf, data + done, n);
                r = imago_align_up_u32(n, align, &wlen);
                if (r != IMAGO_OK)
                        return r;
                for (u = 0; u < wlen;) {
                        uint32_t e = u;

                        /* One write per run of units that are not all erased. */
                        while (e < wlen && !imago_flash_buf_erased(slot, ff->wbuf + e, align))
                                e += align;
                        if (e > u) {
                                r = imago_flash_write(slot, done + u, ff->wbuf + u, e - u);
                                if (r != IMAGO_OK)
                                        return r;
                        }
                        u = e + align;
                }
                done += n;
        }
        return IMAGO_OK;
}
