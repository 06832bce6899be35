/* imago-boot: the verified bootloader over a flash file.  Dispatch. */
#include "boot_main.h"

#include "base/err.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
        fprintf(f, "usage:\n"
                   "  imago-boot flash create FLASH --key PUB.pem [--key PUB2.pem] "
                   "[--layout NAME|help] [--slot-size S]\n"
                   "  imago-boot flash write-primary FLASH IMAGE [--no-verify]\n"
                   "  imago-boot flash write-update FLASH IMAGE\n"
                   "  imago-boot flash request FLASH --test|--permanent\n"
                   "  imago-boot flash confirm FLASH\n"
                   "  imago-boot flash status FLASH [--json]\n"
                   "  imago-boot run FLASH [-- ARGS...]\n"
                   "exit status: 0 ok, 1 error, 2 usage, 3 recovery (no bootable image)\n");
}

int ib_fail(const char *what, int r)
{
        fprintf(stderr, "imago-boot: %s: %s (%s)\n", what, imago_strerror(r), imago_errname(r));
        return IB_FAIL;
}

int ib_open(struct imago_flashfile *ff, const char *path, int writable)
{
        int r = imago_flashfile_open(ff, path, writable);

        if (r != IMAGO_OK) {
                fprintf(stderr, "imago-boot: %s: not a usable flash file: %s (%s)\n", path,
                        imago_strerror(r), imago_errname(r));
                return IB_FAIL;
        }
        return IB_OK;
}

/* -h or --help anywhere before "--" (after it, arguments belong to the payload). */
static int wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
                    (i == 1 && strcmp(argv[i], "help") == 0))
                        return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (wants_help(argc, argv)) {
                usage(stdout);
                return IB_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "flash") == 0)
                return ib_cmd_flash(argc - 2, argv + 2);
        if (argc >= 2 && strcmp(argv[1], "run") == 0)
                return ib_cmd_run(argc - 2, argv + 2);
        usage(stderr);
        return IB_USAGE;
}
