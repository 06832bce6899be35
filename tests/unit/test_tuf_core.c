/*
 * imago_tuf core: canonical JSON (byte-exact as securesystemslib's encode_canonical), key
 * objects and key ids, signing and threshold counting over json_t, and every case of
 * tests/vectors/tuf (<type>-<case>.json + .expect: the strict parser's answer).
 *
 * With TUF_CROSSCHECK_DIR set, crosscheck_dump writes signed documents and their keys there
 * for tests/integration/tuf_crosscheck.sh (verified by Python's cryptography package).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_tuf_repo.h"
#include "test_vectors.h"
#include "base/file.h"

static void cjson_is(const char *json, const char *want)
{
        json_error_t e;
        json_t *v = json_loads(json, JSON_DECODE_ANY, &e);
        char *out = NULL;
        size_t n;

        assert_non_null(v);
        assert_int_equal(imago_tuf_cjson(v, &out, &n), IMAGO_OK);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
        free(out);
        json_decref(v);
}

/* Outputs checked against securesystemslib.formats.encode_canonical. */
static void cjson_exact(void **state)
{
        json_t *v;
        char *out;
        size_t n;

        (void)state;
        cjson_is("{\"b\": 1, \"a\": [true, false, null], \"c\": {}}",
                 "{\"a\":[true,false,null],\"b\":1,\"c\":{}}");
        cjson_is("{\"s\": \"q\\\"b\\\\n\\n\\t\\u0001/\"}", "{\"s\":\"q\\\"b\\\\n\n\t\x01/\"}");
        cjson_is("{\"\\u00e9\": \"\\u20ac\", \"z\": -0, \"Z\": -12}",
                 "{\"Z\":-12,\"z\":0,\"\xc3\xa9\":\"\xe2\x82\xac\"}");
        cjson_is("[]", "[]");
        cjson_is("\"\"", "\"\"");
        cjson_is("9223372036854775807", "9223372036854775807");
        cjson_is("{\"aa\": 1, \"a\": 2, \"B\": 3, \"_\": 4}", "{\"B\":3,\"_\":4,\"a\":2,\"aa\":1}");
        /* reals are refused, however deep */
        v = json_loads("{\"a\": [1, {\"b\": 1.0}]}", 0, NULL);
        assert_int_equal(imago_tuf_cjson(v, &out, &n), IMAGO_ETUF_FORMAT);
        assert_null(out);
        json_decref(v);
        /* nesting is bounded */
        {
                json_t *deep = json_array(), *cur = deep;
                int i;

                for (i = 0; i < 100; i++) {
                        json_t *nx = json_array();

                        json_array_append_new(cur, nx);
                        cur = nx;
                }
                assert_int_equal(imago_tuf_cjson(deep, &out, &n), IMAGO_ETUF_FORMAT);
                json_decref(deep);
        }
}

static void key_objects(void **state)
{
        struct imago_privkey k;
        json_t *o = NULL;
        const char *pub;
        char id[65], id2[65], *c;
        size_t n;

        (void)state;
        tr_gen(&k, IMAGO_KEY_ED25519);
        assert_int_equal(imago_tuf_key_public(&k, &o), IMAGO_OK);
        assert_string_equal(json_string_value(json_object_get(o, "keytype")), "ed25519");
        assert_string_equal(json_string_value(json_object_get(o, "scheme")), "ed25519");
        pub = json_string_value(json_object_get(json_object_get(o, "keyval"), "public"));
        assert_true(imago_hex_is_lower(pub, 64, 64));
        assert_int_equal(json_object_size(o), 3);
        assert_int_equal(imago_tuf_keyid(o, id), IMAGO_OK);
        /* the key id is the SHA-256 of the canonical form */
        assert_int_equal(imago_tuf_cjson(o, &c, &n), IMAGO_OK);
        assert_true(strncmp(c, "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"", 41) == 0);
        free(c);
        json_decref(o);
        imago_privkey_free(&k);

        tr_gen(&k, IMAGO_KEY_P256);
        assert_int_equal(imago_tuf_key_public(&k, &o), IMAGO_OK);
        assert_string_equal(json_string_value(json_object_get(o, "keytype")), "ecdsa");
        assert_string_equal(json_string_value(json_object_get(o, "scheme")), "ecdsa-sha2-nistp256");
        pub = json_string_value(json_object_get(json_object_get(o, "keyval"), "public"));
        assert_true(strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
        assert_int_equal(imago_tuf_keyid(o, id2), IMAGO_OK);
        assert_string_not_equal(id, id2);
        json_decref(o);
        imago_privkey_free(&k);
}

/* Threshold counting over json_t (the signing side's check). */
static void verify_threshold_json(void **state)
{
        struct imago_privkey a, b, p;
        json_t *keys = json_object(), *ids = json_array(), *sigs = json_array(), *s, *msg;
        char ida[65], idb[65], idp[65];
        unsigned valid;

        (void)state;
        tr_gen(&a, IMAGO_KEY_ED25519);
        tr_gen(&b, IMAGO_KEY_ED25519);
        tr_gen(&p, IMAGO_KEY_P256);
        tr_keyid(&a, keys, ida);
        tr_keyid(&b, keys, idb);
        tr_keyid(&p, keys, idp);
        json_array_append_new(ids, json_string(ida));
        json_array_append_new(ids, json_string(idb));
        json_array_append_new(ids, json_string(idp));
        msg = json_pack("{s:s,s:i}", "_type", "x", "version", 1);
        assert_int_equal(imago_tuf_sign(&a, msg, &s), IMAGO_OK);
        json_array_append_new(sigs, s);
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 1, &valid), IMAGO_OK);
        assert_int_equal(valid, 1);
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                         IMAGO_ETUF_THRESHOLD);
        /* the same signature twice counts once */
        json_array_append(sigs, json_array_get(sigs, 0));
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(valid, 1);
        /* ECDSA signature */
        assert_int_equal(imago_tuf_sign(&p, msg, &s), IMAGO_OK);
        json_array_append_new(sigs, s);
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid), IMAGO_OK);
        assert_int_equal(valid, 2);
        /* uppercase hex is read as securesystemslib (bytes.fromhex) reads it */
        {
                json_t *up = json_array(), *sc = json_deep_copy(json_array_get(sigs, 2));
                char hex[2 * IMAGO_SIG_MAX_LEN + 1];
                size_t i;

                snprintf(hex, sizeof(hex), "%s", json_string_value(json_object_get(sc, "sig")));
                for (i = 0; hex[i]; i++) {
                        if (hex[i] >= 'a' && hex[i] <= 'f')
                                hex[i] = (char)(hex[i] - 'a' + 'A');
                }
                json_object_set_new(sc, "sig", json_string(hex));
                json_array_append_new(up, sc);
                assert_int_equal(imago_tuf_verify_threshold(msg, up, keys, ids, 1, &valid),
                                 IMAGO_OK);
                json_object_set_new(sc, "sig", json_string("zz"));
                assert_int_equal(imago_tuf_verify_threshold(msg, up, keys, ids, 1, &valid),
                                 IMAGO_ETUF_THRESHOLD);
                json_decref(up);
        }
        /* the legacy ecdsa keytype is read too; an ecdsa key under the ed25519 scheme is not */
        {
                json_t *pk = json_object_get(keys, idp);

                json_object_set_new(pk, "keytype", json_string("ecdsa-sha2-nistp256"));
                assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                                 IMAGO_OK);
                json_object_set_new(pk, "scheme", json_string("ed25519"));
                assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                                 IMAGO_ETUF_THRESHOLD);
                json_object_set_new(pk, "keytype", json_string("ecdsa"));
                json_object_set_new(pk, "scheme", json_string("ecdsa-sha2-nistp384"));
                assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                                 IMAGO_ETUF_THRESHOLD);
                json_object_set_new(pk, "scheme", json_string("ecdsa-sha2-nistp256"));
                assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 2, &valid),
                                 IMAGO_OK);
        }
        /* a signature by b over other bytes counts for nothing */
        {
                json_t *other = json_pack("{s:s,s:i}", "_type", "x", "version", 2);

                assert_int_equal(imago_tuf_sign(&b, other, &s), IMAGO_OK);
                json_array_append_new(sigs, s);
                json_decref(other);
        }
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 3, &valid),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(valid, 2);
        /* a key of an unsupported type is not counted even with its id */
        json_object_set_new(keys, ida,
                            json_pack("{s:s,s:s,s:{s:s}}", "keytype", "rsa", "scheme",
                                      "rsassa-pss-sha256", "keyval", "public", "x"));
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 1, &valid), IMAGO_OK);
        assert_int_equal(valid, 1);
        /* the signed bytes changed: nothing verifies */
        json_object_set_new(msg, "version", json_integer(3));
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 1, &valid),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(valid, 0);
        assert_int_equal(imago_tuf_verify_threshold(msg, sigs, keys, ids, 0, &valid), IMAGO_EINVAL);
        json_decref(msg);
        json_decref(keys);
        json_decref(ids);
        json_decref(sigs);
        imago_privkey_free(&a);
        imago_privkey_free(&b);
        imago_privkey_free(&p);
}

/* Signatures cover the canonical form: any serialization of the same document verifies (python-tuf
 * writes indented JSON), a changed value does not. */
static void canonical_not_serialization(void **state)
{
        struct imago_privkey k;
        struct imago_tuf_meta m;
        const struct imago_privkey *kp = &k;
        json_t *s, *doc;
        uint8_t *b;
        char *txt;
        size_t n;

        (void)state;
        tr_gen(&k, IMAGO_KEY_P256);
        s = tr_root_signed(1, TR_FUTURE, &kp, 1, 1, &k, &k, &k);
        b = tr_doc1(s, &k, &n);
        doc = json_loadb((char *)b, n, 0, NULL);
        assert_non_null(doc);
        txt = json_dumps(doc, JSON_INDENT(4) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        assert_int_equal(
            imago_tuf_meta_parse(IMAGO_TUF_ROOT, (uint8_t *)txt, strlen(txt), NULL, &m), IMAGO_OK);
        assert_int_equal(imago_tuf_meta_verify(&m, &m, &m.roles[IMAGO_TUF_ROLE_ROOT], NULL),
                         IMAGO_OK);
        imago_tuf_meta_free(&m);
        free(txt);
        json_object_set_new(json_object_get(doc, "signed"), "consistent_snapshot", json_false());
        txt = json_dumps(doc, JSON_INDENT(2));
        assert_int_equal(
            imago_tuf_meta_parse(IMAGO_TUF_ROOT, (uint8_t *)txt, strlen(txt), NULL, &m), IMAGO_OK);
        assert_int_equal(imago_tuf_meta_verify(&m, &m, &m.roles[IMAGO_TUF_ROLE_ROOT], NULL),
                         IMAGO_ETUF_THRESHOLD);
        imago_tuf_meta_free(&m);
        free(txt);
        json_decref(doc);
        json_decref(s);
        free(b);
        imago_privkey_free(&k);
}

static void vec_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        static const struct {
                const char *prefix;
                enum imago_tuf_type type;
        } types[] = {{"root-", IMAGO_TUF_ROOT},
                     {"timestamp-", IMAGO_TUF_TIMESTAMP},
                     {"snapshot-", IMAGO_TUF_SNAPSHOT},
                     {"targets-", IMAGO_TUF_TARGETS}};
        struct imago_tuf_meta m;
        size_t i;
        int r;

        (void)arg;
        for (i = 0; i < 4; i++) {
                if (strncmp(file, types[i].prefix, strlen(types[i].prefix)) == 0)
                        break;
        }
        if (i == 4)
                fail_msg("%s: unknown metadata type", file);
        r = imago_tuf_meta_parse(types[i].type, data, len, NULL, &m);
        if (r != want)
                fail_msg("%s: got %s, want %s", file, imago_errname(r), imago_errname(want));
        if (r == IMAGO_OK) {
                assert_int_equal(m.type, types[i].type);
                assert_non_null(m.canonical);
        } else {
                assert_null(m.doc);
        }
        imago_tuf_meta_free(&m);
}

static void vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/tuf", ".json", vec_case, NULL) >=
                    100);
}

/* The parsed fields of the valid vectors. */
static void parsed_fields(void **state)
{
        struct imago_tuf_meta m;
        uint8_t *d;
        size_t n;

        (void)state;
        assert_int_equal(imago_file_read(IMAGO_SOURCE_DIR "/tests/vectors/tuf/targets-valid.json",
                                         1 << 20, &d, &n),
                         IMAGO_OK);
        assert_int_equal(imago_tuf_meta_parse(IMAGO_TUF_TARGETS, d, n, NULL, &m), IMAGO_OK);
        imago_file_free(d, n);
        assert_int_equal(m.version, 2);
        assert_int_equal(m.expires, 1893456000); /* 2030-01-01T00:00:00Z */
        assert_int_equal(m.n_targets, 2);
        assert_int_equal(m.n_delegations, 2);
        assert_string_equal(m.delegations[0].role.name, "a");
        assert_true(m.delegations[0].has_paths);
        assert_false(m.delegations[0].terminating);
        assert_false(m.delegations[1].has_paths);
        assert_true(m.delegations[1].terminating);
        assert_string_equal(m.delegations[1].prefixes[0], "8f");
        assert_int_equal(m.n_keys, 1);
        imago_tuf_meta_free(&m);

        assert_int_equal(
            imago_file_read(IMAGO_SOURCE_DIR "/tests/vectors/tuf/root-valid.json", 1 << 20, &d, &n),
            IMAGO_OK);
        assert_int_equal(imago_tuf_meta_parse(IMAGO_TUF_ROOT, d, n, NULL, &m), IMAGO_OK);
        imago_file_free(d, n);
        assert_true(m.consistent_snapshot);
        assert_int_equal(m.roles[IMAGO_TUF_ROLE_SNAPSHOT].threshold, 1);
        assert_string_equal(m.spec_version, "1.0.31");
        /* the all-zero "public key" is not a usable ed25519 key: kept, never counted */
        imago_tuf_meta_free(&m);
        imago_tuf_meta_free(&m); /* idempotent */
}

static void times(void **state)
{
        int64_t t;

        (void)state;
        assert_int_equal(imago_tuf_time_parse("1970-01-01T00:00:00Z", &t), IMAGO_OK);
        assert_int_equal(t, 0);
        assert_int_equal(imago_tuf_time_parse("2000-02-29T23:59:59Z", &t), IMAGO_OK);
        assert_int_equal(t, 951868799);
        assert_int_equal(imago_tuf_time_parse("2100-02-29T00:00:00Z", &t), IMAGO_ETUF_FORMAT);
        assert_int_equal(imago_tuf_time_parse("2030-01-01T00:00:60Z", &t), IMAGO_ETUF_FORMAT);
        assert_int_equal(imago_tuf_time_parse("2030-01-01T00:00:00z", &t), IMAGO_ETUF_FORMAT);
        assert_int_equal(imago_tuf_time_parse("+030-01-01T00:00:00Z", &t), IMAGO_ETUF_FORMAT);
}

/* Unsupported hash algorithms never verify; every listed hash must match. */
static void file_hashes(void **state)
{
        struct imago_tuf_hashes h;

        (void)state;
        memset(&h, 0, sizeof(h));
        h.n = 2;
        h.h[0].alg = "sha256";
        h.h[0].hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        h.h[1].alg = "sha512";
        h.h[1].hex = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abc", 3, 1, 3, &h), IMAGO_OK);
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abd", 3, 1, 3, &h),
                         IMAGO_ETUF_HASH);
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abc", 3, 1, 4, &h),
                         IMAGO_ETUF_LENGTH);
        h.h[1].hex = "00";
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abc", 3, 0, 0, &h),
                         IMAGO_ETUF_HASH);
        h.h[1].alg = "md5";
        h.h[1].hex = "900150983cd24fb0d6963f7d28e17f72";
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abc", 3, 0, 0, &h),
                         IMAGO_ETUF_HASH);
        /* uppercase hex is not the digest python-tuf compares with either */
        h.n = 1;
        h.h[0].hex = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assert_int_equal(imago_tuf_check_file((const uint8_t *)"abc", 3, 0, 0, &h),
                         IMAGO_ETUF_HASH);
}

/* Signed documents for the cross-check with Python's cryptography (skipped without the env). */
static void crosscheck_dump(void **state)
{
        const char *dir = getenv("TUF_CROSSCHECK_DIR");
        struct imago_privkey k[2];
        size_t i;

        (void)state;
        if (dir == NULL)
                skip();
        tr_gen(&k[0], IMAGO_KEY_ED25519);
        tr_gen(&k[1], IMAGO_KEY_P256);
        for (i = 0; i < 2; i++) {
                json_t *key = NULL, *msg, *s = NULL, *out;
                char path[1024], *txt;

                assert_int_equal(imago_tuf_key_public(&k[i], &key), IMAGO_OK);
                msg = json_pack("{s:s,s:s,s:i,s:{s:s},s:s}", "_type", "targets", "spec_version",
                                "1.0.31", "version", 7, "targets", "\xc3\xa9t\"\\\x7f", "x", "note",
                                "q\"uote\\back\nline");
                assert_int_equal(imago_tuf_sign(&k[i], msg, &s), IMAGO_OK);
                out = json_pack("{s:o,s:o,s:o}", "key", key, "signed", msg, "signature", s);
                txt = json_dumps(out, JSON_INDENT(1));
                snprintf(path, sizeof(path), "%s/%s.json", dir, i == 0 ? "ed25519" : "ecdsa");
                assert_int_equal(imago_file_write_atomic(path, txt, strlen(txt), 0644), IMAGO_OK);
                free(txt);
                json_decref(out);
                imago_privkey_free(&k[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(cjson_exact),
            cmocka_unit_test(key_objects),
            cmocka_unit_test(verify_threshold_json),
            cmocka_unit_test(canonical_not_serialization),
            cmocka_unit_test(vectors),
            cmocka_unit_test(parsed_fields),
            cmocka_unit_test(times),
            cmocka_unit_test(file_hashes),
            cmocka_unit_test(crosscheck_dump),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
