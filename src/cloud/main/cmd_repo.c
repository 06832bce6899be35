/*
 * `imago-cloud repo keys|status|publish|refresh`: the TUF image repository in DIR/repo
 * (docs/repo.md).  keys prints the online snapshot and timestamp public keys for the release
 * desk; status what is published and when it expires.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"
#include "cloud/main/cmd_repo.h"

#include "base/err.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "tuf/tuf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char keys_usage[] =
    "usage: imago-cloud repo keys --data DIR [--out-dir D] [--passphrase-file F]\n"
    "\n"
    "Prints the key id and PEM of the repository's online snapshot and timestamp keys\n"
    "(DIR/keys/snapshot.pub, DIR/keys/timestamp.pub): give the files to the release desk for\n"
    "'imago release root init --snapshot-key snapshot.pub --timestamp-key timestamp.pub'.\n"
    "--out-dir copies them to D/snapshot.pub and D/timestamp.pub.  With --passphrase-file\n"
    "(the cloud passphrase) keys missing from a data directory made before the repository\n"
    "are created first.\n";

static const char status_usage[] =
    "usage: imago-cloud repo status --data DIR [--json]\n"
    "\n"
    "The published versions of root, targets, snapshot and timestamp and their expiry.\n";

int imago_cloud_repo_dir(const char *data_dir, char *out, size_t cap)
{
        int n = snprintf(out, cap, "%s/%s", data_dir, IMAGO_REPO_DATA_REPO);

        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : IMAGO_OK;
}

/* Print (and copy) one public key; its TUF key id. */
static int show_key(const char *cmd, const char *data_dir, const char *role, const char *rel,
                    const char *out_dir)
{
        struct imago_pubkey pub;
        json_t *key = NULL;
        uint8_t *pem = NULL;
        char path[PATH_MAX], id[65];
        size_t len = 0;
        int r, rc = IMAGO_CLOUD_EXIT_FAIL;

        if ((r = snprintf(path, sizeof(path), "%s/%s", data_dir, rel) >= (int)sizeof(path)
                     ? IMAGO_EINVAL
                     : 0) != 0 ||
            (r = imago_file_read(path, 4096, &pem, &len)) != 0 ||
            (r = imago_pubkey_load(path, &pub)) != 0 ||
            (r = imago_tuf_key_from_pub(&pub, &key)) != 0 || (r = imago_tuf_keyid(key, id)) != 0) {
                imago_cloud_fail(cmd, path, r);
                if (r == IMAGO_ENOTFOUND)
                        fprintf(stderr,
                                "imago-cloud: %s: a data directory made before the "
                                "repository: add --passphrase-file to create the keys\n",
                                cmd);
                goto out;
        }
        printf("%s key: %s\nkeyid: %s\n%.*s", role, path, id, (int)len, (const char *)pem);
        if (out_dir != NULL) {
                if (snprintf(path, sizeof(path), "%s/%s.pub", out_dir, role) >= (int)sizeof(path))
                        r = IMAGO_EINVAL;
                else
                        r = imago_file_write_atomic(path, pem, len, 0644);
                if (r != 0) {
                        imago_cloud_fail(cmd, path, r);
                        goto out;
                }
                printf("written: %s\n", path);
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        json_decref(key);
        free(pem);
        return rc;
}

int imago_cloud_repo_keys(int argc, char **argv)
{
        const char *cmd = "repo keys", *data_dir = NULL, *out_dir = NULL, *pfile = NULL;
        struct imago_privkey sn, ts;
        char *pass = NULL;
        int i, m, r, rc;

        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(keys_usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, cmd, "--out-dir", &out_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, cmd, "--passphrase-file", &pfile))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
        }
        if (data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if (pfile != NULL) {
                if ((r = imago_cloud_passphrase(pfile, &pass)) != 0)
                        return imago_cloud_fail(cmd, pfile, r);
                r = imago_repo_keys_load(data_dir, pass, 1, &sn, &ts);
                imago_cloud_passphrase_free(pass);
                if (r != 0)
                        return imago_cloud_fail(cmd, "online keys", r);
                imago_privkey_free(&sn);
                imago_privkey_free(&ts);
        }
        if ((rc = show_key(cmd, data_dir, "snapshot", IMAGO_REPO_F_SNAPSHOT_P, out_dir)) != 0)
                return rc;
        return show_key(cmd, data_dir, "timestamp", IMAGO_REPO_F_TIMESTAMP_P, out_dir);
}

static json_t *role_json(uint64_t version, int64_t expires)
{
        char t[32];

        return json_pack("{s:I,s:s,s:I}", "version", (json_int_t)version, "expires",
                         imago_cloud_utc(expires, t), "expires_unix", (json_int_t)expires);
}

int imago_cloud_repo_status(int argc, char **argv)
{
        const char *cmd = "repo status", *data_dir = NULL;
        struct imago_repo_status st;
        char repo[PATH_MAX], t[4][32];
        int i, m, r, json = 0;

        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(status_usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &data_dir))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (strcmp(argv[i], "--json") == 0) {
                        json = 1;
                        continue;
                }
                return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
        }
        if (data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if ((r = imago_cloud_repo_dir(data_dir, repo, sizeof(repo))) != 0 ||
            (r = imago_repo_status(repo, &st)) != 0)
                return imago_cloud_fail(cmd, repo, r);
        if (json) {
                json_t *j =
                    json_pack("{s:b,s:o,s:o,s:o,s:o,s:I}", "published", st.published, "root",
                              role_json(st.root_version, st.root_expires), "targets",
                              role_json(st.targets_version, st.targets_expires), "snapshot",
                              role_json(st.snapshot_version, st.snapshot_expires), "timestamp",
                              role_json(st.timestamp_version, st.timestamp_expires),
                              "targets_count", (json_int_t)st.n_targets);

                r = imago_cloud_print_json(j);
                json_decref(j);
                return r != 0 ? imago_cloud_fail(cmd, NULL, r) : IMAGO_CLOUD_EXIT_OK;
        }
        if (!st.published) {
                printf("repository: %s\nnothing published yet (root version %llu)\n", repo,
                       (unsigned long long)st.root_version);
                return IMAGO_CLOUD_EXIT_OK;
        }
        printf("repository: %s\n"
               "root       version %llu  expires %s\n"
               "targets    version %llu  expires %s  (%zu targets)\n"
               "snapshot   version %llu  expires %s\n"
               "timestamp  version %llu  expires %s\n",
               repo, (unsigned long long)st.root_version, imago_cloud_utc(st.root_expires, t[0]),
               (unsigned long long)st.targets_version, imago_cloud_utc(st.targets_expires, t[1]),
               st.n_targets, (unsigned long long)st.snapshot_version,
               imago_cloud_utc(st.snapshot_expires, t[2]), (unsigned long long)st.timestamp_version,
               imago_cloud_utc(st.timestamp_expires, t[3]));
        if (st.timestamp_expires <= (int64_t)time(NULL))
                printf("the timestamp has EXPIRED: run 'imago-cloud repo refresh' or start the "
                       "service\n");
        return IMAGO_CLOUD_EXIT_OK;
}

static const struct imago_cloud_cmd repo_cmds[] = {
    {"keys", imago_cloud_repo_keys, "print the online snapshot and timestamp public keys"},
    {"publish", imago_cloud_repo_publish, "publish a release signed by the release desk"},
    {"status", imago_cloud_repo_status, "show the published versions and expiries"},
    {"refresh", imago_cloud_repo_refresh, "re-sign the timestamp now"},
};

int imago_cloud_cmd_repo(int argc, char **argv)
{
        return imago_cloud_dispatch("repo", repo_cmds, sizeof(repo_cmds) / sizeof(repo_cmds[0]),
                                    argc - 1, argv + 1);
}
