/* imago_broker connection table: see broker.h. */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* FNV-1a */
static size_t bucket_of(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s != '\0'; s++) {
                h ^= (unsigned char)*s;
                h *= 16777619u;
        }
        return h % BROKER_CONN_BUCKETS;
}

struct broker_conn *broker_conns_get(struct broker_conns *t, const char *client_id)
{
        struct broker_conn *e;

        if (client_id == NULL)
                return NULL;
        for (e = t->bucket[bucket_of(client_id)]; e != NULL; e = e->next)
                if (strcmp(e->client_id, client_id) == 0)
                        return e;
        return NULL;
}

int broker_conns_put(struct broker_conns *t, const struct broker_conn *in)
{
        struct broker_conn *e;
        size_t b;

        if (memchr(in->client_id, '\0', sizeof(in->client_id)) == NULL)
                return IMAGO_EINVAL;
        e = broker_conns_get(t, in->client_id);
        if (e != NULL) {
                struct broker_conn *next = e->next;

                *e = *in;
                e->next = next;
                return IMAGO_OK;
        }
        e = malloc(sizeof(*e));
        if (e == NULL)
                return IMAGO_ENOMEM;
        *e = *in;
        b = bucket_of(e->client_id);
        e->next = t->bucket[b];
        t->bucket[b] = e;
        t->count++;
        return IMAGO_OK;
}

void broker_conns_remove(struct broker_conns *t, const char *client_id, const void *client)
{
        struct broker_conn **pp, *e;

        if (client_id == NULL)
                return;
        for (pp = &t->bucket[bucket_of(client_id)]; (e = *pp) != NULL; pp = &e->next) {
                if (strcmp(e->client_id, client_id) != 0)
                        continue;
                if (client != NULL && e->client != client)
                        return;
                *pp = e->next;
                free(e);
                t->count--;
                return;
        }
}

void broker_conns_mark_gone(struct broker_conns *t, const char *client_id, const void *client,
                            int64_t now)
{
        struct broker_conn *e = broker_conns_get(t, client_id);

        if (e != NULL && e->client == client)
                e->gone_at = now > 0 ? now : 1;
}

void broker_conns_reap(struct broker_conns *t, int64_t now, int64_t min_age)
{
        struct broker_conn **pp, *e;
        size_t b;

        for (b = 0; b < BROKER_CONN_BUCKETS; b++) {
                pp = &t->bucket[b];
                while ((e = *pp) != NULL) {
                        if (e->gone_at != 0 && now - e->gone_at >= min_age) {
                                *pp = e->next;
                                free(e);
                                t->count--;
                        } else {
                                pp = &e->next;
                        }
                }
        }
}

void broker_conns_each(struct broker_conns *t, void (*fn)(struct broker_conn *e, void *arg),
                       void *arg)
{
        struct broker_conn *e;
        size_t b;

        for (b = 0; b < BROKER_CONN_BUCKETS; b++)
                for (e = t->bucket[b]; e != NULL; e = e->next)
                        fn(e, arg);
}

void broker_conns_free(struct broker_conns *t)
{
        struct broker_conn *e, *next;
        size_t b;

        for (b = 0; b < BROKER_CONN_BUCKETS; b++) {
                for (e = t->bucket[b]; e != NULL; e = next) {
                        next = e->next;
                        free(e);
                }
                t->bucket[b] = NULL;
        }
        t->count = 0;
}
