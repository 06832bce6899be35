/*
 * svc_ota (imago-cloud serving block requests): which topics are ours and
 * how an object name becomes a file.  Attacks: a symbolic link planted in
 * the repository (at the end or on the way), "..", ".", empty components,
 * a directory or a FIFO named as a target, a topic with another suffix or a
 * malformed device id.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cloud/svc_ota_priv.h"

static char root[64];
static int rootfd = -1;

static void put(const char *rel, const char *text)
{
        char p[256];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_non_null(f = fopen(p, "w"));
        fputs(text, f);
        fclose(f);
}

static int setup(void **state)
{
        char p[256];

        (void)state;
        snprintf(root, sizeof(root), "/tmp/test_cloud_ota.XXXXXX");
        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof(p), "%s/repo", root);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/repo/targets", root);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/repo/targets/fw", root);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/outside", root);
        assert_int_equal(mkdir(p, 0700), 0);
        put("repo/targets/fw/a.img", "image");
        put("outside/secret", "secret");
        snprintf(p, sizeof(p), "%s/repo/targets/link.img", root);
        assert_int_equal(symlink("fw/a.img", p), 0);
        snprintf(p, sizeof(p), "%s/repo/targets/up", root);
        assert_int_equal(symlink("../../outside", p), 0);
        snprintf(p, sizeof(p), "%s/repo/targets/fifo", root);
        assert_int_equal(mkfifo(p, 0600), 0);
        assert_true((rootfd = open(root, O_RDONLY | O_DIRECTORY)) >= 0);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        close(rootfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static int opens(const char *rel)
{
        int fd = imago_svc_ota_open_beneath(rootfd, "repo/targets", rel);

        if (fd >= 0)
                close(fd);
        return fd >= 0;
}

static void test_regular_file_beneath_opens(void **state)
{
        char buf[16] = {0};
        int fd;

        (void)state;
        fd = imago_svc_ota_open_beneath(rootfd, "repo/targets", "fw/a.img");
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
        assert_string_equal(buf, "image");
        close(fd);
}

static void test_attack_symlink_planted_in_repo(void **state)
{
        (void)state;
        assert_false(opens("link.img"));  /* a link at the end */
        assert_false(opens("up/secret")); /* a link on the way out of the repository */
}

static void test_attack_dot_components(void **state)
{
        (void)state;
        assert_false(opens("../../outside/secret"));
        assert_false(opens("fw/../fw/a.img"));
        assert_false(opens("./fw/a.img"));
        assert_false(opens("fw//a.img"));
        assert_false(opens("fw/a.img/"));
        assert_false(opens(""));
}

static void test_not_a_regular_file(void **state)
{
        (void)state;
        assert_false(opens("fw"));   /* a directory */
        assert_false(opens("fifo")); /* would block a reader: refused, not opened for reading */
        assert_false(opens("missing"));
}

static void test_topics(void **state)
{
        const char *id = "0123456789abcdef0123456789abcdef";
        char t[128], got[33];

        (void)state;
        snprintf(t, sizeof(t), "imago/v1/d/%s/blk/req", id);
        assert_int_equal(imago_svc_ota_topic(t), 1);
        assert_true(imago_svc_ota_topic_id(t, "blk/req", got));
        assert_string_equal(got, id);
        snprintf(t, sizeof(t), "imago/v1/d/%s/ota/report", id);
        assert_int_equal(imago_svc_ota_topic(t), 2);
        snprintf(t, sizeof(t), "imago/v1/d/%s/blk/data", id);
        assert_int_equal(imago_svc_ota_topic(t), 0);
        snprintf(t, sizeof(t), "imago/v1/d/%s/blk/req/x", id);
        assert_int_equal(imago_svc_ota_topic(t), 0);
        assert_int_equal(imago_svc_ota_topic("imago/v1/d/0123456789ABCDEF0123456789abcdef/blk/req"),
                         0);
        assert_int_equal(imago_svc_ota_topic("imago/v1/d/0123456789abcdef/blk/req"), 0);
        assert_int_equal(imago_svc_ota_topic("imago/v1/d/+/blk/req"), 0);
        assert_int_equal(imago_svc_ota_topic(NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_regular_file_beneath_opens),
            cmocka_unit_test(test_attack_symlink_planted_in_repo),
            cmocka_unit_test(test_attack_dot_components),
            cmocka_unit_test(test_not_a_regular_file),
            cmocka_unit_test(test_topics),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
