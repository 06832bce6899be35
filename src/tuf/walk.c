/* See tuf.h: the target search through delegations (python-tuf's preorder depth-first walk). */
#include "tuf/tuf_priv.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
        size_t n = strlen(s) + 1;
        char *d = malloc(n);

        if (d != NULL)
                memcpy(d, s, n);
        return d;
}

static void item_free(struct imago_tuf_walk_item *it)
{
        free(it->role);
        free(it->parent);
        it->role = it->parent = NULL;
}

void imago_tuf_walk_free(struct imago_tuf_walk *w)
{
        size_t i;

        if (w == NULL)
                return;
        for (i = 0; i < w->n_stack; i++)
                item_free(&w->stack[i]);
        free(w->stack);
        free(w->visited);
        memset(w, 0, sizeof(*w));
}

static int push(struct imago_tuf_walk *w, const char *role, const char *parent, unsigned depth)
{
        struct imago_tuf_walk_item *it;

        if (w->n_stack == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 8;

                if ((it = realloc(w->stack, cap * sizeof(*it))) == NULL)
                        return IMAGO_ENOMEM;
                w->stack = it;
                w->cap = cap;
        }
        it = &w->stack[w->n_stack];
        it->role = dup_str(role);
        it->parent = dup_str(parent);
        it->depth = depth;
        if (it->role == NULL || it->parent == NULL) {
                item_free(it);
                return IMAGO_ENOMEM;
        }
        w->n_stack++;
        return IMAGO_OK;
}

int imago_tuf_walk_start(struct imago_tuf_walk *w, const struct imago_tuf_trusted *t,
                         const char *path)
{
        int r;

        if (w == NULL)
                return IMAGO_EINVAL;
        memset(w, 0, sizeof(*w));
        if (t == NULL || path == NULL || t->limits.max_visits == 0)
                return IMAGO_EINVAL;
        w->path = path;
        if ((w->visited = calloc(t->limits.max_visits, sizeof(*w->visited))) == NULL)
                return IMAGO_ENOMEM;
        if ((r = push(w, "targets", "root", 0)) != IMAGO_OK)
                imago_tuf_walk_free(w);
        return r;
}

static int visited(const struct imago_tuf_walk *w, const char *role)
{
        size_t i;

        for (i = 0; i < w->n_visited; i++) {
                if (strcmp(w->visited[i], role) == 0)
                        return 1;
        }
        return 0;
}

int imago_tuf_walk_next(struct imago_tuf_walk *w, const struct imago_tuf_trusted *t,
                        const struct imago_tuf_target **out)
{
        size_t i, j;
        int r;

        if (w == NULL || t == NULL || out == NULL || w->path == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        w->need_role = w->need_parent = NULL;
        while (w->n_stack > 0 && w->n_visited < t->limits.max_visits) {
                struct imago_tuf_walk_item *it = &w->stack[w->n_stack - 1];
                const struct imago_tuf_meta *m;
                size_t first_child;
                unsigned depth;
                char role[IMAGO_TUF_ROLE_NAME_MAX + 1];

                if (visited(w, it->role)) {
                        item_free(it);
                        w->n_stack--;
                        continue;
                }
                if ((m = imago_tuf_trusted_role(t, it->role)) == NULL) {
                        w->need_role = it->role;
                        w->need_parent = it->parent;
                        return IMAGO_TUF_WALK_NEED;
                }
                snprintf(role, sizeof(role), "%s", it->role);
                depth = it->depth;
                item_free(it);
                w->n_stack--;
                for (i = 0; i < m->n_targets; i++) {
                        if (strcmp(m->targets[i].name, w->path) == 0) {
                                *out = &m->targets[i];
                                return IMAGO_TUF_WALK_FOUND;
                        }
                }
                snprintf(w->visited[w->n_visited++], sizeof(w->visited[0]), "%s", role);
                if (depth >= t->limits.max_depth)
                        continue; /* children would be too deep */
                first_child = w->n_stack;
                for (i = 0; i < m->n_delegations; i++) {
                        const struct imago_tuf_delegation *d = &m->delegations[i];

                        if (!imago_tuf_delegation_matches(d, w->path))
                                continue;
                        if ((r = push(w, d->role.name, role, depth + 1)) != IMAGO_OK)
                                return r;
                        if (d->terminating) {
                                /* drop everything still to visit but this role's children */
                                for (j = 0; j < first_child; j++)
                                        item_free(&w->stack[j]);
                                memmove(w->stack, w->stack + first_child,
                                        (w->n_stack - first_child) * sizeof(*w->stack));
                                w->n_stack -= first_child;
                                first_child = 0;
                                break;
                        }
                }
                /* reverse the children so the first delegation is visited first */
                for (i = 0; i < (w->n_stack - first_child) / 2; i++) {
                        struct imago_tuf_walk_item tmp = w->stack[first_child + i];

                        w->stack[first_child + i] = w->stack[w->n_stack - 1 - i];
                        w->stack[w->n_stack - 1 - i] = tmp;
                }
        }
        return IMAGO_ETUF_NOTARGET;
}
