/*
 * libFuzzer target: the boot decision over untrusted flash contents (boot
 * state records, slot trailers, slots).
 *
 * Input: byte 0 picks a starting flash: 0 = all erased, 1 = a factory image
 * in the primary and a signed update with a test request in the secondary,
 * 2 = the state after that test swap (an unconfirmed trial), 3 = a test swap
 * cut in the middle.  Byte 1: power cut before operation (byte & 0x7f) of the
 * first boot (0 = none); with bit 7 set that operation is torn instead.  Bit 2 of byte 0: the
 * application confirms after the first boot that succeeds.  Then patches until the
 * end: {u8 area, u16 offset LE, u8 len, len bytes}, area 0 = whole device from the start, 1 =
 * boot-state area, 2/3 = the last 256 bytes of the primary/secondary (trailers).
 *
 * Properties: no crash or sanitizer report; the bootloader never programs a
 * byte that is not erased (simulator violations stay 0); and whenever it
 * reports a bootable primary, that primary verifies with the boot key and
 * its hash is the one reported.  Up to three boots are run.  A confirm never lowers the
 * stored counter, and only raises it to the counter of a primary that verifies.
 */
#include "base/err.h"
#include "boot/boot.h"
#include "boot/bstate.h"
#include "boot/sim/simboot.h"
#include "crypto/keys.h"
#include "image/image_sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTEMPLATES 4

static struct imago_pubkey pub;
static uint8_t *templates[NTEMPLATES];
static uint32_t flash_size;

static void put(const struct imago_flash_area *a, const uint8_t *img, size_t len)
{
        uint32_t wlen = (uint32_t)(len + 7) / 8 * 8;
        uint8_t *tmp = malloc(wlen);

        if (!tmp)
                abort();
        memset(tmp, 0xff, wlen);
        memcpy(tmp, img, len);
        if (imago_flash_erase(a, 0, a->size) != 0 || imago_flash_write(a, 0, tmp, wlen) != 0)
                abort();
        free(tmp);
}

static uint8_t *make_image(const struct imago_privkey *key, uint8_t major, size_t body_len,
                           size_t *len)
{
        struct imago_image_sign_opts o;
        uint8_t body[6000], *out = NULL;

        memset(body, major, sizeof(body));
        imago_image_sign_opts_init(&o);
        o.ver.major = major;
        o.has_sec_cnt = 1;
        o.sec_cnt = major;
        if (body_len > sizeof(body) || imago_image_sign(key, &o, body, body_len, &out, len) != 0)
                abort();
        return out;
}

static uint8_t *snapshot(const struct imago_simboot *sb)
{
        uint8_t *m = malloc(sb->sim.size);

        if (!m)
                abort();
        memcpy(m, sb->sim.mem, sb->sim.size);
        return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        struct imago_privkey key;
        struct imago_simboot sb;
        struct imago_boot_status st;
        uint8_t *a, *b;
        size_t alen, blen;

        (void)argc;
        (void)argv;
        if (imago_privkey_generate(IMAGO_KEY_ED25519, &key) != 0 ||
            imago_privkey_public(&key, &pub) != 0)
                abort();
        a = make_image(&key, 1, 3000, &alen);
        b = make_image(&key, 2, 5500, &blen);
        if (imago_simboot_init(&sb, IMAGO_SIMBOOT_UNEQUAL, 0) != 0)
                abort();
        sb.cfg.keys.keys = &pub;
        sb.cfg.keys.count = 1;
        flash_size = sb.sim.size;
        templates[0] = snapshot(&sb);
        put(&sb.cfg.primary, a, alen);
        if (imago_boot_go(&sb.cfg, &st) != 0)
                abort();
        put(&sb.cfg.secondary, b, blen);
        if (imago_boot_request(&sb.cfg, 0) != 0)
                abort();
        templates[1] = snapshot(&sb);
        imago_flashsim_cut_before(&sb.sim, 20);
        if (imago_boot_go(&sb.cfg, &st) != IMAGO_EFLASH_POWER_CUT)
                abort();
        templates[3] = snapshot(&sb);
        imago_flashsim_cut_before(&sb.sim, 0);
        if (imago_boot_go(&sb.cfg, &st) != 0 || !st.trial)
                abort();
        templates[2] = snapshot(&sb);
        imago_simboot_free(&sb);
        imago_image_sign_free(a);
        imago_image_sign_free(b);
        imago_privkey_free(&key);
        return 0;
}

static int mem_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        return imago_flash_read(ctx, off, buf, len);
}

/* Confirm: the counter never goes down, and goes up only to a verified primary's counter. */
static void check_confirm(struct imago_simboot *sb)
{
        struct imago_boot_geom g;
        struct imago_image_src src;
        struct imago_image_info info;
        uint32_t before, after;
        int r;

        if (imago_boot_state_read(&sb->cfg.state, &before) != 0)
                return;
        r = imago_boot_confirm(&sb->cfg);
        if (sb->sim.violations != 0 || imago_boot_state_read(&sb->cfg.state, &after) != 0)
                abort();
        if (after < before)
                abort(); /* lowered */
        if (after == before)
                return;
        if (r != IMAGO_OK || imago_boot_geom_init(&g, &sb->cfg.primary, &sb->cfg.secondary) != 0)
                abort(); /* raised by a confirm that failed */
        src.read = mem_read;
        src.ctx = (void *)(uintptr_t)&sb->cfg.primary;
        src.size = g.img_size;
        if (imago_image_verify(&src, &sb->cfg.keys, &info) != 0 || !info.has_sec_cnt ||
            info.sec_cnt != after)
                abort(); /* raised to a counter no verified primary carries */
}

/* The reported primary must verify, independently of the boot path. */
static void check_booted(const struct imago_simboot *sb, const struct imago_boot_status *st)
{
        struct imago_boot_geom g;
        struct imago_image_src src;
        struct imago_image_info info;

        if (imago_boot_geom_init(&g, &sb->cfg.primary, &sb->cfg.secondary) != 0)
                abort();
        src.read = mem_read;
        src.ctx = (void *)(uintptr_t)&sb->cfg.primary;
        src.size = g.img_size;
        if (imago_image_verify(&src, &sb->cfg.keys, &info) != 0)
                abort(); /* booted an image that does not verify */
        if (memcmp(info.hash, st->hash, sizeof(info.hash)) != 0)
                abort();
        if ((info.has_sec_cnt ? info.sec_cnt : 0) < st->stored_sec_cnt)
                abort(); /* booted below the stored counter */
}

static void patch(struct imago_simboot *sb, const uint8_t *p, size_t n)
{
        while (n >= 4) {
                uint8_t area = p[0] & 3, len = p[3];
                uint32_t off = (uint32_t)p[1] | (uint32_t)p[2] << 8, base, span;

                p += 4;
                n -= 4;
                if (len > n)
                        len = (uint8_t)n;
                switch (area) {
                case 0:
                        base = 0;
                        span = sb->sim.size;
                        break;
                case 1:
                        base = sb->cfg.state.off;
                        span = sb->cfg.state.size;
                        break;
                case 2:
                        base = sb->cfg.primary.off + sb->cfg.primary.size - 256;
                        span = 256;
                        break;
                default:
                        base = sb->cfg.secondary.off + sb->cfg.secondary.size - 256;
                        span = 256;
                        break;
                }
                off %= span;
                if (len > span - off)
                        len = (uint8_t)(span - off);
                memcpy(sb->sim.mem + base + off, p, len);
                p += len;
                n -= len;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_simboot sb;
        struct imago_boot_status st;
        int i, r, confirmed = 0;

        if (size < 2)
                return 0;
        if (imago_simboot_init(&sb, IMAGO_SIMBOOT_UNEQUAL, 0) != 0 || sb.sim.size != flash_size)
                abort();
        sb.cfg.keys.keys = &pub;
        sb.cfg.keys.count = 1;
        memcpy(sb.sim.mem, templates[data[0] % NTEMPLATES], flash_size);
        patch(&sb, data + 2, size - 2);
        if (data[1] & 0x80)
                imago_flashsim_cut_during(&sb.sim, data[1] & 0x7f);
        else
                imago_flashsim_cut_before(&sb.sim, data[1]);
        for (i = 0; i < 3; i++) {
                r = imago_boot_go(&sb.cfg, &st);
                if (r == IMAGO_OK)
                        check_booted(&sb, &st);
                else if (st.bootable)
                        abort();
                if (sb.sim.violations != 0)
                        abort(); /* programmed a byte that was not erased */
                imago_flashsim_cut_before(&sb.sim, 0);
                if (r == IMAGO_OK && (data[0] & 4) && !confirmed) {
                        confirmed = 1;
                        check_confirm(&sb);
                }
        }
        imago_simboot_free(&sb);
        return 0;
}
