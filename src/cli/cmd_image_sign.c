/* `imago image sign ...`: see the usage text. */
#include "cli.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "crypto/keys.h"
#include "image/image_sign.h"

#include <stdio.h>
#include <string.h>

#define CMD "image sign"

/* Largest input accepted: the format allows 4 GiB, slots are far smaller. */
#define IN_MAX (256U * 1024U * 1024U)

static const char usage[] =
    "usage: imago image sign --key KEY --version V [--security-counter N|auto]\n"
    "                        [--header-size N] [--passphrase-file F]\n"
    "                        [--pad --slot-size S [--align 1|2|4|8] [--max-sectors N]\n"
    "                         [--erased-val 0xff|0] [--confirm]] IN OUT\n"
    "\n"
    "Signs the raw binary IN into the MCUboot image OUT, as imgtool\n"
    "`sign --pad-header` does: a header of --header-size bytes (default 32)\n"
    "is prepended; V is major[.minor[.revision[+build]]]; the security counter\n"
    "goes into the protected TLV area (auto: derived from V as imgtool does).\n"
    "--pad fills the slot of --slot-size bytes with the erased value and writes\n"
    "MCUboot's trailer (boot magic; with --confirm, which implies --pad,\n"
    "image_ok = 0x01).  OUT is written atomically; on error it is not created.\n";

struct args {
        const char *key, *ver, *cnt, *hdr, *pfile, *slot, *align, *sectors, *erased;
        const char *in, *out;
        int pad, confirm;
};

static int parse_args(int argc, char **argv, struct args *a)
{
        static const char *const names[] = {
            "--key",       "--version", "--security-counter", "--header-size", "--passphrase-file",
            "--slot-size", "--align",   "--max-sectors",      "--erased-val"};
        const char **vals[] = {&a->key,  &a->ver,   &a->cnt,     &a->hdr,   &a->pfile,
                               &a->slot, &a->align, &a->sectors, &a->erased};
        size_t k;
        int i, m;

        memset(a, 0, sizeof(*a));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return 1;
                }
                if (strcmp(argv[i], "--pad") == 0) {
                        a->pad = 1;
                        continue;
                }
                if (strcmp(argv[i], "--confirm") == 0) {
                        a->confirm = 1;
                        continue;
                }
                for (k = 0, m = 0; k < sizeof(names) / sizeof(names[0]) && m == 0; k++)
                        m = imago_cli_opt(argc, argv, &i, CMD, names[k], vals[k]);
                if (m < 0)
                        return -1;
                if (m > 0)
                        continue;
                if (argv[i][0] == '-' && argv[i][1] != '\0') {
                        imago_cli_usage("imago " CMD, "unknown option '%s'", argv[i]);
                        return -1;
                }
                if (a->in == NULL) {
                        a->in = argv[i];
                } else if (a->out == NULL) {
                        a->out = argv[i];
                } else {
                        imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                        return -1;
                }
        }
        if (a->key == NULL || a->ver == NULL || a->in == NULL || a->out == NULL) {
                imago_cli_usage("imago " CMD, "--key, --version, IN and OUT are required");
                return -1;
        }
        return 0;
}

/* Options to imago_image_sign_opts; a usage message and -1 on error. */
static int to_opts(const struct args *a, struct imago_image_sign_opts *o)
{
        const char *c = "imago " CMD;
        uint32_t v;

        imago_image_sign_opts_init(o);
        if (imago_image_version_parse(a->ver, &o->ver) != IMAGO_OK)
                return imago_cli_usage(c, "bad --version '%s' (major[.minor[.rev[+build]]])",
                                       a->ver),
                       -1;
        if (a->cnt != NULL) {
                o->has_sec_cnt = 1;
                if (strcmp(a->cnt, "auto") == 0)
                        o->sec_cnt = imago_image_version_sec_cnt(&o->ver);
                else if (imago_parse_u32(a->cnt, UINT32_MAX, &o->sec_cnt) != IMAGO_OK)
                        return imago_cli_usage(c, "bad --security-counter '%s'", a->cnt), -1;
        }
        if (a->hdr != NULL && (imago_parse_u32(a->hdr, 0xffff, &o->header_size) != IMAGO_OK ||
                               o->header_size < IMAGO_IMAGE_HEADER_SIZE))
                return imago_cli_usage(c, "bad --header-size '%s' (32..65535)", a->hdr), -1;
        o->pad = a->pad || a->confirm;
        o->confirm = a->confirm;
        if (!o->pad && (a->slot || a->align || a->sectors || a->erased))
                return imago_cli_usage(c, "--slot-size, --align, --max-sectors and "
                                          "--erased-val need --pad"),
                       -1;
        if (o->pad && a->slot == NULL)
                return imago_cli_usage(c, "--pad needs --slot-size"), -1;
        if (a->slot != NULL &&
            (imago_parse_size(a->slot, UINT32_MAX, &o->slot_size) != IMAGO_OK || !o->slot_size))
                return imago_cli_usage(c, "bad --slot-size '%s'", a->slot), -1;
        if (a->align != NULL &&
            (imago_parse_u32(a->align, 8, &o->align) != IMAGO_OK ||
             (o->align != 1 && o->align != 2 && o->align != 4 && o->align != 8)))
                return imago_cli_usage(c, "bad --align '%s' (1, 2, 4 or 8)", a->align), -1;
        if (a->sectors != NULL &&
            (imago_parse_u32(a->sectors, 0xffff, &o->max_sectors) != IMAGO_OK || !o->max_sectors))
                return imago_cli_usage(c, "bad --max-sectors '%s'", a->sectors), -1;
        if (a->erased != NULL) {
                if (imago_parse_u32(a->erased, 0xff, &v) != IMAGO_OK || (v != 0 && v != 0xff))
                        return imago_cli_usage(c, "bad --erased-val '%s' (0xff or 0)", a->erased),
                               -1;
                o->erased_val = (uint8_t)v;
        }
        return 0;
}

int imago_cli_image_sign(int argc, char **argv)
{
        struct imago_image_sign_opts o;
        struct imago_privkey key = {0};
        struct args a;
        uint8_t *in = NULL, *img = NULL;
        size_t in_len = 0, img_len = 0;
        char *pass = NULL;
        int r, rc = IMAGO_CLI_FAIL;

        if ((r = parse_args(argc, argv, &a)) != 0)
                return r > 0 ? IMAGO_CLI_OK : IMAGO_CLI_USAGE;
        if (to_opts(&a, &o) != 0)
                return IMAGO_CLI_USAGE;
        if ((r = imago_cli_passphrase(a.pfile, &pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, a.pfile, r);
                goto out;
        }
        if ((r = imago_privkey_load(a.key, pass, &key)) != IMAGO_OK) {
                imago_cli_fail(CMD, a.key, r);
                goto out;
        }
        if ((r = imago_file_read(a.in, IN_MAX, &in, &in_len)) != IMAGO_OK) {
                imago_cli_fail(CMD, a.in, r);
                goto out;
        }
        if ((r = imago_image_sign(&key, &o, in, in_len, &img, &img_len)) != IMAGO_OK) {
                imago_cli_fail(CMD, a.in, r);
                goto out;
        }
        if ((r = imago_file_write_atomic(a.out, img, img_len, 0644)) != IMAGO_OK) {
                imago_cli_fail(CMD, a.out, r);
                goto out;
        }
        rc = IMAGO_CLI_OK;
out:
        imago_image_sign_free(img);
        imago_file_free(in, in_len);
        imago_privkey_free(&key);
        imago_cli_passphrase_free(pass);
        return rc;
}
