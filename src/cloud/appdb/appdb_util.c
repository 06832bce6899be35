/* See appdb_priv.h: SQL helpers and argument checks. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "cloud/auth/auth.h"
#include "regtoken/regtoken.h"

#include <stdlib.h>
#include <string.h>

int imago_appdb_sqlite_err(sqlite3 *db, int rc)
{
        switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
                return IMAGO_EEXIST;
        case SQLITE_NOMEM:
                return IMAGO_ENOMEM;
        default:
                /* busy past the 5 s timeout is a database failure for the caller too */
                IMAGO_ERR("appdb sqlite: %s", db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                return IMAGO_EREG_DB;
        }
}

int imago_appdb_exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : imago_appdb_sqlite_err(db, rc);
}

int imago_appdb_step_done(sqlite3 *db, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        return rc == SQLITE_DONE ? 0 : imago_appdb_sqlite_err(db, rc);
}

int imago_appdb_step_row(sqlite3 *db, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 0;
        if (rc == SQLITE_DONE)
                return IMAGO_ENOTFOUND;
        return imago_appdb_sqlite_err(db, rc);
}

int imago_appdb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

        return rc == SQLITE_OK ? 0 : imago_appdb_sqlite_err(db, rc);
}

/* Run a cached statement that returns no row. */
static int run(struct imago_appdb *db, enum imago_appdb_sql id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, id, &st)) == 0)
                r = imago_appdb_step_done(db->db, st);
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_begin(struct imago_appdb *db, int write)
{
        return run(db, write ? IMAGO_APPDB_SQL_BEGIN_WRITE : IMAGO_APPDB_SQL_BEGIN);
}

int imago_appdb_end(struct imago_appdb *db, int r)
{
        int r2;

        if (r == 0) {
                if ((r2 = run(db, IMAGO_APPDB_SQL_COMMIT)) == 0)
                        return 0;
                r = r2;
        }
        /* the cached ROLLBACK; sqlite3_exec if it cannot be prepared (out of memory) */
        if (sqlite3_get_autocommit(db->db) == 0 && run(db, IMAGO_APPDB_SQL_ROLLBACK) != 0 &&
            sqlite3_get_autocommit(db->db) == 0)
                (void)sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

int imago_appdb_col_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
        const unsigned char *s = sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);

        dst[0] = '\0';
        if (s == NULL)
                return 0;
        if (n >= cap)
                return IMAGO_EREG_DB;
        memcpy(dst, s, n);
        dst[n] = '\0';
        return 0;
}

int imago_appdb_col_dup(sqlite3_stmt *st, int col, char **out)
{
        const unsigned char *s = sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);

        *out = NULL;
        if (s == NULL)
                return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : IMAGO_ENOMEM;
        if ((*out = malloc(n + 1)) == NULL)
                return IMAGO_ENOMEM;
        memcpy(*out, s, n);
        (*out)[n] = '\0';
        return 0;
}

int imago_appdb_user_exists_tx(struct imago_appdb *db, uint64_t id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_USER_EXISTS, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        r = imago_appdb_step_row(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_check_user(const char *name)
{
        return imago_regtoken_user_valid(name) ? 0 : IMAGO_EINVAL;
}

static int all_of(const char *s, size_t min, size_t max, const char *set)
{
        size_t n;

        if (s == NULL)
                return IMAGO_EINVAL;
        n = strnlen(s, max + 1);
        if (n < min || n > max || strspn(s, set) != n)
                return IMAGO_EINVAL;
        return 0;
}

int imago_appdb_check_device(const char *id)
{
        return all_of(id, 32, 32, "0123456789abcdef");
}

int imago_appdb_check_hex32(const char *nonce)
{
        return all_of(nonce, 32, 32, "0123456789abcdef");
}

int imago_appdb_check_hash(const char *pw_hash)
{
        size_t i, n;

        if (pw_hash == NULL)
                return IMAGO_EINVAL;
        n = strnlen(pw_hash, IMAGO_APPDB_HASH_MAX + 1);
        if (n == 0 || n > IMAGO_APPDB_HASH_MAX)
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++)
                if ((unsigned char)pw_hash[i] <= 0x20 || (unsigned char)pw_hash[i] > 0x7e)
                        return IMAGO_EINVAL;
        return 0;
}

int imago_appdb_check_text(const char *s)
{
        size_t n;

        if (s == NULL)
                return IMAGO_EINVAL;
        n = strnlen(s, IMAGO_APPDB_TEXT_MAX + 1);
        return n >= 1 && n <= IMAGO_APPDB_TEXT_MAX ? 0 : IMAGO_EINVAL;
}

/* The command name rule of src/cmdenv (imago_cmdenv_name_valid): [a-z][a-z0-9_.-]{0,31}. */
int imago_appdb_check_cmd_name(const char *s)
{
        if (s == NULL || s[0] < 'a' || s[0] > 'z')
                return IMAGO_EINVAL;
        return all_of(s, 1, 32, "abcdefghijklmnopqrstuvwxyz0123456789_.-");
}

/* Row ids are SQLite integers: 1..INT64_MAX. */
int imago_appdb_check_id(uint64_t id)
{
        return id >= 1 && id <= (uint64_t)INT64_MAX ? 0 : IMAGO_EINVAL;
}
