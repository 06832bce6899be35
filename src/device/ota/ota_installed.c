/* imago_ota: the running image, read from the flash file (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "boot/host/flashfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int inspect(struct imago_flashfile *ff, struct imago_boot_status *st)
{
        int r = imago_boot_inspect(&ff->cfg, st);

        if (r == IMAGO_OK && !st->bootable)
                r = st->primary_err ? st->primary_err : IMAGO_EBOOT_NO_IMAGE;
        if (r == IMAGO_OK && (st->image_size == 0 || st->image_size > ff->cfg.primary.size))
                r = IMAGO_EIMG_TOO_LARGE;
        return r;
}

int imago_ota_read_installed(const char *flash, struct imago_ota_image *img)
{
        struct imago_flashfile *ff = calloc(1, sizeof(*ff));
        struct imago_boot_status st;
        struct imago_sha256 h;
        uint8_t buf[4096];
        uint32_t off = 0;
        int r;

        memset(img, 0, sizeof(*img));
        if (!ff)
                return IMAGO_ENOMEM;
        r = imago_flashfile_open(ff, flash, 0);
        if (r != IMAGO_OK) {
                free(ff);
                return r;
        }
        r = inspect(ff, &st);
        if (r != IMAGO_OK)
                goto out;
        imago_sha256_init(&h);
        while (off < st.image_size) {
                uint32_t n =
                    st.image_size - off < sizeof(buf) ? st.image_size - off : (uint32_t)sizeof(buf);

                r = imago_flash_read(&ff->cfg.primary, off, buf, n);
                if (r != IMAGO_OK)
                        goto out;
                imago_sha256_update(&h, buf, n);
                off += n;
        }
        imago_sha256_final(&h, img->sha256);
        img->length = st.image_size;
        if (st.version.build)
                snprintf(img->version, sizeof(img->version), "%u.%u.%u+%lu", st.version.major,
                         st.version.minor, st.version.revision, (unsigned long)st.version.build);
        else
                snprintf(img->version, sizeof(img->version), "%u.%u.%u", st.version.major,
                         st.version.minor, st.version.revision);
        img->security_counter = st.has_sec_cnt ? st.sec_cnt : 0;
        img->trial = st.trial;
out:
        imago_flashfile_close(ff);
        free(ff);
        return r;
}

int ota_read_primary(const char *flash, const uint8_t sha256[IMAGO_SHA256_LEN], uint8_t **buf,
                     size_t *len)
{
        struct imago_flashfile *ff = calloc(1, sizeof(*ff));
        struct imago_boot_status st;
        uint8_t d[IMAGO_SHA256_LEN], *b = NULL;
        int r;

        *buf = NULL;
        *len = 0;
        if (!ff)
                return IMAGO_ENOMEM;
        r = imago_flashfile_open(ff, flash, 0);
        if (r != IMAGO_OK) {
                free(ff);
                return r;
        }
        r = inspect(ff, &st);
        if (r != IMAGO_OK)
                goto out;
        b = malloc(st.image_size);
        if (!b) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = imago_flash_read(&ff->cfg.primary, 0, b, st.image_size);
        if (r != IMAGO_OK)
                goto out;
        imago_sha256(b, st.image_size, d);
        if (memcmp(d, sha256, sizeof(d)) != 0) {
                r = IMAGO_EIMG_HASH; /* the primary changed under us */
                goto out;
        }
        *buf = b;
        *len = st.image_size;
        b = NULL;
out:
        free(b);
        imago_flashfile_close(ff);
        free(ff);
        return r;
}
