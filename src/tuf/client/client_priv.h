/*
 * imago_tuf_client private: the metadata directory and fetches into memory,
 * shared by update.c (refresh) and target.c (find, download).
 */
#ifndef IMAGO_TUF_CLIENT_CLIENT_PRIV_H
#define IMAGO_TUF_CLIENT_CLIENT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tuf/client/client.h"

/* Longest role name percent-encoded, with ".json" and a version prefix. */
#define IMAGO_TUF_CLIENT_NAME_MAX (3 * IMAGO_TUF_ROLE_NAME_MAX + 32)

/* DIR/<quote(role)>.json: read (at most max bytes; IMAGO_ENOTFOUND when absent), write
 * atomically, delete (absent is fine). */
int imago_tuf_mdir_read(const struct imago_tuf_client *c, const char *role, size_t max,
                        uint8_t **data, size_t *len);
int imago_tuf_mdir_write(const struct imago_tuf_client *c, const char *role, const uint8_t *data,
                         size_t len);
int imago_tuf_mdir_delete(const struct imago_tuf_client *c, const char *role);

/* GET <metadata url>[<version>.]<quote(role)>.json (version 0: none) into a malloc'd buffer of at
 * most max bytes, freed by the caller with free(). */
int imago_tuf_fetch_meta(const struct imago_tuf_client *c, const char *role, uint64_t version,
                         size_t max, uint8_t **data, size_t *len);

/* Load a targets role (top-level "targets" with delegator "root", or delegated): the persisted
 * copy if the trusted set accepts it, else from the repository (bounded by the snapshot's
 * length or limits.targets_max), persisted once accepted. */
int imago_tuf_load_targets(struct imago_tuf_client *c, const char *role, const char *delegator);

#endif
