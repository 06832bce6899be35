/*
 * Unit tests of image signing: every signed image verifies with imago's
 * verifier, has imgtool's layout (header, TLV order, trailer), and fails
 * cleanly when it cannot fit its slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "image/image.h"
#include "image/image_dump.h"
#include "image/image_sign.h"

static struct imago_privkey ed, ec;
static struct imago_pubkey ed_pub, ec_pub;
static uint8_t body[1000];

static int setup(void **state)
{
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(body); i++)
                body[i] = (uint8_t)(i * 7);
        if (imago_privkey_generate(IMAGO_KEY_ED25519, &ed) != IMAGO_OK ||
            imago_privkey_generate(IMAGO_KEY_P256, &ec) != IMAGO_OK ||
            imago_privkey_public(&ed, &ed_pub) != IMAGO_OK ||
            imago_privkey_public(&ec, &ec_pub) != IMAGO_OK)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        imago_privkey_free(&ed);
        imago_privkey_free(&ec);
        return 0;
}

static uint16_t ld16(const uint8_t *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

static int verify(const uint8_t *img, size_t len, const struct imago_pubkey *k,
                  struct imago_image_info *info)
{
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_keyring kr = {k, 1};

        imago_image_src_mem(&src, &mem, img, len);
        return imago_image_verify(&src, &kr, info);
}

/* Sign with o, verify with the key's public half, check the layout. */
static void round_trip(const struct imago_privkey *key, const struct imago_pubkey *pub,
                       const struct imago_image_sign_opts *o)
{
        struct imago_image_info info;
        struct imago_image_dump d;
        uint8_t *img = NULL;
        size_t len = 0, i;

        assert_int_equal(imago_image_sign(key, o, body, sizeof(body), &img, &len), IMAGO_OK);
        assert_int_equal(verify(img, len, pub, &info), IMAGO_OK);
        assert_int_equal(info.hdr.hdr_size, o->header_size);
        assert_int_equal(info.hdr.img_size, sizeof(body));
        assert_memory_equal(img + o->header_size, body, sizeof(body));
        for (i = IMAGO_IMAGE_HEADER_SIZE; i < o->header_size; i++)
                assert_int_equal(img[i], o->erased_val);
        assert_int_equal(info.has_sec_cnt, o->has_sec_cnt);
        if (o->has_sec_cnt) {
                assert_int_equal(info.sec_cnt, o->sec_cnt);
                assert_int_equal(info.hdr.protect_tlv_size, 12);
        } else {
                assert_int_equal(info.hdr.protect_tlv_size, 0);
        }
        assert_int_equal(info.sig_type, key->type);
        assert_int_equal(imago_image_version_cmp(&info.hdr.ver, &o->ver), 0);
        assert_int_equal(info.hdr.ver.build, o->ver.build);

        /* imgtool's TLV order: SHA256, KEYHASH, signature. */
        assert_int_equal(imago_image_dump(img, len, &d), IMAGO_OK);
        assert_int_equal(d.status, 0);
        assert_int_equal(d.ntlv, o->has_sec_cnt ? 4 : 3);
        i = o->has_sec_cnt ? 1 : 0;
        assert_int_equal(d.tlv[i].type, IMAGO_TLV_SHA256);
        assert_int_equal(d.tlv[i + 1].type, IMAGO_TLV_KEYHASH);
        assert_int_equal(d.tlv[i + 2].type,
                         key->type == IMAGO_KEY_ED25519 ? IMAGO_TLV_ED25519 : IMAGO_TLV_ECDSA_SIG);
        assert_memory_equal(d.keyhash, pub->keyhash, 32);
        assert_memory_equal(d.hash, d.hash_tlv, 32);

        if (o->pad || o->confirm) {
                assert_int_equal(len, o->slot_size);
                assert_memory_equal(img + len - 16, imago_image_boot_magic, 16);
                assert_int_equal(d.trailer_magic, 1);
                assert_int_equal(img[len - 24], o->confirm ? 0x01 : o->erased_val);
                for (i = info.end; i < len - 16; i++)
                        if (i != len - 24)
                                assert_int_equal(img[i], o->erased_val);
        } else {
                assert_int_equal(len, info.end);
                assert_int_equal(d.trailer_magic, 0);
        }
        imago_image_sign_free(img);
}

static void test_round_trip_matrix(void **state)
{
        const struct imago_privkey *keys[2] = {&ed, &ec};
        const struct imago_pubkey *pubs[2] = {&ed_pub, &ec_pub};
        struct imago_image_sign_opts o;
        int k, cnt, pad, erased, confirm;

        (void)state;
        for (k = 0; k < 2; k++)
                for (cnt = 0; cnt < 2; cnt++)
                        for (pad = 0; pad < 2; pad++)
                                for (erased = 0; erased < 2; erased++)
                                        for (confirm = 0; confirm < 2; confirm++) {
                                                if (confirm && !pad)
                                                        continue;
                                                imago_image_sign_opts_init(&o);
                                                assert_int_equal(
                                                    imago_image_version_parse("1.2.3+4", &o.ver),
                                                    IMAGO_OK);
                                                o.has_sec_cnt = cnt;
                                                o.sec_cnt = 77;
                                                o.pad = pad;
                                                o.confirm = confirm;
                                                o.slot_size = 4096;
                                                o.erased_val = erased ? 0x00 : 0xff;
                                                o.header_size = erased ? 0x200 : 32;
                                                round_trip(keys[k], pubs[k], &o);
                                        }
}

static void test_sign_with_wrong_key_is_unknown(void **state)
{
        struct imago_image_sign_opts o;
        struct imago_image_info info;
        uint8_t *img = NULL;
        size_t len = 0;

        (void)state;
        imago_image_sign_opts_init(&o);
        assert_int_equal(imago_image_sign(&ed, &o, body, sizeof(body), &img, &len), IMAGO_OK);
        assert_int_equal(verify(img, len, &ec_pub, &info), IMAGO_EIMG_KEY_UNKNOWN);
        assert_int_equal(ld16(img + info.tlv_off), IMAGO_IMAGE_TLV_INFO_MAGIC);
        imago_image_sign_free(img);
}

static void test_pad_too_small_slot(void **state)
{
        struct imago_image_sign_opts o;
        uint8_t *img = NULL;
        size_t len = 0;
        uint32_t t;

        (void)state;
        assert_int_equal(imago_image_trailer_size(1, 128, &t), IMAGO_OK);
        assert_int_equal(t, 128 * 3 + 32 + 16);
        assert_int_equal(imago_image_trailer_size(8, 256, &t), IMAGO_OK);
        assert_int_equal(t, 256 * 3 * 8 + 32 + 16);
        assert_int_equal(imago_image_trailer_size(3, 128, &t), IMAGO_EINVAL);
        imago_image_sign_opts_init(&o);
        o.pad = 1;
        o.slot_size = 1200; /* 32 + 1000 + TLVs + 432 > 1200 */
        assert_int_equal(imago_image_sign(&ed, &o, body, sizeof(body), &img, &len),
                         IMAGO_EIMG_TOO_LARGE);
        assert_null(img);
        o.slot_size = 100;
        assert_int_equal(imago_image_sign(&ed, &o, body, sizeof(body), &img, &len),
                         IMAGO_EIMG_TOO_LARGE);
        o.slot_size = 0;
        assert_int_equal(imago_image_sign(&ed, &o, body, sizeof(body), &img, &len), IMAGO_EINVAL);
        imago_image_sign_opts_init(&o);
        o.header_size = 31;
        assert_int_equal(imago_image_sign(&ed, &o, body, sizeof(body), &img, &len), IMAGO_EINVAL);
}

static void test_version_parse(void **state)
{
        struct imago_image_version v;

        (void)state;
        assert_int_equal(imago_image_version_parse("1", &v), IMAGO_OK);
        assert_int_equal(v.major, 1);
        assert_int_equal(v.minor, 0);
        assert_int_equal(imago_image_version_parse("255.255.65535+4294967295", &v), IMAGO_OK);
        assert_int_equal(v.major, 255);
        assert_int_equal(v.revision, 65535);
        assert_int_equal(v.build, 4294967295U);
        assert_int_equal(imago_image_version_sec_cnt(&v), 0xffffffffU);
        assert_int_equal(imago_image_version_parse("1.2", &v), IMAGO_OK);
        assert_int_equal(v.minor, 2);
        assert_int_equal(imago_image_version_parse("256", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("1.2.65536", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("1.2.3+", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("1..3", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("-1", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("1.2.3.4", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("1+5", &v), IMAGO_EIMG_VERSION);
        assert_int_equal(imago_image_version_parse("0x10", &v), IMAGO_EIMG_VERSION);
}

static void test_empty_body(void **state)
{
        struct imago_image_sign_opts o;
        struct imago_image_info info;
        uint8_t *img = NULL;
        size_t len = 0;

        (void)state;
        imago_image_sign_opts_init(&o);
        assert_int_equal(imago_image_sign(&ec, &o, NULL, 0, &img, &len), IMAGO_OK);
        assert_int_equal(verify(img, len, &ec_pub, &info), IMAGO_OK);
        assert_int_equal(info.hdr.img_size, 0);
        imago_image_sign_free(img);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip_matrix),
            cmocka_unit_test(test_sign_with_wrong_key_is_unknown),
            cmocka_unit_test(test_pad_too_small_slot),
            cmocka_unit_test(test_version_parse),
            cmocka_unit_test(test_empty_body),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
