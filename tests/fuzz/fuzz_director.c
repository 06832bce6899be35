/*
 * libFuzzer target: what a device can send the director.  The first byte picks the mode:
 * 0 = the rest is a block object name (untrusted: from blk/req), asked with
 * imago_director_object(); only the five forms may answer, and only with bytes of the
 * director's own metadata; 1 = the rest is a version report for imago_director_report()
 * (nothing unsigned by the device key can be accepted).  The director lives in a temporary
 * data directory made once (keys created with a fixed passphrase).
 */
#define _XOPEN_SOURCE 700
#include "cloud/director/director.h"

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_director *fz_d;
static struct imago_privkey fz_dev;
static struct imago_pubkey fz_pub;
static int64_t fz_now = 1800000000;

static char fz_dir[] = "/tmp/imago-fuzz-director-XXXXXX";

static int fz_rm(const char *p, const struct stat *st, int flag, struct FTW *w)
{
        (void)st;
        (void)flag;
        (void)w;
        return remove(p);
}

static void fz_cleanup(void)
{
        imago_director_close(fz_d);
        (void)nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fz_init(void)
{
        const char *dir = fz_dir;

        if (mkdtemp(fz_dir) == NULL || atexit(fz_cleanup) != 0 ||
            imago_director_keys_create(dir, "fuzz") != 0 ||
            imago_director_open(dir, "fuzz", &fz_d) != 0 ||
            imago_privkey_generate(IMAGO_KEY_P256, &fz_dev) != 0 ||
            imago_privkey_public(&fz_dev, &fz_pub) != 0)
                __builtin_trap();
}

/* 1 if name is one of the forms the director may answer. */
static int allowed(const char *name)
{
        const char *dot = strchr(name, '.');
        size_t i, k = dot != NULL ? (size_t)(dot - name) : 0;

        if (strcmp(name, "root.json") == 0 || strcmp(name, "timestamp.json") == 0)
                return 1;
        if (k == 0 || name[0] == '0')
                return 0;
        for (i = 0; i < k; i++)
                if (name[i] < '0' || name[i] > '9')
                        return 0;
        return strcmp(dot, ".root.json") == 0 || strcmp(dot, ".snapshot.json") == 0 ||
               strcmp(dot, ".targets.json") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_vreport r;
        uint8_t *buf = NULL;
        size_t len = 0;
        char name[256];
        int dup = 0;

        if (fz_d == NULL)
                fz_init();
        if (size < 1)
                return 0;
        if (data[0] % 2 == 0) {
                if (size - 1 >= sizeof(name))
                        return 0;
                memcpy(name, data + 1, size - 1);
                name[size - 1] = '\0';
                if (imago_director_object(fz_d, ID, name, fz_now, &buf, &len) == 0) {
                        if (!allowed(name) || buf == NULL || len == 0 || buf[0] != '{')
                                __builtin_trap();
                        free(buf);
                } else if (buf != NULL) {
                        __builtin_trap();
                }
        } else if (imago_director_report(fz_d, ID, data + 1, size - 1, &fz_pub, fz_now, &r, &dup) ==
                   0) {
                __builtin_trap(); /* nothing unsigned by fz_dev can be accepted */
        }
        return 0;
}
