/*
 * See https.h: token buckets keyed by string, at most `capacity` keys, the
 * least recently used forgotten first.  A chained hash table (FNV-1a, a
 * per-table random seed so keys cannot be chosen to collide) plus an LRU
 * list; every operation is O(1) on average.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/err.h"
#include "net/https.h"

#define KEY_MAX 256
#define CAP_MAX (1U << 22)

struct bucket {
        struct bucket *hnext;         /* hash chain */
        struct bucket *lprev, *lnext; /* LRU list, head = most recent */
        double tokens;
        uint64_t last_ms;
        size_t klen;
        char key[];
};

struct imago_ratelimit {
        double rate, burst;
        size_t capacity, count, nslots;
        uint64_t seed;
        struct bucket **slots;
        struct bucket *head, *tail;
};

static size_t slot_of(const struct imago_ratelimit *rl, const char *key, size_t klen)
{
        uint64_t h = 14695981039346656037ULL ^ rl->seed;
        size_t i;

        for (i = 0; i < klen; i++) {
                h ^= (unsigned char)key[i];
                h *= 1099511628211ULL;
        }
        h ^= h >> 29;
        return (size_t)(h & (rl->nslots - 1));
}

int imago_ratelimit_new(double rate, double burst, size_t capacity, struct imago_ratelimit **out)
{
        struct imago_ratelimit *rl = NULL;
        int r = IMAGO_EINVAL;

        if (out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (!(rate > 0.0) || !isfinite(rate) || !(burst >= 1.0) || !isfinite(burst) ||
            capacity == 0 || capacity > CAP_MAX)
                goto out;
        r = IMAGO_ENOMEM;
        if ((rl = calloc(1, sizeof(*rl))) == NULL)
                goto out;
        rl->rate = rate;
        rl->burst = burst;
        rl->capacity = capacity;
        rl->nslots = 16;
        while (rl->nslots < capacity)
                rl->nslots <<= 1;
        if ((rl->slots = calloc(rl->nslots, sizeof(*rl->slots))) == NULL)
                goto out;
        if (RAND_bytes((unsigned char *)&rl->seed, sizeof(rl->seed)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        *out = rl;
        rl = NULL;
        r = IMAGO_OK;
out:
        imago_ratelimit_free(rl);
        return r;
}

void imago_ratelimit_free(struct imago_ratelimit *rl)
{
        struct bucket *b, *next;

        if (rl == NULL)
                return;
        for (b = rl->head; b != NULL; b = next) {
                next = b->lnext;
                free(b);
        }
        free(rl->slots);
        free(rl);
}

static void lru_unlink(struct imago_ratelimit *rl, struct bucket *b)
{
        if (b->lprev != NULL)
                b->lprev->lnext = b->lnext;
        else
                rl->head = b->lnext;
        if (b->lnext != NULL)
                b->lnext->lprev = b->lprev;
        else
                rl->tail = b->lprev;
        b->lprev = b->lnext = NULL;
}

static void lru_push(struct imago_ratelimit *rl, struct bucket *b)
{
        b->lprev = NULL;
        b->lnext = rl->head;
        if (rl->head != NULL)
                rl->head->lprev = b;
        rl->head = b;
        if (rl->tail == NULL)
                rl->tail = b;
}

static void evict_lru(struct imago_ratelimit *rl)
{
        struct bucket *b = rl->tail, **pp;

        if (b == NULL)
                return;
        lru_unlink(rl, b);
        for (pp = &rl->slots[slot_of(rl, b->key, b->klen)]; *pp != NULL; pp = &(*pp)->hnext) {
                if (*pp == b) {
                        *pp = b->hnext;
                        break;
                }
        }
        free(b);
        rl->count--;
}

int imago_ratelimit_take(struct imago_ratelimit *rl, const char *key, uint64_t now_ms,
                         uint64_t *retry_after_ms)
{
        struct bucket *b;
        size_t klen, slot;
        double wait;
        uint64_t ms;

        if (retry_after_ms != NULL)
                *retry_after_ms = 0;
        if (rl == NULL || key == NULL || (klen = strlen(key)) > KEY_MAX)
                return IMAGO_EINVAL;
        slot = slot_of(rl, key, klen);
        for (b = rl->slots[slot]; b != NULL; b = b->hnext)
                if (b->klen == klen && memcmp(b->key, key, klen) == 0)
                        break;
        if (b == NULL) {
                if (rl->count >= rl->capacity)
                        evict_lru(rl);
                if ((b = calloc(1, sizeof(*b) + klen + 1)) == NULL)
                        return IMAGO_ENOMEM;
                memcpy(b->key, key, klen + 1);
                b->klen = klen;
                b->tokens = rl->burst;
                b->last_ms = now_ms;
                b->hnext = rl->slots[slot];
                rl->slots[slot] = b;
                rl->count++;
        } else {
                lru_unlink(rl, b);
                if (now_ms > b->last_ms) {
                        b->tokens += (double)(now_ms - b->last_ms) * rl->rate / 1000.0;
                        if (b->tokens > rl->burst)
                                b->tokens = rl->burst;
                        b->last_ms = now_ms;
                }
        }
        lru_push(rl, b);
        if (b->tokens >= 1.0) {
                b->tokens -= 1.0;
                return IMAGO_OK;
        }
        if (retry_after_ms != NULL) {
                wait = (1.0 - b->tokens) * 1000.0 / rl->rate;
                ms = wait < 1.0 ? 1 : (wait > 1e15 ? (uint64_t)1e15 : (uint64_t)wait);
                if ((double)ms < wait)
                        ms++;
                *retry_after_ms = ms;
        }
        return IMAGO_EAPI_RATE;
}
