/* imago_authz: see authz.h. */
#include "authz/authz.h"

#include "base/hex.h"

#include <string.h>

#define MAX_LEVELS 32

struct level {
        const char *p;
        size_t n;
};

static int is_service_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

static int is_service_name(const char *s, size_t n)
{
        size_t i;

        if (n == 0 || n > IMAGO_AUTHZ_NAME_MAX)
                return 0;
        for (i = 0; i < n; i++)
                if (!is_service_char(s[i]))
                        return 0;
        return 1;
}

/* Length of a C string up to max + 1 (so that "too long" is visible). */
static size_t bounded_len(const char *s, size_t max)
{
        size_t n = 0;

        while (n <= max && s[n] != '\0')
                n++;
        return n;
}

static int name_fits(enum imago_authz_role role, const char *cn)
{
        size_t n;

        if (cn == NULL)
                return 0;
        n = bounded_len(cn, IMAGO_AUTHZ_NAME_MAX);
        switch (role) {
        case IMAGO_AUTHZ_BIRTH:
        case IMAGO_AUTHZ_DEVICE:
                return n == IMAGO_DEVICE_ID_LEN && imago_device_id_valid(cn);
        case IMAGO_AUTHZ_SERVICE:
                return is_service_name(cn, n);
        case IMAGO_AUTHZ_NONE:
        default:
                return 0;
        }
}

enum imago_authz_role imago_authz_role_of(const char *ou, enum imago_authz_issuer issuer,
                                          const char *cn)
{
        enum imago_authz_role role = IMAGO_AUTHZ_NONE;

        if (ou == NULL || cn == NULL)
                goto out;
        if (strcmp(ou, "birth") == 0 && issuer == IMAGO_AUTHZ_ISSUER_FACTORY)
                role = IMAGO_AUTHZ_BIRTH;
        else if (strcmp(ou, "device") == 0 && issuer == IMAGO_AUTHZ_ISSUER_ISSUING)
                role = IMAGO_AUTHZ_DEVICE;
        else if (strcmp(ou, "service") == 0 && issuer == IMAGO_AUTHZ_ISSUER_SERVER)
                role = IMAGO_AUTHZ_SERVICE;
        if (role != IMAGO_AUTHZ_NONE && !name_fits(role, cn))
                role = IMAGO_AUTHZ_NONE;
out:
        return role;
}

enum imago_authz_result imago_authz_identity_set(struct imago_authz_identity *who,
                                                 enum imago_authz_role role, const char *cn)
{
        size_t n;

        if (who == NULL)
                return IMAGO_AUTHZ_DENY;
        memset(who, 0, sizeof(*who));
        if (!name_fits(role, cn))
                return IMAGO_AUTHZ_DENY;
        n = bounded_len(cn, IMAGO_AUTHZ_NAME_MAX);
        memcpy(who->name, cn, n);
        who->name[n] = '\0';
        who->role = role;
        return IMAGO_AUTHZ_ALLOW;
}

static int identity_valid(const struct imago_authz_identity *who)
{
        if (who == NULL)
                return 0;
        if (memchr(who->name, '\0', sizeof(who->name)) == NULL)
                return 0;
        return name_fits(who->role, who->name);
}

enum imago_authz_result imago_authz_connect(const struct imago_authz_identity *who, int denied,
                                            const char **why)
{
        const char *reason = "allowed";
        enum imago_authz_result r = IMAGO_AUTHZ_DENY;

        if (!identity_valid(who)) {
                reason = "unknown identity";
                goto out;
        }
        if (denied) {
                reason = "identity denied (revoked, suspended or certificate retired)";
                goto out;
        }
        r = IMAGO_AUTHZ_ALLOW;
out:
        if (why != NULL)
                *why = reason;
        return r;
}

/*
 * Split a topic or filter into levels and check its syntax: no NUL, no
 * control byte, no empty level, '+' and '#' only as whole levels, '#' last,
 * no wildcard at all when publishing.  Returns the level count or -1.
 */
static int split_levels(const char *topic, size_t len, int wild_ok, struct level *lv,
                        const char **why)
{
        size_t i, start = 0;
        int count = 0;

        if (topic == NULL || len == 0) {
                *why = "empty topic";
                return -1;
        }
        if (len > IMAGO_AUTHZ_TOPIC_MAX) {
                *why = "topic too long";
                return -1;
        }
        for (i = 0; i <= len; i++) {
                unsigned char c = i < len ? (unsigned char)topic[i] : '/';

                if (c < 0x20 || c == 0x7f) {
                        *why = "NUL or control byte in topic";
                        return -1;
                }
                if ((c == '+' || c == '#') && !wild_ok) {
                        *why = "wildcard in a publish topic";
                        return -1;
                }
                if (c != '/')
                        continue;
                if (i == start) {
                        *why = "empty topic level";
                        return -1;
                }
                if (count == MAX_LEVELS) {
                        *why = "too many topic levels";
                        return -1;
                }
                lv[count].p = topic + start;
                lv[count].n = i - start;
                count++;
                start = i + 1;
        }
        for (i = 0; i < (size_t)count; i++) {
                const struct level *l = &lv[i];

                if (memchr(l->p, '+', l->n) == NULL && memchr(l->p, '#', l->n) == NULL)
                        continue;
                if (l->n != 1) {
                        *why = "wildcard inside a topic level";
                        return -1;
                }
                if (l->p[0] == '#' && i + 1 != (size_t)count) {
                        *why = "'#' not in the last level";
                        return -1;
                }
        }
        return count;
}

static int level_is(const struct level *l, const char *lit)
{
        size_t n = strlen(lit);

        return l->n == n && memcmp(l->p, lit, n) == 0;
}

static int level_is_name(const struct level *l, const char *name)
{
        size_t n = bounded_len(name, IMAGO_AUTHZ_NAME_MAX);

        return l->n == n && memcmp(l->p, name, n) == 0;
}

#define CONTROL_TOPIC "$CONTROL/imago/v1"

static enum imago_authz_result topic_birth(const struct imago_authz_identity *who,
                                           enum imago_authz_action action, const struct level *lv,
                                           int n, const char **why)
{
        const char *last = action == IMAGO_AUTHZ_PUBLISH ? "req" : "resp";

        if (n == 5 && level_is(&lv[0], "imago") && level_is(&lv[1], "v1") &&
            level_is(&lv[2], "prov") && level_is_name(&lv[3], who->name) &&
            level_is(&lv[4], last)) {
                *why = "birth identity on its provisioning topic";
                return IMAGO_AUTHZ_ALLOW;
        }
        *why = "birth identity outside its provisioning topics";
        return IMAGO_AUTHZ_DENY;
}

static enum imago_authz_result topic_device(const struct imago_authz_identity *who,
                                            const struct level *lv, int n, const char **why)
{
        if (n >= 5 && level_is(&lv[0], "imago") && level_is(&lv[1], "v1") &&
            level_is(&lv[2], "d") && level_is_name(&lv[3], who->name)) {
                *why = "device identity below its own prefix";
                return IMAGO_AUTHZ_ALLOW;
        }
        *why = "device identity outside imago/v1/d/<its id>/";
        return IMAGO_AUTHZ_DENY;
}

static enum imago_authz_result topic_service(enum imago_authz_action action, const char *topic,
                                             size_t len, const struct level *lv, int n,
                                             const char **why)
{
        if (action == IMAGO_AUTHZ_PUBLISH && len == strlen(CONTROL_TOPIC) &&
            memcmp(topic, CONTROL_TOPIC, len) == 0) {
                *why = "service identity on the plugin control topic";
                return IMAGO_AUTHZ_ALLOW;
        }
        if (n >= 3 && level_is(&lv[0], "imago") && level_is(&lv[1], "v1")) {
                *why = "service identity below imago/v1/";
                return IMAGO_AUTHZ_ALLOW;
        }
        *why = "service identity outside imago/v1/";
        return IMAGO_AUTHZ_DENY;
}

enum imago_authz_result imago_authz_topic(const struct imago_authz_identity *who,
                                          enum imago_authz_action action, const char *topic,
                                          size_t topic_len, const char **why)
{
        struct level lv[MAX_LEVELS];
        const char *reason = "denied";
        enum imago_authz_result r = IMAGO_AUTHZ_DENY;
        int n;

        if (!identity_valid(who)) {
                reason = "unknown identity";
                goto out;
        }
        if (action != IMAGO_AUTHZ_PUBLISH && action != IMAGO_AUTHZ_SUBSCRIBE) {
                reason = "unknown action";
                goto out;
        }
        n = split_levels(topic, topic_len, action == IMAGO_AUTHZ_SUBSCRIBE, lv, &reason);
        if (n < 0)
                goto out;
        /* No identity may touch a $ topic except the service on the control topic. */
        if (topic[0] == '$' &&
            !(who->role == IMAGO_AUTHZ_SERVICE && action == IMAGO_AUTHZ_PUBLISH)) {
                reason = "$ topics are reserved";
                goto out;
        }
        /* Wildcards never stand for one of the fixed prefix levels (checked by level_is). */
        switch (who->role) {
        case IMAGO_AUTHZ_BIRTH:
                r = topic_birth(who, action, lv, n, &reason);
                break;
        case IMAGO_AUTHZ_DEVICE:
                r = topic_device(who, lv, n, &reason);
                break;
        case IMAGO_AUTHZ_SERVICE:
                r = topic_service(action, topic, topic_len, lv, n, &reason);
                break;
        case IMAGO_AUTHZ_NONE:
        default:
                reason = "unknown identity";
                break;
        }
out:
        if (why != NULL)
                *why = reason;
        return r;
}
