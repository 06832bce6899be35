/* `imago image verify --key PUB [--key PUB2 ...] IMAGE` */
#include "cli.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "image/image.h"

#include <stdio.h>
#include <string.h>

#define CMD      "image verify"
#define KEYS_MAX 8
#define IMG_MAX  (256U * 1024U * 1024U)

static const char usage[] =
    "usage: imago image verify --key PUB [--key PUB ...] IMAGE\n"
    "\n"
    "Verifies IMAGE's SHA256 TLV and its signature by one of the given public\n"
    "keys (PEM; at most 8).  Exit 0 and one line of summary when valid; exit 1\n"
    "and the reason when not.  Bytes after the TLV area (slot padding, trailer)\n"
    "are ignored.\n";

int imago_cli_image_verify(int argc, char **argv)
{
        struct imago_pubkey keys[KEYS_MAX];
        const char *keyf[KEYS_MAX], *file = NULL, *v;
        struct imago_image_keyring kr = {keys, 0};
        struct imago_image_info info;
        struct imago_image_src src;
        struct imago_image_mem mem;
        char hex[2 * IMAGO_SHA256_LEN + 1], cnt[16];
        uint8_t *img = NULL;
        size_t len = 0, nkeys = 0, k;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--key", &v)) != 0) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        if (nkeys == KEYS_MAX)
                                return imago_cli_usage("imago " CMD, "at most %d keys", KEYS_MAX);
                        keyf[nkeys++] = v;
                        continue;
                }
                if (argv[i][0] == '-' && argv[i][1] != '\0')
                        return imago_cli_usage("imago " CMD, "unknown option '%s'", argv[i]);
                if (file != NULL)
                        return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                file = argv[i];
        }
        if (nkeys == 0 || file == NULL)
                return imago_cli_usage("imago " CMD, "--key and IMAGE are required");
        for (k = 0; k < nkeys; k++)
                if ((r = imago_pubkey_load(keyf[k], &keys[k])) != IMAGO_OK)
                        return imago_cli_fail(CMD, keyf[k], r);
        kr.count = nkeys;
        if ((r = imago_file_read(file, IMG_MAX, &img, &len)) != IMAGO_OK) {
                imago_cli_fail(CMD, file, r);
                goto out;
        }
        imago_image_src_mem(&src, &mem, img, len);
        if ((r = imago_image_verify(&src, &kr, &info)) != IMAGO_OK) {
                imago_cli_fail(CMD, file, r);
                goto out;
        }
        imago_hex_encode(info.hash, sizeof(info.hash), hex);
        if (info.has_sec_cnt)
                snprintf(cnt, sizeof(cnt), "%lu", (unsigned long)info.sec_cnt);
        else
                snprintf(cnt, sizeof(cnt), "none");
        printf("OK %s: version %u.%u.%u+%lu, security counter %s, key %s (%s), hash %s\n", file,
               info.hdr.ver.major, info.hdr.ver.minor, info.hdr.ver.revision,
               (unsigned long)info.hdr.ver.build, cnt, imago_key_type_name(info.sig_type),
               keyf[info.key_index], hex);
        rc = IMAGO_CLI_OK;
out:
        imago_file_free(img, len);
        return rc;
}
