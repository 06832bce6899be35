/*
 * libFuzzer target: the command envelope parser (untrusted bytes from the
 * broker) and the command result parser.  The first byte picks the mode:
 * 0 = the input is a whole envelope; 1 = the input is a payload text, signed
 * here with an in-process key so the fuzzer reaches the payload parser behind
 * the signature check; 2 = the input is a result message.
 */
#include "cmdenv/cmdenv.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_privkey fz_priv;
static struct imago_pubkey fz_pub;
static int fz_ready;

static char *fz_wrap(const uint8_t *p, size_t len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char hex[2 * IMAGO_SIG_MAX_LEN + 1], *out = NULL;
        size_t sig_len = 0;
        json_t *env = NULL;

        if (imago_cmdenv_digest((const char *)p, len, digest) != 0 ||
            imago_privkey_sign_digest(&fz_priv, digest, sig, &sig_len) != 0)
                goto out;
        imago_hex_encode(sig, sig_len, hex);
        /* s# refuses invalid UTF-8; such inputs are covered by mode 0. */
        env = json_pack("{s:i, s:s#, s:s}", "v", 1, "payload", (const char *)p, len, "sig", hex);
        if (env != NULL)
                out = json_dumps(env, JSON_COMPACT);
out:
        json_decref(env);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_cmdenv c;
        struct imago_cmdenv_result r;
        char *env = NULL;

        if (!fz_ready) {
                if (imago_privkey_generate(IMAGO_KEY_ED25519, &fz_priv) != 0 ||
                    imago_privkey_public(&fz_priv, &fz_pub) != 0)
                        __builtin_trap();
                fz_ready = 1;
        }
        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0:
                if (imago_cmdenv_verify(data + 1, size - 1, &fz_pub, ID, 0, 1800000000, 60, &c) ==
                    0)
                        __builtin_trap(); /* nothing unsigned by fz_priv can verify */
                imago_cmdenv_release(&c);
                break;
        case 1:
                if ((env = fz_wrap(data + 1, size - 1)) == NULL)
                        break;
                if (imago_cmdenv_verify((const uint8_t *)env, strlen(env), &fz_pub, ID, 0,
                                        1800000000, 60, &c) == 0 &&
                    (strcmp(c.device, ID) != 0 || c.seq == 0 || !json_is_object(c.args) ||
                     !imago_cmdenv_name_valid(c.name)))
                        __builtin_trap();
                imago_cmdenv_release(&c);
                free(env);
                break;
        default:
                if (imago_cmdenv_result_parse(data + 1, size - 1, &r) == 0) {
                        if (imago_cmdenv_result_build(r.device, r.seq, r.status, r.result, &env) !=
                            0)
                                __builtin_trap();
                        free(env);
                }
                imago_cmdenv_result_release(&r);
                break;
        }
        return 0;
}
