/* `imago image inspect IMAGE [--json]` */
#include "cli.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "image/image_dump.h"

#include <stdio.h>
#include <string.h>

#define CMD     "image inspect"
#define IMG_MAX (256U * 1024U * 1024U)

static const char usage[] =
    "usage: imago image inspect IMAGE [--json]\n"
    "\n"
    "Shows what IMAGE says about itself (header, TLVs, hash, signature type,\n"
    "key hash, trailer) without trusting it: signatures are not checked, use\n"
    "'imago image verify' for that.  Exit 1 when the layout is broken.\n";

/* A JSON string (file names may hold anything). */
static void json_str(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        putchar('"');
        for (; *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f)
                        printf("\\u%04x", *p);
                else
                        putchar(*p);
        }
        putchar('"');
}

static const char *sig_name(enum imago_key_type t)
{
        return t == IMAGO_KEY_NONE ? NULL : imago_key_type_name(t);
}

static void print_json(const char *file, const struct imago_image_dump *d)
{
        const struct imago_image_hdr *h = &d->hdr;
        char hex[2 * IMAGO_SHA256_LEN + 1];
        size_t i;

        printf("{\"file\":");
        json_str(file);
        printf(",\"status\":\"%s\",\"error\":", d->status ? imago_errname(d->status) : "IMAGO_OK");
        if (d->status)
                json_str(imago_strerror(d->status));
        else
                printf("null");
        if (d->has_hdr) {
                printf(",\"header\":{\"magic\":%lu,\"load_addr\":%lu,\"hdr_size\":%u,"
                       "\"protect_tlv_size\":%u,\"img_size\":%lu,\"flags\":%lu},",
                       (unsigned long)h->magic, (unsigned long)h->load_addr, h->hdr_size,
                       h->protect_tlv_size, (unsigned long)h->img_size, (unsigned long)h->flags);
                printf("\"version\":{\"major\":%u,\"minor\":%u,\"revision\":%u,\"build\":%lu,"
                       "\"string\":\"%u.%u.%u+%lu\"}",
                       h->ver.major, h->ver.minor, h->ver.revision, (unsigned long)h->ver.build,
                       h->ver.major, h->ver.minor, h->ver.revision, (unsigned long)h->ver.build);
        } else {
                printf(",\"header\":null,\"version\":null");
        }
        if (d->has_sec_cnt)
                printf(",\"security_counter\":%lu", (unsigned long)d->sec_cnt);
        else
                printf(",\"security_counter\":null");
        printf(",\"tlv_off\":%lu,\"end\":%lu,\"tlvs\":[", (unsigned long)d->tlv_off,
               (unsigned long)d->end);
        for (i = 0; i < d->ntlv; i++)
                printf("%s{\"type\":%u,\"name\":\"%s\",\"len\":%u,\"protected\":%s}", i ? "," : "",
                       d->tlv[i].type, imago_image_tlv_name(d->tlv[i].type), d->tlv[i].len,
                       d->tlv[i].prot ? "true" : "false");
        printf("],\"tlvs_truncated\":%s", d->tlv_more ? "true" : "false");
        imago_hex_encode(d->hash, sizeof(d->hash), hex);
        printf(",\"hash\":");
        if (d->has_hash)
                printf("\"%s\"", hex);
        else
                printf("null");
        imago_hex_encode(d->hash_tlv, sizeof(d->hash_tlv), hex);
        printf(",\"hash_tlv\":");
        if (d->has_hash_tlv)
                printf("\"%s\"", hex);
        else
                printf("null");
        printf(",\"hash_ok\":%s",
               d->has_hash && d->has_hash_tlv && memcmp(d->hash, d->hash_tlv, IMAGO_SHA256_LEN) == 0
                   ? "true"
                   : "false");
        printf(",\"signature\":");
        if (sig_name(d->sig_type))
                printf("\"%s\"", sig_name(d->sig_type));
        else
                printf("null");
        imago_hex_encode(d->keyhash, sizeof(d->keyhash), hex);
        printf(",\"keyhash\":");
        if (d->has_keyhash)
                printf("\"%s\"", hex);
        else
                printf("null");
        printf(",\"trailer\":{\"boot_magic\":%s,\"image_ok\":",
               d->trailer_magic ? "true" : "false");
        if (d->trailer_magic)
                printf("%d}", d->image_ok);
        else
                printf("null}");
        printf("}\n");
}

static void print_text(const char *file, const struct imago_image_dump *d)
{
        const struct imago_image_hdr *h = &d->hdr;
        char hex[2 * IMAGO_SHA256_LEN + 1];
        size_t i;

        printf("file:             %s\n", file);
        if (d->has_hdr) {
                printf("magic:            0x%08lx\n", (unsigned long)h->magic);
                printf("load address:     0x%08lx\n", (unsigned long)h->load_addr);
                printf("header size:      %u\n", h->hdr_size);
                printf("protected size:   %u\n", h->protect_tlv_size);
                printf("image size:       %lu\n", (unsigned long)h->img_size);
                printf("flags:            0x%08lx\n", (unsigned long)h->flags);
                printf("version:          %u.%u.%u+%lu\n", h->ver.major, h->ver.minor,
                       h->ver.revision, (unsigned long)h->ver.build);
        }
        if (d->has_sec_cnt)
                printf("security counter: %lu\n", (unsigned long)d->sec_cnt);
        else
                printf("security counter: none\n");
        if (d->end != 0)
                printf("TLV area:         %lu..%lu\n", (unsigned long)d->tlv_off,
                       (unsigned long)d->end);
        for (i = 0; i < d->ntlv; i++)
                printf("  TLV %-11s 0x%02x len %3u%s\n", imago_image_tlv_name(d->tlv[i].type),
                       d->tlv[i].type, d->tlv[i].len, d->tlv[i].prot ? " (protected)" : "");
        if (d->tlv_more)
                printf("  ... more TLVs not shown\n");
        if (d->has_hash) {
                imago_hex_encode(d->hash, sizeof(d->hash), hex);
                printf("hash:             %s (%s)\n", hex,
                       !d->has_hash_tlv                                      ? "no SHA256 TLV"
                       : memcmp(d->hash, d->hash_tlv, IMAGO_SHA256_LEN) == 0 ? "matches"
                                                                             : "MISMATCH");
        }
        printf("signature:        %s (not checked)\n",
               sig_name(d->sig_type) ? sig_name(d->sig_type) : "none");
        if (d->has_keyhash) {
                imago_hex_encode(d->keyhash, sizeof(d->keyhash), hex);
                printf("key hash:         %s\n", hex);
        }
        if (d->trailer_magic)
                printf("trailer:          boot magic present, image_ok 0x%02x\n", d->image_ok);
        else
                printf("trailer:          no boot magic\n");
        printf("layout:           %s\n", d->status ? imago_strerror(d->status) : "ok");
}

int imago_cli_image_inspect(int argc, char **argv)
{
        struct imago_image_dump d;
        const char *file = NULL;
        uint8_t *img = NULL;
        size_t len = 0;
        int i, json = 0, r;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--json") == 0) {
                        json = 1;
                        continue;
                }
                if (argv[i][0] == '-' && argv[i][1] != '\0')
                        return imago_cli_usage("imago " CMD, "unknown option '%s'", argv[i]);
                if (file != NULL)
                        return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                file = argv[i];
        }
        if (file == NULL)
                return imago_cli_usage("imago " CMD, "IMAGE is required");
        if ((r = imago_file_read(file, IMG_MAX, &img, &len)) != IMAGO_OK)
                return imago_cli_fail(CMD, file, r);
        r = imago_image_dump(img, len, &d);
        imago_file_free(img, len);
        if (r != IMAGO_OK)
                return imago_cli_fail(CMD, file, r);
        if (json)
                print_json(file, &d);
        else
                print_text(file, &d);
        return d.status ? IMAGO_CLI_FAIL : IMAGO_CLI_OK;
}
