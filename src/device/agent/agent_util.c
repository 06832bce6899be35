/* imago_agent helpers: store records as text and numbers, PEM, files, clock (see agent.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/agent/agent_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "base/wipe.h"
#include "device/store/store.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static int der_to_pem(const uint8_t *der, size_t len, char **out)
{
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        BIO *b = NULL;
        char *data;
        long n;
        int r = IMAGO_EMALFORMED;

        if (x == NULL || p != der + len)
                goto out;
        r = IMAGO_ENOMEM;
        if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1 ||
            (n = BIO_get_mem_data(b, &data)) <= 0 || (*out = malloc((size_t)n + 1)) == NULL)
                goto out;
        memcpy(*out, data, (size_t)n);
        (*out)[n] = '\0';
        r = IMAGO_OK;
out:
        ERR_clear_error();
        BIO_free(b);
        X509_free(x);
        return r;
}

int imago_agent_get_str(struct imago_store *s, const char *name, char **out, size_t *len)
{
        uint8_t *buf;
        size_t n = 0;
        int r;

        *out = NULL;
        if ((buf = malloc(IMAGO_STORE_VALUE_MAX + 1)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_store_get(s, name, NULL, buf, IMAGO_STORE_VALUE_MAX, &n);
        if (r == IMAGO_OK && memchr(buf, '\0', n) != NULL)
                r = IMAGO_EMALFORMED;
        if (r != IMAGO_OK) {
                imago_wipe(buf, IMAGO_STORE_VALUE_MAX + 1);
                free(buf);
                return r == IMAGO_ENOTFOUND ? IMAGO_OK : r;
        }
        buf[n] = '\0';
        *out = (char *)buf;
        if (len != NULL)
                *len = n;
        return IMAGO_OK;
}

void imago_agent_free_secret(char *s)
{
        if (s != NULL) {
                imago_wipe(s, strlen(s));
                free(s);
        }
}

/* A certificate record (PEM, or DER converted to PEM) as a string, or NULL if absent. */
int imago_agent_get_pem(struct imago_store *s, const char *name, char **out)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if ((buf = malloc(IMAGO_STORE_VALUE_MAX + 1)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_store_get(s, name, NULL, buf, IMAGO_STORE_VALUE_MAX, &len);
        if (r != IMAGO_OK) {
                free(buf);
                return r == IMAGO_ENOTFOUND ? IMAGO_OK : r;
        }
        buf[len] = '\0';
        if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0 && strlen((char *)buf) == len) {
                *out = (char *)buf;
                return IMAGO_OK;
        }
        /* The factory stores the birth certificate as DER: convert it to PEM. */
        r = der_to_pem(buf, len, out);
        free(buf);
        return r;
}

int imago_agent_read_text(const char *path, size_t max, char **out)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if ((r = imago_file_read(path, max, &data, &len)) != IMAGO_OK)
                return r;
        if ((*out = malloc(len + 1)) == NULL) {
                imago_file_free(data, len);
                return IMAGO_ENOMEM;
        }
        memcpy(*out, data, len);
        (*out)[len] = '\0';
        imago_file_free(data, len);
        return IMAGO_OK;
}

int imago_agent_read_pin(const char *path, char pin[AGENT_PIN_MAX])
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_file_read(path, AGENT_PIN_MAX - 1, &data, &len)) != IMAGO_OK)
                return r;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        memcpy(pin, data, len);
        pin[len] = '\0';
        imago_file_free(data, len);
        return len > 0 ? IMAGO_OK : IMAGO_EINVAL;
}

int imago_agent_get_u64(struct imago_store *s, const char *name, uint64_t *v)
{
        char buf[24];
        size_t len = 0;
        int r;

        *v = 0;
        r = imago_store_get(s, name, NULL, (uint8_t *)buf, sizeof(buf) - 1, &len);
        if (r == IMAGO_ENOTFOUND)
                return IMAGO_OK;
        if (r == IMAGO_ETOOBIG)
                return IMAGO_EMALFORMED;
        if (r != IMAGO_OK)
                return r;
        buf[len] = '\0';
        if (memchr(buf, '\0', len) != NULL || imago_parse_u64(buf, UINT64_MAX, v) != IMAGO_OK)
                return IMAGO_EMALFORMED;
        return IMAGO_OK;
}

int imago_agent_put_u64(struct imago_store *s, const char *name, uint64_t v)
{
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

        if (n <= 0 || (size_t)n >= sizeof(buf))
                return IMAGO_EINVAL;
        return imago_store_put(s, name, IMAGO_STORE_CONFIG, (const uint8_t *)buf, (size_t)n);
}

uint64_t imago_agent_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static void *wiping_malloc(size_t n)
{
        return malloc(n);
}

/* Plain malloc memory, so callers that free jansson's strings with free() stay correct. */
static void wiping_free(void *p)
{
        if (p != NULL) {
                imago_wipe(p, malloc_usable_size(p));
                free(p);
        }
}

void imago_agent_json_wiping(void)
{
        json_set_alloc_funcs(wiping_malloc, wiping_free);
}
