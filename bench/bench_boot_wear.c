/*
 * bench_boot_wear: flash wear of a clean 1 MiB upgrade on the simulator.
 *
 * Layout: 4 KiB sectors, align 8, erased 0xff; slots of 258 sectors (1 MiB
 * image area + 2 trailer sectors); one scratch sector.  A factory image of
 * 1 MiB (minus TLVs) is in the primary; a 1 MiB update is requested as a
 * test, booted (swap), then not confirmed, so the next boot reverts it.
 * For each of the two boots: flash operations, then per sector (runs of
 * sectors with equal figures grouped) the erases and bytes written, and
 * totals.  Output is plain text for docs/BENCHMARKS.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "base/err.h"
#include "boot/boot.h"
#include "boot/sim/simboot.h"
#include "crypto/keys.h"
#include "image/image_sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_SECTORS 258U
#define IMAGE_BYTES  (1024U * 1024U)

static uint8_t *make_image(const struct imago_privkey *key, uint8_t major, size_t *len)
{
        struct imago_image_sign_opts o;
        size_t body_len = IMAGE_BYTES - 1024, i;
        uint8_t *body = malloc(body_len), *out = NULL;

        if (!body)
                return NULL;
        for (i = 0; i < body_len; i++)
                body[i] = (uint8_t)(i * 7 + major);
        imago_image_sign_opts_init(&o);
        o.ver.major = major;
        o.has_sec_cnt = 1;
        o.sec_cnt = major;
        if (imago_image_sign(key, &o, body, body_len, &out, len) != 0)
                out = NULL;
        free(body);
        return out;
}

static int put(const struct imago_flash_area *a, const uint8_t *img, size_t len)
{
        uint32_t wlen = (uint32_t)(len + 7) / 8 * 8;
        uint8_t *tmp = malloc(wlen);
        int r;

        if (!tmp)
                return IMAGO_ENOMEM;
        memset(tmp, 0xff, wlen);
        memcpy(tmp, img, len);
        r = imago_flash_erase(a, 0, a->size);
        if (r == 0)
                r = imago_flash_write(a, 0, tmp, wlen);
        free(tmp);
        return r;
}

static const char *area_of(const struct imago_simboot *sb, uint32_t off, uint32_t *base)
{
        const struct {
                const char *name;
                const struct imago_flash_area *a;
        } areas[] = {
            {"state", &sb->cfg.state},
            {"primary", &sb->cfg.primary},
            {"secondary", &sb->cfg.secondary},
            {"scratch", &sb->cfg.scratch},
        };
        size_t i;

        for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
                if (off >= areas[i].a->off && off - areas[i].a->off < areas[i].a->size) {
                        *base = imago_flashsim_sector_index(&sb->sim, areas[i].a->off);
                        return areas[i].name;
                }
        }
        *base = 0;
        return "?";
}

static void report(const char *what, const struct imago_simboot *sb, double ms)
{
        uint64_t erases = 0, bytes = 0;
        uint32_t i = 0, off = 0, sz = 4096;

        printf("\n== %s ==\n", what);
        printf("flash operations: %" PRIu64 " erases, %" PRIu64 " writes, %" PRIu64
               " reads; %.1f ms on the simulator\n",
               sb->sim.erases, sb->sim.writes, sb->sim.reads, ms);
        printf("%-10s %-12s %8s %14s\n", "area", "sectors", "erases", "bytes written");
        while (i < sb->sim.nsectors) {
                uint32_t j = i, base;
                const char *name = area_of(sb, off, &base), *n2;

                /* Group a run of sectors of the same area with equal figures. */
                while (j + 1 < sb->sim.nsectors &&
                       sb->sim.sector_erases[j + 1] == sb->sim.sector_erases[i] &&
                       sb->sim.sector_bytes[j + 1] == sb->sim.sector_bytes[i]) {
                        uint32_t b2;

                        n2 = area_of(sb, off + (j + 1 - i) * sz, &b2);
                        if (strcmp(n2, name) != 0)
                                break;
                        j++;
                }
                if (sb->sim.sector_erases[i] || sb->sim.sector_bytes[i]) {
                        char range[32];

                        if (i == j)
                                snprintf(range, sizeof(range), "%u", i - base);
                        else
                                snprintf(range, sizeof(range), "%u-%u", i - base, j - base);
                        printf("%-10s %-12s %8u %14" PRIu64 "%s\n", name, range,
                               sb->sim.sector_erases[i], sb->sim.sector_bytes[i],
                               i == j ? "" : " each");
                }
                erases += (uint64_t)sb->sim.sector_erases[i] * (j - i + 1);
                bytes += sb->sim.sector_bytes[i] * (j - i + 1);
                off += (j - i + 1) * sz;
                i = j + 1;
        }
        printf("total: %" PRIu64 " sector erases, %" PRIu64 " bytes written (%.2f x the image)\n",
               erases, bytes, (double)bytes / IMAGE_BYTES);
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
        struct imago_privkey key;
        struct imago_pubkey pub;
        struct imago_simboot sb;
        struct imago_boot_status st;
        uint8_t *a, *b;
        size_t alen, blen;
        double t;

        if (imago_privkey_generate(IMAGO_KEY_ED25519, &key) != 0 ||
            imago_privkey_public(&key, &pub) != 0)
                return 1;
        a = make_image(&key, 1, &alen);
        b = make_image(&key, 2, &blen);
        if (!a || !b || imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, SLOT_SECTORS) != 0)
                return 1;
        sb.cfg.keys.keys = &pub;
        sb.cfg.keys.count = 1;
        printf("bench_boot_wear: swap-using-scratch, 4 KiB sectors, %u-sector slots, images of "
               "%zu and %zu bytes\n",
               SLOT_SECTORS, alen, blen);
        if (put(&sb.cfg.primary, a, alen) != 0 || imago_boot_go(&sb.cfg, &st) != 0 ||
            put(&sb.cfg.secondary, b, blen) != 0 || imago_boot_request(&sb.cfg, 0) != 0)
                return 1;
        imago_flashsim_reset_stats(&sb.sim);
        t = now_ms();
        if (imago_boot_go(&sb.cfg, &st) != 0 || st.swap != IMAGO_BOOT_SWAP_TEST)
                return 1;
        report("test upgrade (boot that swaps the 1 MiB update in)", &sb, now_ms() - t);
        imago_flashsim_reset_stats(&sb.sim);
        t = now_ms();
        if (imago_boot_go(&sb.cfg, &st) != 0 || st.swap != IMAGO_BOOT_SWAP_REVERT)
                return 1;
        report("revert (next boot, update not confirmed)", &sb, now_ms() - t);
        if (sb.sim.violations != 0)
                return 1;
        imago_simboot_free(&sb);
        imago_image_sign_free(a);
        imago_image_sign_free(b);
        imago_privkey_free(&key);
        return 0;
}
