/* See appdb.h: reported and desired state documents with versions. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static int dup_empty(char **out)
{
        if ((*out = malloc(3)) == NULL)
                return IMAGO_ENOMEM;
        memcpy(*out, "{}", 3);
        return 0;
}

static int get_tx(struct imago_appdb *db, const char *device, struct imago_appdb_state *s)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_STATE_GET, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        r = imago_appdb_step_row(db->db, st);
        if (r == IMAGO_ENOTFOUND) {
                if ((r = dup_empty(&s->reported)) == 0)
                        r = dup_empty(&s->desired);
                goto out;
        }
        if (r != 0)
                goto out;
        if ((r = imago_appdb_col_dup(st, 0, &s->reported)) != 0 ||
            (r = imago_appdb_col_dup(st, 3, &s->desired)) != 0)
                goto out;
        s->reported_version = (uint64_t)sqlite3_column_int64(st, 1);
        s->reported_at = sqlite3_column_int64(st, 2);
        s->desired_version = (uint64_t)sqlite3_column_int64(st, 4);
        s->desired_at = sqlite3_column_int64(st, 5);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_state_get(struct imago_appdb *db, const char *device, struct imago_appdb_state *st)
{
        int r;

        if (db == NULL || st == NULL)
                return IMAGO_EINVAL;
        memset(st, 0, sizeof(*st));
        if (imago_appdb_check_device(device) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = imago_appdb_end(db, get_tx(db, device, st));
        if (r != 0)
                imago_appdb_state_free(st);
        return r;
}

void imago_appdb_state_free(struct imago_appdb_state *st)
{
        if (st == NULL)
                return;
        free(st->reported);
        free(st->desired);
        memset(st, 0, sizeof(*st));
}

/* The two documents differ only in their column names. */
static const enum imago_appdb_sql put_sql[2] = {IMAGO_APPDB_SQL_STATE_PUT_REPORTED,
                                                IMAGO_APPDB_SQL_STATE_PUT_DESIRED};
static const enum imago_appdb_sql version_sql[2] = {IMAGO_APPDB_SQL_STATE_VERSION_REPORTED,
                                                    IMAGO_APPDB_SQL_STATE_VERSION_DESIRED};

static int put_tx(struct imago_appdb *db, int which, const char *device, uint64_t expected,
                  const char *doc, int64_t now, uint64_t *version)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_STATE_ROW, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        /* conditional update: the write happens only at the expected version */
        if ((r = imago_appdb_stmt(db, put_sql[which], &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)expected);
        r = imago_appdb_step_row(db->db, st);
        if (r == 0) {
                *version = (uint64_t)sqlite3_column_int64(st, 0);
                r = imago_appdb_step_done(db->db, st);
                goto out;
        }
        if (r != IMAGO_ENOTFOUND)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, version_sql[which], &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        *version = (uint64_t)sqlite3_column_int64(st, 0);
        r = IMAGO_ESTATE_VERSION;
out:
        imago_appdb_stmt_put(st);
        return r;
}

static int put(struct imago_appdb *db, int which, const char *device, uint64_t expected,
               const char *doc, int64_t now, uint64_t *version)
{
        uint64_t v = 0;
        int r;

        if (db == NULL || version == NULL)
                return IMAGO_EINVAL;
        *version = 0;
        if (imago_appdb_check_device(device) != 0 || imago_appdb_check_text(doc) != 0 ||
            expected >= (uint64_t)INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        r = imago_appdb_end(db, put_tx(db, which, device, expected, doc, now, &v));
        if (r == 0 || r == IMAGO_ESTATE_VERSION)
                *version = v;
        return r;
}

int imago_appdb_state_put_reported(struct imago_appdb *db, const char *device, uint64_t expected,
                                   const char *doc, int64_t now, uint64_t *version)
{
        return put(db, 0, device, expected, doc, now, version);
}

int imago_appdb_state_put_desired(struct imago_appdb *db, const char *device, uint64_t expected,
                                  const char *doc, int64_t now, uint64_t *version)
{
        return put(db, 1, device, expected, doc, now, version);
}

static int clear_tx(struct imago_appdb *db, const char *device)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* the versions move on, so a writer holding an old version loses */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_STATE_CLEAR, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_state_clear(struct imago_appdb *db, const char *device)
{
        int r;

        if (db == NULL || imago_appdb_check_device(device) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, clear_tx(db, device));
}
