/* Unit tests of src/base: errors, bounded reader, checked math, numbers. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cmath.h"
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/rd.h"
#include "base/sock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static void test_err_names_round_trip(void **state)
{
        int code = 0;

        (void)state;
        assert_string_equal(imago_errname(IMAGO_EIMG_MAGIC), "IMAGO_EIMG_MAGIC");
        assert_int_equal(imago_err_from_name("IMAGO_EIMG_HASH", &code), IMAGO_OK);
        assert_int_equal(code, IMAGO_EIMG_HASH);
        assert_int_equal(imago_err_from_name("IMAGO_NOPE", &code), IMAGO_ENOTFOUND);
        assert_string_equal(imago_strerror(12345), "unknown error");
        assert_string_equal(imago_strerror(IMAGO_OK), "success");
}

/* Every code has its own value: two names for one number would make imago_strerror lie. */
static void test_err_codes_unique(void **state)
{
        static const int codes[] = {
#define CODE(name, value, desc) (value),
            IMAGO_ERR_LIST(CODE)
#undef CODE
        };
        size_t n = sizeof(codes) / sizeof(codes[0]);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = i + 1; j < n; j++) {
                        if (codes[i] == codes[j])
                                fail_msg("error code %d is used by %s and %s", codes[i],
                                         imago_errname(codes[i]), imago_errname(codes[j]));
                }
        }
}

static void test_rd_reads_in_order(void **state)
{
        static const uint8_t buf[] = {1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xab, 0xcd};
        struct imago_rd rd;
        uint8_t b;
        uint16_t h;
        uint32_t w;

        (void)state;
        imago_rd_init(&rd, buf, sizeof(buf));
        assert_int_equal(imago_rd_u8(&rd, &b), IMAGO_OK);
        assert_int_equal(b, 1);
        assert_int_equal(imago_rd_u16le(&rd, &h), IMAGO_OK);
        assert_int_equal(h, 0x1234);
        assert_int_equal(imago_rd_u32le(&rd, &w), IMAGO_OK);
        assert_int_equal(w, 0x12345678);
        assert_int_equal(imago_rd_u16be(&rd, &h), IMAGO_OK);
        assert_int_equal(h, 0xabcd);
        assert_int_equal(imago_rd_done(&rd), IMAGO_OK);
}

/* A read that cannot be satisfied must not move the position nor write output. */
static void test_rd_failed_read_leaves_position(void **state)
{
        static const uint8_t buf[] = {1, 2, 3};
        struct imago_rd rd, sub;
        uint32_t w = 0xdeadbeef;
        uint64_t q = 7;
        uint8_t out[4] = {9, 9, 9, 9};
        const uint8_t *p = NULL;

        (void)state;
        imago_rd_init(&rd, buf, sizeof(buf));
        assert_int_equal(imago_rd_skip(&rd, 1), IMAGO_OK);
        assert_int_equal(imago_rd_u32le(&rd, &w), IMAGO_ETRUNC);
        assert_int_equal(w, 0xdeadbeef);
        assert_int_equal(imago_rd_u64le(&rd, &q), IMAGO_ETRUNC);
        assert_int_equal(q, 7);
        assert_int_equal(imago_rd_bytes(&rd, out, 3), IMAGO_ETRUNC);
        assert_int_equal(out[0], 9);
        assert_int_equal(imago_rd_ptr(&rd, &p, 3), IMAGO_ETRUNC);
        assert_null(p);
        assert_int_equal(imago_rd_sub(&rd, &sub, 5), IMAGO_ETRUNC);
        assert_int_equal(imago_rd_skip(&rd, SIZE_MAX), IMAGO_ETRUNC);
        assert_int_equal(rd.pos, 1);
        assert_int_equal(imago_rd_left(&rd), 2);
        assert_int_equal(imago_rd_done(&rd), IMAGO_ETRAILING);
        assert_int_equal(imago_rd_sub(&rd, &sub, 2), IMAGO_OK);
        assert_int_equal(imago_rd_left(&sub), 2);
        assert_int_equal(imago_rd_done(&rd), IMAGO_OK);
}

static void test_rd_null_buffer_is_empty(void **state)
{
        struct imago_rd rd;
        uint8_t b;

        (void)state;
        imago_rd_init(&rd, NULL, 100);
        assert_int_equal(imago_rd_left(&rd), 0);
        assert_int_equal(imago_rd_u8(&rd, &b), IMAGO_ETRUNC);
}

static void test_cmath_overflow(void **state)
{
        uint32_t u = 5;
        size_t s = 5;

        (void)state;
        assert_int_equal(imago_add_u32(UINT32_MAX, 1, &u), IMAGO_EOVERFLOW);
        assert_int_equal(u, 5);
        assert_int_equal(imago_add_u32(1, 2, &u), IMAGO_OK);
        assert_int_equal(u, 3);
        assert_int_equal(imago_mul_u32(0x10000, 0x10000, &u), IMAGO_EOVERFLOW);
        assert_int_equal(imago_add_size(SIZE_MAX, 1, &s), IMAGO_EOVERFLOW);
        assert_int_equal(imago_mul_size(SIZE_MAX / 2 + 1, 2, &s), IMAGO_EOVERFLOW);
        assert_int_equal(imago_align_up_u32(13, 8, &u), IMAGO_OK);
        assert_int_equal(u, 16);
        assert_int_equal(imago_align_up_u32(UINT32_MAX - 2, 8, &u), IMAGO_EOVERFLOW);
        assert_int_equal(imago_align_up_u32(1, 0, &u), IMAGO_EINVAL);
}

static void test_num_strict(void **state)
{
        uint32_t v = 77;
        uint64_t q;

        (void)state;
        assert_int_equal(imago_parse_u32("42", 100, &v), IMAGO_OK);
        assert_int_equal(v, 42);
        assert_int_equal(imago_parse_u32("0x1F", 100, &v), IMAGO_OK);
        assert_int_equal(v, 31);
        v = 77;
        assert_int_equal(imago_parse_u32("101", 100, &v), IMAGO_ERANGE);
        assert_int_equal(imago_parse_u32("", 100, &v), IMAGO_EINVAL);
        assert_int_equal(imago_parse_u32("-1", 100, &v), IMAGO_EINVAL);
        assert_int_equal(imago_parse_u32(" 1", 100, &v), IMAGO_EINVAL);
        assert_int_equal(imago_parse_u32("1 ", 100, &v), IMAGO_EINVAL);
        assert_int_equal(imago_parse_u32("0x", 100, &v), IMAGO_EINVAL);
        assert_int_equal(v, 77);
        assert_int_equal(imago_parse_u64("18446744073709551616", UINT64_MAX, &q), IMAGO_ERANGE);
        assert_int_equal(imago_parse_size("64K", UINT32_MAX, &v), IMAGO_OK);
        assert_int_equal(v, 65536);
        assert_int_equal(imago_parse_size("2M", UINT32_MAX, &v), IMAGO_OK);
        assert_int_equal(v, 2 * 1024 * 1024);
        assert_int_equal(imago_parse_size("8192M", UINT32_MAX, &v), IMAGO_ERANGE);
        assert_int_equal(imago_parse_size("K", UINT32_MAX, &v), IMAGO_EINVAL);
}

/* New files are created whole with their mode, and never replace an existing one. */
static void test_file_write_new_never_replaces(void **state)
{
        char dir[] = "/tmp/imago-base-XXXXXX", path[64];
        struct stat st;
        uint8_t *data;
        size_t len;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/key", dir);
        assert_int_equal(imago_file_write_new(path, "first", 5, 0600), IMAGO_OK);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(imago_file_write_new(path, "second", 6, 0600), IMAGO_EEXIST);
        assert_int_equal(imago_file_read(path, 100, &data, &len), IMAGO_OK);
        assert_int_equal(len, 5);
        assert_memory_equal(data, "first", 5);
        imago_file_free(data, len);
        /* The atomic writer replaces; the reader refuses what is over its limit. */
        assert_int_equal(imago_file_write_atomic(path, "third!", 6, 0644), IMAGO_OK);
        assert_int_equal(imago_file_read(path, 5, &data, &len), IMAGO_ETOOBIG);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(imago_file_read(path, 100, &data, &len), IMAGO_ENOTFOUND);
        assert_int_equal(rmdir(dir), 0);
}

static void test_hex_and_device_ids(void **state)
{
        static const uint8_t bytes[] = {0x00, 0x9f, 0xab, 0xff};
        uint8_t back[4] = {0};
        char out[9];

        (void)state;
        imago_hex_encode(bytes, sizeof(bytes), out);
        assert_string_equal(out, "009fabff");
        assert_int_equal(imago_hex_decode(out, back, sizeof(back)), IMAGO_OK);
        assert_memory_equal(back, bytes, sizeof(bytes));
        assert_int_equal(imago_hex_decode("009FABFF", back, 4), IMAGO_EMALFORMED);
        assert_int_equal(imago_hex_decode("009fab", back, 4), IMAGO_EMALFORMED);
        assert_int_equal(imago_hex_decode("009fabff00", back, 4), IMAGO_EMALFORMED);
        assert_true(imago_device_id_valid("0123456789abcdef0123456789abcdef"));
        assert_false(imago_device_id_valid("0123456789abcdef0123456789abcde"));
        assert_false(imago_device_id_valid("0123456789abcdef0123456789abcdef0"));
        assert_false(imago_device_id_valid("0123456789ABCDEF0123456789abcdef"));
        assert_false(imago_device_id_valid("0123456789abcdef 123456789abcdef"));
        assert_false(imago_device_id_valid(NULL));
        assert_true(imago_hex_is_lower("ab", 1, 40));
        assert_false(imago_hex_is_lower("", 1, 40));
}

/* imago_sock: connect to a listener, a closed port refused, waits end at their deadline. */
static void test_sock_connect_and_wait(void **state)
{
        struct sockaddr_in a;
        socklen_t al = sizeof(a);
        int l, fd = -1, closed_port;
        uint64_t t0;

        (void)state;
        l = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(l >= 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(l, 1), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
        assert_int_equal(
            imago_sock_connect("127.0.0.1", ntohs(a.sin_port), imago_mono_ms() + 5000, &fd),
            IMAGO_OK);
        assert_true(fd >= 0);
        /* nothing to read: the wait ends at its deadline */
        t0 = imago_mono_ms();
        assert_int_equal(imago_sock_wait(fd, POLLIN, t0 + 50), IMAGO_EIO);
        assert_true(imago_mono_ms() >= t0 + 50);
        assert_int_equal(imago_sock_wait(fd, POLLOUT, imago_mono_ms() + 1000), IMAGO_OK);
        close(fd);
        closed_port = ntohs(a.sin_port);
        close(l); /* the port is closed now */
        assert_int_equal(
            imago_sock_connect("127.0.0.1", (uint16_t)closed_port, imago_mono_ms() + 2000, &fd),
            IMAGO_EIO);
        assert_int_equal(fd, -1);
        assert_int_equal(imago_sock_connect(NULL, 80, 0, &fd), IMAGO_EINVAL);
        assert_int_equal(imago_sock_wait(-1, POLLIN, 0), IMAGO_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_err_names_round_trip),
            cmocka_unit_test(test_err_codes_unique),
            cmocka_unit_test(test_rd_reads_in_order),
            cmocka_unit_test(test_rd_failed_read_leaves_position),
            cmocka_unit_test(test_rd_null_buffer_is_empty),
            cmocka_unit_test(test_cmath_overflow),
            cmocka_unit_test(test_num_strict),
            cmocka_unit_test(test_file_write_new_never_replaces),
            cmocka_unit_test(test_hex_and_device_ids),
            cmocka_unit_test(test_sock_connect_and_wait),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
