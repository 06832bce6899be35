/*
 * Test helper shared by test_p11*.c and test_store*.c: a throw-away SoftHSM2
 * token directory.  tok_env_init() makes a temporary directory with its own
 * softhsm2.conf and exports SOFTHSM2_CONF; tok_add() initializes one token in
 * it with softhsm2-util; tok_env_free() removes everything.  Every
 * imago_p11 context must be closed before tok_env_free() (SoftHSM2 reads its
 * configuration in C_Initialize).
 */
#ifndef IMAGO_TEST_P11_UTIL_H
#define IMAGO_TEST_P11_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOK_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct tok_env {
        char dir[128];
        char tokdir[160];
        char conf[160];
};

static inline int tok_env_init(struct tok_env *e)
{
        FILE *f;

        snprintf(e->dir, sizeof(e->dir), "/tmp/imago-tok-XXXXXX");
        if (mkdtemp(e->dir) == NULL)
                return -1;
        snprintf(e->tokdir, sizeof(e->tokdir), "%s/tokens", e->dir);
        snprintf(e->conf, sizeof(e->conf), "%s/softhsm2.conf", e->dir);
        if (mkdir(e->tokdir, 0700) != 0)
                return -1;
        f = fopen(e->conf, "w");
        if (f == NULL)
                return -1;
        fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
                e->tokdir);
        fclose(f);
        return setenv("SOFTHSM2_CONF", e->conf, 1);
}

static inline int tok_add(const struct tok_env *e, const char *label, const char *pin)
{
        char cmd[512];

        (void)e;
        snprintf(cmd, sizeof(cmd),
                 "softhsm2-util --init-token --free --label '%s' --pin '%s' --so-pin 87654321 "
                 ">/dev/null 2>&1",
                 label, pin);
        return system(cmd) == 0 ? 0 : -1;
}

static inline void tok_env_free(struct tok_env *e)
{
        char cmd[256];

        if (e->dir[0] == 0)
                return;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", e->dir);
        e->dir[0] = 0;
}

/* "pkcs11:token=<label>?pin-value=<pin>" */
static inline void tok_uri(char *out, size_t cap, const char *label, const char *pin)
{
        snprintf(out, cap, "pkcs11:token=%s?pin-value=%s", label, pin);
}

#endif
