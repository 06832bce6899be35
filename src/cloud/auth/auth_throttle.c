/* See auth.h: the log-in limiter (pure: the caller passes the clock). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/auth/auth.h"

#include "base/err.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#define KIND_ACCOUNT 'a'
#define KIND_ADDRESS 'n'
#define MAX_SHIFT    40

struct entry {
        int used;
        uint8_t key[IMAGO_SHA256_LEN]; /* SHA-256(kind || name): fixed size, no copy of the name */
        uint32_t failures;
        uint64_t last_fail_ms;
        uint64_t blocked_until_ms;
};

struct imago_auth_throttle {
        struct imago_auth_throttle_cfg cfg[2]; /* 0 account, 1 address */
        size_t cap;
        struct entry *e;
};

void imago_auth_throttle_defaults(struct imago_auth_throttle_cfg *account,
                                  struct imago_auth_throttle_cfg *address)
{
        const struct imago_auth_throttle_cfg acc = {3, 1000, 60000, 10, 15 * 60000, 60 * 60000};
        const struct imago_auth_throttle_cfg net = {20, 1000, 60000, 100, 15 * 60000, 60 * 60000};

        if (account != NULL)
                *account = acc;
        if (address != NULL)
                *address = net;
}

static int cfg_ok(const struct imago_auth_throttle_cfg *c)
{
        return c != NULL && c->lockout_failures > c->free_failures && c->base_delay_ms > 0 &&
               c->max_delay_ms >= c->base_delay_ms && c->forget_ms > 0;
}

int imago_auth_throttle_new(const struct imago_auth_throttle_cfg *account,
                            const struct imago_auth_throttle_cfg *address, size_t capacity,
                            struct imago_auth_throttle **out)
{
        struct imago_auth_throttle *t = NULL;

        if (!cfg_ok(account) || !cfg_ok(address) || capacity == 0 || capacity > (1u << 24) ||
            out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if ((t = calloc(1, sizeof(*t))) == NULL ||
            (t->e = calloc(capacity, sizeof(*t->e))) == NULL) {
                free(t);
                return IMAGO_ENOMEM;
        }
        t->cfg[0] = *account;
        t->cfg[1] = *address;
        t->cap = capacity;
        *out = t;
        return 0;
}

void imago_auth_throttle_free(struct imago_auth_throttle *t)
{
        if (t == NULL)
                return;
        free(t->e);
        free(t);
}

static int key_of(char kind, const char *name, uint8_t key[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h = {0};
        int r;

        if ((r = imago_sha256_init(&h)) != 0)
                return r;
        if ((r = imago_sha256_update(&h, &kind, 1)) != 0 ||
            (r = imago_sha256_update(&h, name, strlen(name))) != 0) {
                imago_sha256_abort(&h);
                return r;
        }
        return imago_sha256_final(&h, key);
}

static struct entry *find(const struct imago_auth_throttle *t, const uint8_t key[IMAGO_SHA256_LEN])
{
        size_t i;

        for (i = 0; i < t->cap; i++) {
                if (t->e[i].used && memcmp(t->e[i].key, key, IMAGO_SHA256_LEN) == 0)
                        return &t->e[i];
        }
        return NULL;
}

/* A free slot, or the one whose last failure is oldest. */
static struct entry *slot(struct imago_auth_throttle *t)
{
        struct entry *best = &t->e[0];
        size_t i;

        for (i = 0; i < t->cap; i++) {
                if (!t->e[i].used)
                        return &t->e[i];
                if (t->e[i].last_fail_ms < best->last_fail_ms)
                        best = &t->e[i];
        }
        return best;
}

static uint64_t blocked_for(const struct imago_auth_throttle *t, char kind, const char *name,
                            uint64_t now)
{
        uint8_t key[IMAGO_SHA256_LEN];
        const struct entry *e;

        if (name == NULL || key_of(kind, name, key) != 0)
                return 0;
        e = find(t, key);
        return e != NULL && e->blocked_until_ms > now ? e->blocked_until_ms - now : 0;
}

int imago_auth_throttle_check(const struct imago_auth_throttle *t, const char *account,
                              const char *address, uint64_t now_ms, uint64_t *retry_after_ms)
{
        uint64_t a, n;

        if (t == NULL)
                return IMAGO_EINVAL;
        a = blocked_for(t, KIND_ACCOUNT, account, now_ms);
        n = blocked_for(t, KIND_ADDRESS, address, now_ms);
        if (retry_after_ms != NULL)
                *retry_after_ms = a > n ? a : n;
        return a > 0 || n > 0 ? IMAGO_EAUTH_THROTTLED : 0;
}

static void fail_one(struct imago_auth_throttle *t, const struct imago_auth_throttle_cfg *c,
                     char kind, const char *name, uint64_t now)
{
        uint8_t key[IMAGO_SHA256_LEN];
        struct entry *e;
        uint64_t delay, until;
        uint32_t over;

        if (name == NULL || key_of(kind, name, key) != 0)
                return;
        if ((e = find(t, key)) == NULL) {
                e = slot(t);
                memset(e, 0, sizeof(*e));
                e->used = 1;
                memcpy(e->key, key, sizeof(key));
        }
        if (e->failures > 0 && now >= e->last_fail_ms && now - e->last_fail_ms >= c->forget_ms &&
            e->blocked_until_ms <= now)
                e->failures = 0;
        if (e->failures < UINT32_MAX)
                e->failures++;
        e->last_fail_ms = now;
        if (e->failures >= c->lockout_failures) {
                delay = c->lockout_ms;
        } else if (e->failures > c->free_failures) {
                over = e->failures - c->free_failures - 1;
                delay = over >= MAX_SHIFT || c->base_delay_ms > (c->max_delay_ms >> over)
                            ? c->max_delay_ms
                            : c->base_delay_ms << over;
        } else {
                delay = 0;
        }
        until = delay > UINT64_MAX - now ? UINT64_MAX : now + delay; /* saturate, never wrap */
        if (delay > 0 && until > e->blocked_until_ms)
                e->blocked_until_ms = until;
}

void imago_auth_throttle_failure(struct imago_auth_throttle *t, const char *account,
                                 const char *address, uint64_t now_ms)
{
        if (t == NULL)
                return;
        fail_one(t, &t->cfg[0], KIND_ACCOUNT, account, now_ms);
        fail_one(t, &t->cfg[1], KIND_ADDRESS, address, now_ms);
}

void imago_auth_throttle_success(struct imago_auth_throttle *t, const char *account)
{
        uint8_t key[IMAGO_SHA256_LEN];
        struct entry *e;

        if (t == NULL || account == NULL || key_of(KIND_ACCOUNT, account, key) != 0)
                return;
        if ((e = find(t, key)) != NULL)
                memset(e, 0, sizeof(*e));
}
