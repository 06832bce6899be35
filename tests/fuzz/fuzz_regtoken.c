/*
 * libFuzzer target: redeeming a registration token (untrusted text a device
 * forwards).  The first byte picks the mode: 0 = the input is a compact
 * token, run through imago_regtoken_redeem() with an in-process key (the
 * compact/header checks, cjose's import and decryption); 1 = the input is
 * a claims object, as decrypted (the strict claims parser); 2 = the input is
 * a protected header, wrapped in base64url around the body of a real token;
 * 3 = the input is a plaintext, encrypted here with cjose to the in-process
 * key, so redeem's own decryption and the claims parser run on it.
 */
#include "regtoken/regtoken.h"

#include <cjose/cjose.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_regtoken_key fz_key;
static char *fz_real;
static struct imago_regtoken_memstore fz_store;

static void fz_init(void)
{
        if (imago_regtoken_key_generate(&fz_key) != 0 ||
            imago_regtoken_issue(&fz_key, "fuzz", 1800000000, 600, &fz_real) != 0)
                __builtin_trap();
        imago_regtoken_memstore_init(&fz_store);
}

static void fz_redeem(const char *t, size_t len)
{
        struct imago_regtoken_replay rp = {imago_regtoken_memstore_claim, &fz_store};
        char user[IMAGO_REGTOKEN_USER_MAX + 1];

        if (imago_regtoken_redeem(&fz_key, t, len, 1800000000, &rp, user, sizeof(user)) == 0 &&
            !imago_regtoken_user_valid(user))
                __builtin_trap();
        imago_regtoken_memstore_free(&fz_store);
}

static void fz_encrypted(const uint8_t *p, size_t len)
{
        cjose_header_t *hdr;
        cjose_jwe_t *jwe = NULL;
        char *t = NULL;
        cjose_err e;

        if (len > 1024 || (hdr = cjose_header_new(&e)) == NULL)
                return;
        if (cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ECDH_ES, &e) &&
            cjose_header_set(hdr, CJOSE_HDR_ENC, CJOSE_HDR_ENC_A256GCM, &e) &&
            (jwe = cjose_jwe_encrypt(fz_key.jwk, hdr, p, len, &e)) != NULL &&
            (t = cjose_jwe_export(jwe, &e)) != NULL)
                fz_redeem(t, strlen(t));
        if (t != NULL)
                cjose_get_dealloc()(t);
        cjose_jwe_release(jwe);
        cjose_header_release(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char user[IMAGO_REGTOKEN_USER_MAX + 1], nonce[IMAGO_REGTOKEN_NONCE_LEN + 1];
        int64_t iat, exp;

        if (fz_real == NULL)
                fz_init();
        if (size < 1)
                return 0;
        switch (data[0] % 4) {
        case 0:
                fz_redeem((const char *)data + 1, size - 1);
                break;
        case 1:
                if (imago_regtoken_parse_claims(data + 1, size - 1, user, sizeof(user), nonce, &iat,
                                                &exp) == 0 &&
                    (!imago_regtoken_user_valid(user) || strlen(nonce) != 32 || exp <= iat))
                        __builtin_trap();
                break;
        case 3:
                fz_encrypted(data + 1, size - 1);
                break;
        default: {
                char *h = NULL, *t;
                const char *rest = strchr(fz_real, '.');
                size_t hlen = 0, n;
                cjose_err e;

                if (size - 1 > 1024 || !cjose_base64url_encode(data + 1, size - 1, &h, &hlen, &e))
                        break;
                n = hlen + strlen(rest);
                if ((t = malloc(n + 1)) != NULL) {
                        memcpy(t, h, hlen);
                        memcpy(t + hlen, rest, strlen(rest) + 1);
                        fz_redeem(t, n);
                        free(t);
                }
                cjose_get_dealloc()(h);
                break;
        }
        }
        return 0;
}
