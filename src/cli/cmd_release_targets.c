/*
 * `imago release targets new|add`: targets metadata and its entries
 * (length, sha256 + sha512, custom: hardware_id, version, security_counter,
 * base_sha256); see cmd_release.h and docs/release.md.
 */
#include "cmd_release.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "cli.h"

#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CMD_NEW "release targets new"
#define CMD_ADD "release targets add"

#define FIELD_MAX 128U /* hardware id, version string */

static const char usage_new[] =
    "usage: imago release targets new --out TARGETS.json --version N --expires DAYS [--force]\n"
    "\n"
    "Writes unsigned targets metadata with no targets: {\"signed\": ..., \"signatures\": []}.\n"
    "N must be higher than the version of the targets metadata now published.\n"
    "OUT is never replaced unless --force.\n";

static const char usage_add[] =
    "usage: imago release targets add --in TARGETS.json --out NEW.json --name NAME --file PATH\n"
    "           [--hardware-id ID] [--version V] [--security-counter N] [--base-sha256 HEX]\n"
    "           [--delta-of FULL --base-sha256 HEX] [--force]\n"
    "\n"
    "Adds the target NAME (its path in the repository) with the length, SHA-256\n"
    "and SHA-512 of PATH, and in \"custom\": hardware_id, version (the image\n"
    "version, e.g. 1.2.0), security_counter, and for a delta base_sha256 (the\n"
    "SHA-256 of the image it applies to).  Signatures of IN are dropped: the\n"
    "signed part changed.  NAME must not be listed already.  OUT is never\n"
    "replaced unless --force.\n"
    "\n"
    "--delta-of FULL: PATH is a delta producing the full target FULL, already\n"
    "listed in IN (and not a delta itself): custom gets target_sha256 and\n"
    "target_length from FULL, and hardware_id, version and security_counter\n"
    "from FULL unless given (given, they must be the same); --base-sha256 is\n"
    "required.  The name convention FULL.from-<first 16 hex of the base\n"
    "SHA-256>.zst is what devices look for: another NAME gets a warning.\n";

/* A TUF target path as imago writes them: relative, '/'-separated, no empty, "." or ".." part,
 * printable ASCII without '\\'. */
static int name_ok(const char *n)
{
        const char *p, *part = n;
        size_t len = strlen(n);

        if (len == 0 || len > IMAGO_REL_NAME_MAX)
                return 0;
        for (p = n;; p++) {
                if (*p == '/' || *p == '\0') {
                        size_t pl = (size_t)(p - part);

                        if (pl == 0 || (pl == 1 && part[0] == '.') ||
                            (pl == 2 && part[0] == '.' && part[1] == '.'))
                                return 0;
                        if (*p == '\0')
                                return 1;
                        part = p + 1;
                        continue;
                }
                if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
                        return 0;
        }
}

/* Printable ASCII, no space, 1..FIELD_MAX characters. */
static int field_ok(const char *v)
{
        size_t n = strlen(v), i;

        if (n == 0 || n > FIELD_MAX)
                return 0;
        for (i = 0; i < n; i++)
                if (v[i] <= 0x20 || v[i] >= 0x7f)
                        return 0;
        return 1;
}

int imago_cli_release_targets_new(int argc, char **argv)
{
        const char *out = NULL, *ver_s = NULL, *exp_s = NULL;
        json_t *meta = NULL, *s;
        int i, m, force = 0, rc = IMAGO_CLI_FAIL;
        uint32_t version = 0, days = 0;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage_new, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD_NEW, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_NEW, "--version", &ver_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_NEW, "--expires", &exp_s))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD_NEW, "unexpected argument '%s'", argv[i]);
        }
        if (out == NULL || ver_s == NULL || exp_s == NULL)
                return imago_cli_usage("imago " CMD_NEW,
                                       "--out, --version and --expires are required");
        if (imago_parse_u32(ver_s, INT32_MAX, &version) != IMAGO_OK || version == 0)
                return imago_cli_usage("imago " CMD_NEW, "--version must be 1 to %d", INT32_MAX);
        if (imago_rel_parse_days("imago " CMD_NEW, exp_s, &days) != IMAGO_OK)
                return IMAGO_CLI_USAGE;
        meta =
            json_pack("{s:{s:s,s:s,s:I,s:{}},s:[]}", "signed", "_type", "targets", "spec_version",
                      IMAGO_REL_SPEC, "version", (json_int_t)version, "targets", "signatures");
        if (meta == NULL || (s = json_object_get(meta, "signed")) == NULL ||
            imago_rel_set_expires(s, days) != IMAGO_OK) {
                imago_cli_fail(CMD_NEW, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (imago_rel_write(CMD_NEW, out, meta, force) != IMAGO_OK)
                goto out;
        printf("%s: targets version %u, expires %s, no targets, unsigned\n", out, version,
               json_string_value(json_object_get(s, "expires")));
        rc = IMAGO_CLI_OK;
out:
        json_decref(meta);
        return rc;
}

/* Length, SHA-256 and SHA-512 (lowercase hex) of a file, in one pass. */
static int hash_file(const char *path, uint64_t *length, char sha256[65], char sha512[129])
{
        EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c512 = EVP_MD_CTX_new();
        unsigned char buf[65536], d[64];
        unsigned int dl = 0;
        FILE *f = NULL;
        size_t n;
        int r = IMAGO_ECRYPTO;

        *length = 0;
        if (c256 == NULL || c512 == NULL || EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1 ||
            EVP_DigestInit_ex(c512, EVP_sha512(), NULL) != 1)
                goto out;
        if ((f = fopen(path, "rb")) == NULL) {
                r = errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
                goto out;
        }
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
                if (EVP_DigestUpdate(c256, buf, n) != 1 || EVP_DigestUpdate(c512, buf, n) != 1)
                        goto out;
                *length += n;
        }
        if (ferror(f)) {
                r = IMAGO_EIO;
                goto out;
        }
        if (EVP_DigestFinal_ex(c256, d, &dl) != 1 || dl != 32)
                goto out;
        imago_hex_encode(d, 32, sha256);
        if (EVP_DigestFinal_ex(c512, d, &dl) != 1 || dl != 64)
                goto out;
        imago_hex_encode(d, 64, sha512);
        r = IMAGO_OK;
out:
        if (f != NULL)
                fclose(f);
        EVP_MD_CTX_free(c256);
        EVP_MD_CTX_free(c512);
        return r;
}

/* custom of a delta of full (listed in targets): target_sha256, target_length, and the full
 * target's hardware_id, version, security_counter (which custom may hold already: equal). */
static int delta_custom(const char *in, json_t *targets, const char *full, json_t *custom)
{
        static const char *const same[] = {"hardware_id", "version", "security_counter"};
        json_t *f = json_object_get(targets, full), *fc, *len;
        const char *sha;
        size_t k;

        if (!json_is_object(f)) {
                imago_rel_fail(CMD_ADD, in, IMAGO_ENOTFOUND,
                               "--delta-of '%s': no such target in this targets file", full);
                return IMAGO_ENOTFOUND;
        }
        fc = json_object_get(f, "custom");
        if (json_object_get(fc, "base_sha256") != NULL) {
                imago_rel_fail(CMD_ADD, in, IMAGO_EINVAL,
                               "--delta-of '%s': that target is itself a delta", full);
                return IMAGO_EINVAL;
        }
        sha = json_string_value(json_object_get(json_object_get(f, "hashes"), "sha256"));
        len = json_object_get(f, "length");
        if (sha == NULL || !imago_hex_is_lower(sha, 64, 64) || !json_is_integer(len) ||
            json_integer_value(len) <= 0) {
                imago_rel_fail(CMD_ADD, in, IMAGO_ETUF_FORMAT,
                               "--delta-of '%s': no sha256 or length in its entry", full);
                return IMAGO_ETUF_FORMAT;
        }
        for (k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
                json_t *fv = json_object_get(fc, same[k]), *v = json_object_get(custom, same[k]);

                if (v != NULL && (fv == NULL || !json_equal(v, fv))) {
                        imago_rel_fail(CMD_ADD, in, IMAGO_EINVAL,
                                       "--delta-of '%s': its %s differs from the one given", full,
                                       same[k]);
                        return IMAGO_EINVAL;
                }
                if (v == NULL && fv != NULL && json_object_set(custom, same[k], fv) != 0)
                        return IMAGO_ENOMEM;
        }
        if (json_object_set_new(custom, "target_sha256", json_string(sha)) != 0 ||
            json_object_set_new(custom, "target_length", json_integer(json_integer_value(len))) !=
                0)
                return IMAGO_ENOMEM;
        return IMAGO_OK;
}

/* Warn (stderr) when name is not "<full>.from-<first 16 hex of base>.zst". */
static void delta_name_check(const char *name, const char *full, const char *base)
{
        char want[IMAGO_REL_NAME_MAX + 32];
        int n = snprintf(want, sizeof(want), "%s.from-%.16s.zst", full, base);

        if (n < 0 || (size_t)n >= sizeof(want) || strcmp(name, want) != 0)
                fprintf(stderr,
                        "imago: " CMD_ADD ": warning: delta '%s' does not follow the name "
                        "convention '%s': devices will not find it\n",
                        name, want);
}

int imago_cli_release_targets_add(int argc, char **argv)
{
        const char *in = NULL, *out = NULL, *name = NULL, *file = NULL, *hwid = NULL, *ver = NULL,
                   *sc_s = NULL, *base = NULL, *delta_of = NULL;
        json_t *meta = NULL, *targets, *custom = NULL, *entry = NULL;
        char sha256[65], sha512[129];
        int i, m, force = 0, r, rc = IMAGO_CLI_FAIL;
        uint64_t length = 0;
        uint32_t sc = 0;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage_add, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--in", &in)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--name", &name)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--file", &file)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--hardware-id", &hwid)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--version", &ver)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--security-counter",
                                       &sc_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--base-sha256", &base)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD_ADD, "--delta-of",
                                       &delta_of))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD_ADD, "unexpected argument '%s'", argv[i]);
        }
        if (in == NULL || out == NULL || name == NULL || file == NULL)
                return imago_cli_usage("imago " CMD_ADD,
                                       "--in, --out, --name and --file are required");
        if (!name_ok(name))
                return imago_cli_usage("imago " CMD_ADD,
                                       "--name '%s': a relative path of printable characters, no "
                                       "empty, '.' or '..' part",
                                       name);
        if ((hwid != NULL && !field_ok(hwid)) || (ver != NULL && !field_ok(ver)))
                return imago_cli_usage("imago " CMD_ADD,
                                       "--hardware-id and --version: 1 to %u printable "
                                       "characters, no space",
                                       FIELD_MAX);
        if (sc_s != NULL && imago_parse_u32(sc_s, UINT32_MAX, &sc) != IMAGO_OK)
                return imago_cli_usage("imago " CMD_ADD, "--security-counter must be 0 to %u",
                                       UINT32_MAX);
        if (base != NULL && !imago_hex_is_lower(base, 64, 64))
                return imago_cli_usage("imago " CMD_ADD,
                                       "--base-sha256 must be 64 lowercase hex digits");
        if (delta_of != NULL && base == NULL)
                return imago_cli_usage("imago " CMD_ADD, "--delta-of needs --base-sha256");
        if (delta_of != NULL && strcmp(delta_of, name) == 0)
                return imago_cli_usage("imago " CMD_ADD, "--delta-of names the target itself");
        if (imago_rel_load(CMD_ADD, in, &meta) != IMAGO_OK)
                goto out;
        if (strcmp(imago_rel_type(meta), "targets") != 0) {
                imago_rel_fail(CMD_ADD, in, IMAGO_ETUF_FORMAT, "not targets metadata");
                goto out;
        }
        targets = json_object_get(json_object_get(meta, "signed"), "targets");
        if (json_object_get(targets, name) != NULL) {
                imago_rel_fail(CMD_ADD, in, IMAGO_EEXIST, "target '%s' is listed already", name);
                goto out;
        }
        if ((r = hash_file(file, &length, sha256, sha512)) != IMAGO_OK) {
                imago_cli_fail(CMD_ADD, file, r);
                goto out;
        }
        if (length == 0 || length > (uint64_t)INT64_MAX) {
                imago_rel_fail(CMD_ADD, file, IMAGO_EINVAL, "an empty file is not a target");
                goto out;
        }
        if ((custom = json_object()) == NULL ||
            (hwid != NULL && json_object_set_new(custom, "hardware_id", json_string(hwid)) != 0) ||
            (ver != NULL && json_object_set_new(custom, "version", json_string(ver)) != 0) ||
            (sc_s != NULL &&
             json_object_set_new(custom, "security_counter", json_integer(sc)) != 0) ||
            (base != NULL && json_object_set_new(custom, "base_sha256", json_string(base)) != 0)) {
                imago_cli_fail(CMD_ADD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (delta_of != NULL) {
                if ((r = delta_custom(in, targets, delta_of, custom)) != IMAGO_OK) {
                        if (r == IMAGO_ENOMEM)
                                imago_cli_fail(CMD_ADD, NULL, r);
                        goto out;
                }
                delta_name_check(name, delta_of, base);
        }
        entry = json_pack("{s:I,s:{s:s,s:s}}", "length", (json_int_t)length, "hashes", "sha256",
                          sha256, "sha512", sha512);
        if (entry == NULL ||
            (json_object_size(custom) > 0 && json_object_set(entry, "custom", custom) != 0) ||
            json_object_set(targets, name, entry) != 0 ||
            json_array_clear(json_object_get(meta, "signatures")) != 0) {
                imago_cli_fail(CMD_ADD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (imago_rel_write(CMD_ADD, out, meta, force) != IMAGO_OK)
                goto out;
        printf("%s: targets version %lld, %zu targets, unsigned\n", out,
               (long long)json_integer_value(
                   json_object_get(json_object_get(meta, "signed"), "version")),
               json_object_size(targets));
        printf("  + %s length %llu sha256 %s\n", name, (unsigned long long)length, sha256);
        rc = IMAGO_CLI_OK;
out:
        json_decref(entry);
        json_decref(custom);
        json_decref(meta);
        return rc;
}
