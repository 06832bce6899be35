/*
 * bench_store: secret store open, read and atomic update times with a
 * SoftHSM2 token (AES-256-GCM in the token, counter in the token) against
 * the same operations on a plain file written the same atomic way (A/B
 * copies, sequence number, fsync; no encryption, no token, no MAC).
 *
 * usage: bench_store [ROUNDS]   (default 50; reads run 100 x ROUNDS)
 * Creates its own temporary SoftHSM2 token (SOFTHSM2_CONF) and removes it.
 * Prints one Markdown table row per operation and the ratio token/plain.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/num.h"
#include "device/store/store.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define NREC   8
#define VLEN   256

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- plain baseline: same A/B layout, 16-byte header, plaintext list ---- */

struct plain {
        int fd;
        uint64_t seq;
        unsigned region;
        uint8_t buf[IMAGO_STORE_FILE_SIZE];
        size_t len;
        struct imago_store_index ix;
};

static void le64(uint8_t *b, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *b)
{
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = (v << 8) | b[i];
        return v;
}

static int plain_write(struct plain *p, const uint8_t *list, size_t len)
{
        uint8_t *reg = malloc(IMAGO_STORE_REGION_SIZE);
        unsigned region = 1u - p->region;
        size_t n = (16 + len + IMAGO_STORE_WRITE_CHUNK - 1) / IMAGO_STORE_WRITE_CHUNK *
                   IMAGO_STORE_WRITE_CHUNK;
        int r = IMAGO_EIO;

        if (reg == NULL)
                return IMAGO_ENOMEM;
        memset(reg, 0, IMAGO_STORE_REGION_SIZE);
        le64(reg, p->seq + 1);
        le64(reg + 8, len);
        memcpy(reg + 16, list, len);
        for (size_t k = 0; k < n; k += IMAGO_STORE_WRITE_CHUNK) {
                if (pwrite(p->fd, reg + k, IMAGO_STORE_WRITE_CHUNK,
                           (off_t)(region * IMAGO_STORE_REGION_SIZE + k)) !=
                    IMAGO_STORE_WRITE_CHUNK)
                        goto out;
        }
        if (fsync(p->fd) != 0)
                goto out;
        p->seq++;
        p->region = region;
        r = IMAGO_OK;
out:
        free(reg);
        return r;
}

static int plain_open(struct plain *p, const char *path)
{
        uint64_t best = 0;
        int r;

        p->fd = open(path, O_RDWR);
        if (p->fd < 0 || pread(p->fd, p->buf, IMAGO_STORE_FILE_SIZE, 0) != IMAGO_STORE_FILE_SIZE)
                return IMAGO_EIO;
        for (unsigned i = 0; i < 2; i++) {
                const uint8_t *reg = p->buf + i * IMAGO_STORE_REGION_SIZE;
                uint64_t seq = rd64(reg), len = rd64(reg + 8);

                if (seq > best && len <= IMAGO_STORE_REGION_SIZE - 16) {
                        best = seq;
                        p->region = i;
                        p->len = (size_t)len;
                }
        }
        p->seq = best;
        r = imago_store_records_parse(&p->ix, p->buf + p->region * IMAGO_STORE_REGION_SIZE + 16,
                                      p->len);
        return best == 0 ? IMAGO_ESTORE_CORRUPT : r;
}

/* A record list of NREC records of VLEN bytes, record 0 holding tag. */
static size_t make_list(uint8_t *out, uint8_t tag)
{
        size_t pos = 2;

        out[0] = NREC;
        out[1] = 0;
        for (int i = 0; i < NREC; i++) {
                out[pos++] = 4;
                out[pos++] = IMAGO_STORE_CONFIG;
                out[pos++] = (uint8_t)(VLEN & 0xff);
                out[pos++] = (uint8_t)(VLEN >> 8);
                memcpy(out + pos, "rec", 3);
                out[pos + 3] = (uint8_t)('0' + i);
                pos += 4;
                memset(out + pos, i == 0 ? tag : 'v', VLEN);
                pos += VLEN;
        }
        return pos;
}

static int write_file(const char *path, size_t size)
{
        uint8_t *z = calloc(1, size);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), ok;

        ok = z != NULL && fd >= 0 && write(fd, z, size) == (ssize_t)size && fsync(fd) == 0;
        if (fd >= 0)
                close(fd);
        free(z);
        return ok ? IMAGO_OK : IMAGO_EIO;
}

/* ---- token environment ---- */

static char dir[64] = "/tmp/imago-bench-XXXXXX";

static int token_env(void)
{
        char conf[128], cmd[512];
        FILE *f;

        if (mkdtemp(dir) == NULL)
                return -1;
        snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
        snprintf(cmd, sizeof(cmd), "%s/tokens", dir);
        if (mkdir(cmd, 0700) != 0 || (f = fopen(conf, "w")) == NULL)
                return -1;
        fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n", dir);
        fclose(f);
        setenv("SOFTHSM2_CONF", conf, 1);
        snprintf(cmd, sizeof(cmd),
                 "softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 12345678 "
                 ">/dev/null 2>&1");
        return system(cmd) == 0 ? 0 : -1;
}

static void token_env_free(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "bench_store: cannot remove %s\n", dir);
}

static void row(const char *op, double tok_s, double plain_s, unsigned n)
{
        printf("| %s | %u | %.3f | %.3f | %.1f |\n", op, n, tok_s / n * 1e6, plain_s / n * 1e6,
               tok_s / plain_s);
}

int main(int argc, char **argv)
{
        static uint8_t list[IMAGO_STORE_PAYLOAD_MAX], val[VLEN];
        struct imago_p11 *tok = NULL;
        struct imago_store *s = NULL;
        struct plain *pl = calloc(1, sizeof(*pl));
        char spath[128], ppath[128], name[8];
        uint32_t rounds = 50;
        double t0, topen, tread, tupd, popen_s, pread_s, pupd;
        size_t len = 0;
        int r = IMAGO_EINVAL;

        if (argc > 2 || (argc == 2 && imago_parse_u32(argv[1], 100000, &rounds) != IMAGO_OK) ||
            rounds == 0 || pl == NULL) {
                fprintf(stderr, "usage: bench_store [ROUNDS]\n");
                free(pl);
                return 2;
        }
        if (token_env() != 0) {
                fprintf(stderr, "bench_store: cannot create a SoftHSM2 token\n");
                goto out;
        }
        snprintf(spath, sizeof(spath), "%s/secret.store", dir);
        snprintf(ppath, sizeof(ppath), "%s/plain.store", dir);
        r = imago_p11_open(MODULE, "pkcs11:token=bench?pin-value=1234", NULL, &tok);
        if (r == IMAGO_OK)
                r = imago_store_create(spath, tok, NULL);
        if (r == IMAGO_OK)
                r = imago_store_open(spath, tok, NULL, &s);
        for (int i = 0; i < NREC && r == IMAGO_OK; i++) {
                snprintf(name, sizeof(name), "rec%d", i);
                memset(val, 'v', sizeof(val));
                r = imago_store_put(s, name, IMAGO_STORE_CONFIG, val, sizeof(val));
        }
        imago_store_close(s);
        s = NULL;
        if (r == IMAGO_OK)
                r = write_file(ppath, IMAGO_STORE_FILE_SIZE);
        if (r == IMAGO_OK && (r = plain_open(pl, ppath)) == IMAGO_ESTORE_CORRUPT)
                r = plain_write(pl, list, make_list(list, 'v'));
        if (r != IMAGO_OK)
                goto out;
        close(pl->fd);

        /* open */
        t0 = now();
        for (uint32_t i = 0; i < rounds && r == IMAGO_OK; i++) {
                r = imago_store_open(spath, tok, NULL, &s);
                imago_store_close(s);
                s = NULL;
        }
        topen = now() - t0;
        t0 = now();
        for (uint32_t i = 0; i < rounds && r == IMAGO_OK; i++) {
                r = plain_open(pl, ppath);
                close(pl->fd);
        }
        popen_s = now() - t0;
        if (r != IMAGO_OK)
                goto out;

        /* read one record (from the open store) */
        r = imago_store_open(spath, tok, NULL, &s);
        if (r == IMAGO_OK)
                r = plain_open(pl, ppath);
        t0 = now();
        for (uint32_t i = 0; i < rounds * 100 && r == IMAGO_OK; i++)
                r = imago_store_get(s, "rec3", NULL, val, sizeof(val), &len);
        tread = now() - t0;
        t0 = now();
        for (uint32_t i = 0; i < rounds * 100 && r == IMAGO_OK; i++) {
                const struct imago_store_entry *e = &pl->ix.e[3];
                const uint8_t *base = pl->buf + pl->region * IMAGO_STORE_REGION_SIZE + 16;

                if (e->name_len != 4 || memcmp(base + e->name_off, "rec3", 4) != 0)
                        r = IMAGO_ENOTFOUND;
                memcpy(val, base + e->value_off, e->value_len);
        }
        pread_s = now() - t0;
        if (r != IMAGO_OK)
                goto out;

        /* atomic update of one record */
        t0 = now();
        for (uint32_t i = 0; i < rounds && r == IMAGO_OK; i++) {
                memset(val, (int)('a' + i % 26), sizeof(val));
                r = imago_store_put(s, "rec0", IMAGO_STORE_CONFIG, val, sizeof(val));
        }
        tupd = now() - t0;
        t0 = now();
        for (uint32_t i = 0; i < rounds && r == IMAGO_OK; i++)
                r = plain_write(pl, list, make_list(list, (uint8_t)('a' + i % 26)));
        pupd = now() - t0;
        if (r != IMAGO_OK)
                goto out;

        printf("### Secret store: token (SoftHSM2, AES-GCM in the token) vs plain file\n\n");
        printf("%d records of %d bytes; a copy is %zu bytes, written in %d-byte pages + fsync\n\n",
               NREC, VLEN, make_list(list, 'v') + IMAGO_STORE_HDR_LEN + IMAGO_STORE_TAG_LEN,
               IMAGO_STORE_WRITE_CHUNK);
        printf("| operation | runs | token us/op | plain us/op | ratio |\n|---|---|---|---|---|\n");
        row("open (read, pick copy, decrypt, counter check)", topen, popen_s, rounds);
        row("read one record", tread, pread_s, rounds * 100);
        row("atomic update (write copy, fsync, counter)", tupd, pupd, rounds);
out:
        if (r != IMAGO_OK)
                fprintf(stderr, "bench_store: %s\n", imago_strerror(r));
        if (pl != NULL && pl->fd > 0)
                close(pl->fd);
        imago_store_close(s);
        imago_p11_close(tok);
        free(pl);
        if (dir[sizeof("/tmp/imago-bench-") - 1] != 'X')
                token_env_free();
        return r == IMAGO_OK ? 0 : 1;
}
