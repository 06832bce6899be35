/*
 * `imago release`: offline signing of the image repository's root and
 * targets metadata (TUF 1.0, docs/release.md).  Internal to
 * src/cli/cmd_release*.c.
 *
 * Metadata files are {"signed": {...}, "signatures": [...]}; every
 * signature covers the canonical JSON of "signed" (src/tuf/tuf.h).  A
 * detached signature file is one TUF signature object {"keyid", "sig"}.
 *
 * Reading: every file is untrusted and read strictly (size limit, one
 * object, duplicate keys refused, only the expected members, types and
 * ranges checked) by imago_rel_load() / imago_rel_load_sig().
 *
 * Writing: imago_rel_write() writes atomically (temporary file, fsync,
 * rename); without force it never replaces an existing file (link()).
 *
 * Ownership: json_t results are new references the caller json_decref()s;
 * json_t arguments are borrowed.  Errors: IMAGO_E* codes; the functions
 * that take cmd print their own error line (cli.h format) and say so.
 */
#ifndef IMAGO_CLI_CMD_RELEASE_H
#define IMAGO_CLI_CMD_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IMAGO_REL_META_MAX    (32U * 1024U * 1024U) /* one metadata file */
#define IMAGO_REL_SIG_MAX     (16U * 1024U)         /* one detached signature file */
#define IMAGO_REL_KEYS_MAX    32U                   /* keys of one role */
#define IMAGO_REL_SIGS_MAX    64U      /* signatures of one metadata file (as imago_tuf) */
#define IMAGO_REL_DAYS_MAX    3660U    /* --expires at most ten years */
#define IMAGO_REL_NAME_MAX    1024U    /* target name */
#define IMAGO_REL_SPEC        "1.0.31" /* spec_version written */
#define IMAGO_REL_EXPIRES_LEN 20       /* "YYYY-MM-DDTHH:MM:SSZ" */

/* The four top-level roles, in the order they are printed. */
extern const char *const imago_rel_roles[4];
/* 1 for root and targets (offline keys), 0 for snapshot and timestamp (online). */
int imago_rel_role_offline(const char *role);

/* Subcommands (argv[0] = their name). */
int imago_cli_release_root(int argc, char **argv);
int imago_cli_release_root_init(int argc, char **argv);
int imago_cli_release_root_next(int argc, char **argv);
int imago_cli_release_targets(int argc, char **argv);
int imago_cli_release_targets_new(int argc, char **argv);
int imago_cli_release_targets_add(int argc, char **argv);
int imago_cli_release_sign(int argc, char **argv);
int imago_cli_release_combine(int argc, char **argv);
int imago_cli_release_verify(int argc, char **argv);

/* "imago: <cmd>: <file>: <message> (<errname of r>)" on stderr; returns IMAGO_CLI_FAIL. */
int imago_rel_fail(const char *cmd, const char *file, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Read a metadata file strictly: exactly "signed" and "signatures"; signed
 * has a known "_type", "spec_version" 1.x, "version" 1..2^31-1 and a valid
 * "expires"; root metadata has well-formed "keys" (each key id the hash of
 * its key object) and "roles" (the four roles, thresholds 1..number of
 * keys, key ids listed in "keys"); targets metadata a "targets" object;
 * signatures are at most IMAGO_REL_SIGS_MAX {"keyid", "sig"} objects with
 * distinct key ids; and imago_tuf_meta_parse() (the client's parser)
 * accepts it.  Prints the error line (cmd) on failure.
 */
int imago_rel_load(const char *cmd, const char *path, json_t **meta);

/* A detached signature file: {"keyid": 64 hex, "sig": hex}.  Prints the error line. */
int imago_rel_load_sig(const char *cmd, const char *path, json_t **sig);

/* The checks of imago_rel_load() on a root's signed part (used after editing one). */
int imago_rel_check_root(json_t *signed_obj, const char **why);

/* Write meta (indented, sorted keys, newline) to path.  Prints the error line. */
int imago_rel_write(const char *cmd, const char *path, const json_t *meta, int force);

/* Root editing (cmd_release_root.c).  add: key into "keys" (if new) and its id into the role
 * (IMAGO_EEXIST if the role lists it, IMAGO_ETOOBIG past IMAGO_REL_KEYS_MAX).  remove: the id
 * from the role (IMAGO_ENOTFOUND if not listed), and the key from "keys" when no role lists it
 * any more.  policy: IMAGO_EINVAL (*keyid, *why set) when a key serves both an offline role
 * (root, targets) and an online one (snapshot, timestamp).  set_expires: now + days. */
int imago_rel_root_add(json_t *signed_obj, const char *role, json_t *key, const char *keyid);
int imago_rel_root_remove(json_t *signed_obj, const char *role, const char *keyid);
int imago_rel_root_policy(json_t *signed_obj, const char **why, const char **keyid);
int imago_rel_set_expires(json_t *signed_obj, uint32_t days);

/* "YYYY-MM-DDTHH:MM:SSZ" of now + days (UTC). */
int imago_rel_expires_in(uint32_t days, char out[IMAGO_REL_EXPIRES_LEN + 1]);
/* --expires DAYS: 1..IMAGO_REL_DAYS_MAX; prints a usage line and returns IMAGO_CLI_USAGE on error.
 */
int imago_rel_parse_days(const char *cmd, const char *s, uint32_t *days);

/* The key object and key id of a public key file (PEM, or an unencrypted private key). */
int imago_rel_pubkey(const char *path, json_t **key, char keyid[65]);

/* signed's "_type" (borrowed), or NULL. */
const char *imago_rel_type(json_t *meta);

/*
 * The key objects and key ids that root's signed part authorises for role:
 * *keys a new object {keyid: key}, *keyids a new array, *threshold.
 */
int imago_rel_role_keys(json_t *root_signed, const char *role, json_t **keys, json_t **keyids,
                        unsigned *threshold);

/* Lowercase hex SHA-256 of the canonical JSON of signed (what the holders compare). */
int imago_rel_digest(const json_t *signed_obj, char out[65]);

#endif
