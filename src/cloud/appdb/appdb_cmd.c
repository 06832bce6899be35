/* See appdb.h: commands, their per-device sequence numbers and results. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int new_tx(struct imago_appdb *db, const char *device, uint64_t user, const char *name,
                  const char *args, int64_t iat, int64_t exp, uint64_t *id, uint64_t *seq)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* the counter outlives the commands: a device never sees a sequence number twice */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_SEQ, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_INSERT, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)*seq);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)user);
        sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, args, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, iat);
        sqlite3_bind_int64(st, 7, exp);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        *id = (uint64_t)sqlite3_last_insert_rowid(db->db);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_cmd_new(struct imago_appdb *db, const char *device, uint64_t user, const char *name,
                        const char *args, int64_t iat, int64_t exp, uint64_t *id, uint64_t *seq)
{
        uint64_t i = 0, s = 0;
        int r;

        if (db == NULL || id == NULL || seq == NULL)
                return IMAGO_EINVAL;
        *id = 0;
        *seq = 0;
        if (args == NULL)
                args = "{}";
        if (imago_appdb_check_device(device) != 0 || user > (uint64_t)INT64_MAX ||
            imago_appdb_check_cmd_name(name) != 0 || imago_appdb_check_text(args) != 0 ||
            iat >= exp)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        if ((r = imago_appdb_end(db, new_tx(db, device, user, name, args, iat, exp, &i, &s))) ==
            0) {
                *id = i;
                *seq = s;
        }
        return r;
}

static int result_tx(struct imago_appdb *db, const char *device, uint64_t seq,
                     enum imago_appdb_cmd_status status, const char *result, int64_t now,
                     uint64_t *id)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* conditional update: only a command still SENT takes a result */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_RESULT, &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, (int)status);
        if (result != NULL)
                sqlite3_bind_text(st, 2, result, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 2);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)seq);
        r = imago_appdb_step_row(db->db, st);
        if (r == 0) {
                *id = (uint64_t)sqlite3_column_int64(st, 0);
                r = imago_appdb_step_done(db->db, st);
                goto out;
        }
        if (r != IMAGO_ENOTFOUND)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_ID, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        *id = (uint64_t)sqlite3_column_int64(st, 0);
        r = IMAGO_EEXIST;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_cmd_result(struct imago_appdb *db, const char *device, uint64_t seq,
                           enum imago_appdb_cmd_status status, const char *result, int64_t now,
                           uint64_t *id)
{
        uint64_t i = 0;
        int r;

        if (db == NULL || id == NULL)
                return IMAGO_EINVAL;
        *id = 0;
        if (imago_appdb_check_device(device) != 0 || imago_appdb_check_id(seq) != 0 ||
            status < IMAGO_APPDB_CMD_OK || status > IMAGO_APPDB_CMD_EXPIRED ||
            (result != NULL && imago_appdb_check_text(result) != 0))
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        r = imago_appdb_end(db, result_tx(db, device, seq, status, result, now, &i));
        if (r == 0 || r == IMAGO_EEXIST)
                *id = i;
        return r;
}

static int read_tx(struct imago_appdb *db, uint64_t id, struct imago_appdb_cmd *c)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_GET, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        c->id = (uint64_t)sqlite3_column_int64(st, 0);
        if ((r = imago_appdb_col_copy(st, 1, c->device, sizeof(c->device))) != 0 ||
            (r = imago_appdb_col_copy(st, 4, c->name, sizeof(c->name))) != 0 ||
            (r = imago_appdb_col_dup(st, 5, &c->args)) != 0 ||
            (r = imago_appdb_col_dup(st, 9, &c->result)) != 0)
                goto out;
        c->seq = (uint64_t)sqlite3_column_int64(st, 2);
        c->user = (uint64_t)sqlite3_column_int64(st, 3);
        c->iat = sqlite3_column_int64(st, 6);
        c->exp = sqlite3_column_int64(st, 7);
        c->status = (enum imago_appdb_cmd_status)sqlite3_column_int(st, 8);
        c->done_at = sqlite3_column_int64(st, 10);
out:
        imago_appdb_stmt_put(st);
        return r;
}

static int expire_read_tx(struct imago_appdb *db, uint64_t id, int64_t now,
                          struct imago_appdb_cmd *c)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* a command without a result past its expiry is EXPIRED from now on */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_CMD_EXPIRE, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, now);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        r = read_tx(db, id, c);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_cmd_get_at(struct imago_appdb *db, uint64_t id, int64_t now,
                           struct imago_appdb_cmd *c)
{
        int r;

        if (db == NULL || c == NULL)
                return IMAGO_EINVAL;
        memset(c, 0, sizeof(*c));
        if (imago_appdb_check_id(id) != 0)
                return IMAGO_EINVAL;
        /* most reads (polling a command) change nothing: a read transaction, no write lock */
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        if ((r = imago_appdb_end(db, read_tx(db, id, c))) != 0 ||
            c->status != IMAGO_APPDB_CMD_SENT || now < c->exp)
                goto out;
        /* SENT at or past exp: store EXPIRED and answer from the write transaction (which sees a
         * result that came in between, conditional update) */
        imago_appdb_cmd_free(c);
        if ((r = imago_appdb_begin(db, 1)) != 0)
                goto out;
        r = imago_appdb_end(db, expire_read_tx(db, id, now, c));
out:
        if (r != 0)
                imago_appdb_cmd_free(c);
        return r;
}

int imago_appdb_cmd_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_cmd *c)
{
        return imago_appdb_cmd_get_at(db, id, (int64_t)time(NULL), c);
}

void imago_appdb_cmd_free(struct imago_appdb_cmd *c)
{
        if (c == NULL)
                return;
        free(c->args);
        free(c->result);
        memset(c, 0, sizeof(*c));
}

const char *imago_appdb_cmd_status_name(enum imago_appdb_cmd_status s)
{
        switch (s) {
        case IMAGO_APPDB_CMD_SENT:
                return "sent";
        case IMAGO_APPDB_CMD_OK:
                return "ok";
        case IMAGO_APPDB_CMD_FAILED:
                return "failed";
        case IMAGO_APPDB_CMD_REJECTED:
                return "rejected";
        case IMAGO_APPDB_CMD_UNKNOWN:
                return "unknown";
        case IMAGO_APPDB_CMD_EXPIRED:
                return "expired";
        }
        return "invalid";
}
