/* Private to imago_director (src/cloud/director); see director.h. */
#ifndef IMAGO_CLOUD_DIRECTOR_DIRECTOR_PRIV_H
#define IMAGO_CLOUD_DIRECTOR_DIRECTOR_PRIV_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* PATH_MAX, gmtime_r */
#endif

#include "cloud/director/director.h"

#include <limits.h>

#include <jansson.h>
#include <sqlite3.h>

#define DIR_F_ROOT_KEY     "keys/director-root.key"
#define DIR_F_ROOT_PUB     "keys/director-root.pub"
#define DIR_F_KEY          "keys/director.key"
#define DIR_F_PUB          "keys/director.pub"
#define DIR_D_META         "director/metadata"
#define DIR_F_DB           "director.db"
#define DIR_ROOT_LIFE      (366 * 86400)
#define DIR_TARGETS_LIFE   (7 * 86400)
#define DIR_SNAPSHOT_LIFE  (7 * 86400)
#define DIR_TIMESTAMP_LIFE 86400
#define DIR_REPORT_SKEW    86400
#define DIR_NONCES_KEPT    1024 /* per device; the counter refuses anything older anyway */
#define DIR_BUSY_MS        5000
#define DIR_SPEC           "1.0.31"

struct imago_director {
        sqlite3 *db;
        char dir[PATH_MAX];
        struct imago_privkey key; /* type NONE when opened read-only */
};

/* A device's row as stored. */
struct dir_row {
        int exists;
        struct imago_director_device dv;
        uint64_t targets_version, snapshot_version, timestamp_version;
        int64_t targets_expires, snapshot_expires, timestamp_expires;
        uint8_t *last_bytes; /* the last accepted report as received (malloc'd) */
        size_t last_len;
};

/* out = dir "/" rel; IMAGO_EINVAL when it does not fit. */
int dir_path(char *out, size_t cap, const char *dir, const char *rel);
/* "YYYY-MM-DDTHH:MM:SSZ". */
int dir_time_fmt(int64_t t, char out[32]);
/* Sign signed_obj (a reference is taken) with key into {"signed","signatures"} bytes. */
int dir_sign_doc(const struct imago_privkey *key, json_t *signed_obj, char **out, size_t *len);

/* SQLite. */
int dir_db_open(struct imago_director *d);
int dir_exec(sqlite3 *db, const char *sql);
int dir_sqlite_err(sqlite3 *db, int rc);
int dir_row_load(struct imago_director *d, const char *device, struct dir_row *row);
void dir_row_free(struct dir_row *row);
/* New versions from level down: 3 targets, 2 snapshot, 1 timestamp; writes the row. */
int dir_publish(struct imago_director *d, struct dir_row *row, int level, int64_t now);
/* Fill dv from a SELECT of dir_row_cols starting at column 0. */
void dir_row_from_stmt(sqlite3_stmt *st, struct dir_row *row);
extern const char dir_row_cols[];

/* Field rules shared with the version report (hardware id, version). */
int dir_hwid_valid(const char *s);
int dir_version_valid(const char *s);
int dir_target_valid(const struct imago_director_target *t);

#endif
