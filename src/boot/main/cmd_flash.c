/* imago-boot flash ...: create, program and inspect a flash file. */
#include "boot_main.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "boot/bstate.h"
#include "crypto/keys.h"

#include <stdio.h>
#include <string.h>

#define IMAGE_MAX (256U * 1024 * 1024)

static void list_layouts(void)
{
        const struct imago_flashfile_layout *l;
        size_t i;

        for (i = 0; (l = imago_flashfile_layout_at(i)) != NULL; i++)
                printf("%-16s %s (default slot %u KiB)\n", l->name, l->desc,
                       l->default_slot / 1024);
}

static int cmd_create(int argc, char **argv)
{
        struct imago_pubkey keys[IMAGO_FLASHFILE_MAX_KEYS];
        const char *path = NULL, *layout = "uniform-4k";
        uint32_t slot = 0;
        size_t nkeys = 0;
        int i, r;

        for (i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
                        if (nkeys == IMAGO_FLASHFILE_MAX_KEYS) {
                                fprintf(stderr, "imago-boot: at most %d keys\n",
                                        IMAGO_FLASHFILE_MAX_KEYS);
                                return IB_USAGE;
                        }
                        r = imago_pubkey_load(argv[++i], &keys[nkeys]);
                        if (r != IMAGO_OK)
                                return ib_fail(argv[i], r);
                        nkeys++;
                } else if (strcmp(argv[i], "--layout") == 0 && i + 1 < argc) {
                        layout = argv[++i];
                        if (strcmp(layout, "help") == 0) {
                                list_layouts();
                                return IB_OK;
                        }
                } else if (strcmp(argv[i], "--slot-size") == 0 && i + 1 < argc) {
                        r = imago_parse_size(argv[++i], UINT32_MAX, &slot);
                        if (r != IMAGO_OK)
                                return ib_fail("--slot-size", r);
                } else if (argv[i][0] != '-' && !path) {
                        path = argv[i];
                } else {
                        fprintf(stderr, "imago-boot: flash create: unexpected '%s'\n", argv[i]);
                        return IB_USAGE;
                }
        }
        if (!path || nkeys == 0) {
                fprintf(stderr, "usage: imago-boot flash create FLASH --key PUB.pem [--key ...] "
                                "[--layout NAME|help] [--slot-size S]\n");
                return IB_USAGE;
        }
        if (!imago_flashfile_layout_find(layout)) {
                fprintf(stderr, "imago-boot: unknown layout '%s'; known layouts:\n", layout);
                list_layouts();
                return IB_USAGE;
        }
        r = imago_flashfile_create(path, layout, slot, keys, nkeys);
        if (r == IMAGO_ERANGE) {
                fprintf(stderr, "imago-boot: slot size %u does not fit layout %s\n", slot, layout);
                return IB_USAGE;
        }
        if (r != IMAGO_OK)
                return ib_fail(path, r);
        printf("created %s: layout %s, %zu boot key(s)\n", path, layout, nkeys);
        return IB_OK;
}

/* Verify an image file with the flash's boot keys (not the counter). */
static int check_image(struct imago_flashfile *ff, const char *path, const uint8_t *img, size_t len,
                       struct imago_image_info *info)
{
        struct imago_image_src src;
        struct imago_image_mem mem;
        int r;

        imago_image_src_mem(&src, &mem, img, len);
        r = imago_image_verify(&src, &ff->cfg.keys, info);
        if (r != IMAGO_OK)
                return ib_fail(path, r);
        return IB_OK;
}

static int cmd_write(int argc, char **argv, int update)
{
        struct imago_flashfile ff;
        struct imago_boot_status st;
        struct imago_image_info info;
        const char *flash = NULL, *image = NULL;
        uint8_t *img = NULL;
        size_t len = 0;
        int i, r, rc, verify = 1;

        for (i = 0; i < argc; i++) {
                if (!update && strcmp(argv[i], "--no-verify") == 0)
                        verify = 0;
                else if (argv[i][0] != '-' && !flash)
                        flash = argv[i];
                else if (argv[i][0] != '-' && !image)
                        image = argv[i];
                else {
                        fprintf(stderr, "imago-boot: unexpected '%s'\n", argv[i]);
                        return IB_USAGE;
                }
        }
        if (!flash || !image) {
                fprintf(stderr, "usage: imago-boot flash %s FLASH IMAGE\n",
                        update ? "write-update" : "write-primary [--no-verify]");
                return IB_USAGE;
        }
        rc = ib_open(&ff, flash, 1);
        if (rc != IB_OK)
                return rc;
        r = imago_file_read(image, IMAGE_MAX, &img, &len);
        if (r != IMAGO_OK) {
                rc = ib_fail(image, r);
                goto out;
        }
        if (len > ff.slot_size) {
                fprintf(stderr, "imago-boot: %s: %zu bytes do not fit the %u-byte slot\n", image,
                        len, ff.slot_size);
                rc = IB_FAIL;
                goto out;
        }
        if (verify) {
                struct imago_boot_geom g;

                rc = check_image(&ff, image, img, len, &info);
                if (rc != IB_OK)
                        goto out;
                r = imago_boot_geom_init(&g, &ff.cfg.primary, &ff.cfg.secondary);
                if (r == IMAGO_OK && info.end > g.img_size) {
                        fprintf(stderr,
                                "imago-boot: %s: the signed image (%u bytes) runs into the "
                                "trailer sectors; at most %u bytes fit this layout\n",
                                image, info.end, g.img_size);
                        rc = IB_FAIL;
                        goto out;
                }
        }
        if (update) {
                r = imago_boot_inspect(&ff.cfg, &st);
                if (r != IMAGO_OK) {
                        rc = ib_fail(flash, r);
                        goto out;
                }
                if (st.trial || st.in_progress) {
                        fprintf(stderr,
                                "imago-boot: refusing write-update: the running image is "
                                "%s and the secondary slot holds its revert image; "
                                "confirm it first (imago-boot flash confirm)\n",
                                st.trial ? "an unconfirmed trial" : "being swapped");
                        rc = IB_FAIL;
                        goto out;
                }
        }
        r = imago_flashfile_write_slot(&ff, update ? &ff.cfg.secondary : &ff.cfg.primary, img, len);
        if (r != IMAGO_OK) {
                rc = ib_fail(flash, r);
                goto out;
        }
        printf("wrote %s to the %s slot (%zu bytes)\n", image, update ? "secondary" : "primary",
               len);
out:
        imago_file_free(img, len);
        r = imago_flashfile_close(&ff);
        if (r != IMAGO_OK && rc == IB_OK)
                rc = ib_fail(flash, r);
        return rc;
}

static int cmd_write_primary(int argc, char **argv)
{
        return cmd_write(argc, argv, 0);
}

static int cmd_write_update(int argc, char **argv)
{
        return cmd_write(argc, argv, 1);
}

static int cmd_request(int argc, char **argv)
{
        struct imago_flashfile ff;
        int perm = -1, rc, r;

        if (argc == 2 && strcmp(argv[1], "--test") == 0)
                perm = 0;
        else if (argc == 2 && strcmp(argv[1], "--permanent") == 0)
                perm = 1;
        if (perm < 0) {
                fprintf(stderr, "usage: imago-boot flash request FLASH --test|--permanent\n");
                return IB_USAGE;
        }
        rc = ib_open(&ff, argv[0], 1);
        if (rc != IB_OK)
                return rc;
        r = imago_boot_request(&ff.cfg, perm);
        if (r == IMAGO_ESTATE)
                fprintf(stderr, "imago-boot: refusing request: the running image is an "
                                "unconfirmed trial or a swap is in progress\n");
        if (r != IMAGO_OK)
                rc = ib_fail("request", r);
        else
                printf("%s update requested: it is swapped in on the next boot\n",
                       perm ? "permanent" : "test");
        r = imago_flashfile_close(&ff);
        if (r != IMAGO_OK && rc == IB_OK)
                rc = ib_fail(argv[0], r);
        return rc;
}

static int cmd_confirm(int argc, char **argv)
{
        struct imago_flashfile ff;
        uint32_t counter = 0;
        int rc, r;

        if (argc != 1) {
                fprintf(stderr, "usage: imago-boot flash confirm FLASH\n");
                return IB_USAGE;
        }
        rc = ib_open(&ff, argv[0], 1);
        if (rc != IB_OK)
                return rc;
        r = imago_boot_confirm(&ff.cfg);
        if (r == IMAGO_OK)
                r = imago_boot_state_read(&ff.cfg.state, &counter);
        if (r != IMAGO_OK)
                rc = ib_fail("confirm", r);
        else
                printf("primary image confirmed; security counter %u\n", (unsigned)counter);
        r = imago_flashfile_close(&ff);
        if (r != IMAGO_OK && rc == IB_OK)
                rc = ib_fail(argv[0], r);
        return rc;
}

static int cmd_status(int argc, char **argv)
{
        struct imago_flashfile ff;
        struct imago_boot_status st;
        int json = 0, rc, r;

        if (argc == 2 && strcmp(argv[1], "--json") == 0)
                json = 1;
        else if (argc != 1) {
                fprintf(stderr, "usage: imago-boot flash status FLASH [--json]\n");
                return IB_USAGE;
        }
        rc = ib_open(&ff, argv[0], 0);
        if (rc != IB_OK)
                return rc;
        r = imago_boot_inspect(&ff.cfg, &st);
        if (r != IMAGO_OK)
                rc = ib_fail(argv[0], r);
        else
                ib_print_status(&ff, &st, json);
        imago_flashfile_close(&ff);
        return rc;
}

struct sub {
        const char *name;
        int (*fn)(int argc, char **argv);
};

static const struct sub subs[] = {
    {"create", cmd_create},
    {"write-primary", cmd_write_primary},
    {"write-update", cmd_write_update},
    {"request", cmd_request},
    {"confirm", cmd_confirm},
    {"status", cmd_status},
};

int ib_cmd_flash(int argc, char **argv)
{
        size_t i;

        if (argc >= 1)
                for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
                        if (strcmp(argv[0], subs[i].name) == 0)
                                return subs[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "usage: imago-boot flash create|write-primary|write-update|request|"
                        "confirm|status FLASH ...\n");
        return IB_USAGE;
}
