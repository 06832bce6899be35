/*
 * imago-bench-tuf-verify: time and peak heap of the device's TUF update
 * decision for a repository of N targets.
 *
 * The program signs an image repository in-process with the TUF core
 * (tuf/tuf.h): root, timestamp, snapshot and targets, one key per role, all
 * ed25519 or all ecdsa-sha2-nistp256, consistent snapshots, N targets each
 * with length, sha256 and the custom fields of docs/ota.md (hardware_id,
 * version, security_counter).  The files go to a repository directory and
 * are served by a local fetcher (a get function reading that directory, with
 * the fetcher contract of tuf/client/client.h).  Each run starts from a fresh
 * metadata directory holding only the trusted root, and times
 * imago_tuf_client_open + refresh + find of one target: the full client
 * decision (4 signature checks, 2 hashes, parsing, and the atomic writes of
 * the accepted metadata with fsync).
 *
 * Peak heap: this program replaces malloc and friends with counting wrappers
 * around glibc's (tests/support/heap_count.h); the figure is
 * the highest number of live heap bytes (malloc_usable_size) above those live
 * before the client was opened, over all runs.  Not counted under
 * AddressSanitizer (prints -1).
 *
 * Usage: imago-bench-tuf-verify [--runs R] [--repo-dir DIR] N ed25519|ecdsa
 *   --repo-dir DIR keeps the signed repository in DIR (created; files
 *   root.json, 1.root.json, timestamp.json, 1.snapshot.json, 1.targets.json)
 *   instead of a temporary directory that is removed at the end.
 * Output: one line of key=value pairs (times in ms; cpu: the process's CPU time
 * over the same interval, which leaves out fsync waits and other load):
 *   n key runs median_ms min_ms max_ms cpu_median_ms peak_heap_bytes meta_bytes
 *   targets_bytes sign_ms
 * Exit 0, 1 on a failure, 2 on usage.
 */
#define _GNU_SOURCE
#include "../../tests/support/heap_count.h"
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/num.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "tuf/client/client.h"
#include "tuf/tuf.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define RUNS_MAX    101
#define EXPIRES     "2100-01-01T00:00:00Z"
#define LOCAL_URL   "local:/"
#define FETCH_CHUNK 65536

/* ---- helpers ---- */

static double clock_ms(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
        return clock_ms(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_tree(const char *dir)
{
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
        int n = snprintf(out, cap, "%s/%s", dir, name);

        return n < 0 || (size_t)n >= cap ? IMAGO_ETOOBIG : IMAGO_OK;
}

/* ---- the local fetcher: LOCAL_URL + name -> repo_dir/name ---- */

static int local_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink, void *arg)
{
        const char *dir = ctx;
        char path[4096];
        uint8_t *buf;
        uint64_t off = 0;
        ssize_t n;
        int fd, r = IMAGO_OK;

        if (strncmp(url, LOCAL_URL, strlen(LOCAL_URL)) != 0 ||
            strchr(url + strlen(LOCAL_URL), '/') != NULL)
                return IMAGO_EINVAL;
        if (path_join(path, sizeof(path), dir, url + strlen(LOCAL_URL)) != IMAGO_OK)
                return IMAGO_EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        buf = malloc(FETCH_CHUNK);
        if (buf == NULL) {
                close(fd);
                return IMAGO_ENOMEM;
        }
        for (;;) {
                size_t want = FETCH_CHUNK;

                if (off == max) {
                        /* The limit: anything more is endless data. */
                        n = read(fd, buf, 1);
                        r = n > 0 ? IMAGO_ETUF_LENGTH : n < 0 ? IMAGO_EIO : IMAGO_OK;
                        break;
                }
                if (max - off < want)
                        want = (size_t)(max - off);
                n = read(fd, buf, want);
                if (n < 0) {
                        r = IMAGO_EIO;
                        break;
                }
                if (n == 0)
                        break;
                r = sink(arg, buf, (size_t)n);
                if (r != IMAGO_OK)
                        break;
                off += (uint64_t)n;
        }
        free(buf);
        close(fd);
        return r;
}

/* ---- the repository ---- */

struct repo {
        struct imago_privkey root, ts, snap, tgt;
        char dir[4096];
        size_t meta_bytes, targets_bytes;
        char find[64]; /* the target looked up */
};

static int key_entry(const struct imago_privkey *k, json_t *keys, json_t **role)
{
        json_t *o = NULL;
        char id[65];
        int r = imago_tuf_key_public(k, &o);

        if (r == IMAGO_OK)
                r = imago_tuf_keyid(o, id);
        if (r == IMAGO_OK && json_object_set(keys, id, o) != 0)
                r = IMAGO_ENOMEM;
        json_decref(o);
        if (r != IMAGO_OK)
                return r;
        *role = json_pack("{s:[s],s:i}", "keyids", id, "threshold", 1);
        return *role ? IMAGO_OK : IMAGO_ENOMEM;
}

/* Sign signed_obj (reference kept by the caller) with k, write it to dir/name (and dir/name2). */
static int publish(struct repo *rp, const json_t *signed_obj, const struct imago_privkey *k,
                   const char *name, const char *name2, uint8_t **bytes, size_t *len)
{
        json_t *sig = NULL, *doc;
        char path[4096 + 64], *out;
        int r = imago_tuf_sign(k, signed_obj, &sig);

        if (r != IMAGO_OK)
                return r;
        doc = json_pack("{s:O,s:[o]}", "signed", signed_obj, "signatures", sig);
        if (doc == NULL)
                return IMAGO_ENOMEM;
        out = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (out == NULL)
                return IMAGO_ENOMEM;
        *len = strlen(out);
        r = path_join(path, sizeof(path), rp->dir, name);
        if (r == IMAGO_OK)
                r = imago_file_write_atomic(path, out, *len, 0644);
        if (r == IMAGO_OK && name2 != NULL) {
                r = path_join(path, sizeof(path), rp->dir, name2);
                if (r == IMAGO_OK)
                        r = imago_file_write_atomic(path, out, *len, 0644);
        }
        if (r != IMAGO_OK || bytes == NULL)
                free(out);
        else
                *bytes = (uint8_t *)out;
        return r;
}

static json_t *metafile(const uint8_t *b, size_t len)
{
        uint8_t d[IMAGO_SHA256_LEN];
        char hex[2 * IMAGO_SHA256_LEN + 1];

        if (imago_sha256(b, len, d) != IMAGO_OK)
                return NULL;
        imago_hex_encode(d, sizeof(d), hex);
        return json_pack("{s:i,s:I,s:{s:s}}", "version", 1, "length", (json_int_t)len, "hashes",
                         "sha256", hex);
}

static json_t *targets_map(size_t n)
{
        json_t *map = json_object();
        uint8_t d[IMAGO_SHA256_LEN];
        char name[64], hex[2 * IMAGO_SHA256_LEN + 1], ver[32];
        size_t i;

        for (i = 0; map != NULL && i < n; i++) {
                json_t *t;

                snprintf(name, sizeof(name), "fw-%06zu.bin", i);
                snprintf(ver, sizeof(ver), "1.%zu.0", i);
                if (imago_sha256(name, strlen(name), d) != IMAGO_OK)
                        goto fail;
                imago_hex_encode(d, sizeof(d), hex);
                t = json_pack("{s:I,s:{s:s},s:{s:s,s:s,s:i}}", "length", (json_int_t)(1048576 + i),
                              "hashes", "sha256", hex, "custom", "hardware_id", "imago-devkit-1",
                              "version", ver, "security_counter", (int)(1 + i % 7));
                if (t == NULL || json_object_set_new(map, name, t) != 0)
                        goto fail;
        }
        return map;
fail:
        json_decref(map);
        return NULL;
}

static int repo_build(struct repo *rp, size_t n, enum imago_key_type type)
{
        json_t *keys = json_object(), *rr = NULL, *rt = NULL, *rs = NULL, *rg = NULL, *o;
        uint8_t *tb = NULL, *sb = NULL;
        size_t len;
        int r;

        r = imago_privkey_generate(type, &rp->root);
        if (r == IMAGO_OK)
                r = imago_privkey_generate(type, &rp->ts);
        if (r == IMAGO_OK)
                r = imago_privkey_generate(type, &rp->snap);
        if (r == IMAGO_OK)
                r = imago_privkey_generate(type, &rp->tgt);
        if (r == IMAGO_OK && keys == NULL)
                r = IMAGO_ENOMEM;
        if (r == IMAGO_OK)
                r = key_entry(&rp->root, keys, &rr);
        if (r == IMAGO_OK)
                r = key_entry(&rp->ts, keys, &rt);
        if (r == IMAGO_OK)
                r = key_entry(&rp->snap, keys, &rs);
        if (r == IMAGO_OK)
                r = key_entry(&rp->tgt, keys, &rg);
        if (r != IMAGO_OK) {
                json_decref(keys);
                json_decref(rr);
                json_decref(rt);
                json_decref(rs);
                json_decref(rg);
                return r;
        }
        o = json_pack("{s:s,s:s,s:b,s:s,s:o,s:{s:o,s:o,s:o,s:o},s:i}", "_type", "root",
                      "spec_version", "1.0.31", "consistent_snapshot", 1, "expires", EXPIRES,
                      "keys", keys, "roles", "root", rr, "timestamp", rt, "snapshot", rs, "targets",
                      rg, "version", 1);
        if (o == NULL)
                return IMAGO_ENOMEM;
        r = publish(rp, o, &rp->root, "root.json", "1.root.json", NULL, &len);
        json_decref(o);
        if (r != IMAGO_OK)
                return r;
        rp->meta_bytes = len;

        o = targets_map(n);
        if (o == NULL)
                return IMAGO_ENOMEM;
        o = json_pack("{s:s,s:s,s:s,s:i,s:o}", "_type", "targets", "spec_version", "1.0.31",
                      "expires", EXPIRES, "version", 1, "targets", o);
        if (o == NULL)
                return IMAGO_ENOMEM;
        r = publish(rp, o, &rp->tgt, "1.targets.json", NULL, &tb, &len);
        json_decref(o);
        if (r != IMAGO_OK)
                return r;
        rp->targets_bytes = len;
        rp->meta_bytes += len;

        o = json_pack("{s:s,s:s,s:s,s:i,s:{s:o}}", "_type", "snapshot", "spec_version", "1.0.31",
                      "expires", EXPIRES, "version", 1, "meta", "targets.json",
                      metafile(tb, rp->targets_bytes));
        free(tb);
        if (o == NULL)
                return IMAGO_ENOMEM;
        r = publish(rp, o, &rp->snap, "1.snapshot.json", NULL, &sb, &len);
        json_decref(o);
        if (r != IMAGO_OK)
                return r;
        rp->meta_bytes += len;

        o = json_pack("{s:s,s:s,s:s,s:i,s:{s:o}}", "_type", "timestamp", "spec_version", "1.0.31",
                      "expires", EXPIRES, "version", 1, "meta", "snapshot.json", metafile(sb, len));
        free(sb);
        if (o == NULL)
                return IMAGO_ENOMEM;
        r = publish(rp, o, &rp->ts, "timestamp.json", NULL, NULL, &len);
        json_decref(o);
        if (r != IMAGO_OK)
                return r;
        rp->meta_bytes += len;
        snprintf(rp->find, sizeof(rp->find), "fw-%06zu.bin", n / 2);
        return IMAGO_OK;
}

static void repo_free(struct repo *rp)
{
        imago_privkey_free(&rp->root);
        imago_privkey_free(&rp->ts);
        imago_privkey_free(&rp->snap);
        imago_privkey_free(&rp->tgt);
}

/* ---- one client decision ---- */

static int decide(struct repo *rp, const char *mdir, double *ms, double *cpu, size_t *peak_bytes)
{
        struct imago_tuf_fetcher f = {local_get, rp->dir};
        struct imago_tuf_client c;
        const struct imago_tuf_target *t = NULL;
        char root[4096 + 64];
        size_t base;
        double t0, c0;
        int r;

        rm_tree(mdir);
        if (mkdir(mdir, 0700) != 0)
                return IMAGO_EIO;
        r = path_join(root, sizeof(root), rp->dir, "root.json");
        if (r == IMAGO_OK)
                r = imago_tuf_client_init_dir(mdir, root);
        if (r != IMAGO_OK)
                return r;
        base = heap_count_start();
        c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        t0 = now_ms();
        r = imago_tuf_client_open(&c, mdir, LOCAL_URL, &f, NULL);
        if (r != IMAGO_OK)
                return r;
        r = imago_tuf_client_refresh(&c);
        if (r == IMAGO_OK)
                r = imago_tuf_client_find(&c, rp->find, &t);
        if (r == IMAGO_OK && (t == NULL || t->length == 0))
                r = IMAGO_ETUF_NOTARGET;
        imago_tuf_client_close(&c);
        *ms = now_ms() - t0;
        *cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        *peak_bytes = heap_count_peak_since(base);
        return r;
}

int main(int argc, char **argv)
{
        struct repo rp;
        enum imago_key_type type;
        const char *repo_dir = NULL, *kname;
        char tmp[] = "/tmp/imago-bench-tuf-XXXXXX", mdir[4096 + 16];
        double times[RUNS_MAX], cpus[RUNS_MAX], t0, sign_ms;
        size_t n, pk, peak_max = 0;
        uint32_t runs = 7, nn = 0;
        int i = 1, k, r;

        while (i < argc && argv[i][0] == '-') {
                if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
                        if (imago_parse_u32(argv[i + 1], RUNS_MAX, &runs) != IMAGO_OK)
                                runs = 0;
                        i += 2;
                } else if (strcmp(argv[i], "--repo-dir") == 0 && i + 1 < argc) {
                        repo_dir = argv[i + 1];
                        i += 2;
                } else {
                        break;
                }
        }
        if (argc - i != 2 || runs < 1 || runs > RUNS_MAX) {
                fprintf(stderr,
                        "usage: imago-bench-tuf-verify [--runs 1..%d] [--repo-dir DIR] N "
                        "ed25519|ecdsa\n",
                        RUNS_MAX);
                return 2;
        }
        if (imago_parse_u32(argv[i], 100000, &nn) != IMAGO_OK)
                nn = 0;
        n = nn;
        kname = argv[i + 1];
        if (strcmp(kname, "ed25519") == 0)
                type = IMAGO_KEY_ED25519;
        else if (strcmp(kname, "ecdsa") == 0)
                type = IMAGO_KEY_P256;
        else {
                fprintf(stderr, "imago-bench-tuf-verify: key type ed25519 or ecdsa\n");
                return 2;
        }
        if (n < 1 || n > 100000) {
                fprintf(stderr, "imago-bench-tuf-verify: N from 1 to 100000\n");
                return 2;
        }
        memset(&rp, 0, sizeof(rp));
        if (mkdtemp(tmp) == NULL) {
                perror("mkdtemp");
                return 1;
        }
        if (repo_dir != NULL) {
                if (mkdir(repo_dir, 0755) != 0 && errno != EEXIST) {
                        perror(repo_dir);
                        rm_tree(tmp);
                        return 1;
                }
                snprintf(rp.dir, sizeof(rp.dir), "%s", repo_dir);
        } else {
                snprintf(rp.dir, sizeof(rp.dir), "%s/repo", tmp);
                if (mkdir(rp.dir, 0755) != 0) {
                        perror(rp.dir);
                        rm_tree(tmp);
                        return 1;
                }
        }
        snprintf(mdir, sizeof(mdir), "%s/meta", tmp);
        t0 = now_ms();
        r = repo_build(&rp, n, type);
        sign_ms = now_ms() - t0;
        for (k = 0; r == IMAGO_OK && k < (int)runs; k++) {
                r = decide(&rp, mdir, &times[k], &cpus[k], &pk);
                if (pk > peak_max)
                        peak_max = pk;
        }
        repo_free(&rp);
        rm_tree(tmp);
        if (r != IMAGO_OK) {
                fprintf(stderr, "imago-bench-tuf-verify: %s\n", imago_errname(r));
                return 1;
        }
        qsort(times, runs, sizeof(times[0]), cmp_double);
        qsort(cpus, runs, sizeof(cpus[0]), cmp_double);
#ifdef HEAP_COUNT_OFF
        peak_max = (size_t)-1;
#endif
        printf("n=%zu key=%s runs=%u median_ms=%.3f min_ms=%.3f max_ms=%.3f cpu_median_ms=%.3f "
               "peak_heap_bytes=%lld "
               "meta_bytes=%zu targets_bytes=%zu sign_ms=%.1f\n",
               n, kname, (unsigned)runs, times[runs / 2], times[0], times[runs - 1], cpus[runs / 2],
               peak_max == (size_t)-1 ? -1LL : (long long)peak_max, rp.meta_bytes, rp.targets_bytes,
               sign_ms);
        return 0;
}
