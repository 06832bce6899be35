/* See audit.h: the record hash, append, head, verify and read. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/audit/audit_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#define DOMAIN "imago-audit-v1"

static const uint8_t zero_hash[IMAGO_AUDIT_HASH_LEN];

/* 1 if s has 1/0..max bytes, none below 0x20 and no 0x7f. */
static int text_ok(const char *s, size_t min, size_t max)
{
        size_t n;

        if (s == NULL)
                return 0;
        for (n = 0; s[n] != '\0'; n++) {
                if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f)
                        return 0;
        }
        return n >= min;
}

static void be64(uint8_t out[8], uint64_t v)
{
        int i;

        for (i = 7; i >= 0; i--) {
                out[i] = (uint8_t)v;
                v >>= 8;
        }
}

static int put_str(struct imago_sha256 *h, const char *s)
{
        size_t n = strlen(s);
        uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        int r;

        if ((r = imago_sha256_update(h, len, sizeof(len))) != 0)
                return r;
        return imago_sha256_update(h, s, n);
}

int imago_audit_record_hash(const struct imago_audit_record *rec, uint8_t out[IMAGO_AUDIT_HASH_LEN])
{
        struct imago_sha256 h = {0};
        uint8_t num[16];
        int r;

        if (rec == NULL || out == NULL || rec->actor == NULL || rec->action == NULL ||
            rec->object == NULL || rec->detail == NULL)
                return IMAGO_EINVAL;
        be64(num, rec->seq);
        be64(num + 8, (uint64_t)rec->time);
        if ((r = imago_sha256_init(&h)) != 0)
                goto out;
        if ((r = imago_sha256_update(&h, DOMAIN, sizeof(DOMAIN) - 1)) != 0 ||
            (r = imago_sha256_update(&h, num, sizeof(num))) != 0 ||
            (r = put_str(&h, rec->actor)) != 0 || (r = put_str(&h, rec->action)) != 0 ||
            (r = put_str(&h, rec->object)) != 0 || (r = put_str(&h, rec->detail)) != 0 ||
            (r = imago_sha256_update(&h, rec->prev_hash, IMAGO_AUDIT_HASH_LEN)) != 0)
                goto out;
        r = imago_sha256_final(&h, out);
out:
        imago_sha256_abort(&h);
        return r;
}

/* The last record inside the current transaction (seq 0, zeros if none). */
static int last(sqlite3 *db, uint64_t *seq, uint8_t hash[IMAGO_AUDIT_HASH_LEN])
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_audit_prepare(
                 db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &st)) != 0)
                goto out;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                *seq = 0;
                memcpy(hash, zero_hash, IMAGO_AUDIT_HASH_LEN);
                r = 0;
                goto out;
        }
        if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 1) != IMAGO_AUDIT_HASH_LEN ||
            sqlite3_column_int64(st, 0) < 1) {
                r = rc != SQLITE_ROW ? imago_audit_db_err(db, "last record") : IMAGO_EAUDIT_CHAIN;
                goto out;
        }
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(hash, sqlite3_column_blob(st, 1), IMAGO_AUDIT_HASH_LEN);
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

static int insert(sqlite3 *db, const struct imago_audit_record *rec)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_audit_prepare(db,
                                     "INSERT INTO audit_log(seq, time, actor, action, object,"
                                     " detail, prev_hash, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                                     &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->seq);
        sqlite3_bind_int64(st, 2, rec->time);
        sqlite3_bind_text(st, 3, rec->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rec->action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, rec->object, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, rec->detail, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, rec->prev_hash, IMAGO_AUDIT_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, rec->hash, IMAGO_AUDIT_HASH_LEN, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
                r = imago_audit_db_err(db, "append");
                goto out;
        }
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

int imago_audit_append(struct imago_audit *a, int64_t now, const char *actor, const char *action,
                       const char *object, const char *detail, uint64_t *seq_out,
                       uint8_t hash_out[IMAGO_AUDIT_HASH_LEN])
{
        struct imago_audit_record rec = {0};
        uint64_t prev_seq;
        int r, began = 0;

        if (a == NULL || !text_ok(actor, 1, IMAGO_AUDIT_ACTOR_MAX) ||
            !text_ok(action, 1, IMAGO_AUDIT_ACTION_MAX) ||
            !text_ok(object, 0, IMAGO_AUDIT_OBJECT_MAX) ||
            !text_ok(detail, 0, IMAGO_AUDIT_DETAIL_MAX))
                return IMAGO_EINVAL;
        /* IMMEDIATE takes the write lock before reading the last hash: no fork */
        if ((r = imago_audit_exec(a->db, "BEGIN IMMEDIATE")) != 0)
                goto out;
        began = 1;
        if ((r = last(a->db, &prev_seq, rec.prev_hash)) != 0)
                goto out;
        if (prev_seq >= (uint64_t)INT64_MAX) {
                r = IMAGO_EOVERFLOW;
                goto out;
        }
        rec.seq = prev_seq + 1;
        rec.time = now;
        rec.actor = (char *)actor;
        rec.action = (char *)action;
        rec.object = (char *)object;
        rec.detail = (char *)detail;
        if ((r = imago_audit_record_hash(&rec, rec.hash)) != 0)
                goto out;
        if ((r = insert(a->db, &rec)) != 0)
                goto out;
        if ((r = imago_audit_exec(a->db, "COMMIT")) != 0)
                goto out;
        began = 0;
        if (seq_out != NULL)
                *seq_out = rec.seq;
        if (hash_out != NULL)
                memcpy(hash_out, rec.hash, IMAGO_AUDIT_HASH_LEN);
out:
        if (began)
                sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

int imago_audit_head(struct imago_audit *a, uint64_t *seq, uint8_t hash[IMAGO_AUDIT_HASH_LEN])
{
        int r;

        if (a == NULL || seq == NULL || hash == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_audit_exec(a->db, "BEGIN")) != 0)
                return r;
        r = last(a->db, seq, hash);
        sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
        return r;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);

        return strdup(t != NULL ? (const char *)t : "");
}

/* Row of "SELECT seq, time, actor, action, object, detail, prev_hash, hash". */
static int read_row(sqlite3_stmt *st, struct imago_audit_record *rec)
{
        memset(rec, 0, sizeof(*rec));
        rec->seq = (uint64_t)sqlite3_column_int64(st, 0);
        rec->time = sqlite3_column_int64(st, 1);
        rec->actor = dup_col(st, 2);
        rec->action = dup_col(st, 3);
        rec->object = dup_col(st, 4);
        rec->detail = dup_col(st, 5);
        if (rec->actor == NULL || rec->action == NULL || rec->object == NULL ||
            rec->detail == NULL) {
                imago_audit_record_free(rec);
                return IMAGO_ENOMEM;
        }
        /* a hash of the wrong size is a broken record, not a crash */
        if (sqlite3_column_bytes(st, 6) == IMAGO_AUDIT_HASH_LEN)
                memcpy(rec->prev_hash, sqlite3_column_blob(st, 6), IMAGO_AUDIT_HASH_LEN);
        else
                memset(rec->prev_hash, 0xff, IMAGO_AUDIT_HASH_LEN);
        if (sqlite3_column_bytes(st, 7) == IMAGO_AUDIT_HASH_LEN)
                memcpy(rec->hash, sqlite3_column_blob(st, 7), IMAGO_AUDIT_HASH_LEN);
        else
                memset(rec->hash, 0xff, IMAGO_AUDIT_HASH_LEN);
        return 0;
}

#define SELECT_COLS                                                                                \
        "SELECT seq, time, actor, action, object, detail, prev_hash, hash FROM audit_log"

int imago_audit_read(struct imago_audit *a, uint64_t seq, struct imago_audit_record *rec)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if (a == NULL || rec == NULL || seq < 1 || seq > (uint64_t)INT64_MAX)
                return IMAGO_EINVAL;
        memset(rec, 0, sizeof(*rec));
        if ((r = imago_audit_prepare(a->db, SELECT_COLS " WHERE seq = ?1", &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        if (rc != SQLITE_ROW) {
                r = imago_audit_db_err(a->db, "read");
                goto out;
        }
        r = read_row(st, rec);
out:
        sqlite3_finalize(st);
        return r;
}

void imago_audit_record_free(struct imago_audit_record *rec)
{
        if (rec == NULL)
                return;
        free(rec->actor);
        free(rec->action);
        free(rec->object);
        free(rec->detail);
        memset(rec, 0, sizeof(*rec));
}

/* 0 if rec is record number want following prev; IMAGO_EAUDIT_CHAIN if not. */
static int check_one(const struct imago_audit_record *rec, uint64_t want,
                     const uint8_t prev[IMAGO_AUDIT_HASH_LEN])
{
        uint8_t h[IMAGO_AUDIT_HASH_LEN];
        int r;

        if (rec->seq != want || memcmp(rec->prev_hash, prev, IMAGO_AUDIT_HASH_LEN) != 0)
                return IMAGO_EAUDIT_CHAIN;
        if ((r = imago_audit_record_hash(rec, h)) != 0)
                return r;
        return memcmp(h, rec->hash, IMAGO_AUDIT_HASH_LEN) == 0 ? 0 : IMAGO_EAUDIT_CHAIN;
}

int imago_audit_verify(struct imago_audit *a, uint64_t head_seq,
                       const uint8_t head_hash[IMAGO_AUDIT_HASH_LEN],
                       struct imago_audit_report *rep)
{
        struct imago_audit_report res = {0};
        struct imago_audit_record rec = {0};
        uint8_t prev[IMAGO_AUDIT_HASH_LEN] = {0};
        sqlite3_stmt *st = NULL;
        int r, rc, began = 0, head_seen = 0;

        if (a == NULL)
                return IMAGO_EINVAL;
        /* one read transaction: a consistent snapshot while appenders go on */
        if ((r = imago_audit_exec(a->db, "BEGIN")) != 0)
                goto out;
        began = 1;
        if ((r = imago_audit_prepare(a->db, SELECT_COLS " ORDER BY seq", &st)) != 0)
                goto out;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = read_row(st, &rec)) != 0)
                        goto out;
                r = check_one(&rec, res.records + 1, prev);
                if (r == 0 && head_hash != NULL && rec.seq == head_seq &&
                    memcmp(rec.hash, head_hash, IMAGO_AUDIT_HASH_LEN) != 0)
                        r = IMAGO_EAUDIT_HEAD;
                if (r != 0) {
                        res.bad_seq = res.records + 1;
                        goto out;
                }
                head_seen |= head_hash != NULL && rec.seq == head_seq;
                memcpy(prev, rec.hash, IMAGO_AUDIT_HASH_LEN);
                res.records++;
                imago_audit_record_free(&rec);
        }
        if (rc != SQLITE_DONE) {
                r = imago_audit_db_err(a->db, "verify");
                goto out;
        }
        if (head_hash != NULL && !head_seen &&
            !(head_seq == 0 && memcmp(head_hash, zero_hash, IMAGO_AUDIT_HASH_LEN) == 0)) {
                /* the log ends before the head we were told about: truncated */
                res.bad_seq = res.records + 1;
                r = IMAGO_EAUDIT_HEAD;
                goto out;
        }
        r = 0;
out:
        memcpy(res.head, prev, IMAGO_AUDIT_HASH_LEN);
        if (r != 0 && r != IMAGO_EAUDIT_CHAIN && r != IMAGO_EAUDIT_HEAD)
                res.bad_seq = 0;
        if (r == IMAGO_EAUDIT_CHAIN || r == IMAGO_EAUDIT_HEAD)
                IMAGO_WARN("audit: chain check failed at record %llu",
                           (unsigned long long)res.bad_seq);
        imago_audit_record_free(&rec);
        sqlite3_finalize(st);
        if (began)
                sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
        if (rep != NULL)
                *rep = res;
        return r;
}
