/*
 * Test helper for imago_tuf_client: a TUF repository published in memory
 * (metadata signed in the test with keys generated in the test, through
 * test_tuf_repo.h) and served by a fetch callback: the client's own fetch
 * interface, with the fetcher's contract (404 as IMAGO_ENOTFOUND; at most
 * max bytes passed on, then IMAGO_ETUF_LENGTH).  The HTTP fetcher is
 * tested on its own (test_tuf_client_http.c).  Metadata URL "mem://m/",
 * targets URL "mem://t/".  Include after <cmocka.h>.
 */
#ifndef IMAGO_TEST_TUF_CLIENT_WORLD_H
#define IMAGO_TEST_TUF_CLIENT_WORLD_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "tuf/client/client.h"

#include "test_tuf_repo.h"

#define W_FILES_MAX 256
#define W_LOG_MAX   256

struct wfile {
        char *path;
        uint8_t *data;
        size_t len;
};

struct world {
        struct trepo k;
        struct wfile files[W_FILES_MAX];
        size_t n_files;
        char log[W_LOG_MAX][160]; /* paths fetched, in order */
        size_t n_log;
        unsigned fetches, fail_at; /* fail_at > 0: that fetch (counted from 1) fails, IMAGO_EIO */
        char base[64], dir[96], tdir[96];
        int consistent;
        uint64_t root_v, ts_v, sn_v, tg_v, dg_v;
        const char *expires_ts, *expires_sn, *expires_tg;
        json_t *targets;     /* top-level targets map */
        json_t *dg_targets;  /* delegated role's targets map, NULL: no delegation */
        const char *dg_name; /* delegated role name */
        const char *dg_path; /* pattern it is delegated */
        struct imago_tuf_fetcher fetch;
        struct imago_tuf_client c;
};

static inline struct wfile *w_find(struct world *w, const char *path)
{
        size_t i;

        for (i = 0; i < w->n_files; i++)
                if (strcmp(w->files[i].path, path) == 0)
                        return &w->files[i];
        return NULL;
}

/* Publish (or replace) path with a copy of data. */
static inline void w_put(struct world *w, const char *path, const void *data, size_t len)
{
        struct wfile *f = w_find(w, path);

        if (f == NULL) {
                assert_true(w->n_files < W_FILES_MAX);
                f = &w->files[w->n_files++];
                f->path = strdup(path);
        } else {
                free(f->data);
        }
        f->data = malloc(len ? len : 1);
        assert_non_null(f->data);
        memcpy(f->data, data, len);
        f->len = len;
}

static inline void w_del(struct world *w, const char *path)
{
        struct wfile *f = w_find(w, path);

        if (f == NULL)
                return;
        free(f->path);
        free(f->data);
        *f = w->files[--w->n_files];
}

static inline int w_fetch(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                          void *arg)
{
        struct world *w = ctx;
        const char *path;
        struct wfile *f;
        size_t off = 0, n;
        int r;

        assert_true(strncmp(url, "mem://", 6) == 0);
        path = url + 6;
        if (w->n_log < W_LOG_MAX)
                snprintf(w->log[w->n_log++], sizeof(w->log[0]), "%s", path);
        if (++w->fetches == w->fail_at)
                return IMAGO_EIO;
        f = w_find(w, path);
        if (f == NULL)
                return IMAGO_ENOTFOUND;
        while (off < f->len && off < max) {
                n = f->len - off < 1000 ? f->len - off : 1000;
                if (n > max - off)
                        n = (size_t)(max - off);
                r = sink(arg, f->data + off, n);
                if (r != IMAGO_OK)
                        return r;
                off += n;
        }
        return f->len > max ? IMAGO_ETUF_LENGTH : IMAGO_OK;
}

static inline int w_fetched(const struct world *w, const char *path)
{
        size_t i;
        int n = 0;

        for (i = 0; i < w->n_log; i++)
                n += strcmp(w->log[i], path) == 0;
        return n;
}

/* Root version v signed by signers (NULL: root[0]) with root keys root[0] (threshold 1) unless
 * keys/thr given; published as m/<v>.root.json.  Returns the bytes (caller frees) if out_len. */
static inline void w_root(struct world *w, uint64_t v, const struct imago_privkey *const *keys,
                          size_t n_keys, unsigned thr, const struct imago_privkey *ts,
                          const struct imago_privkey *const *signers, size_t n_signers)
{
        const struct imago_privkey *def = &w->k.root[0];
        char path[64];
        uint8_t *b;
        size_t n;
        json_t *s;

        if (keys == NULL) {
                keys = &def;
                n_keys = 1;
                thr = 1;
        }
        if (signers == NULL) {
                signers = keys;
                n_signers = n_keys;
        }
        s = tr_root_signed(v, TR_FUTURE, keys, n_keys, thr, ts ? ts : &w->k.ts, &w->k.snap,
                           &w->k.tgt);
        json_object_set_new(s, "consistent_snapshot", json_boolean(w->consistent));
        b = tr_doc(s, signers, n_signers, &n);
        snprintf(path, sizeof(path), "m/%llu.root.json", (unsigned long long)v);
        w_put(w, path, b, n);
        if (v == 1)
                w_put(w, "m/root.json", b, n);
        json_decref(s);
        free(b);
        w->root_v = v;
}

/* A target file: content published under the targets URL (HASH.NAME when consistent) and its
 * entry added to map. */
static inline void w_target(struct world *w, json_t *map, const char *name, const char *content)
{
        json_t *t = tr_target(content);
        const char *hash =
            json_string_value(json_object_get(json_object_get(t, "hashes"), "sha256"));
        const char *slash = strrchr(name, '/');
        int dn = slash ? (int)(slash - name) + 1 : 0;
        char path[512];

        if (w->consistent)
                snprintf(path, sizeof(path), "t/%.*s%s.%s", dn, name, hash, name + dn);
        else
                snprintf(path, sizeof(path), "t/%s", name);
        w_put(w, path, content, strlen(content));
        json_object_set_new(map, name, t);
}

/* Sign and publish targets (and the delegated role), snapshot, timestamp at the world's
 * versions; ts_key NULL: the root's timestamp key. */
static inline void w_publish_with(struct world *w, const struct imago_privkey *ts_key)
{
        json_t *tg, *sn, *ts, *meta, *deleg = NULL;
        uint8_t *btg, *bsn, *bts, *bdg = NULL;
        size_t ntg, nsn, nts, ndg = 0;
        char path[1024];

        if (w->dg_targets != NULL) {
                json_t *keys = json_object(), *roles = json_array(), *dg;
                const char *paths[1] = {w->dg_path};

                json_array_append_new(roles,
                                      tr_deleg_role(keys, w->dg_name, &w->k.deleg[0], paths, 1, 0));
                deleg = json_pack("{s:o,s:o}", "keys", keys, "roles", roles);
                dg = tr_targets_signed(w->dg_v, w->expires_tg, json_deep_copy(w->dg_targets), NULL);
                bdg = tr_doc1(dg, &w->k.deleg[0], &ndg);
                json_decref(dg);
        }
        tg = tr_targets_signed(w->tg_v, w->expires_tg, json_deep_copy(w->targets), deleg);
        btg = tr_doc1(tg, &w->k.tgt, &ntg);
        meta = json_pack("{s:o}", "targets.json", tr_metafile(w->tg_v, NULL, 0));
        if (bdg != NULL) {
                char key[300];

                snprintf(key, sizeof(key), "%s.json", w->dg_name);
                json_object_set_new(meta, key, tr_metafile(w->dg_v, NULL, 0));
        }
        sn = tr_snapshot_signed(w->sn_v, w->expires_sn, meta);
        bsn = tr_doc1(sn, &w->k.snap, &nsn);
        ts = tr_timestamp_signed(w->ts_v, w->expires_ts, w->sn_v, bsn, nsn);
        bts = tr_doc1(ts, ts_key ? ts_key : &w->k.ts, &nts);
        w_put(w, "m/timestamp.json", bts, nts);
        if (w->consistent) {
                snprintf(path, sizeof(path), "m/%llu.snapshot.json", (unsigned long long)w->sn_v);
                w_put(w, path, bsn, nsn);
                snprintf(path, sizeof(path), "m/%llu.targets.json", (unsigned long long)w->tg_v);
                w_put(w, path, btg, ntg);
        } else {
                w_put(w, "m/snapshot.json", bsn, nsn);
                w_put(w, "m/targets.json", btg, ntg);
        }
        if (bdg != NULL) {
                char q[800];

                assert_int_equal(imago_tuf_quote(w->dg_name, "", q, sizeof(q)), IMAGO_OK);
                if (w->consistent)
                        snprintf(path, sizeof(path), "m/%llu.%s.json", (unsigned long long)w->dg_v,
                                 q);
                else
                        snprintf(path, sizeof(path), "m/%s.json", q);
                w_put(w, path, bdg, ndg);
        }
        json_decref(tg);
        json_decref(sn);
        json_decref(ts);
        free(btg);
        free(bsn);
        free(bts);
        free(bdg);
}

static inline void w_publish(struct world *w)
{
        w_publish_with(w, NULL);
}

/* A new world: keys, root v1, one target "file.txt", published; metadata dir initialised with
 * root v1 (imago_tuf_client_init_dir), nothing fetched yet. */
static inline struct world *w_new(int consistent)
{
        struct world *w = calloc(1, sizeof(*w));
        char rootfile[160];
        struct wfile *f;

        assert_non_null(w);
        tr_init(&w->k);
        w->consistent = consistent;
        w->ts_v = w->sn_v = w->tg_v = w->dg_v = 1;
        w->expires_ts = w->expires_sn = w->expires_tg = TR_FUTURE;
        snprintf(w->base, sizeof(w->base), "/tmp/imago-tufc-XXXXXX");
        assert_non_null(mkdtemp(w->base));
        snprintf(w->dir, sizeof(w->dir), "%s/metadata", w->base);
        snprintf(w->tdir, sizeof(w->tdir), "%s/targets", w->base);
        assert_int_equal(mkdir(w->dir, 0700), 0);
        assert_int_equal(mkdir(w->tdir, 0700), 0);
        w->targets = json_object();
        w_root(w, 1, NULL, 0, 0, NULL, NULL, 0);
        w_target(w, w->targets, "file.txt", "hello, world\n");
        w_publish(w);
        f = w_find(w, "m/root.json");
        snprintf(rootfile, sizeof(rootfile), "%s/initial_root.json", w->base);
        assert_int_equal(imago_file_write_atomic(rootfile, f->data, f->len, 0600), IMAGO_OK);
        assert_int_equal(imago_tuf_client_init_dir(w->dir, rootfile), IMAGO_OK);
        w->fetch.get = w_fetch;
        w->fetch.ctx = w;
        return w;
}

/* Open a client on the world's directory (closing any previous one), with time now. */
static inline int w_open(struct world *w, int64_t now)
{
        int r;

        imago_tuf_client_close(&w->c);
        r = imago_tuf_client_open(&w->c, w->dir, "mem://m/", &w->fetch, NULL);
        w->c.now = now;
        w->n_log = 0;
        return r;
}

/* Open and refresh at TR_NOW. */
static inline int w_refresh(struct world *w)
{
        int r = w_open(w, TR_NOW);

        return r != IMAGO_OK ? r : imago_tuf_client_refresh(&w->c);
}

/* Find and download name into the world's target dir (client refreshed). */
static inline int w_download(struct world *w, const char *name)
{
        const struct imago_tuf_target *t;
        int r = imago_tuf_client_find(&w->c, name, &t);

        return r != IMAGO_OK ? r : imago_tuf_client_download(&w->c, t, "mem://t", w->tdir, NULL);
}

/* The bytes of DIR/name (NULL if absent); caller frees. */
static inline uint8_t *w_read(const char *dir, const char *name, size_t *len)
{
        char path[512];
        uint8_t *d = NULL;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (imago_file_read(path, 64u << 20, &d, len) != IMAGO_OK)
                return NULL;
        return d;
}

/* 1 if DIR/name holds exactly the published file at pub. */
static inline int w_same(struct world *w, const char *dir, const char *name, const char *pub)
{
        struct wfile *f = w_find(w, pub);
        size_t len = 0;
        uint8_t *d = w_read(dir, name, &len);
        int same = d != NULL && f != NULL && len == f->len && memcmp(d, f->data, len) == 0;

        if (d != NULL)
                imago_file_free(d, len);
        return same;
}

static inline int w_exists(const char *dir, const char *name)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, F_OK) == 0;
}

/* Entries in dir (temporary files included). */
static inline int w_count(const char *dir)
{
        char cmd[256];
        FILE *p;
        int n = -1;

        snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%d", &n), 1);
        pclose(p);
        return n;
}

static inline int w_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static inline void w_free(struct world *w)
{
        size_t i;

        imago_tuf_client_close(&w->c);
        for (i = 0; i < w->n_files; i++) {
                free(w->files[i].path);
                free(w->files[i].data);
        }
        json_decref(w->targets);
        json_decref(w->dg_targets);
        tr_free(&w->k);
        nftw(w->base, w_rm, 16, FTW_DEPTH | FTW_PHYS);
        free(w);
}

#endif
