/*
 * `imago-cloud repo publish|refresh`: publish a release the release desk signed (root
 * versions and targets) with the online snapshot and timestamp keys, and re-sign the
 * timestamp.  Both append an audit record (repo.publish, repo.timestamp) to DIR/audit.db.
 * Test hook: IMAGO_REPO_TEST_STOP_AFTER=K stops publish after step K (1..5, docs/repo.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"
#include "cloud/main/cmd_repo.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "cloud/audit/audit.h"
#include "crypto/keys.h"
#include "tuf/tuf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char publish_usage[] =
    "usage: imago-cloud repo publish --data DIR --passphrase-file F [--root ROOT ...]\n"
    "                                --targets TARGETS [--files DIR_OF_IMAGES]\n"
    "\n"
    "Publishes in DIR/repo (served as is: metadata/ and targets/) the root versions given\n"
    "(oldest first; each must be the next version signed by the old and the new root keys;\n"
    "a new repository starts with version 1) and the targets metadata (signed to the\n"
    "threshold of the newest root, version above the published one), with the target files\n"
    "from DIR_OF_IMAGES/NAME (checked against length and hashes), a new snapshot and a new\n"
    "timestamp signed with the online keys.  The cloud passphrase opens the online keys\n"
    "(or IMAGO_KEY_PASSPHRASE).  Nothing is written when a check fails.\n";

static const char refresh_usage[] =
    "usage: imago-cloud repo refresh --data DIR --passphrase-file F [--if-needed]\n"
    "\n"
    "Re-signs the timestamp now (version + 1, the same snapshot); a snapshot within half its\n"
    "lifetime of expiring is re-signed too.  --if-needed: only what is within half its\n"
    "lifetime of expiring (what the service does on its timer).\n";

struct pargs {
        const char *data_dir, *pfile, *targets, *files;
        const char *roots[IMAGO_REPO_ROOTS_MAX];
        size_t n_roots;
        int if_needed;
};

static int parse(int argc, char **argv, const char *cmd, int publish, struct pargs *a)
{
        const char *root;
        int i, m;

        memset(a, 0, sizeof(*a));
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(publish ? publish_usage : refresh_usage, stdout);
                        return 100;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &a->data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, cmd, "--passphrase-file", &a->pfile)) ||
                    (publish &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--targets", &a->targets))) ||
                    (publish && (m = imago_cloud_opt(argc, argv, &i, cmd, "--files", &a->files)))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (publish && (m = imago_cloud_opt(argc, argv, &i, cmd, "--root", &root))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        if (a->n_roots == IMAGO_REPO_ROOTS_MAX)
                                return imago_cloud_usage(cmd, "at most %u --root",
                                                         IMAGO_REPO_ROOTS_MAX);
                        a->roots[a->n_roots++] = root;
                        continue;
                }
                if (!publish && strcmp(argv[i], "--if-needed") == 0) {
                        a->if_needed = 1;
                        continue;
                }
                return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
        }
        if (a->data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if (publish && a->targets == NULL)
                return imago_cloud_usage(cmd, "--targets is required");
        return -1;
}

/* Options from DIR/repo/repo.conf and the test hook; the online keys. */
static int prepare(const char *cmd, const struct pargs *a, char *repo, size_t cap,
                   struct imago_repo_opts *o, struct imago_privkey *sn, struct imago_privkey *ts)
{
        const char *stop = getenv("IMAGO_REPO_TEST_STOP_AFTER");
        char *pass = NULL;
        uint32_t k;
        int r;

        if ((r = imago_cloud_repo_dir(a->data_dir, repo, cap)) != 0 ||
            (r = imago_repo_opts_load(repo, o)) != 0)
                return imago_cloud_fail(cmd, "repo/" IMAGO_REPO_F_CONF, r);
        if (stop != NULL && stop[0] != '\0') {
                if (imago_parse_u32(stop, 100, &k) != 0)
                        return imago_cloud_usage(cmd, "IMAGO_REPO_TEST_STOP_AFTER: not a step");
                o->stop_after = k;
        }
        if ((r = imago_cloud_passphrase(a->pfile, &pass)) != 0)
                return imago_cloud_fail(cmd, a->pfile, r);
        if (pass == NULL)
                return imago_cloud_usage(cmd, "--passphrase-file (or IMAGO_KEY_PASSPHRASE) is "
                                              "required");
        r = imago_repo_keys_load(a->data_dir, pass, 0, sn, ts);
        imago_cloud_passphrase_free(pass);
        if (r != 0)
                return imago_cloud_fail(cmd, "online keys (keys/snapshot.key, keys/timestamp.key)",
                                        r);
        return IMAGO_CLOUD_EXIT_OK;
}

static int audit(const char *cmd, const char *data_dir, const char *action, const char *object,
                 json_t *detail)
{
        struct imago_audit *au = NULL;
        int r, rc;

        if ((rc = imago_cloud_open_audit(cmd, data_dir, &au)) != IMAGO_CLOUD_EXIT_OK) {
                json_decref(detail);
                return rc;
        }
        r = imago_cloud_audit_cli(au, action, object, detail);
        imago_audit_close(au);
        return r != 0 ? imago_cloud_fail(cmd, "audit.db", r) : IMAGO_CLOUD_EXIT_OK;
}

static int read_all(const char *cmd, const struct pargs *a, struct imago_repo_blob *roots,
                    uint8_t **tbuf, size_t *tlen)
{
        size_t i;
        int r;

        for (i = 0; i < a->n_roots; i++) {
                uint8_t *b = NULL;

                if ((r = imago_file_read(a->roots[i], IMAGO_TUF_ROOT_MAX, &b, &roots[i].len)) != 0)
                        return imago_cloud_fail(cmd, a->roots[i], r);
                roots[i].buf = b;
        }
        if ((r = imago_file_read(a->targets, IMAGO_TUF_TARGETS_MAX, tbuf, tlen)) != 0)
                return imago_cloud_fail(cmd, a->targets, r);
        return IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_repo_publish(int argc, char **argv)
{
        const char *cmd = "repo publish";
        struct imago_repo_blob roots[IMAGO_REPO_ROOTS_MAX];
        struct imago_privkey sn, ts;
        struct imago_repo_keys k;
        struct imago_repo_opts o;
        struct imago_repo_status st;
        struct pargs a;
        char repo[PATH_MAX], why[IMAGO_REPO_WHY_MAX], obj[64];
        uint8_t *tbuf = NULL;
        size_t tlen = 0, i;
        int r, rc;

        memset(roots, 0, sizeof(roots));
        memset(&sn, 0, sizeof(sn));
        memset(&ts, 0, sizeof(ts));
        if ((rc = parse(argc, argv, cmd, 1, &a)) >= 0)
                return rc == 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = read_all(cmd, &a, roots, &tbuf, &tlen)) != 0 ||
            (rc = prepare(cmd, &a, repo, sizeof(repo), &o, &sn, &ts)) != 0)
                goto out;
        k.snapshot = &sn;
        k.timestamp = &ts;
        r = imago_repo_publish(repo, &k, &o, roots, a.n_roots, tbuf, tlen, a.files, why,
                               sizeof(why));
        if (r != 0) {
                rc = imago_cloud_fail(cmd, why[0] != '\0' ? why : repo, r);
                goto out;
        }
        if ((r = imago_repo_status(repo, &st)) != 0) {
                rc = imago_cloud_fail(cmd, repo, r);
                goto out;
        }
        printf("published: root %llu, targets %llu (%zu targets), snapshot %llu, timestamp "
               "%llu\n",
               (unsigned long long)st.root_version, (unsigned long long)st.targets_version,
               st.n_targets, (unsigned long long)st.snapshot_version,
               (unsigned long long)st.timestamp_version);
        snprintf(obj, sizeof(obj), "targets/%llu", (unsigned long long)st.targets_version);
        rc = audit(cmd, a.data_dir, "repo.publish", obj,
                   json_pack("{s:I,s:I,s:I,s:I,s:I}", "root", (json_int_t)st.root_version,
                             "targets", (json_int_t)st.targets_version, "snapshot",
                             (json_int_t)st.snapshot_version, "timestamp",
                             (json_int_t)st.timestamp_version, "count", (json_int_t)st.n_targets));
out:
        for (i = 0; i < a.n_roots && i < IMAGO_REPO_ROOTS_MAX; i++)
                free((void *)roots[i].buf);
        free(tbuf);
        imago_privkey_free(&sn);
        imago_privkey_free(&ts);
        return rc;
}

int imago_cloud_repo_refresh(int argc, char **argv)
{
        const char *cmd = "repo refresh";
        struct imago_privkey sn, ts;
        struct imago_repo_keys k;
        struct imago_repo_opts o;
        struct imago_repo_status st;
        struct pargs a;
        char repo[PATH_MAX], why[IMAGO_REPO_WHY_MAX], obj[64];
        int r, rc, did = 0;

        memset(&sn, 0, sizeof(sn));
        memset(&ts, 0, sizeof(ts));
        if ((rc = parse(argc, argv, cmd, 0, &a)) >= 0)
                return rc == 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = prepare(cmd, &a, repo, sizeof(repo), &o, &sn, &ts)) != 0)
                goto out;
        k.snapshot = &sn;
        k.timestamp = &ts;
        if ((r = imago_repo_refresh(repo, &k, &o, !a.if_needed, &did, why, sizeof(why))) != 0 ||
            (r = imago_repo_status(repo, &st)) != 0) {
                rc = imago_cloud_fail(cmd, why[0] != '\0' ? why : repo, r);
                goto out;
        }
        if (did == 0) {
                printf("nothing to re-sign (timestamp %llu)\n",
                       (unsigned long long)st.timestamp_version);
                goto out;
        }
        printf("re-signed: %stimestamp %llu (snapshot %llu)\n", did == 2 ? "snapshot and " : "",
               (unsigned long long)st.timestamp_version, (unsigned long long)st.snapshot_version);
        snprintf(obj, sizeof(obj), "timestamp/%llu", (unsigned long long)st.timestamp_version);
        rc = audit(cmd, a.data_dir, "repo.timestamp", obj,
                   json_pack("{s:I,s:I,s:b}", "timestamp", (json_int_t)st.timestamp_version,
                             "snapshot", (json_int_t)st.snapshot_version, "snapshot_resigned",
                             did == 2));
out:
        imago_privkey_free(&sn);
        imago_privkey_free(&ts);
        return rc;
}
