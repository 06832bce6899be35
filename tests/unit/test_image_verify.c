/*
 * Unit tests of imago_image_verify(): each test is one attack or one layout
 * rule.  Images are built here byte by byte (independently of image_sign.c)
 * and signed with OpenSSL directly, so a bug shared by signer and verifier
 * cannot hide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "image/image.h"

struct tb {
        uint8_t b[8192];
        size_t len;
};

static void put(struct tb *t, const void *p, size_t n)
{
        assert_true(t->len + n <= sizeof(t->b));
        memcpy(t->b + t->len, p, n);
        t->len += n;
}

static void put16(struct tb *t, uint16_t v)
{
        uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

        put(t, b, 2);
}

static void put32(struct tb *t, uint32_t v)
{
        uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

        put(t, b, 4);
}

static void set16(struct tb *t, size_t off, uint16_t v)
{
        t->b[off] = (uint8_t)v;
        t->b[off + 1] = (uint8_t)(v >> 8);
}

static void set32(struct tb *t, size_t off, uint32_t v)
{
        set16(t, off, (uint16_t)v);
        set16(t, off + 2, (uint16_t)(v >> 16));
}

struct key {
        EVP_PKEY *pk;
        struct imago_pubkey pub;
};

static void key_new(struct key *k, enum imago_key_type type)
{
        unsigned char *der = NULL;
        int n;

        if (type == IMAGO_KEY_ED25519)
                k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        else
                k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(k->pk);
        n = i2d_PUBKEY(k->pk, &der);
        assert_true(n > 0);
        assert_int_equal(imago_pubkey_from_spki(&k->pub, der, (size_t)n), IMAGO_OK);
        assert_int_equal(k->pub.type, type);
        OPENSSL_free(der);
}

static size_t sign(struct key *k, const uint8_t digest[32], uint8_t sig[80])
{
        size_t n = 80;

        if (k->pub.type == IMAGO_KEY_ED25519) {
                EVP_MD_CTX *m = EVP_MD_CTX_new();

                assert_int_equal(EVP_DigestSignInit_ex(m, NULL, NULL, NULL, NULL, k->pk, NULL), 1);
                assert_int_equal(EVP_DigestSign(m, sig, &n, digest, 32), 1);
                EVP_MD_CTX_free(m);
        } else {
                EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k->pk, NULL);

                assert_int_equal(EVP_PKEY_sign_init(c), 1);
                assert_int_equal(EVP_PKEY_sign(c, sig, &n, digest, 32), 1);
                EVP_PKEY_CTX_free(c);
        }
        return n;
}

/* What to put in a test image. */
struct opt {
        int sec_cnt;       /* add SEC_CNT 0x01020304 to the protected area */
        int sec_cnt_twice; /* ... twice */
        int sec_cnt_unprot;
        int no_hash;
        int hash_twice;
        int no_sig;
        int corrupt_sig;
        int unknown_tlv; /* an unknown TLV type before the signature */
};

/* header (32) + body (100 bytes) + optional protected area + TLVs; returns the TLV offset. */
static void build(struct tb *t, struct key *k, const struct opt *o)
{
        uint8_t digest[32], sig[80];
        size_t prot_start, tlv_start, siglen;
        uint16_t prot = 0;
        int i;

        memset(t, 0, sizeof(*t));
        put32(t, IMAGO_IMAGE_MAGIC);
        put32(t, 0);                   /* load addr */
        put16(t, 32);                  /* hdr size */
        put16(t, 0);                   /* protect size, patched */
        put32(t, 100);                 /* img size */
        put32(t, 0);                   /* flags */
        put(t, "\x01\x02\x03\x00", 4); /* 1.2.3 */
        put32(t, 42);                  /* build */
        put32(t, 0);
        for (i = 0; i < 100; i++)
                put(t, &(uint8_t){(uint8_t)i}, 1);
        prot_start = t->len;
        if (o->sec_cnt || o->sec_cnt_twice) {
                put16(t, IMAGO_IMAGE_TLV_PROT_MAGIC);
                put16(t, 0);
                for (i = 0; i < (o->sec_cnt_twice ? 2 : 1); i++) {
                        put16(t, IMAGO_TLV_SEC_CNT);
                        put16(t, 4);
                        put32(t, 0x01020304);
                }
                prot = (uint16_t)(t->len - prot_start);
                set16(t, prot_start + 2, prot);
                set16(t, 10, prot);
        }
        assert_int_equal(EVP_Digest(t->b, t->len, digest, NULL, EVP_sha256(), NULL), 1);
        tlv_start = t->len;
        put16(t, IMAGO_IMAGE_TLV_INFO_MAGIC);
        put16(t, 0);
        if (o->sec_cnt_unprot) {
                put16(t, IMAGO_TLV_SEC_CNT);
                put16(t, 4);
                put32(t, 7);
        }
        for (i = 0; !o->no_hash && i < (o->hash_twice ? 2 : 1); i++) {
                put16(t, IMAGO_TLV_SHA256);
                put16(t, 32);
                put(t, digest, 32);
        }
        if (o->unknown_tlv) {
                put16(t, 0x7777);
                put16(t, 3);
                put(t, "abc", 3);
        }
        if (!o->no_sig) {
                put16(t, IMAGO_TLV_KEYHASH);
                put16(t, 32);
                put(t, k->pub.keyhash, 32);
                siglen = sign(k, digest, sig);
                if (o->corrupt_sig)
                        sig[siglen / 2] ^= 0x40;
                put16(t,
                      k->pub.type == IMAGO_KEY_ED25519 ? IMAGO_TLV_ED25519 : IMAGO_TLV_ECDSA_SIG);
                put16(t, (uint16_t)siglen);
                put(t, sig, siglen);
        }
        set16(t, tlv_start + 2, (uint16_t)(t->len - tlv_start));
}

static int verify(const struct tb *t, size_t len, const struct key *k,
                  struct imago_image_info *info)
{
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_keyring kr = {&k->pub, 1};

        imago_image_src_mem(&src, &mem, t->b, len);
        return imago_image_verify(&src, &kr, info);
}

static struct key ed, ec, other;

static int setup(void **state)
{
        (void)state;
        key_new(&ed, IMAGO_KEY_ED25519);
        key_new(&ec, IMAGO_KEY_P256);
        key_new(&other, IMAGO_KEY_ED25519);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        EVP_PKEY_free(ed.pk);
        EVP_PKEY_free(ec.pk);
        EVP_PKEY_free(other.pk);
        return 0;
}

static void test_valid_ed25519_with_counter(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_OK);
        assert_int_equal(info.hdr.img_size, 100);
        assert_int_equal(info.hdr.ver.major, 1);
        assert_int_equal(info.hdr.ver.minor, 2);
        assert_int_equal(info.hdr.ver.revision, 3);
        assert_int_equal(info.hdr.ver.build, 42);
        assert_int_equal(info.has_sec_cnt, 1);
        assert_int_equal(info.sec_cnt, 0x01020304);
        assert_int_equal(info.tlv_off, 32 + 100 + 12);
        assert_int_equal(info.end, t.len);
        assert_int_equal(info.key_index, 0);
        assert_int_equal(info.sig_type, IMAGO_KEY_ED25519);
}

static void test_valid_p256_no_counter(void **state)
{
        struct tb t;
        struct opt o = {0};
        struct imago_image_info info;

        (void)state;
        build(&t, &ec, &o);
        assert_int_equal(verify(&t, t.len, &ec, &info), IMAGO_OK);
        assert_int_equal(info.has_sec_cnt, 0);
        assert_int_equal(info.sig_type, IMAGO_KEY_P256);
}

static void test_trailing_padding_is_ignored(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;
        size_t end;

        (void)state;
        build(&t, &ed, &o);
        end = t.len;
        memset(t.b + t.len, 0xff, 512);
        t.len += 512;
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_OK);
        assert_int_equal(info.end, end);
}

static void test_attack_body_modified(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        t.b[40] ^= 1;
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_HASH);
}

/* The security counter is covered by the hash: raising it breaks the image. */
static void test_attack_counter_modified(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        set32(&t, 32 + 100 + 8, 0xffffffffU);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_HASH);
}

static void test_attack_unknown_key(void **state)
{
        struct tb t;
        struct opt o = {0};
        struct imago_image_info info;

        (void)state;
        build(&t, &other, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_KEY_UNKNOWN);
}

static void test_attack_bad_signature(void **state)
{
        struct tb t;
        struct opt o = {.corrupt_sig = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_SIG_BAD);
        build(&t, &ec, &o);
        assert_int_equal(verify(&t, t.len, &ec, &info), IMAGO_EIMG_SIG_BAD);
        assert_int_equal(info.key_index, -1);
}

static void test_attack_signature_stripped(void **state)
{
        struct tb t;
        struct opt o = {.no_sig = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_SIG_MISSING);
}

static void test_attack_hash_stripped_or_doubled(void **state)
{
        struct tb t;
        struct opt o = {.no_hash = 1};
        struct opt o2 = {.hash_twice = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_NO_HASH);
        build(&t, &ed, &o2);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_TLV_DUP);
}

static void test_attack_counter_duplicated_or_unprotected(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt_twice = 1};
        struct opt o2 = {.sec_cnt_unprot = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_SECCNT_DUP);
        build(&t, &ed, &o2);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_SECCNT_UNPROT);
}

static void test_unknown_tlv_skipped(void **state)
{
        struct tb t;
        struct opt o = {.unknown_tlv = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_OK);
}

/* Every truncation of a valid image fails, and never reads out of bounds. */
static void test_attack_every_truncation(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;
        size_t n;

        (void)state;
        build(&t, &ec, &o);
        for (n = 0; n < t.len; n++)
                assert_int_not_equal(verify(&t, n, &ec, &info), IMAGO_OK);
        assert_int_equal(verify(&t, 0, &ec, &info), IMAGO_EIMG_HDR_TRUNC);
        assert_int_equal(verify(&t, 31, &ec, &info), IMAGO_EIMG_HDR_TRUNC);
        assert_int_equal(verify(&t, 100, &ec, &info), IMAGO_EIMG_BODY_TRUNC);
}

static void test_attack_size_overflow(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        set32(&t, 12, 0xfffffff0U);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_SIZE_OVERFLOW);
}

static void test_attack_header_fields(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_info info;

        (void)state;
        build(&t, &ed, &o);
        t.b[0] ^= 1;
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_MAGIC);
        build(&t, &ed, &o);
        set16(&t, 8, 31);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_HDR_SIZE);
        build(&t, &ed, &o);
        set16(&t, 10, 16); /* header says 16, info says 12 */
        assert_int_not_equal(verify(&t, t.len, &ed, &info), IMAGO_OK);
        build(&t, &ed, &o);
        set16(&t, 32 + 100 + 2, 16);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_PROT_SIZE);
        build(&t, &ed, &o);
        set16(&t, 32 + 100 + 12, 0x1234);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_TLV_MAGIC);
        build(&t, &ed, &o);
        set16(&t, 32 + 100 + 12 + 2, 0xfff0);
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_TLV_TRUNC);
        build(&t, &ed, &o);
        set16(&t, 32 + 100 + 12 + 4 + 2, 0x7fff); /* SHA256 TLV length past the area */
        assert_int_equal(verify(&t, t.len, &ed, &info), IMAGO_EIMG_TLV_LEN);
}

static int fail_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        (void)ctx;
        (void)off;
        (void)buf;
        (void)len;
        return IMAGO_EFLASH_RANGE;
}

static void test_read_errors_pass_through(void **state)
{
        struct imago_image_src src = {fail_read, NULL, 4096};
        struct imago_image_info info;

        (void)state;
        assert_int_equal(imago_image_verify(&src, NULL, &info), IMAGO_EFLASH_RANGE);
}

/* A flash-like source: checks every read, fails the Nth one. */
struct faulty {
        const uint8_t *buf;
        uint32_t size;
        int calls, fail_at;
        uint32_t max_len;
};

static int faulty_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        struct faulty *f = ctx;

        assert_true((uint64_t)off + len <= f->size);
        if (len > f->max_len)
                f->max_len = len;
        if (++f->calls == f->fail_at)
                return IMAGO_EFLASH_POWER_CUT;
        memcpy(buf, f->buf + off, len);
        return IMAGO_OK;
}

/* Fail the 1st, 2nd, ... read of a valid image: never OK, the error passes through. */
static void test_read_fault_at_every_call(void **state)
{
        struct tb t;
        struct opt o = {.sec_cnt = 1};
        struct imago_image_keyring kr = {&ec.pub, 1};
        struct imago_image_info info;
        struct faulty f;
        struct imago_image_src src = {faulty_read, &f, 0};
        int n, total;

        (void)state;
        build(&t, &ec, &o);
        memset(t.b + t.len, 0xff, 2000); /* a padded slot: reads stop at the TLV end */
        memset(&f, 0, sizeof(f));
        f.buf = t.b;
        f.size = src.size = (uint32_t)t.len + 2000;
        assert_int_equal(imago_image_verify(&src, &kr, &info), IMAGO_OK);
        total = f.calls;
        assert_true(total > 3);
        assert_true(f.max_len <= 256); /* bounded chunks, bounded stack */
        for (n = 1; n <= total; n++) {
                memset(&f, 0, sizeof(f));
                f.buf = t.b;
                f.size = src.size;
                f.fail_at = n;
                assert_int_equal(imago_image_verify(&src, &kr, &info), IMAGO_EFLASH_POWER_CUT);
                assert_int_equal(info.key_index, -1);
        }
}

static void test_version_cmp_ignores_build(void **state)
{
        struct imago_image_version a = {1, 2, 3, 4}, b = {1, 2, 3, 99}, c = {1, 3, 0, 0};

        (void)state;
        assert_int_equal(imago_image_version_cmp(&a, &b), 0);
        assert_true(imago_image_version_cmp(&a, &c) < 0);
        assert_true(imago_image_version_cmp(&c, &a) > 0);
}

static void test_pubkey_rejects_other_curves(void **state)
{
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        unsigned char der[256], *p = der;
        struct imago_pubkey k;
        int n;

        (void)state;
        assert_non_null(pk);
        n = i2d_PUBKEY(pk, &p);
        assert_true(n > 0);
        assert_int_equal(imago_pubkey_from_spki(&k, der, (size_t)n), IMAGO_EKEY_FORMAT);
        EVP_PKEY_free(pk);
        assert_int_equal(imago_pubkey_from_spki(&k, ed.pub.spki, ed.pub.spki_len - 1),
                         IMAGO_EKEY_FORMAT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_valid_ed25519_with_counter),
            cmocka_unit_test(test_valid_p256_no_counter),
            cmocka_unit_test(test_trailing_padding_is_ignored),
            cmocka_unit_test(test_attack_body_modified),
            cmocka_unit_test(test_attack_counter_modified),
            cmocka_unit_test(test_attack_unknown_key),
            cmocka_unit_test(test_attack_bad_signature),
            cmocka_unit_test(test_attack_signature_stripped),
            cmocka_unit_test(test_attack_hash_stripped_or_doubled),
            cmocka_unit_test(test_attack_counter_duplicated_or_unprotected),
            cmocka_unit_test(test_unknown_tlv_skipped),
            cmocka_unit_test(test_attack_every_truncation),
            cmocka_unit_test(test_attack_size_overflow),
            cmocka_unit_test(test_attack_header_fields),
            cmocka_unit_test(test_read_errors_pass_through),
            cmocka_unit_test(test_read_fault_at_every_call),
            cmocka_unit_test(test_version_cmp_ignores_build),
            cmocka_unit_test(test_pubkey_rejects_other_curves),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
