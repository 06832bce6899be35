/*
 * Test fixture for imago_ota (header-only; include after <cmocka.h>): real keys, a director
 * and an image repository signed in the test with the TUF core, served from a local directory
 * by a transport with fault injection, a real flash file with a signed v1 in the primary slot,
 * and capture of reports (verified with the device key) and reboots.
 */
#ifndef IMAGO_TEST_OTA_FIXTURE_H
#define IMAGO_TEST_OTA_FIXTURE_H

#include "test_tuf_repo.h"

#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "boot/host/flashfile.h"
#include "delta/delta.h"
#include "device/ota/ota.h"
#include "image/image_sign.h"
#include "ota/vreport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FX_DEV           "0123456789abcdef0123456789abcdef"
#define FX_HWID          "imago-test-board"
#define FX_MAXR          64
#define FX_SNP(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

struct fx_img {
        uint8_t *buf;
        size_t len;
        uint8_t sha[32];
        char hex[65];
        char version[16];
        uint32_t sc;
};

struct fx {
        char dir[256], srv[320], otadir[320], flash[320], droot[320], iroot[320];
        struct imago_privkey boot, dev, d_root, d_on, i_root, i_tgt, i_snap, i_ts, evil;
        struct imago_pubkey boot_pub, dev_pub;
        uint64_t dver, iver;
        int64_t now;
        const char *ts_expires; /* image repository timestamp expiry */
        /* transport */
        int fail_fetch; /* fail the next n fetch_file calls (IMAGO_EIO) */
        int fetches, delta_fetches, full_fetches;
        /* progress hook (tr.set_progress only when progress is set) */
        int progress;
        imago_ota_progress_fn prog_fn;
        void *prog_arg;
        size_t chunk;       /* bytes between two hook calls; 0 = 16384 */
        uint64_t resume_at; /* next fetch keeps this prefix of the file on disk (one-shot) */
        uint64_t mono_ms;   /* fake monotonic clock (ops.mono_ms) */
        uint64_t mono_step; /* added after each chunk */
        /* captured */
        int nrep;
        struct imago_vreport rep[FX_MAXR];
        uint64_t rep_ms[FX_MAXR]; /* mono_ms of each report */
        int reboots;
        int auto_ack;
        struct imago_ota *ota;
        int production;
};

static struct fx *fx_cur __attribute__((unused));

static inline void fx_mkdirs(const char *path)
{
        char tmp[512];
        size_t i, n = strlen(path);

        assert_true(n < sizeof(tmp));
        memcpy(tmp, path, n + 1);
        for (i = 1; i <= n; i++) {
                if (tmp[i] == '/' || tmp[i] == '\0') {
                        char c = tmp[i];

                        tmp[i] = '\0';
                        if (mkdir(tmp, 0700) != 0)
                                assert_int_equal(errno, EEXIST);
                        tmp[i] = c;
                }
        }
}

static inline void fx_write(const char *dir, const char *name, const void *buf, size_t len)
{
        char p[640];
        const char *slash = strrchr(name, '/');

        fx_mkdirs(dir);
        if (slash) {
                char d[640];

                FX_SNP(d, "%s/%.*s", dir, (int)(slash - name), name);
                fx_mkdirs(d);
        }
        FX_SNP(p, "%s/%s", dir, name);
        assert_int_equal(imago_file_write_atomic(p, buf, len, 0644), IMAGO_OK);
}

/* ---- images ---- */

static inline void fx_img_make(struct fx *f, struct fx_img *im, uint8_t major, uint32_t sc,
                               size_t body_len, uint8_t salt)
{
        struct imago_image_sign_opts o;
        uint8_t *body = malloc(body_len);
        size_t i;

        assert_non_null(body);
        for (i = 0; i < body_len; i++)
                body[i] = (uint8_t)((i * 7u) ^ (i >> 9) ^ (i >= body_len / 2 ? salt : 0));
        imago_image_sign_opts_init(&o);
        o.ver.major = major;
        o.has_sec_cnt = 1;
        o.sec_cnt = sc;
        assert_int_equal(imago_image_sign(&f->boot, &o, body, body_len, &im->buf, &im->len),
                         IMAGO_OK);
        free(body);
        assert_int_equal(imago_sha256(im->buf, im->len, im->sha), IMAGO_OK);
        imago_hex_encode(im->sha, 32, im->hex);
        FX_SNP(im->version, "%u.0.0", major);
        im->sc = sc;
}

static inline void fx_img_free(struct fx_img *im)
{
        imago_image_sign_free(im->buf);
        memset(im, 0, sizeof(*im));
}

/* ---- flash ---- */

static inline void fx_flash_primary(struct fx *f, const struct fx_img *im)
{
        struct imago_flashfile ff;
        struct imago_boot_status st;

        unlink(f->flash);
        assert_int_equal(imago_flashfile_create(f->flash, "uniform-4k", 0, &f->boot_pub, 1),
                         IMAGO_OK);
        assert_int_equal(imago_flashfile_open(&ff, f->flash, 1), IMAGO_OK);
        assert_int_equal(imago_flashfile_write_slot(&ff, &ff.cfg.primary, im->buf, im->len),
                         IMAGO_OK);
        assert_int_equal(imago_boot_go(&ff.cfg, &st), IMAGO_OK);
        assert_true(st.bootable);
        assert_int_equal(imago_flashfile_close(&ff), IMAGO_OK);
}

/* The boot: imago_boot_go() as `imago-boot run` does; env as it would set. */
static inline int fx_boot(struct fx *f, struct imago_ota_boot_env *env,
                          struct imago_boot_status *st)
{
        struct imago_flashfile ff;
        int r;

        assert_int_equal(imago_flashfile_open(&ff, f->flash, 1), IMAGO_OK);
        r = imago_boot_go(&ff.cfg, st);
        assert_int_equal(imago_flashfile_close(&ff), IMAGO_OK);
        env->swap = imago_boot_swap_name(st->swap);
        env->confirmed = st->confirmed;
        return r;
}

static inline void fx_inspect(struct fx *f, struct imago_boot_status *st)
{
        struct imago_flashfile ff;

        assert_int_equal(imago_flashfile_open(&ff, f->flash, 0), IMAGO_OK);
        assert_int_equal(imago_boot_inspect(&ff.cfg, st), IMAGO_OK);
        assert_int_equal(imago_flashfile_close(&ff), IMAGO_OK);
}

/* 1 if the secondary slot starts with im. */
static inline int fx_secondary_has(struct fx *f, const struct fx_img *im)
{
        struct imago_flashfile ff;
        uint8_t *b = malloc(im->len);
        int ok;

        assert_non_null(b);
        assert_int_equal(imago_flashfile_open(&ff, f->flash, 0), IMAGO_OK);
        ok = imago_flash_read(&ff.cfg.secondary, 0, b, (uint32_t)im->len) == 0 &&
             memcmp(b, im->buf, im->len) == 0;
        imago_flashfile_close(&ff);
        free(b);
        return ok;
}

/* 1 if the secondary slot is entirely erased (nothing was ever written there). */
static inline int fx_secondary_erased(struct fx *f)
{
        struct imago_flashfile ff;
        uint8_t b[4096];
        uint32_t off, i;
        int ok = 1;

        assert_int_equal(imago_flashfile_open(&ff, f->flash, 0), IMAGO_OK);
        for (off = 0; ok && off < ff.cfg.secondary.size; off += sizeof(b)) {
                assert_int_equal(imago_flash_read(&ff.cfg.secondary, off, b, sizeof(b)), 0);
                for (i = 0; i < sizeof(b); i++)
                        if (b[i] != ff.layout->erased)
                                ok = 0;
        }
        imago_flashfile_close(&ff);
        return ok;
}

/* ---- repositories ---- */

static inline void fx_root(struct fx *f, const char *sub, const char *trusted,
                           const struct imago_privkey *root, const struct imago_privkey *ts,
                           const struct imago_privkey *snap, const struct imago_privkey *tgt)
{
        json_t *s = tr_root_signed(1, TR_FUTURE, &root, 1, 1, ts, snap, tgt);
        size_t len;
        uint8_t *doc = tr_doc1(s, root, &len);
        char d[400];

        FX_SNP(d, "%s/%s", f->srv, sub);
        fx_write(d, "1.root.json", doc, len);
        assert_int_equal(imago_file_write_atomic(trusted, doc, len, 0644), IMAGO_OK);
        free(doc);
        json_decref(s);
}

/* Publish targets (stolen) as the next version: targets signed by tgt, snapshot and timestamp
 * by the online keys. */
static inline void fx_publish(struct fx *f, const char *sub, uint64_t *ver, json_t *targets,
                              const struct imago_privkey *tgt, const struct imago_privkey *snap,
                              const struct imago_privkey *ts, const char *ts_expires)
{
        char d[400], name[64];
        uint64_t v = ++*ver;
        json_t *t = tr_targets_signed(v, TR_FUTURE, targets, NULL), *meta = json_object(), *s, *tm;
        size_t tl, sl, ml;
        uint8_t *td = tr_doc1(t, tgt, &tl), *sd, *md;

        FX_SNP(d, "%s/%s", f->srv, sub);
        FX_SNP(name, "%llu.targets.json", (unsigned long long)v);
        fx_write(d, name, td, tl);
        json_object_set_new(meta, "targets.json", tr_metafile(v, NULL, 0));
        s = tr_snapshot_signed(v, TR_FUTURE, meta);
        sd = tr_doc1(s, snap, &sl);
        FX_SNP(name, "%llu.snapshot.json", (unsigned long long)v);
        fx_write(d, name, sd, sl);
        tm = tr_timestamp_signed(v, ts_expires ? ts_expires : TR_FUTURE, v, sd, sl);
        md = tr_doc1(tm, ts, &ml);
        fx_write(d, "timestamp.json", md, ml);
        free(td);
        free(sd);
        free(md);
        json_decref(t);
        json_decref(s);
        json_decref(tm);
}

/* A target entry {length, hashes, custom} for bytes. */
static inline json_t *fx_entry(const uint8_t *buf, size_t len, const char *hwid,
                               const char *version, uint32_t sc)
{
        uint8_t d[32];
        char hex[65];

        assert_int_equal(imago_sha256(buf, len, d), IMAGO_OK);
        imago_hex_encode(d, 32, hex);
        return json_pack("{s:I,s:{s:s},s:{s:s,s:s,s:I}}", "length", (json_int_t)len, "hashes",
                         "sha256", hex, "custom", "hardware_id", hwid, "version", version,
                         "security_counter", (json_int_t)sc);
}

static inline json_t *fx_img_entry(const struct fx_img *im)
{
        return fx_entry(im->buf, im->len, FX_HWID, im->version, im->sc);
}

/* The file of a target on the server: image/targets/DIR/SHA.BASE. */
static inline void fx_put_target(struct fx *f, const char *name, const uint8_t *buf, size_t len)
{
        uint8_t d[32];
        char hex[65], rel[400], dir[400];
        const char *slash = strrchr(name, '/');

        assert_int_equal(imago_sha256(buf, len, d), IMAGO_OK);
        imago_hex_encode(d, 32, hex);
        if (slash)
                FX_SNP(rel, "%.*s/%s.%s", (int)(slash - name), name, hex, slash + 1);
        else
                FX_SNP(rel, "%s.%s", hex, name);
        FX_SNP(dir, "%s/image/targets", f->srv);
        fx_write(dir, rel, buf, len);
}

static inline void fx_publish_image(struct fx *f, json_t *targets)
{
        fx_publish(f, "image/metadata", &f->iver, targets, &f->i_tgt, &f->i_snap, &f->i_ts,
                   f->ts_expires);
}

/* The director assigns name (entry: stolen, custom.device and rollout added). */
static inline void fx_assign(struct fx *f, const char *name, json_t *entry, const char *device)
{
        json_t *t = json_object();

        if (name) {
                json_t *c = json_object_get(entry, "custom");

                json_object_set_new(c, "device", json_string(device ? device : FX_DEV));
                json_object_set_new(c, "rollout", json_string("7"));
                json_object_set_new(t, name, entry);
        }
        fx_publish(f, "director", &f->dver, t, &f->d_on, &f->d_on, &f->d_on, NULL);
}

/* ---- transport (local directory, fault injection) ---- */

static inline int fx_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                         void *arg)
{
        struct fx *f = ctx;
        char p[800];
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        if (strncmp(url, "blk:", 4) != 0)
                return IMAGO_EINVAL;
        FX_SNP(p, "%s/%s", f->srv, url + 4);
        r = imago_file_read(p, 1 << 26, &buf, &len);
        if (r != IMAGO_OK)
                return r;
        if (len > max)
                r = IMAGO_ETUF_LENGTH;
        else
                r = sink(arg, buf, len);
        imago_file_free(buf, len);
        return r;
}

/* Streams the object into path (nothing held in memory: the memory test counts the heap). */
static inline int fx_fetch_file(void *ctx, const char *object, uint64_t length, const char *path,
                                uint64_t *resumed_from)
{
        struct fx *f = ctx;
        char p[800];
        uint8_t buf[16384];
        uint64_t n = 0, from = f->resume_at;
        FILE *in, *out;
        size_t k, chunk = f->chunk > 0 && f->chunk < sizeof(buf) ? f->chunk : sizeof(buf);
        int r = IMAGO_OK;

        f->fetches++;
        if (strstr(object, ".zst"))
                f->delta_fetches++;
        else
                f->full_fetches++;
        if (resumed_from)
                *resumed_from = 0;
        if (f->fail_fetch > 0) {
                f->fail_fetch--;
                return IMAGO_EIO;
        }
        FX_SNP(p, "%s/%s", f->srv, object);
        in = fopen(p, "rb");
        if (!in)
                return IMAGO_ENOTFOUND;
        f->resume_at = 0;
        out = fopen(path, from > 0 ? "r+b" : "wb");
        if (!out) {
                fclose(in);
                return IMAGO_EIO;
        }
        if (from > 0) { /* the prefix [0, from) is on disk already */
                assert_int_equal(fseek(in, (long)from, SEEK_SET), 0);
                assert_int_equal(fseek(out, (long)from, SEEK_SET), 0);
                n = from;
                if (resumed_from)
                        *resumed_from = from;
        }
        if (f->prog_fn)
                f->prog_fn(f->prog_arg, n, length);
        while ((k = fread(buf, 1, chunk, in)) > 0) {
                n += k;
                if (n > length) {
                        r = IMAGO_ETUF_LENGTH;
                        break;
                }
                if (fwrite(buf, 1, k, out) != k) {
                        r = IMAGO_EIO;
                        break;
                }
                f->mono_ms += f->mono_step;
                if (f->prog_fn)
                        f->prog_fn(f->prog_arg, n, length);
        }
        fclose(in);
        if (fclose(out) != 0 && r == IMAGO_OK)
                r = IMAGO_EIO;
        if (r == IMAGO_OK && n != length)
                r = IMAGO_ETRUNC;
        if (r != IMAGO_OK)
                unlink(path);
        return r;
}

static inline void fx_set_progress(void *ctx, imago_ota_progress_fn fn, void *fn_arg)
{
        struct fx *f = ctx;

        f->prog_fn = fn;
        f->prog_arg = fn_arg;
}

static inline uint64_t fx_mono_ms(void *arg)
{
        return ((struct fx *)arg)->mono_ms;
}

static inline int fx_report(void *arg, const char *nonce, const uint8_t *msg, size_t len)
{
        struct fx *f = arg;
        struct imago_vreport r;

        assert_int_equal(imago_vreport_verify(msg, len, &f->dev_pub, FX_DEV, &r), IMAGO_OK);
        assert_string_equal(r.nonce, nonce);
        if (f->nrep > 0)
                assert_true(r.counter > f->rep[f->nrep - 1].counter);
        assert_true(f->nrep < FX_MAXR);
        f->rep_ms[f->nrep] = f->mono_ms;
        f->rep[f->nrep++] = r;
        if (f->auto_ack && f->ota)
                imago_ota_ack(f->ota, nonce);
        return IMAGO_OK;
}

static inline int fx_reboot(void *arg)
{
        ((struct fx *)arg)->reboots++;
        return IMAGO_OK;
}

static inline int64_t fx_now(void *arg)
{
        return ((struct fx *)arg)->now;
}

static inline int fx_sign(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                          uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        return imago_privkey_sign_digest(arg, digest, sig, sig_len);
}

/* ---- the update client ---- */

static inline int fx_open(struct fx *f)
{
        struct imago_ota_config c;
        struct imago_ota_ops ops;

        memset(&c, 0, sizeof(c));
        memset(&ops, 0, sizeof(ops));
        c.dir = f->otadir;
        c.director_root = f->droot;
        c.image_root = f->iroot;
        c.flash = f->flash;
        c.device_id = FX_DEV;
        c.hardware_id = FX_HWID;
        c.production = f->production;
        ops.tr.get = fx_get;
        ops.tr.fetch_file = fx_fetch_file;
        ops.tr.set_progress = f->progress ? fx_set_progress : NULL;
        ops.tr.ctx = f;
        ops.report = fx_report;
        ops.reboot = fx_reboot;
        ops.now = fx_now;
        ops.mono_ms = fx_mono_ms;
        ops.sign = fx_sign;
        ops.sign_arg = &f->dev;
        ops.arg = f;
        imago_ota_free(f->ota);
        f->ota = NULL;
        return imago_ota_open(&c, &ops, &f->ota);
}

/* Last captured report. */
static inline const struct imago_vreport *fx_last(const struct fx *f)
{
        assert_true(f->nrep > 0);
        return &f->rep[f->nrep - 1];
}

static inline void fx_init(struct fx *f)
{
        memset(f, 0, sizeof(*f));
        FX_SNP(f->dir, "/tmp/imago-ota-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        FX_SNP(f->srv, "%s/srv", f->dir);
        FX_SNP(f->otadir, "%s/ota", f->dir);
        FX_SNP(f->flash, "%s/dev.flash", f->dir);
        FX_SNP(f->droot, "%s/director-root.json", f->dir);
        FX_SNP(f->iroot, "%s/image-root.json", f->dir);
        fx_mkdirs(f->srv);
        tr_gen(&f->boot, IMAGO_KEY_ED25519);
        tr_gen(&f->dev, IMAGO_KEY_P256);
        tr_gen(&f->d_root, IMAGO_KEY_ED25519);
        tr_gen(&f->d_on, IMAGO_KEY_P256);
        tr_gen(&f->i_root, IMAGO_KEY_P256);
        tr_gen(&f->i_tgt, IMAGO_KEY_ED25519);
        tr_gen(&f->i_snap, IMAGO_KEY_ED25519);
        tr_gen(&f->i_ts, IMAGO_KEY_P256);
        tr_gen(&f->evil, IMAGO_KEY_ED25519);
        assert_int_equal(imago_privkey_public(&f->boot, &f->boot_pub), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&f->dev, &f->dev_pub), IMAGO_OK);
        fx_root(f, "director", f->droot, &f->d_root, &f->d_on, &f->d_on, &f->d_on);
        fx_root(f, "image/metadata", f->iroot, &f->i_root, &f->i_ts, &f->i_snap, &f->i_tgt);
        f->now = TR_NOW;
        f->production = 1;
        f->auto_ack = 1;
        fx_cur = f;
}

static inline void fx_rm(const char *dir)
{
        char cmd[600];

        FX_SNP(cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static inline void fx_done(struct fx *f)
{
        imago_ota_free(f->ota);
        f->ota = NULL;
        fx_rm(f->dir);
        imago_privkey_free(&f->boot);
        imago_privkey_free(&f->dev);
        imago_privkey_free(&f->d_root);
        imago_privkey_free(&f->d_on);
        imago_privkey_free(&f->i_root);
        imago_privkey_free(&f->i_tgt);
        imago_privkey_free(&f->i_snap);
        imago_privkey_free(&f->i_ts);
        imago_privkey_free(&f->evil);
}

#endif
