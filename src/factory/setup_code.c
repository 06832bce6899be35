/* See setup_code.h. */
#include "setup_code.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/wipe.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SCRYPT_N   16384U
#define SCRYPT_R   8U
#define SCRYPT_P   1U
#define SALT_LEN   16U
#define HASH_LEN   32U
#define CODE_CHARS 10U

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int imago_setup_code_format(const uint8_t raw[7], char out[IMAGO_SETUP_CODE_LEN + 1])
{
        uint64_t v = 0;
        size_t o = 0;

        if (raw == NULL || out == NULL)
                return IMAGO_EINVAL;
        for (int i = 0; i < 7; i++)
                v = v << 8 | raw[i];
        v &= ((uint64_t)1 << IMAGO_SETUP_CODE_BITS) - 1;
        for (int i = (int)CODE_CHARS - 1; i >= 0; i--) {
                out[o++] = alphabet[(v >> (5 * i)) & 31];
                if (i == 5)
                        out[o++] = '-';
        }
        out[o] = '\0';
        return IMAGO_OK;
}

/* Canonical 10 characters of a code as typed by a person. */
static int canonical(const char *code, char out[CODE_CHARS + 1])
{
        size_t n = 0;

        for (const char *p = code; *p != '\0'; p++) {
                char c = *p;

                if (c == '-' || c == ' ')
                        continue;
                if (c >= 'a' && c <= 'z')
                        c = (char)(c - 'a' + 'A');
                if (c == 'I' || c == 'L')
                        c = '1';
                if (c == 'O')
                        c = '0';
                if (strchr(alphabet, c) == NULL || c == '\0' || n == CODE_CHARS)
                        return IMAGO_EINVAL;
                out[n++] = c;
        }
        if (n != CODE_CHARS)
                return IMAGO_EINVAL;
        out[n] = '\0';
        return IMAGO_OK;
}

static int derive(const char canon[CODE_CHARS + 1], const uint8_t *salt, uint64_t n, uint64_t r,
                  uint64_t p, uint8_t out[HASH_LEN])
{
        if (EVP_PBE_scrypt(canon, CODE_CHARS, salt, SALT_LEN, n, r, p, 64U * 1024 * 1024, out,
                           HASH_LEN) != 1)
                return IMAGO_ECRYPTO;
        return IMAGO_OK;
}

int imago_setup_code_hash(const char *code, char out[IMAGO_SETUP_HASH_MAX + 1])
{
        char canon[CODE_CHARS + 1], salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
        uint8_t salt[SALT_LEN], h[HASH_LEN];
        int r, n;

        if (code == NULL || out == NULL)
                return IMAGO_EINVAL;
        if ((r = canonical(code, canon)) != IMAGO_OK)
                return r;
        if (RAND_bytes(salt, sizeof(salt)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((r = derive(canon, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, h)) != IMAGO_OK)
                goto out;
        imago_hex_encode(salt, sizeof(salt), salt_hex);
        imago_hex_encode(h, sizeof(h), hash_hex);
        n = snprintf(out, IMAGO_SETUP_HASH_MAX + 1, "scrypt$%u$%u$%u$%s$%s", SCRYPT_N, SCRYPT_R,
                     SCRYPT_P, salt_hex, hash_hex);
        r = n > 0 && n <= (int)IMAGO_SETUP_HASH_MAX ? IMAGO_OK : IMAGO_ETOOBIG;
out:
        imago_wipe(canon, sizeof(canon));
        imago_wipe(h, sizeof(h));
        return r;
}

int imago_setup_code_check(const char *code, const char *stored)
{
        char canon[CODE_CHARS + 1], copy[IMAGO_SETUP_HASH_MAX + 1];
        char *field[6];
        uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
        uint32_t n, rr, p;
        size_t len, k = 0;
        int r;

        if (code == NULL || stored == NULL)
                return IMAGO_EINVAL;
        len = strlen(stored);
        if (len > IMAGO_SETUP_HASH_MAX)
                return IMAGO_EMALFORMED;
        memcpy(copy, stored, len + 1);
        field[k++] = copy;
        for (size_t i = 0; i < len && k <= 6; i++) {
                if (copy[i] == '$') {
                        copy[i] = '\0';
                        if (k == 6)
                                return IMAGO_EMALFORMED;
                        field[k++] = &copy[i + 1];
                }
        }
        if (k != 6 || strcmp(field[0], "scrypt") != 0)
                return IMAGO_EMALFORMED;
        /* Parameters are bounded so a forged hash cannot make a check take minutes. */
        if (imago_parse_u32(field[1], 1U << 20, &n) != IMAGO_OK ||
            imago_parse_u32(field[2], 32, &rr) != IMAGO_OK ||
            imago_parse_u32(field[3], 16, &p) != IMAGO_OK || n < 2 || (n & (n - 1)) != 0 ||
            rr == 0 || p == 0)
                return IMAGO_EMALFORMED;
        if (imago_hex_decode(field[4], salt, SALT_LEN) != IMAGO_OK ||
            imago_hex_decode(field[5], want, HASH_LEN) != IMAGO_OK)
                return IMAGO_EMALFORMED;
        if ((r = canonical(code, canon)) != IMAGO_OK)
                return IMAGO_EPERM;
        r = derive(canon, salt, n, rr, p, got);
        if (r == IMAGO_OK)
                r = CRYPTO_memcmp(got, want, HASH_LEN) == 0 ? IMAGO_OK : IMAGO_EPERM;
        imago_wipe(canon, sizeof(canon));
        imago_wipe(got, sizeof(got));
        return r;
}
