/*
 * libFuzzer target: imago_image_verify() and imago_image_dump() over the
 * input as an image in memory, with the test vectors' public keys
 * (tests/vectors/image/key-*.pub.pem) compiled in, so seeds made from the
 * valid vectors reach the signature checks.  Invariants checked beyond
 * "no crash, no out-of-bounds read": a verified image's end lies inside the
 * input, and the inspector agrees that its layout and hash are sound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "image/image.h"
#include "image/image_dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t spki_ed25519[] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0x62, 0x6e, 0x65,
    0xe6, 0xfa, 0x5b, 0x50, 0x89, 0x8d, 0x87, 0xbf, 0xe4, 0xf6, 0xdd, 0x42, 0xbd, 0xd3, 0x5d,
    0xc3, 0x1a, 0x29, 0x83, 0xa3, 0xe3, 0x4d, 0x58, 0x8a, 0x9f, 0xa8, 0x71, 0xde, 0x89};

static const uint8_t spki_p256[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x1b, 0x08, 0x3f, 0xd2, 0xe2,
    0x43, 0x14, 0x64, 0x6f, 0x7c, 0xba, 0x95, 0x23, 0xbf, 0x72, 0x7c, 0xd6, 0x3b, 0xfa, 0x2b, 0x5d,
    0xce, 0x52, 0x66, 0xfa, 0xf1, 0xc1, 0xc4, 0x92, 0x3f, 0x25, 0xbb, 0x33, 0x71, 0x07, 0xea, 0xc3,
    0x61, 0xe5, 0x0a, 0x83, 0x2d, 0x9c, 0x00, 0x94, 0x37, 0xf5, 0x38, 0x45, 0xec, 0xaa, 0x65, 0x09,
    0x25, 0x5e, 0x14, 0xb9, 0x82, 0xf0, 0xc7, 0xe8, 0x5b, 0xb3, 0xf2};

static struct imago_pubkey keys[2];
static int have_keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_image_keyring kr = {keys, 2};
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_info info;
        struct imago_image_dump d;
        int r;

        if (!have_keys) {
                if (imago_pubkey_from_spki(&keys[0], spki_ed25519, sizeof(spki_ed25519)) ||
                    imago_pubkey_from_spki(&keys[1], spki_p256, sizeof(spki_p256)))
                        abort();
                have_keys = 1;
        }
        imago_image_src_mem(&src, &mem, data, size);
        r = imago_image_verify(&src, &kr, &info);
        if (imago_image_dump(data, size, &d) != IMAGO_OK)
                abort();
        if (r == IMAGO_OK) {
                if (info.end > size || info.tlv_off >= info.end || info.key_index < 0 ||
                    info.key_index > 1)
                        abort();
                if (d.status != 0 || !d.has_hash || memcmp(d.hash, info.hash, 32) != 0)
                        abort();
        }
        return 0;
}
