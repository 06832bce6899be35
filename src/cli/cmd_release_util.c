/* Shared helpers of `imago release`; see cmd_release.h. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include "cmd_release.h"

#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/num.h"
#include "cli.h"
#include "crypto/keys.h"
#include "json/json.h"
#include "tuf/tuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const imago_rel_roles[4] = {"root", "targets", "snapshot", "timestamp"};

int imago_rel_role_offline(const char *role)
{
        return strcmp(role, "root") == 0 || strcmp(role, "targets") == 0;
}

int imago_rel_fail(const char *cmd, const char *file, int r, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "imago: %s: ", cmd);
        if (file != NULL)
                fprintf(stderr, "%s: ", file);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (%s)\n", imago_errname(r));
        return IMAGO_CLI_FAIL;
}

int imago_rel_expires_in(uint32_t days, char out[IMAGO_REL_EXPIRES_LEN + 1])
{
        time_t t = time(NULL);
        struct tm tm;

        if (t == (time_t)-1)
                return IMAGO_EIO;
        t += (time_t)days * 86400;
        if (gmtime_r(&t, &tm) == NULL)
                return IMAGO_ERANGE;
        if (strftime(out, IMAGO_REL_EXPIRES_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) !=
            IMAGO_REL_EXPIRES_LEN)
                return IMAGO_ERANGE;
        return IMAGO_OK;
}

int imago_rel_parse_days(const char *cmd, const char *s, uint32_t *days)
{
        if (imago_parse_u32(s, IMAGO_REL_DAYS_MAX, days) != IMAGO_OK || *days == 0)
                return imago_cli_usage(cmd, "--expires takes a number of days, 1 to %u",
                                       IMAGO_REL_DAYS_MAX);
        return IMAGO_OK;
}

int imago_rel_pubkey(const char *path, json_t **key, char keyid[65])
{
        struct imago_pubkey pub;
        json_t *k = NULL;
        int r;

        *key = NULL;
        if ((r = imago_pubkey_load(path, &pub)) != IMAGO_OK)
                return r;
        if ((r = imago_tuf_key_from_pub(&pub, &k)) != IMAGO_OK)
                return r;
        if ((r = imago_tuf_keyid(k, keyid)) != IMAGO_OK) {
                json_decref(k);
                return r;
        }
        *key = k;
        return IMAGO_OK;
}

const char *imago_rel_type(json_t *meta)
{
        return imago_json_str(json_object_get(meta, "signed"), "_type", NULL);
}

int imago_rel_digest(const json_t *signed_obj, char out[65])
{
        uint8_t d[IMAGO_SHA256_LEN];
        char *buf = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_tuf_cjson(signed_obj, &buf, &len)) != IMAGO_OK)
                return r;
        r = imago_sha256(buf, len, d);
        free(buf);
        if (r == IMAGO_OK)
                imago_hex_encode(d, sizeof(d), out);
        return r;
}

/* A positive integer member <= max. */
static int get_uint(json_t *obj, const char *name, json_int_t max, json_int_t *v)
{
        json_t *j = json_object_get(obj, name);

        if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > max)
                return 0;
        *v = json_integer_value(j);
        return 1;
}

int imago_rel_check_root(json_t *s, const char **why)
{
        static const char *const role_keys[] = {"keyids", "threshold"};
        json_t *keys = json_object_get(s, "keys"), *roles = json_object_get(s, "roles");
        json_t *key, *role, *ids, *id;
        char kid[65];
        const char *name;
        json_int_t th;
        size_t i, j, k;

        if (!json_is_object(keys) || !json_is_object(roles) || json_object_size(roles) != 4 ||
            !json_is_boolean(json_object_get(s, "consistent_snapshot"))) {
                *why =
                    "root needs \"keys\", \"roles\" (the four roles) and \"consistent_snapshot\"";
                return IMAGO_ETUF_FORMAT;
        }
        json_object_foreach(keys, name, key)
        {
                if (!imago_hex_is_lower(name, 64, 64) || !json_is_object(key) ||
                    imago_tuf_keyid(key, kid) != IMAGO_OK || strcmp(kid, name) != 0) {
                        *why = "a key id is not the SHA-256 of its key object";
                        return IMAGO_ETUF_FORMAT;
                }
        }
        for (i = 0; i < 4; i++) {
                role = json_object_get(roles, imago_rel_roles[i]);
                ids = json_object_get(role, "keyids");
                if (!json_is_object(role) || !imago_json_only_keys(role, role_keys, 2) ||
                    !json_is_array(ids) || json_array_size(ids) > IMAGO_REL_KEYS_MAX ||
                    !get_uint(role, "threshold", (json_int_t)json_array_size(ids), &th)) {
                        *why = "a role needs \"keyids\" and a threshold of 1 to its number of keys";
                        return IMAGO_ETUF_FORMAT;
                }
                json_array_foreach(ids, j, id)
                {
                        if (!json_is_string(id) ||
                            json_object_get(keys, json_string_value(id)) == NULL) {
                                *why = "a role lists a key id that \"keys\" does not hold";
                                return IMAGO_ETUF_FORMAT;
                        }
                        for (k = 0; k < j; k++)
                                if (json_equal(id, json_array_get(ids, k))) {
                                        *why = "a role lists a key id twice";
                                        return IMAGO_ETUF_FORMAT;
                                }
                }
        }
        return IMAGO_OK;
}

static int check_signed(json_t *s, const char **why)
{
        static const char *const root_keys[] = {
            "_type", "spec_version", "version", "expires", "keys", "roles", "consistent_snapshot"};
        static const char *const targets_keys[] = {"_type",   "spec_version", "version",
                                                   "expires", "targets",      "delegations"};
        static const char *const sn_keys[] = {"_type", "spec_version", "version", "expires",
                                              "meta"};
        const char *type = imago_json_str(s, "_type", NULL);
        const char *spec = imago_json_str(s, "spec_version", NULL);
        json_int_t v;
        int64_t t;

        if (type == NULL || spec == NULL || strncmp(spec, "1.", 2) != 0 ||
            !get_uint(s, "version", INT32_MAX, &v) ||
            imago_tuf_time_parse(imago_json_str(s, "expires", NULL), &t) != IMAGO_OK) {
                *why = "\"signed\" needs \"_type\", \"spec_version\" 1.x, \"version\" >= 1 and "
                       "\"expires\" as YYYY-MM-DDTHH:MM:SSZ";
                return IMAGO_ETUF_FORMAT;
        }
        if (strcmp(type, "root") == 0) {
                if (!imago_json_only_keys(s, root_keys, 7)) {
                        *why = "unexpected member in root metadata";
                        return IMAGO_ETUF_FORMAT;
                }
                return imago_rel_check_root(s, why);
        }
        if (strcmp(type, "targets") == 0) {
                if (!imago_json_only_keys(s, targets_keys, 6) ||
                    !json_is_object(json_object_get(s, "targets"))) {
                        *why = "targets metadata needs a \"targets\" object and nothing unexpected";
                        return IMAGO_ETUF_FORMAT;
                }
                return IMAGO_OK;
        }
        if (strcmp(type, "snapshot") == 0 || strcmp(type, "timestamp") == 0) {
                if (!imago_json_only_keys(s, sn_keys, 5) ||
                    !json_is_object(json_object_get(s, "meta"))) {
                        *why = "snapshot and timestamp metadata need a \"meta\" object";
                        return IMAGO_ETUF_FORMAT;
                }
                return IMAGO_OK;
        }
        *why = "unknown \"_type\"";
        return IMAGO_ETUF_FORMAT;
}

static int check_sig(json_t *sig)
{
        static const char *const sig_keys[] = {"keyid", "sig"};
        const char *kid = imago_json_str(sig, "keyid", NULL);
        const char *hex = imago_json_str(sig, "sig", NULL);

        if (!json_is_object(sig) || !imago_json_only_keys(sig, sig_keys, 2) || kid == NULL ||
            hex == NULL || !imago_hex_is_lower(kid, 64, 64) || !imago_hex_is_lower(hex, 2, 1024))
                return IMAGO_ETUF_FORMAT;
        return IMAGO_OK;
}

/* What imago_tuf's strict parser (the client's) says of the document. */
static int tuf_parse(json_t *m, const uint8_t *buf, size_t len, const char **why)
{
        static const struct {
                const char *name;
                enum imago_tuf_type type;
        } types[] = {{"root", IMAGO_TUF_ROOT},
                     {"targets", IMAGO_TUF_TARGETS},
                     {"snapshot", IMAGO_TUF_SNAPSHOT},
                     {"timestamp", IMAGO_TUF_TIMESTAMP}};
        const char *type = imago_rel_type(m);
        struct imago_tuf_limits lim;
        struct imago_tuf_meta tm;
        size_t i;
        int r;

        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (type != NULL && strcmp(type, types[i].name) == 0)
                        break;
        if (i == sizeof(types) / sizeof(types[0])) {
                *why = "unknown \"_type\"";
                return IMAGO_ETUF_FORMAT;
        }
        imago_tuf_limits_default(&lim);
        lim.root_max = lim.timestamp_max = lim.snapshot_max = lim.targets_max = IMAGO_REL_META_MAX;
        r = imago_tuf_meta_parse(types[i].type, buf, len, &lim, &tm);
        imago_tuf_meta_free(&tm);
        if (r != IMAGO_OK)
                *why = "refused by the TUF metadata parser (src/tuf)";
        return r;
}

int imago_rel_load(const char *cmd, const char *path, json_t **meta)
{
        static const char *const top_keys[] = {"signed", "signatures"};
        const char *why = NULL;
        json_t *m = NULL, *sigs, *sig;
        uint8_t *buf = NULL;
        size_t i, j, len = 0;
        int r;

        *meta = NULL;
        if ((r = imago_file_read(path, IMAGO_REL_META_MAX, &buf, &len)) != IMAGO_OK ||
            (r = imago_json_object(buf, len, IMAGO_REL_META_MAX, &m)) != IMAGO_OK) {
                imago_cli_fail(cmd, path, r);
                goto out_free;
        }
        sigs = json_object_get(m, "signatures");
        if (!imago_json_only_keys(m, top_keys, 2) ||
            !json_is_object(json_object_get(m, "signed")) || !json_is_array(sigs)) {
                why = "not TUF metadata: expected {\"signed\": {...}, \"signatures\": [...]}";
                r = IMAGO_ETUF_FORMAT;
                goto out;
        }
        if ((r = check_signed(json_object_get(m, "signed"), &why)) != IMAGO_OK)
                goto out;
        if (json_array_size(sigs) > IMAGO_REL_SIGS_MAX) {
                why = "too many signatures";
                r = IMAGO_ETUF_FORMAT;
                goto out;
        }
        json_array_foreach(sigs, i, sig)
        {
                if ((r = check_sig(sig)) != IMAGO_OK) {
                        why = "a signature is not {\"keyid\": 64 hex, \"sig\": hex}";
                        goto out;
                }
                for (j = 0; j < i; j++)
                        if (json_equal(json_object_get(sig, "keyid"),
                                       json_object_get(json_array_get(sigs, j), "keyid"))) {
                                why = "two signatures by the same key";
                                r = IMAGO_ETUF_FORMAT;
                                goto out;
                        }
        }
        if ((r = tuf_parse(m, buf, len, &why)) != IMAGO_OK)
                goto out;
        *meta = m;
        m = NULL;
out:
        if (r != IMAGO_OK)
                imago_rel_fail(cmd, path, r, "%s", why);
out_free:
        json_decref(m);
        if (buf != NULL)
                imago_file_free(buf, len);
        return r;
}

int imago_rel_load_sig(const char *cmd, const char *path, json_t **sig)
{
        json_t *s = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        *sig = NULL;
        if ((r = imago_file_read(path, IMAGO_REL_SIG_MAX, &buf, &len)) == IMAGO_OK) {
                r = imago_json_object(buf, len, IMAGO_REL_SIG_MAX, &s);
                imago_file_free(buf, len);
        }
        if (r != IMAGO_OK) {
                imago_cli_fail(cmd, path, r);
                return r;
        }
        if ((r = check_sig(s)) != IMAGO_OK) {
                json_decref(s);
                imago_rel_fail(cmd, path, r,
                               "not a signature file: expected {\"keyid\": 64 hex, \"sig\": hex}");
                return r;
        }
        *sig = s;
        return IMAGO_OK;
}

int imago_rel_write(const char *cmd, const char *path, const json_t *meta, int force)
{
        char *text, *t2;
        size_t len;
        int r;

        text = json_dumps(meta, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        if (text == NULL) {
                imago_cli_fail(cmd, path, IMAGO_ENOMEM);
                return IMAGO_ENOMEM;
        }
        len = strlen(text);
        if ((t2 = realloc(text, len + 2)) == NULL) {
                free(text);
                imago_cli_fail(cmd, path, IMAGO_ENOMEM);
                return IMAGO_ENOMEM;
        }
        text = t2;
        text[len++] = '\n';
        text[len] = '\0';
        if (force)
                r = imago_file_write_atomic(path, text, len, 0644);
        else
                r = imago_file_write_new(path, text, len, 0644);
        free(text);
        if (r == IMAGO_EEXIST)
                imago_rel_fail(cmd, path, r, "exists; give --force to replace it");
        else if (r != IMAGO_OK)
                imago_cli_fail(cmd, path, r);
        return r;
}

int imago_rel_role_keys(json_t *root_signed, const char *role, json_t **keys, json_t **keyids,
                        unsigned *threshold)
{
        json_t *r = json_object_get(json_object_get(root_signed, "roles"), role);
        json_t *all = json_object_get(root_signed, "keys");
        json_t *ids = json_object_get(r, "keyids"), *id, *k = NULL;
        size_t i;

        *keys = NULL;
        *keyids = NULL;
        if (!json_is_array(ids) || !json_is_integer(json_object_get(r, "threshold")))
                return IMAGO_ETUF_FORMAT;
        if ((k = json_object()) == NULL)
                return IMAGO_ENOMEM;
        json_array_foreach(ids, i, id)
        {
                if (json_object_set(k, json_string_value(id),
                                    json_object_get(all, json_string_value(id))) != 0) {
                        json_decref(k);
                        return IMAGO_ETUF_FORMAT;
                }
        }
        *keys = k;
        *keyids = json_incref(ids);
        *threshold = (unsigned)json_integer_value(json_object_get(r, "threshold"));
        return IMAGO_OK;
}
