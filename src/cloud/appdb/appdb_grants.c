/* See appdb.h: operator grants. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"
#include "cloud/auth/auth.h"

#include <string.h>

static int read_grant(sqlite3_stmt *st, struct imago_appdb_grant *g)
{
        int r;

        memset(g, 0, sizeof(*g));
        g->id = (uint64_t)sqlite3_column_int64(st, 0);
        g->user = (uint64_t)sqlite3_column_int64(st, 1);
        g->role = sqlite3_column_int(st, 2);
        if ((r = imago_appdb_col_copy(st, 3, g->group, sizeof(g->group))) != 0)
                return r;
        g->not_before = sqlite3_column_int64(st, 4);
        g->expires = sqlite3_column_int64(st, 5);
        g->granted_by = (uint64_t)sqlite3_column_int64(st, 6);
        return 0;
}

static int add_tx(struct imago_appdb *db, const struct imago_appdb_grant *g, uint64_t *id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_user_exists_tx(db, g->user)) != 0)
                goto out;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_GRANT_ADD, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)g->user);
        sqlite3_bind_int(st, 2, g->role);
        sqlite3_bind_text(st, 3, g->group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, g->not_before);
        sqlite3_bind_int64(st, 5, g->expires);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)g->granted_by);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        if (id != NULL)
                *id = (uint64_t)sqlite3_last_insert_rowid(db->db);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_grant_add(struct imago_appdb *db, const struct imago_appdb_grant *g, uint64_t *id)
{
        int r;

        if (db == NULL || g == NULL || imago_appdb_check_id(g->user) != 0 ||
            g->role < IMAGO_ROLE_VIEWER || g->role > IMAGO_ROLE_SECURITY_ADMIN ||
            memchr(g->group, '\0', sizeof(g->group)) == NULL || !imago_auth_group_valid(g->group) ||
            g->not_before >= g->expires || g->granted_by > (uint64_t)INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, add_tx(db, g, id));
}

static int delete_tx(struct imago_appdb *db, uint64_t id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_GRANT_DELETE, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        r = sqlite3_changes(db->db) == 1 ? 0 : IMAGO_ENOTFOUND;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_grant_delete(struct imago_appdb *db, uint64_t id)
{
        int r;

        if (db == NULL || imago_appdb_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, delete_tx(db, id));
}

static int get_tx(struct imago_appdb *db, uint64_t id, struct imago_appdb_grant *g)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_GRANT_GET, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        r = read_grant(st, g);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_grant_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_grant *g)
{
        int r;

        if (db == NULL || g == NULL)
                return IMAGO_EINVAL;
        memset(g, 0, sizeof(*g));
        if (imago_appdb_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = imago_appdb_end(db, get_tx(db, id, g));
        if (r != 0)
                memset(g, 0, sizeof(*g));
        return r;
}

static int list_tx(struct imago_appdb *db, uint64_t user,
                   int (*cb)(const struct imago_appdb_grant *g, void *arg), void *arg)
{
        struct imago_appdb_grant g;
        sqlite3_stmt *st = NULL;
        int r, rc;

        /* two statements: "?1 = 0 OR user = ?1" would scan every grant for one user's */
        if ((r = imago_appdb_stmt(
                 db, user == 0 ? IMAGO_APPDB_SQL_GRANT_LIST_ALL : IMAGO_APPDB_SQL_GRANT_LIST_USER,
                 &st)) != 0)
                goto out;
        if (user != 0)
                sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = read_grant(st, &g)) != 0)
                        goto out;
                if ((r = cb(&g, arg)) != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_appdb_sqlite_err(db->db, rc);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_grant_list(struct imago_appdb *db, uint64_t user,
                           int (*cb)(const struct imago_appdb_grant *g, void *arg), void *arg)
{
        int r, r2;

        if (db == NULL || cb == NULL || user > (uint64_t)INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = list_tx(db, user, cb, arg);
        r2 = imago_appdb_end(db, 0);
        return r != 0 ? r : r2;
}
