/*
 * `imago-cloud audit verify|show --data DIR ...`: the hash-chained audit log in
 * DIR/audit.db.  verify walks the whole chain and prints the head SEQ:HEX to keep
 * somewhere else: given back with --head it also detects a truncated or rewritten log.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "cloud/audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define SHOW_LIMIT_DEFAULT 100
#define SHOW_LIMIT_MAX     100000
#define HEAD_TEXT_MAX      (20 + 1 + 2 * IMAGO_AUDIT_HASH_LEN)

static const char usage[] =
    "usage: imago-cloud audit verify --data DIR [--head SEQ:HEX]\n"
    "       imago-cloud audit show --data DIR [--after N] [--limit M] [--json]\n"
    "\n"
    "verify: checks every record's hash and its link to the one before; prints the\n"
    "number of records and the head SEQ:HEX.  Keep the head outside this machine: with\n"
    "--head, verify also fails when the log no longer reaches that record or it differs\n"
    "(a truncated or recomputed log).  Exit 1 names the first record that does not fit.\n"
    "show: records after seq N (default 0), at most M (default 100, up to 100000).\n";

struct args {
        const char *cmd;
        const char *data_dir;
        const char *head;
        const char *after;
        const char *limit;
        int json;
};

static int parse(int argc, char **argv, const char *cmd, int verify, struct args *a)
{
        int i, m;

        memset(a, 0, sizeof(*a));
        a->cmd = cmd;
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK + 100;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &a->data_dir)) ||
                    (verify && (m = imago_cloud_opt(argc, argv, &i, cmd, "--head", &a->head))) ||
                    (!verify && (m = imago_cloud_opt(argc, argv, &i, cmd, "--after", &a->after))) ||
                    (!verify && (m = imago_cloud_opt(argc, argv, &i, cmd, "--limit", &a->limit)))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (!verify && strcmp(argv[i], "--json") == 0) {
                        a->json = 1;
                        continue;
                }
                return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
        }
        if (a->data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        return -1;
}

/* "SEQ:HEX": SEQ >= 1 decimal, HEX 64 lowercase hex digits. */
static int parse_head(const char *s, uint64_t *seq, uint8_t hash[IMAGO_AUDIT_HASH_LEN])
{
        char num[21];
        const char *colon = strchr(s, ':');
        size_t n;

        if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= sizeof(num) ||
            strspn(s, "0123456789") != n)
                return IMAGO_EINVAL;
        memcpy(num, s, n);
        num[n] = '\0';
        if (imago_parse_u64(num, UINT64_MAX, seq) != 0 || *seq == 0 ||
            !imago_hex_is_lower(colon + 1, 2 * IMAGO_AUDIT_HASH_LEN, 2 * IMAGO_AUDIT_HASH_LEN) ||
            imago_hex_decode(colon + 1, hash, IMAGO_AUDIT_HASH_LEN) != 0)
                return IMAGO_EINVAL;
        return 0;
}

static void head_text(uint64_t seq, const uint8_t hash[IMAGO_AUDIT_HASH_LEN],
                      char out[HEAD_TEXT_MAX + 1])
{
        char hex[2 * IMAGO_AUDIT_HASH_LEN + 1];

        imago_hex_encode(hash, IMAGO_AUDIT_HASH_LEN, hex);
        snprintf(out, HEAD_TEXT_MAX + 1, "%llu:%s", (unsigned long long)seq, hex);
}

static int cmd_verify(int argc, char **argv)
{
        struct imago_audit *audit = NULL;
        struct imago_audit_report rep;
        uint8_t want[IMAGO_AUDIT_HASH_LEN];
        char head[HEAD_TEXT_MAX + 1], what[64];
        struct args a;
        uint64_t want_seq = 0;
        int r, rc;

        memset(&rep, 0, sizeof(rep));
        if ((rc = parse(argc, argv, "audit verify", 1, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (a.head != NULL && parse_head(a.head, &want_seq, want) != 0)
                return imago_cloud_usage(a.cmd, "--head needs SEQ:HEX (as printed by verify)");
        if ((rc = imago_cloud_open_audit(a.cmd, a.data_dir, &audit)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        r = imago_audit_verify(audit, want_seq, a.head != NULL ? want : NULL, &rep);
        if (r == IMAGO_EAUDIT_CHAIN || r == IMAGO_EAUDIT_HEAD) {
                printf("records checked: %llu\n", (unsigned long long)rep.records);
                if (r == IMAGO_EAUDIT_CHAIN || rep.bad_seq != 0)
                        snprintf(what, sizeof(what), "record %llu",
                                 (unsigned long long)(rep.bad_seq != 0 ? rep.bad_seq : want_seq));
                else
                        snprintf(what, sizeof(what), "head %llu", (unsigned long long)want_seq);
                imago_cloud_fail(a.cmd, what, r);
                goto out;
        }
        if (r != 0) {
                imago_cloud_fail(a.cmd, "audit.db", r);
                goto out;
        }
        head_text(rep.records, rep.head, head);
        printf("records checked: %llu\nhead: %s\n", (unsigned long long)rep.records,
               rep.records != 0 ? head : "none (empty log)");
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_audit_close(audit);
        return rc;
}

static json_t *record_json(const struct imago_audit_record *rec)
{
        char hash[2 * IMAGO_AUDIT_HASH_LEN + 1];

        imago_hex_encode(rec->hash, IMAGO_AUDIT_HASH_LEN, hash);
        return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)rec->seq, "time",
                         (json_int_t)rec->time, "actor", rec->actor, "action", rec->action,
                         "object", rec->object, "detail", rec->detail, "hash", hash);
}

static int cmd_show(int argc, char **argv)
{
        struct imago_audit *audit = NULL;
        struct imago_audit_record rec;
        struct args a;
        json_t *arr = NULL, *top = NULL;
        uint64_t after = 0, limit = SHOW_LIMIT_DEFAULT, seq, n;
        char when[32];
        int r = 0, rc;

        memset(&rec, 0, sizeof(rec));
        if ((rc = parse(argc, argv, "audit show", 0, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (a.after != NULL && imago_parse_u64(a.after, (uint64_t)INT64_MAX, &after) != 0)
                return imago_cloud_usage(a.cmd, "--after needs a record number");
        if (a.limit != NULL &&
            (imago_parse_u64(a.limit, SHOW_LIMIT_MAX, &limit) != 0 || limit == 0))
                return imago_cloud_usage(a.cmd, "--limit needs 1..%d", SHOW_LIMIT_MAX);
        if ((rc = imago_cloud_open_audit(a.cmd, a.data_dir, &audit)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if (a.json && ((top = json_object()) == NULL || (arr = json_array()) == NULL ||
                       json_object_set(top, "records", arr) != 0)) {
                imago_cloud_fail(a.cmd, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (!a.json)
                printf("%-6s  %-20s  %-12s  %-20s  %-40s  %s\n", "SEQ", "TIME", "ACTOR", "ACTION",
                       "OBJECT", "DETAIL");
        for (n = 0, seq = after + 1; n < limit; n++, seq++) {
                if ((r = imago_audit_read(audit, seq, &rec)) == IMAGO_ENOTFOUND) {
                        r = 0;
                        break;
                }
                if (r != 0)
                        break;
                if (a.json)
                        r = json_array_append_new(arr, record_json(&rec)) == 0 ? 0 : IMAGO_ENOMEM;
                else
                        printf("%-6llu  %-20s  %-12s  %-20s  %-40s  %s\n",
                               (unsigned long long)rec.seq, imago_cloud_utc(rec.time, when),
                               rec.actor, rec.action, rec.object, rec.detail);
                imago_audit_record_free(&rec);
                if (r != 0)
                        break;
        }
        if (r == 0 && a.json)
                r = imago_cloud_print_json(top);
        if (r != 0) {
                imago_cloud_fail(a.cmd, "audit.db", r);
                goto out;
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_audit_record_free(&rec);
        json_decref(arr);
        json_decref(top);
        imago_audit_close(audit);
        return rc;
}

static const struct imago_cloud_cmd subs[] = {
    {"verify", cmd_verify, "check the hash chain (and a head kept elsewhere)"},
    {"show", cmd_show, "print records"},
};

int imago_cloud_cmd_audit(int argc, char **argv)
{
        return imago_cloud_dispatch("audit", subs, sizeof(subs) / sizeof(subs[0]), argc - 1,
                                    argv + 1);
}
