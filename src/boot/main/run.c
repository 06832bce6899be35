/* imago-boot run FLASH [-- ARGS...]: boot decision, then exec the primary's payload. */
#define _GNU_SOURCE
#include "boot_main.h"

#include "base/err.h"
#include "base/num.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARGS_MAX 64

extern char **environ;

/*
 * Read the signed primary image once into memory, verify that copy (keys,
 * counter, and the hash imago_boot_go() reported), then put its body
 * [hdr_size, hdr_size + img_size) into a sealed memfd: what runs is exactly
 * what was verified, even if the flash file changes meanwhile.
 */
static int payload_fd(struct imago_flashfile *ff, const struct imago_boot_status *st, int *out)
{
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_info info;
        uint8_t *img = NULL;
        size_t left;
        int fd = -1, r;

        if (st->image_size == 0 || st->image_size > ff->cfg.primary.size)
                return IMAGO_EIMG_TOO_LARGE;
        img = malloc(st->image_size);
        if (!img)
                return IMAGO_ENOMEM;
        r = imago_flash_read(&ff->cfg.primary, 0, img, st->image_size);
        if (r != IMAGO_OK)
                goto out;
        imago_image_src_mem(&src, &mem, img, st->image_size);
        r = imago_image_verify(&src, &ff->cfg.keys, &info);
        if (r != IMAGO_OK)
                goto out;
        if (memcmp(info.hash, st->hash, sizeof(info.hash)) != 0 ||
            (info.has_sec_cnt ? info.sec_cnt : 0) < st->stored_sec_cnt ||
            (uint64_t)info.hdr.hdr_size + info.hdr.img_size > st->image_size) {
                r = IMAGO_EIMG_HASH;
                goto out;
        }
        fd = memfd_create("imago-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
                r = IMAGO_EIO;
                goto out;
        }
        left = info.hdr.img_size;
        while (left > 0) {
                ssize_t n = write(fd, img + info.hdr.hdr_size + (info.hdr.img_size - left), left);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = IMAGO_EIO;
                        goto out;
                }
                left -= (size_t)n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
                r = IMAGO_EIO;
                goto out;
        }
        *out = fd;
        fd = -1;
out:
        if (fd >= 0)
                close(fd);
        free(img);
        return r;
}

static int set_env(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_env(const char *name, const char *fmt, ...)
{
        char v[128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(v, sizeof(v), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(v))
                return -1;
        return setenv(name, v, 1);
}

/*
 * Test hook: IMAGO_BOOT_TEST_CUT_FILE names a file holding N.  The next boot
 * that has a swap to start or resume reads and removes it (one shot) and its
 * flash writes/erases stop after the first N, as a power cut there would
 * (tests/integration/ota_e2e.sh).  Boots without a swap leave the file.
 */
static uint32_t test_cut(struct imago_flashfile *ff)
{
        const char *path = getenv("IMAGO_BOOT_TEST_CUT_FILE");
        char text[16] = {0};
        struct imago_boot_status st;
        uint32_t n = 0;
        ssize_t got;
        int fd;

        if (path == NULL || imago_boot_inspect(&ff->cfg, &st) != IMAGO_OK ||
            (st.pending == IMAGO_BOOT_SWAP_NONE && !st.in_progress && !st.trial))
                return 0;
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return 0;
        got = read(fd, text, sizeof(text) - 1);
        close(fd);
        (void)unlink(path);
        if (got > 0 && text[got - 1] == '\n')
                text[got - 1] = '\0';
        if (got <= 0 || imago_parse_u32(text, UINT32_MAX, &n) != IMAGO_OK)
                return 0;
        return n;
}

int ib_cmd_run(int argc, char **argv)
{
        struct imago_flashfile ff;
        struct imago_boot_status st;
        char *args[ARGS_MAX + 2];
        char abspath[4096], self[4096] = {0};
        int i, n = 0, r, fd = -1;

        if (argc < 1 || (argc >= 2 && strcmp(argv[1], "--") != 0)) {
                fprintf(stderr, "usage: imago-boot run FLASH [-- ARGS...]\n");
                return IB_USAGE;
        }
        if (argc - 2 > ARGS_MAX) {
                fprintf(stderr, "imago-boot: at most %d payload arguments\n", ARGS_MAX);
                return IB_USAGE;
        }
        if (!realpath(argv[0], abspath)) {
                fprintf(stderr, "imago-boot: %s: %s\n", argv[0], strerror(errno));
                return IB_FAIL;
        }
        if (ib_open(&ff, abspath, 1) != IB_OK)
                return IB_FAIL;
        imago_flashfile_cut_after(&ff, test_cut(&ff));
        r = imago_boot_go(&ff.cfg, &st);
        if (r == IMAGO_EFLASH_POWER_CUT) {
                fprintf(stderr,
                        "imago-boot: simulated power cut after %" PRIu32
                        " flash operations (IMAGO_BOOT_TEST_CUT_FILE)\n",
                        ff.cut_after);
                imago_flashfile_close(&ff);
                return IB_FAIL;
        }
        imago_flashfile_cut_after(&ff, 0);
        if (r == IMAGO_EBOOT_NO_IMAGE) {
                ib_print_recovery(&st);
                imago_flashfile_close(&ff);
                return IB_RECOVERY;
        }
        if (r != IMAGO_OK) {
                imago_flashfile_close(&ff);
                return ib_fail("boot", r);
        }
        if (st.swap != IMAGO_BOOT_SWAP_NONE)
                fprintf(stderr, "imago-boot: %s swap done\n", imago_boot_swap_name(st.swap));
        if (st.secondary_err != 0)
                fprintf(stderr, "imago-boot: update refused: %s (%s)\n",
                        imago_strerror(st.secondary_err), imago_errname(st.secondary_err));
        r = payload_fd(&ff, &st, &fd);
        if (imago_flashfile_close(&ff) != IMAGO_OK && r == IMAGO_OK)
                r = IMAGO_EIO;
        if (r != IMAGO_OK) {
                if (fd >= 0)
                        close(fd);
                return ib_fail("payload", r);
        }
        if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0 ||
            set_env("IMAGO_BOOT_PROGRAM", "%s", self) ||
            set_env("IMAGO_BOOT_FLASH", "%s", abspath) || set_env("IMAGO_BOOT_SLOT", "primary") ||
            set_env("IMAGO_BOOT_VERSION", "%u.%u.%u+%" PRIu32, st.version.major, st.version.minor,
                    st.version.revision, st.version.build) ||
            set_env("IMAGO_BOOT_SECURITY_COUNTER", "%" PRIu32, st.sec_cnt) ||
            set_env("IMAGO_BOOT_CONFIRMED", "%d", st.confirmed ? 1 : 0) ||
            set_env("IMAGO_BOOT_SWAP", "%s", imago_boot_swap_name(st.swap))) {
                close(fd);
                return ib_fail("environment", IMAGO_ENOMEM);
        }
        args[n++] = "imago-payload";
        for (i = 2; i < argc; i++)
                args[n++] = argv[i];
        args[n] = NULL;
        fflush(stdout);
        fflush(stderr);
        fexecve(fd, args, environ);
        fprintf(stderr, "imago-boot: cannot execute the payload: %s\n", strerror(errno));
        close(fd);
        return IB_FAIL;
}
