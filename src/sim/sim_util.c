/* imago-sim helpers; see sim.h. */
#define _POSIX_C_SOURCE 200809L
#include "sim.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_passphrase(const char *file, char **out)
{
        uint8_t *data = NULL;
        size_t len = 0, n;
        const char *env;
        int r;

        *out = NULL;
        if (file == NULL) {
                if ((env = getenv("IMAGO_KEY_PASSPHRASE")) == NULL || env[0] == '\0')
                        return IMAGO_EKEY_PASSPHRASE;
                return (*out = strdup(env)) != NULL ? IMAGO_OK : IMAGO_ENOMEM;
        }
        if ((r = imago_file_read(file, 1024, &data, &len)) != IMAGO_OK)
                return r;
        for (n = 0; n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0'; n++)
                ;
        r = IMAGO_EKEY_PASSPHRASE;
        if (n > 0 && (*out = malloc(n + 1)) != NULL) {
                memcpy(*out, data, n);
                (*out)[n] = '\0';
                r = IMAGO_OK;
        }
        imago_wipe(data, len);
        free(data);
        return r;
}

void sim_secret_free(char *p)
{
        if (p == NULL)
                return;
        imago_wipe(p, strlen(p));
        free(p);
}

uint64_t sim_rss_kib(void)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        unsigned long long v = 0;

        if (f == NULL)
                return 0;
        while (fgets(line, sizeof(line), f) != NULL)
                if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
                        break;
        fclose(f);
        return v;
}

int sim_dev_path(const char *dir, uint32_t n, const char *suffix, char *buf, size_t size)
{
        int w = snprintf(buf, size, "%s/devices/%u%s", dir, n, suffix);

        return w < 0 || (size_t)w >= size ? IMAGO_ETOOBIG : IMAGO_OK;
}
