/* imago_director: version reports, with replay refusal (see director.h). */
#include "cloud/director/director_priv.h"

#include "base/err.h"

#include <string.h>

static int nonce_seen(struct imago_director *d, const char *device, const char *nonce, int *seen)
{
        sqlite3_stmt *st = NULL;
        int rc;

        if ((rc = sqlite3_prepare_v2(d->db, "SELECT 1 FROM nonces WHERE device = ?1 AND nonce = ?2",
                                     -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        *seen = rc == SQLITE_ROW;
        sqlite3_finalize(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dir_sqlite_err(d->db, rc);
}

static int step_done(struct imago_director *d, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : dir_sqlite_err(d->db, rc);
}

static int record(struct imago_director *d, const struct imago_vreport *r, const uint8_t *buf,
                  size_t len, int64_t now)
{
        static const char upd[] =
            "UPDATE devices SET reported = 1, reported_at = ?2, r_report = ?3, r_nonce = ?4,"
            " r_counter = ?5, r_time = ?6, r_sha256 = ?7, r_length = ?8, r_version = ?9,"
            " r_sc = ?10, r_hwid = ?11, r_state = ?12, r_target = ?13, r_rollout = ?14,"
            " r_error = ?15, r_progress = ?16 WHERE id = ?1";
        sqlite3_stmt *st = NULL;
        int rc, e;

        if ((rc = sqlite3_prepare_v2(d->db, "INSERT OR IGNORE INTO devices (id) VALUES (?1)", -1,
                                     &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, r->device, -1, SQLITE_STATIC);
        if ((e = step_done(d, st)) != 0)
                return e;
        if ((rc = sqlite3_prepare_v2(d->db, upd, -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, r->device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->counter);
        sqlite3_bind_int64(st, 6, r->time);
        sqlite3_bind_blob(st, 7, r->installed_sha256, IMAGO_SHA256_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)r->installed_length);
        sqlite3_bind_text(st, 9, r->installed_version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)r->installed_security_counter);
        sqlite3_bind_text(st, 11, r->hardware_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 12, (int)r->state);
        sqlite3_bind_text(st, 13, r->target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 14, (sqlite3_int64)r->rollout);
        sqlite3_bind_text(st, 15, r->error, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 16, (int)r->progress);
        if ((e = step_done(d, st)) != 0)
                return e;
        if ((rc = sqlite3_prepare_v2(
                 d->db, "INSERT INTO nonces (device, nonce, counter, at) VALUES (?1, ?2, ?3, ?4)",
                 -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, r->device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->counter);
        sqlite3_bind_int64(st, 4, now);
        if ((e = step_done(d, st)) != 0)
                return e;
        /* The nonce log is bounded: the counter already refuses anything older. */
        if ((rc = sqlite3_prepare_v2(d->db,
                                     "DELETE FROM nonces WHERE device = ?1 AND rowid NOT IN"
                                     " (SELECT rowid FROM nonces WHERE device = ?1"
                                     " ORDER BY rowid DESC LIMIT ?2)",
                                     -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, r->device, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, DIR_NONCES_KEPT);
        return step_done(d, st);
}

int imago_director_report(struct imago_director *d, const char *device, const uint8_t *buf,
                          size_t len, const struct imago_pubkey *key, int64_t now,
                          struct imago_vreport *r, int *dup)
{
        struct dir_row row;
        int rc = IMAGO_EINVAL, seen = 0, began = 0;

        memset(&row, 0, sizeof(row));
        if (dup != NULL)
                *dup = 0;
        if (d == NULL || buf == NULL || key == NULL || r == NULL || dup == NULL ||
            !imago_device_id_valid(device))
                goto out;
        /* Signature (and the whole format) before anything is looked up. */
        if ((rc = imago_vreport_verify(buf, len, key, device, r)) != 0)
                goto out;
        if ((rc = dir_exec(d->db, "BEGIN IMMEDIATE")) != 0)
                goto out;
        began = 1;
        if ((rc = dir_row_load(d, device, &row)) != 0)
                goto out;
        if (row.dv.reported && row.last_bytes != NULL && row.last_len == len &&
            memcmp(row.last_bytes, buf, len) == 0) {
                *dup = 1; /* the device's resend of the last accepted report */
                goto out;
        }
        rc = IMAGO_EOTA_REPORT;
        if (r->time > now + DIR_REPORT_SKEW || r->time < now - DIR_REPORT_SKEW)
                goto out;
        if ((rc = nonce_seen(d, device, r->nonce, &seen)) != 0)
                goto out;
        rc = IMAGO_EOTA_REPLAY;
        if (seen || (row.dv.reported && r->counter <= row.dv.last.counter))
                goto out;
        rc = record(d, r, buf, len, now);
out:
        if (began) {
                int e = dir_exec(d->db, rc == 0 ? "COMMIT" : "ROLLBACK");
                if (rc == 0)
                        rc = e;
        }
        dir_row_free(&row);
        if (rc != 0 && r != NULL)
                memset(r, 0, sizeof(*r));
        return rc;
}
