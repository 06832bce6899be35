/*
 * libFuzzer target: the version report verifier (untrusted bytes from the
 * broker) and the ack parser (untrusted bytes on the device).  The first byte
 * picks the mode: 0 = the input is a whole report; 1 = the input is a payload
 * text, signed here with an in-process P-256 key so the fuzzer reaches the
 * payload parser behind the signature check; 2 = the input is an ack.
 * Whatever verifies must build again and verify to the same struct.
 */
#include "ota/vreport.h"

#include "json/json.h"

#include <openssl/evp.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_tag[] = "imago-vreport-v1";
static struct imago_privkey fz_priv;
static struct imago_pubkey fz_pub;
static int fz_ready;

static int fz_sign(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                   uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        return imago_privkey_sign_digest(arg, digest, sig, sig_len);
}

static char *fz_wrap(const uint8_t *p, size_t len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char b64[128], *out = NULL;
        size_t sig_len = 0;
        struct imago_sha256 h = {0};
        json_t *env = NULL;

        if (imago_sha256_init(&h) != 0)
                return NULL;
        if (imago_sha256_update(&h, fz_tag, sizeof(fz_tag)) != 0 ||
            imago_sha256_update(&h, p, len) != 0) {
                imago_sha256_abort(&h);
                return NULL;
        }
        if (imago_sha256_final(&h, digest) != 0 ||
            imago_privkey_sign_digest(&fz_priv, digest, sig, &sig_len) != 0)
                goto out;
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len);
        /* s# refuses invalid UTF-8; such inputs are covered by mode 0. */
        env = json_pack("{s:i, s:s#, s:s}", "v", 1, "payload", (const char *)p, len, "sig", b64);
        if (env != NULL)
                out = json_dumps(env, JSON_COMPACT);
out:
        json_decref(env);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_vreport r, r2;
        char *env = NULL, *again = NULL, nonce[33];
        size_t alen = 0;
        int res = 0;

        if (!fz_ready) {
                if (imago_privkey_generate(IMAGO_KEY_P256, &fz_priv) != 0 ||
                    imago_privkey_public(&fz_priv, &fz_pub) != 0)
                        __builtin_trap();
                fz_ready = 1;
        }
        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0:
                if (imago_vreport_verify(data + 1, size - 1, &fz_pub, ID, &r) == 0)
                        __builtin_trap(); /* nothing unsigned by fz_priv can verify */
                break;
        case 1:
                if ((env = fz_wrap(data + 1, size - 1)) == NULL)
                        break;
                if (imago_vreport_verify((const uint8_t *)env, strlen(env), &fz_pub, ID, &r) == 0) {
                        if (r.state == IMAGO_OTA_QUEUED || r.progress > 100 || r.counter == 0 ||
                            imago_vreport_build(&r, fz_sign, &fz_priv, &again, &alen) != 0 ||
                            imago_vreport_verify((const uint8_t *)again, alen, &fz_pub, ID, &r2) !=
                                0 ||
                            memcmp(&r, &r2, sizeof(r)) != 0)
                                __builtin_trap();
                        free(again);
                }
                free(env);
                break;
        default:
                if (imago_vreport_ack_parse(data + 1, size - 1, nonce, &res) == 0) {
                        if (imago_vreport_ack_build(nonce, res, &again, &alen) != 0)
                                __builtin_trap();
                        free(again);
                }
                break;
        }
        return 0;
}
