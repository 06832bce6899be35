/*
 * See p11.h.  Monotonic counter held by the token as a private CKO_DATA
 * object (CKA_VALUE: 8 bytes, little-endian).  A secure element would use
 * its hardware monotonic counter here instead; see docs/pkcs11.md.
 */
#include "p11_priv.h"

#include "base/err.h"

#include <string.h>

static const char counter_app[] = "imago-counter";

static void put_le64(uint8_t b[8], uint64_t v)
{
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t b[8])
{
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = (v << 8) | b[i];
        return v;
}

/* Create one counter object holding value. */
static int counter_new(struct imago_p11 *p, const char *label, uint64_t value)
{
        CK_OBJECT_CLASS cls = CKO_DATA;
        CK_BBOOL yes = CK_TRUE;
        uint8_t v[8];
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &yes, sizeof(yes)},
            {CKA_APPLICATION, (void *)counter_app, sizeof(counter_app) - 1},
            {CKA_LABEL, (void *)label, 0},
            {CKA_VALUE, v, sizeof(v)},
        };
        CK_OBJECT_HANDLE h;

        t[4].ulValueLen = strlen(label);
        put_le64(v, value);
        return imago_p11_rv(p->f->C_CreateObject(p->session, t, sizeof(t) / sizeof(t[0]), &h));
}

/*
 * Every counter object with this label (up to COUNTER_MAX) and the largest
 * value among them.  IMAGO_EP11_KEY if there is none.
 */
#define COUNTER_MAX 4
static int counter_get(struct imago_p11 *p, const char *label, CK_OBJECT_HANDLE h[COUNTER_MAX],
                       CK_ULONG *n, uint64_t *value)
{
        CK_OBJECT_CLASS cls = CKO_DATA;
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_APPLICATION, (void *)counter_app, sizeof(counter_app) - 1},
            {CKA_LABEL, (void *)label, 0},
        };
        uint64_t best = 0;
        int r;

        r = imago_p11_label_ok(label);
        if (r != IMAGO_OK)
                return r;
        t[2].ulValueLen = strlen(label);
        r = imago_p11_find(p, t, 3, h, COUNTER_MAX, n);
        if (r != IMAGO_OK)
                return r;
        if (*n == 0)
                return IMAGO_EP11_KEY;
        if (*n > COUNTER_MAX)
                return IMAGO_EP11_FAIL;
        for (CK_ULONG i = 0; i < *n; i++) {
                uint8_t v[8];
                CK_ATTRIBUTE a = {CKA_VALUE, v, sizeof(v)};
                CK_RV rv = p->f->C_GetAttributeValue(p->session, h[i], &a, 1);

                if (rv != CKR_OK)
                        return imago_p11_rv(rv);
                if (a.ulValueLen != sizeof(v))
                        return IMAGO_EP11_FAIL;
                if (i == 0 || get_le64(v) > best)
                        best = get_le64(v);
        }
        *value = best;
        return IMAGO_OK;
}

int imago_p11_counter_create(struct imago_p11 *p, const char *label, uint64_t initial)
{
        CK_OBJECT_HANDLE h[COUNTER_MAX];
        CK_ULONG n = 0;
        uint64_t v;
        int r;

        if (p == NULL || imago_p11_label_ok(label) != IMAGO_OK)
                return IMAGO_EINVAL;
        r = counter_get(p, label, h, &n, &v);
        if (r == IMAGO_OK)
                return IMAGO_EP11_EXISTS;
        if (r != IMAGO_EP11_KEY)
                return r;
        return counter_new(p, label, initial);
}

int imago_p11_counter_read(struct imago_p11 *p, const char *label, uint64_t *value)
{
        CK_OBJECT_HANDLE h[COUNTER_MAX];
        CK_ULONG n = 0;

        if (p == NULL || value == NULL)
                return IMAGO_EINVAL;
        return counter_get(p, label, h, &n, value);
}

/*
 * SoftHSM2 keeps CKA_VALUE of a data object read-only, so an advance creates
 * an object with the new value, then destroys the old ones.  A reader takes
 * the largest value, so a power cut between the two steps loses nothing.
 */
int imago_p11_counter_advance(struct imago_p11 *p, const char *label, uint64_t value)
{
        CK_OBJECT_HANDLE h[COUNTER_MAX];
        CK_ULONG n = 0;
        uint64_t cur;
        int r;

        if (p == NULL)
                return IMAGO_EINVAL;
        r = counter_get(p, label, h, &n, &cur);
        if (r != IMAGO_OK)
                return r;
        if (value < cur)
                return IMAGO_EPERM;
        if (value == cur)
                return IMAGO_OK;
        r = counter_new(p, label, value);
        if (r != IMAGO_OK)
                return r;
        for (CK_ULONG i = 0; i < n; i++) /* a leftover is harmless: readers take the largest */
                p->f->C_DestroyObject(p->session, h[i]);
        return IMAGO_OK;
}
