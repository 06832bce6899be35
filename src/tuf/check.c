/* See tuf.h: expiry times, file length and hash checks, delegation path matching. */
#include "tuf/tuf_priv.h"

#include "base/err.h"
#include "base/hex.h"

#include <openssl/evp.h>

#include <fnmatch.h>
#include <string.h>

static int digits(const char *s, size_t n, int *out)
{
        size_t i;
        int v = 0;

        for (i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

int imago_tuf_time_parse(const char *s, int64_t *out)
{
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y, mo, d, h, mi, se, dim;

        if (s == NULL || out == NULL)
                return IMAGO_EINVAL;
        if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z')
                return IMAGO_ETUF_FORMAT;
        if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
            digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
                return IMAGO_ETUF_FORMAT;
        if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
                return IMAGO_ETUF_FORMAT;
        dim = mdays[mo - 1];
        if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                dim = 29;
        if (d < 1 || d > dim)
                return IMAGO_ETUF_FORMAT;
        *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
        return IMAGO_OK;
}

void imago_tuf_filecheck_abort(struct imago_tuf_filecheck *c)
{
        size_t i;

        if (c == NULL)
                return;
        for (i = 0; i < IMAGO_TUF_HASHES_MAX; i++)
                EVP_MD_CTX_free(c->md[i]);
        memset(c, 0, sizeof(*c));
}

static int check_init(struct imago_tuf_filecheck *c, const struct imago_tuf_hashes *h,
                      uint64_t length)
{
        size_t i;
        int r;

        memset(c, 0, sizeof(*c));
        c->length = length;
        c->hashes = h;
        for (i = 0; i < h->n; i++) {
                const EVP_MD *md = tuf_md_by_name(h->h[i].alg);

                if (md == NULL) {
                        c->bad = 1; /* unsupported algorithm: never verifies */
                        continue;
                }
                if ((c->md[i] = EVP_MD_CTX_new()) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                if (EVP_DigestInit_ex(c->md[i], md, NULL) != 1) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
        }
        c->n = h->n;
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                imago_tuf_filecheck_abort(c);
        return r;
}

int imago_tuf_filecheck_init(struct imago_tuf_filecheck *c, const struct imago_tuf_target *t)
{
        if (c == NULL || t == NULL)
                return IMAGO_EINVAL;
        return check_init(c, &t->hashes, t->length);
}

int imago_tuf_filecheck_update(struct imago_tuf_filecheck *c, const uint8_t *buf, size_t len)
{
        size_t i;

        if (c == NULL || (buf == NULL && len > 0))
                return IMAGO_EINVAL;
        if (len > c->length - c->seen)
                return IMAGO_ETUF_LENGTH; /* more than the metadata allows: endless data */
        c->seen += len;
        for (i = 0; i < c->n; i++) {
                if (c->md[i] != NULL && EVP_DigestUpdate(c->md[i], buf, len) != 1)
                        return IMAGO_ECRYPTO;
        }
        return IMAGO_OK;
}

int imago_tuf_filecheck_final(struct imago_tuf_filecheck *c)
{
        uint8_t d[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        unsigned dl;
        size_t i;
        int r;

        if (c == NULL)
                return IMAGO_EINVAL;
        if (c->seen != c->length) {
                r = IMAGO_ETUF_LENGTH;
                goto out;
        }
        if (c->bad || c->n == 0) {
                r = IMAGO_ETUF_HASH;
                goto out;
        }
        for (i = 0; i < c->n; i++) {
                if (EVP_DigestFinal_ex(c->md[i], d, &dl) != 1) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                imago_hex_encode(d, dl, hex);
                if (strcmp(hex, c->hashes->h[i].hex) != 0) {
                        r = IMAGO_ETUF_HASH;
                        goto out;
                }
        }
        r = IMAGO_OK;
out:
        imago_tuf_filecheck_abort(c);
        return r;
}

int imago_tuf_check_file(const uint8_t *buf, size_t len, int has_length, uint64_t length,
                         const struct imago_tuf_hashes *hashes)
{
        struct imago_tuf_filecheck c;
        int r;

        if ((buf == NULL && len > 0) || hashes == NULL)
                return IMAGO_EINVAL;
        if (has_length && (uint64_t)len != length)
                return IMAGO_ETUF_LENGTH;
        if (hashes->n == 0)
                return IMAGO_OK;
        if ((r = check_init(&c, hashes, (uint64_t)len)) != IMAGO_OK)
                return r;
        if ((r = imago_tuf_filecheck_update(&c, buf, len)) != IMAGO_OK) {
                imago_tuf_filecheck_abort(&c);
                return r;
        }
        return imago_tuf_filecheck_final(&c);
}

/* Python's _is_target_in_pathpattern: same number of '/' parts, each part fnmatch'd. */
static int path_matches(const char *pattern, const char *path)
{
        char pp[IMAGO_TUF_PATH_PART_MAX + 1], tp[IMAGO_TUF_PATH_PART_MAX + 1];

        for (;;) {
                size_t pl = strcspn(pattern, "/"), tl = strcspn(path, "/");

                if (pl > IMAGO_TUF_PATH_PART_MAX || tl > IMAGO_TUF_PATH_PART_MAX)
                        return 0;
                memcpy(pp, pattern, pl);
                pp[pl] = '\0';
                memcpy(tp, path, tl);
                tp[tl] = '\0';
                if (fnmatch(pp, tp, FNM_NOESCAPE) != 0)
                        return 0;
                if ((pattern[pl] == '\0') != (path[tl] == '\0'))
                        return 0;
                if (pattern[pl] == '\0')
                        return 1;
                pattern += pl + 1;
                path += tl + 1;
        }
}

int imago_tuf_delegation_matches(const struct imago_tuf_delegation *d, const char *path)
{
        uint8_t h[IMAGO_SHA256_LEN];
        char hex[2 * IMAGO_SHA256_LEN + 1];
        size_t i;

        if (d == NULL || path == NULL)
                return 0;
        if (d->has_paths) {
                for (i = 0; i < d->n_paths; i++) {
                        if (path_matches(d->paths[i], path))
                                return 1;
                }
                return 0;
        }
        if (imago_sha256(path, strlen(path), h) != IMAGO_OK)
                return 0;
        imago_hex_encode(h, sizeof(h), hex);
        for (i = 0; i < d->n_prefixes; i++) {
                if (strncmp(hex, d->prefixes[i], strlen(d->prefixes[i])) == 0)
                        return 1;
        }
        return 0;
}
