/* imago_regtoken: an in-memory replay store for tests and single-process use (see regtoken.h). */
#include "regtoken/regtoken.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

struct imago_regtoken_memslot {
        char nonce[IMAGO_REGTOKEN_NONCE_LEN + 1];
        int64_t expiry;
};

void imago_regtoken_memstore_init(struct imago_regtoken_memstore *m)
{
        memset(m, 0, sizeof(*m));
}

void imago_regtoken_memstore_free(struct imago_regtoken_memstore *m)
{
        if (m == NULL)
                return;
        free(m->slots);
        memset(m, 0, sizeof(*m));
}

void imago_regtoken_memstore_prune(struct imago_regtoken_memstore *m, int64_t now)
{
        size_t i = 0;

        while (i < m->n) {
                if (m->slots[i].expiry < now)
                        m->slots[i] = m->slots[--m->n];
                else
                        i++;
        }
}

int imago_regtoken_memstore_claim(void *arg, const char *nonce, int64_t expiry)
{
        struct imago_regtoken_memstore *m = arg;
        size_t i;

        if (m == NULL || nonce == NULL || strlen(nonce) != IMAGO_REGTOKEN_NONCE_LEN)
                return IMAGO_EINVAL;
        for (i = 0; i < m->n; i++)
                if (strcmp(m->slots[i].nonce, nonce) == 0)
                        return IMAGO_EEXIST;
        if (m->n == m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 16;
                struct imago_regtoken_memslot *s = realloc(m->slots, cap * sizeof(*s));
                if (s == NULL)
                        return IMAGO_ENOMEM;
                m->slots = s;
                m->cap = cap;
        }
        memcpy(m->slots[m->n].nonce, nonce, IMAGO_REGTOKEN_NONCE_LEN + 1);
        m->slots[m->n].expiry = expiry;
        m->n++;
        return 0;
}
