/* See auth.h: operator roles per device group, with an expiry. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/auth/auth.h"

#include "base/err.h"
#include "base/name.h"

#include <string.h>

#define BIT(a) (1u << (a))

static const struct {
        enum imago_auth_role role;
        const char *name;
        uint32_t actions;
} roles[] = {
    {IMAGO_ROLE_VIEWER, "viewer", BIT(IMAGO_ACT_VIEW)},
    {IMAGO_ROLE_OPERATOR, "operator",
     BIT(IMAGO_ACT_VIEW) | BIT(IMAGO_ACT_COMMAND) | BIT(IMAGO_ACT_SET_STATE)},
    {IMAGO_ROLE_RELEASE_MANAGER, "release_manager", BIT(IMAGO_ACT_VIEW) | BIT(IMAGO_ACT_RELEASE)},
    {IMAGO_ROLE_SECURITY_ADMIN, "security_admin",
     BIT(IMAGO_ACT_VIEW) | BIT(IMAGO_ACT_DECOMMISSION) | BIT(IMAGO_ACT_MANAGE_GRANTS) |
         BIT(IMAGO_ACT_READ_AUDIT)},
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

int imago_auth_group_valid(const char *s)
{
        return imago_name_valid(s, IMAGO_AUTH_GROUP_MAX);
}

const char *imago_auth_role_name(enum imago_auth_role role)
{
        size_t i;

        for (i = 0; i < NROLES; i++) {
                if (roles[i].role == role)
                        return roles[i].name;
        }
        return NULL;
}

int imago_auth_role_from_name(const char *name, enum imago_auth_role *role)
{
        size_t i;

        if (name == NULL || role == NULL)
                return IMAGO_EINVAL;
        for (i = 0; i < NROLES; i++) {
                if (strcmp(roles[i].name, name) == 0) {
                        *role = roles[i].role;
                        return 0;
                }
        }
        return IMAGO_EINVAL;
}

static uint32_t actions_of(enum imago_auth_role role)
{
        size_t i;

        for (i = 0; i < NROLES; i++) {
                if (roles[i].role == role)
                        return roles[i].actions;
        }
        return 0;
}

static int in_force(const struct imago_auth_grant *g, int64_t now)
{
        return g->not_before <= now && now < g->expires && imago_auth_group_valid(g->group);
}

int imago_auth_allowed(const struct imago_auth_grant *grants, size_t n, int64_t now,
                       const char *group, enum imago_auth_action action)
{
        size_t i;

        if (grants == NULL || !imago_auth_group_valid(group) || action < IMAGO_ACT_VIEW ||
            action > IMAGO_ACT_READ_AUDIT)
                return 0;
        for (i = 0; i < n; i++) {
                if (in_force(&grants[i], now) && strcmp(grants[i].group, group) == 0 &&
                    (actions_of(grants[i].role) & BIT(action)) != 0)
                        return 1;
        }
        return 0;
}

uint32_t imago_auth_roles_summary(const struct imago_auth_grant *grants, size_t n, int64_t now)
{
        uint32_t bits = 0;
        size_t i;

        if (grants == NULL)
                return 0;
        for (i = 0; i < n; i++) {
                if (in_force(&grants[i], now) && actions_of(grants[i].role) != 0)
                        bits |= BIT(grants[i].role);
        }
        return bits;
}
