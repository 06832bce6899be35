/*
 * Helpers shared by the boot unit tests (test code, not a module): keys made
 * in memory, images signed with the real signer, and slot checks over the
 * flash simulator.
 */
#ifndef IMAGO_TEST_BOOT_UTIL_H
#define IMAGO_TEST_BOOT_UTIL_H

#include "boot/boot.h"
#include "boot/sim/simboot.h"
#include "crypto/keys.h"
#include "image/image_sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tb_img {
        uint8_t *buf;
        size_t len;
        uint32_t sc;
        uint8_t major;
};

static struct imago_privkey tb_key __attribute__((unused)), tb_other_key __attribute__((unused));
static struct imago_pubkey tb_pub __attribute__((unused));

static inline int tb_keys_setup(void **state)
{
        (void)state;
        if (imago_privkey_generate(IMAGO_KEY_ED25519, &tb_key) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &tb_other_key) != 0 ||
            imago_privkey_public(&tb_key, &tb_pub) != 0)
                return -1;
        return 0;
}

static inline int tb_keys_teardown(void **state)
{
        (void)state;
        imago_privkey_free(&tb_key);
        imago_privkey_free(&tb_other_key);
        return 0;
}

/* A signed image of body_len pseudo-random bytes, version major.0.0, counter sc. */
static inline int tb_img_make(struct tb_img *img, const struct imago_privkey *key, size_t body_len,
                              uint8_t major, uint32_t sc, int has_sc)
{
        struct imago_image_sign_opts o;
        uint8_t *body = malloc(body_len);
        size_t i;
        int r;

        if (!body)
                return -1;
        for (i = 0; i < body_len; i++)
                body[i] = (uint8_t)(i * 131u + major * 17u + (i >> 8));
        imago_image_sign_opts_init(&o);
        o.ver.major = major;
        o.has_sec_cnt = has_sc;
        o.sec_cnt = sc;
        r = imago_image_sign(key, &o, body, body_len, &img->buf, &img->len);
        free(body);
        img->sc = sc;
        img->major = major;
        return r;
}

static inline void tb_img_free(struct tb_img *img)
{
        imago_image_sign_free(img->buf);
        memset(img, 0, sizeof(*img));
}

static inline void tb_use_key(struct imago_simboot *sb)
{
        sb->cfg.keys.keys = &tb_pub;
        sb->cfg.keys.count = 1;
}

/* Program an image at the start of a slot (NOR-style: the slot is erased first). */
static inline int tb_put(struct imago_simboot *sb, const struct imago_flash_area *slot,
                         const struct tb_img *img)
{
        uint32_t align = slot->dev->align, len;
        uint8_t *tmp;
        int r;

        r = imago_flash_erase(slot, 0, slot->size);
        if (r != 0)
                return r;
        len = (uint32_t)((img->len + align - 1) / align * align);
        tmp = malloc(len);
        if (!tmp)
                return -1;
        memset(tmp, slot->dev->erased, len);
        memcpy(tmp, img->buf, img->len);
        r = imago_flash_write(slot, 0, tmp, len);
        free(tmp);
        (void)sb;
        return r;
}

/* 1 if the slot starts with the image. */
static inline int tb_has(const struct imago_flash_area *slot, const struct tb_img *img)
{
        uint8_t *tmp = malloc(img->len);
        int ok;

        if (!tmp)
                return 0;
        ok = imago_flash_read(slot, 0, tmp, (uint32_t)img->len) == 0 &&
             memcmp(tmp, img->buf, img->len) == 0;
        free(tmp);
        return ok;
}

/* 1 if the trailer sectors of the slot are entirely erased. */
static inline int tb_trailer_erased(const struct imago_simboot *sb,
                                    const struct imago_flash_area *slot)
{
        struct imago_boot_geom g;
        uint32_t o;
        uint8_t b;

        if (imago_boot_geom_init(&g, &sb->cfg.primary, &sb->cfg.secondary) != 0)
                return 0;
        for (o = g.img_size; o < slot->size; o++) {
                if (imago_flash_read(slot, o, &b, 1) != 0 || b != slot->dev->erased)
                        return 0;
        }
        return 1;
}

/* Image body sizes that fill about 55% and 85% of the image area. */
static inline size_t tb_body_size(const struct imago_simboot *sb, int big)
{
        struct imago_boot_geom g;

        if (imago_boot_geom_init(&g, &sb->cfg.primary, &sb->cfg.secondary) != 0)
                return 0;
        return (size_t)g.img_size * (big ? 85 : 55) / 100 - 200;
}

#endif
