/* See appdb.h: users. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"

#include <string.h>

static int read_user(sqlite3_stmt *st, struct imago_appdb_user *u)
{
        int r;

        memset(u, 0, sizeof(*u));
        u->id = (uint64_t)sqlite3_column_int64(st, 0);
        if ((r = imago_appdb_col_copy(st, 1, u->name, sizeof(u->name))) != 0 ||
            (r = imago_appdb_col_copy(st, 2, u->pw_hash, sizeof(u->pw_hash))) != 0)
                memset(u, 0, sizeof(*u));
        u->created = sqlite3_column_int64(st, 3);
        return r;
}

static int add_tx(struct imago_appdb *db, const char *name, const char *pw_hash, int64_t now,
                  uint64_t *id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_ADD, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pw_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        if (id != NULL)
                *id = (uint64_t)sqlite3_last_insert_rowid(db->db);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_user_add(struct imago_appdb *db, const char *name, const char *pw_hash, int64_t now,
                         uint64_t *id)
{
        int r;

        if (db == NULL || imago_appdb_check_user(name) != 0 || imago_appdb_check_hash(pw_hash) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, add_tx(db, name, pw_hash, now, id));
}

/* One user by name (by_name != NULL) or by id. */
static int get_tx(struct imago_appdb *db, const char *by_name, uint64_t id,
                  struct imago_appdb_user *u)
{
        sqlite3_stmt *st = NULL;
        int r;

        if (by_name != NULL) {
                if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_BY_NAME, &st)) != 0)
                        goto out;
                sqlite3_bind_text(st, 1, by_name, -1, SQLITE_STATIC);
        } else {
                if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_BY_ID, &st)) != 0)
                        goto out;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        }
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        r = read_user(st, u);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_user_by_name(struct imago_appdb *db, const char *name, struct imago_appdb_user *u)
{
        int r;

        if (db == NULL || u == NULL)
                return IMAGO_EINVAL;
        memset(u, 0, sizeof(*u));
        if (imago_appdb_check_user(name) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        return imago_appdb_end(db, get_tx(db, name, 0, u));
}

int imago_appdb_user_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_user *u)
{
        int r;

        if (db == NULL || u == NULL)
                return IMAGO_EINVAL;
        memset(u, 0, sizeof(*u));
        if (imago_appdb_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        return imago_appdb_end(db, get_tx(db, NULL, id, u));
}

static int set_hash_tx(struct imago_appdb *db, uint64_t id, const char *pw_hash)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_SET_HASH, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, pw_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        r = sqlite3_changes(db->db) == 1 ? 0 : IMAGO_ENOTFOUND;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_user_set_hash(struct imago_appdb *db, uint64_t id, const char *pw_hash)
{
        int r;

        if (db == NULL || imago_appdb_check_id(id) != 0 || imago_appdb_check_hash(pw_hash) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, set_hash_tx(db, id, pw_hash));
}

static int list_tx(struct imago_appdb *db, int (*cb)(const struct imago_appdb_user *u, void *arg),
                   void *arg)
{
        struct imago_appdb_user u;
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_LIST, &st)) != 0)
                goto out;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = read_user(st, &u)) != 0)
                        goto out;
                r = cb(&u, arg);
                memset(&u, 0, sizeof(u));
                if (r != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_appdb_sqlite_err(db->db, rc);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_user_list(struct imago_appdb *db,
                          int (*cb)(const struct imago_appdb_user *u, void *arg), void *arg)
{
        int r, r2;

        if (db == NULL || cb == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = list_tx(db, cb, arg);
        /* a callback's stop value is returned as is; the read transaction just ends */
        r2 = imago_appdb_end(db, 0);
        return r != 0 ? r : r2;
}
