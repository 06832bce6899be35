/* imago_director: a device's row in director.db (see director_priv.h). */
#include "cloud/director/director_priv.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char dir_row_cols[] =
    "id, assigned, t_name, t_length, t_sha256, t_hwid, t_version, t_sc, t_rollout,"
    " targets_version, targets_expires, snapshot_version, snapshot_expires, timestamp_version,"
    " timestamp_expires, reported, reported_at, r_report, r_nonce, r_counter, r_time, r_sha256,"
    " r_length, r_version, r_sc, r_hwid, r_state, r_target, r_rollout, r_error, r_progress";

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
        const unsigned char *s = sqlite3_column_text(st, i);
        size_t n = s != NULL ? strlen((const char *)s) : 0;

        if (n >= cap)
                n = 0; /* never written by this module */
        if (n > 0)
                memcpy(dst, s, n);
        dst[n] = '\0';
}

static void col_blob(sqlite3_stmt *st, int i, uint8_t *dst, size_t n)
{
        const void *b = sqlite3_column_blob(st, i);

        if (b != NULL && (size_t)sqlite3_column_bytes(st, i) == n)
                memcpy(dst, b, n);
}

void dir_row_from_stmt(sqlite3_stmt *st, struct dir_row *row)
{
        struct imago_director_device *dv = &row->dv;
        struct imago_director_target *t = &dv->target;
        struct imago_vreport *l = &dv->last;
        const void *b;
        int n;

        row->exists = 1;
        col_text(st, 0, dv->id, sizeof(dv->id));
        dv->assigned = sqlite3_column_int(st, 1) != 0;
        col_text(st, 2, t->name, sizeof(t->name));
        t->length = (uint64_t)sqlite3_column_int64(st, 3);
        col_blob(st, 4, t->sha256, sizeof(t->sha256));
        col_text(st, 5, t->hardware_id, sizeof(t->hardware_id));
        col_text(st, 6, t->version, sizeof(t->version));
        t->security_counter = (uint32_t)sqlite3_column_int64(st, 7);
        t->rollout = (uint64_t)sqlite3_column_int64(st, 8);
        row->targets_version = (uint64_t)sqlite3_column_int64(st, 9);
        row->targets_expires = sqlite3_column_int64(st, 10);
        row->snapshot_version = (uint64_t)sqlite3_column_int64(st, 11);
        row->snapshot_expires = sqlite3_column_int64(st, 12);
        row->timestamp_version = (uint64_t)sqlite3_column_int64(st, 13);
        row->timestamp_expires = sqlite3_column_int64(st, 14);
        dv->reported = sqlite3_column_int(st, 15) != 0;
        dv->reported_at = sqlite3_column_int64(st, 16);
        if (!dv->reported)
                return;
        b = sqlite3_column_blob(st, 17);
        n = sqlite3_column_bytes(st, 17);
        if (b != NULL && n > 0 && (row->last_bytes = malloc((size_t)n)) != NULL) {
                memcpy(row->last_bytes, b, (size_t)n);
                row->last_len = (size_t)n;
        }
        memcpy(l->device, dv->id, sizeof(l->device));
        col_text(st, 18, l->nonce, sizeof(l->nonce));
        l->counter = (uint64_t)sqlite3_column_int64(st, 19);
        l->time = sqlite3_column_int64(st, 20);
        col_blob(st, 21, l->installed_sha256, sizeof(l->installed_sha256));
        l->installed_length = (uint64_t)sqlite3_column_int64(st, 22);
        col_text(st, 23, l->installed_version, sizeof(l->installed_version));
        l->installed_security_counter = (uint32_t)sqlite3_column_int64(st, 24);
        col_text(st, 25, l->hardware_id, sizeof(l->hardware_id));
        l->state = (enum imago_vreport_state)sqlite3_column_int(st, 26);
        col_text(st, 27, l->target, sizeof(l->target));
        l->rollout = (uint64_t)sqlite3_column_int64(st, 28);
        col_text(st, 29, l->error, sizeof(l->error));
        l->progress = (unsigned)sqlite3_column_int(st, 30);
}

void dir_row_free(struct dir_row *row)
{
        if (row == NULL)
                return;
        free(row->last_bytes);
        memset(row, 0, sizeof(*row));
}

int dir_row_load(struct imago_director *d, const char *device, struct dir_row *row)
{
        char sql[1024];
        sqlite3_stmt *st = NULL;
        int r, rc;

        memset(row, 0, sizeof(*row));
        snprintf(sql, sizeof(sql), "SELECT %s FROM devices WHERE id = ?1", dir_row_cols);
        if ((rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        r = 0;
        if (rc == SQLITE_ROW)
                dir_row_from_stmt(st, row);
        else if (rc != SQLITE_DONE)
                r = dir_sqlite_err(d->db, rc);
        sqlite3_finalize(st);
        if (r == 0 && !row->exists)
                memcpy(row->dv.id, device, IMAGO_DEVICE_ID_LEN + 1);
        return r;
}

int imago_director_device(struct imago_director *d, const char *device,
                          struct imago_director_device *out)
{
        struct dir_row row;
        int r;

        if (d == NULL || out == NULL || !imago_device_id_valid(device))
                return IMAGO_EINVAL;
        if ((r = dir_row_load(d, device, &row)) != 0)
                return r;
        r = row.exists ? 0 : IMAGO_ENOTFOUND;
        *out = row.dv;
        dir_row_free(&row);
        return r;
}

int imago_director_devices(struct imago_director *d,
                           int (*cb)(const struct imago_director_device *dv, void *arg), void *arg)
{
        char sql[1024];
        sqlite3_stmt *st = NULL;
        int r = 0, rc;

        if (d == NULL || cb == NULL)
                return IMAGO_EINVAL;
        snprintf(sql, sizeof(sql), "SELECT %s FROM devices ORDER BY id", dir_row_cols);
        if ((rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct dir_row row;

                memset(&row, 0, sizeof(row));
                dir_row_from_stmt(st, &row);
                r = cb(&row.dv, arg);
                dir_row_free(&row);
                if (r != 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = dir_sqlite_err(d->db, rc);
        sqlite3_finalize(st);
        return r;
}
