/* imago_director: per-device targets, snapshot and timestamp metadata (see director.h). */
#include "cloud/director/director_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "tuf/tuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The targets member: {} or {NAME: {...}}. */
static json_t *targets_obj(const struct imago_director_device *dv)
{
        const struct imago_director_target *t = &dv->target;
        char sha[2 * IMAGO_SHA256_LEN + 1], rollout[24];

        if (!dv->assigned)
                return json_object();
        imago_hex_encode(t->sha256, IMAGO_SHA256_LEN, sha);
        snprintf(rollout, sizeof(rollout), "%" PRIu64, t->rollout);
        return json_pack("{s:{s:I,s:{s:s},s:{s:s,s:s,s:s,s:s,s:I}}}", t->name, "length",
                         (json_int_t)t->length, "hashes", "sha256", sha, "custom", "device", dv->id,
                         "rollout", rollout, "hardware_id", t->hardware_id, "version", t->version,
                         "security_counter", (json_int_t)t->security_counter);
}

/* Sign one document of type with member (a reference is stolen). */
static int sign_one(struct imago_director *d, const char *type, const char *member, json_t *val,
                    uint64_t version, int64_t expires, char **out, size_t *len)
{
        json_t *s = NULL;
        char when[32];
        int r;

        if (val == NULL)
                return IMAGO_ENOMEM;
        if ((r = dir_time_fmt(expires, when)) != 0) {
                json_decref(val);
                return r;
        }
        s = json_pack("{s:s,s:s,s:I,s:s,s:o}", "_type", type, "spec_version", DIR_SPEC, "version",
                      (json_int_t)version, "expires", when, member, val);
        if (s == NULL)
                return IMAGO_ENOMEM;
        r = dir_sign_doc(&d->key, s, out, len);
        json_decref(s);
        return r;
}

static int load_blob(struct imago_director *d, const char *device, const char *col, uint8_t **buf,
                     size_t *len)
{
        char sql[128];
        sqlite3_stmt *st = NULL;
        int r = IMAGO_ENOTFOUND, rc;

        *buf = NULL;
        *len = 0;
        snprintf(sql, sizeof(sql), "SELECT %s FROM devices WHERE id = ?1", col);
        if ((rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_blob(st, 0) != NULL) {
                int n = sqlite3_column_bytes(st, 0);
                r = IMAGO_ENOMEM;
                if ((*buf = malloc((size_t)n)) != NULL) {
                        memcpy(*buf, sqlite3_column_blob(st, 0), (size_t)n);
                        *len = (size_t)n;
                        r = 0;
                }
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                r = dir_sqlite_err(d->db, rc);
        }
        sqlite3_finalize(st);
        return r;
}

static int store(struct imago_director *d, const struct dir_row *row, const char *tdoc, size_t tlen,
                 const char *sdoc, size_t slen, const char *tsdoc, size_t tslen)
{
        static const char sql[] =
            "UPDATE devices SET assigned = ?2, t_name = ?3, t_length = ?4, t_sha256 = ?5,"
            " t_hwid = ?6, t_version = ?7, t_sc = ?8, t_rollout = ?9,"
            " targets_version = ?10, targets_expires = ?11,"
            " targets = coalesce(?12, targets), snapshot_version = ?13, snapshot_expires = ?14,"
            " snapshot = coalesce(?15, snapshot), timestamp_version = ?16,"
            " timestamp_expires = ?17, timestamp = ?18 WHERE id = ?1";
        const struct imago_director_target *t = &row->dv.target;
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = dir_exec(d->db, "SAVEPOINT dir_store")) != 0)
                return r;
        if ((rc = sqlite3_prepare_v2(d->db, "INSERT OR IGNORE INTO devices (id) VALUES (?1)", -1,
                                     &st, NULL)) != SQLITE_OK)
                goto fail;
        sqlite3_bind_text(st, 1, row->dv.id, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
                goto fail;
        sqlite3_finalize(st);
        if ((rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) != SQLITE_OK)
                goto fail;
        sqlite3_bind_text(st, 1, row->dv.id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, row->dv.assigned);
        sqlite3_bind_text(st, 3, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)t->length);
        sqlite3_bind_blob(st, 5, t->sha256, IMAGO_SHA256_LEN, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, t->hardware_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, t->version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)t->security_counter);
        sqlite3_bind_int64(st, 9, (sqlite3_int64)t->rollout);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)row->targets_version);
        sqlite3_bind_int64(st, 11, row->targets_expires);
        if (tdoc != NULL)
                sqlite3_bind_blob(st, 12, tdoc, (int)tlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 13, (sqlite3_int64)row->snapshot_version);
        sqlite3_bind_int64(st, 14, row->snapshot_expires);
        if (sdoc != NULL)
                sqlite3_bind_blob(st, 15, sdoc, (int)slen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 16, (sqlite3_int64)row->timestamp_version);
        sqlite3_bind_int64(st, 17, row->timestamp_expires);
        sqlite3_bind_blob(st, 18, tsdoc, (int)tslen, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
                goto fail;
        sqlite3_finalize(st);
        return dir_exec(d->db, "RELEASE dir_store");
fail:
        r = dir_sqlite_err(d->db, rc);
        sqlite3_finalize(st);
        (void)dir_exec(d->db, "ROLLBACK TO dir_store");
        (void)dir_exec(d->db, "RELEASE dir_store");
        return r;
}

int dir_publish(struct imago_director *d, struct dir_row *row, int level, int64_t now)
{
        char *tdoc = NULL, *sdoc = NULL, *tsdoc = NULL, sha[2 * IMAGO_SHA256_LEN + 1];
        size_t tlen = 0, slen = 0, tslen = 0;
        uint8_t *old = NULL, dg[IMAGO_SHA256_LEN];
        const uint8_t *snap;
        int r = IMAGO_EPERM;

        if (d->key.type == IMAGO_KEY_NONE)
                goto out; /* opened read-only */
        if (level >= 3 || row->targets_version == 0) {
                level = 3;
                row->targets_version++;
                row->targets_expires = now + DIR_TARGETS_LIFE;
                if ((r = sign_one(d, "targets", "targets", targets_obj(&row->dv),
                                  row->targets_version, row->targets_expires, &tdoc, &tlen)) != 0)
                        goto out;
        }
        if (level >= 2) {
                row->snapshot_version++;
                row->snapshot_expires = now + DIR_SNAPSHOT_LIFE;
                if ((r = sign_one(d, "snapshot", "meta",
                                  json_pack("{s:{s:I}}", "targets.json", "version",
                                            (json_int_t)row->targets_version),
                                  row->snapshot_version, row->snapshot_expires, &sdoc, &slen)) != 0)
                        goto out;
                snap = (const uint8_t *)sdoc;
        } else {
                if ((r = load_blob(d, row->dv.id, "snapshot", &old, &slen)) != 0)
                        goto out;
                snap = old;
        }
        if ((r = imago_sha256(snap, slen, dg)) != 0)
                goto out;
        imago_hex_encode(dg, sizeof(dg), sha);
        row->timestamp_version++;
        row->timestamp_expires = now + DIR_TIMESTAMP_LIFE;
        if ((r = sign_one(d, "timestamp", "meta",
                          json_pack("{s:{s:I,s:I,s:{s:s}}}", "snapshot.json", "version",
                                    (json_int_t)row->snapshot_version, "length", (json_int_t)slen,
                                    "hashes", "sha256", sha),
                          row->timestamp_version, row->timestamp_expires, &tsdoc, &tslen)) != 0)
                goto out;
        r = store(d, row, tdoc, tlen, sdoc, sdoc != NULL ? slen : 0, tsdoc, tslen);
        if (r == 0)
                row->exists = 1;
out:
        free(tdoc);
        free(sdoc);
        free(tsdoc);
        free(old);
        return r;
}

/* "N.<role>.json" with N the canonical decimal of a u64 >= 1: 0 and *n, else -1. */
static int versioned(const char *name, const char *role, uint64_t *n)
{
        const char *dot = strchr(name, '.');
        char num[24];
        size_t k = dot != NULL ? (size_t)(dot - name) : 0;

        if (k == 0 || k > 20 || strcmp(dot + 1, role) != 0 || name[0] == '0')
                return -1;
        memcpy(num, name, k);
        num[k] = '\0';
        for (size_t i = 0; i < k; i++)
                if (num[i] < '0' || num[i] > '9')
                        return -1;
        return imago_parse_u64(num, UINT64_MAX, n) == 0 && *n >= 1 ? 0 : -1;
}

static int root_file(struct imago_director *d, const char *name, uint8_t **buf, size_t *len)
{
        char rel[64], path[PATH_MAX];
        int r;

        if (snprintf(rel, sizeof(rel), DIR_D_META "/%s", name) >= (int)sizeof(rel) ||
            (r = dir_path(path, sizeof(path), d->dir, rel)) != 0)
                return IMAGO_ENOTFOUND;
        r = imago_file_read(path, IMAGO_TUF_ROOT_MAX, buf, len);
        return r == IMAGO_EIO ? IMAGO_ENOTFOUND : r;
}

/* A refresh starts with timestamp.json: re-sign what is due (in one write transaction, so a
 * command line assign and the service never sign the same version twice), so that what this
 * timestamp names stays the current N.snapshot.json / N.targets.json for the refresh. */
static int resign_due(struct imago_director *d, const char *device, int64_t now)
{
        struct dir_row row;
        int r, level = 0;

        if ((r = dir_exec(d->db, "BEGIN IMMEDIATE")) != 0)
                return r;
        if ((r = dir_row_load(d, device, &row)) != 0)
                goto out;
        if (!row.exists || row.targets_expires - now < DIR_TARGETS_LIFE / 2)
                level = 3;
        else if (row.snapshot_expires - now < DIR_SNAPSHOT_LIFE / 2)
                level = 2;
        else if (row.timestamp_expires - now < DIR_TIMESTAMP_LIFE / 2)
                level = 1;
        if (level > 0)
                r = dir_publish(d, &row, level, now);
out:
        dir_row_free(&row);
        if (r == 0)
                return dir_exec(d->db, "COMMIT");
        (void)dir_exec(d->db, "ROLLBACK");
        return r;
}

int imago_director_object(struct imago_director *d, const char *device, const char *name,
                          int64_t now, uint8_t **buf, size_t *len)
{
        struct dir_row row;
        uint64_t n = 0;
        int r = IMAGO_EINVAL;

        if (buf != NULL)
                *buf = NULL;
        if (len != NULL)
                *len = 0;
        memset(&row, 0, sizeof(row));
        if (d == NULL || name == NULL || buf == NULL || len == NULL ||
            !imago_device_id_valid(device) || now < 0)
                goto out;
        if (strcmp(name, "root.json") == 0) {
                r = root_file(d, "root.json", buf, len);
                goto out;
        }
        if (versioned(name, "root.json", &n) == 0) {
                char f[32];
                snprintf(f, sizeof(f), "%" PRIu64 ".root.json", n);
                r = root_file(d, f, buf, len);
                goto out;
        }
        if (strcmp(name, "timestamp.json") == 0) {
                r = resign_due(d, device, now);
                if (r == 0)
                        r = load_blob(d, device, "timestamp", buf, len);
                goto out;
        }
        if ((r = dir_row_load(d, device, &row)) != 0)
                goto out;
        r = IMAGO_ENOTFOUND;
        if (!row.exists)
                goto out;
        if (versioned(name, "snapshot.json", &n) == 0 && n == row.snapshot_version)
                r = load_blob(d, device, "snapshot", buf, len);
        else if (versioned(name, "targets.json", &n) == 0 && n == row.targets_version)
                r = load_blob(d, device, "targets", buf, len);
out:
        dir_row_free(&row);
        return r;
}
