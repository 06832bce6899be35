/* See p11.h.  Object search and destruction. */
#include "p11_priv.h"

#include "base/err.h"

#include <string.h>

CK_OBJECT_CLASS imago_p11_class(enum imago_p11_objtype type)
{
        switch (type) {
        case IMAGO_P11_TYPE_PUBLIC:
                return CKO_PUBLIC_KEY;
        case IMAGO_P11_TYPE_PRIVATE:
                return CKO_PRIVATE_KEY;
        case IMAGO_P11_TYPE_CERT:
                return CKO_CERTIFICATE;
        case IMAGO_P11_TYPE_SECRET_KEY:
                return CKO_SECRET_KEY;
        default:
                return CKO_DATA;
        }
}

int imago_p11_label_ok(const char *label)
{
        size_t n;

        if (label == NULL)
                return IMAGO_EINVAL;
        n = strlen(label);
        return n >= 1 && n <= IMAGO_P11_LABEL_MAX ? IMAGO_OK : IMAGO_EINVAL;
}

int imago_p11_find(struct imago_p11 *p, CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *h,
                   CK_ULONG max, CK_ULONG *n)
{
        CK_OBJECT_HANDLE extra;
        CK_ULONG got = 0, more = 0;
        CK_RV rv;
        int r;

        rv = p->f->C_FindObjectsInit(p->session, tmpl, count);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        rv = p->f->C_FindObjects(p->session, h, max, &got);
        if (rv != CKR_OK) {
                r = imago_p11_rv(rv);
                goto out;
        }
        if (got == max) { /* is there one more? */
                rv = p->f->C_FindObjects(p->session, &extra, 1, &more);
                if (rv != CKR_OK) {
                        r = imago_p11_rv(rv);
                        goto out;
                }
        }
        *n = got + more;
        r = IMAGO_OK;
out:
        p->f->C_FindObjectsFinal(p->session);
        return r;
}

int imago_p11_find_one(struct imago_p11 *p, CK_OBJECT_CLASS cls, const char *label,
                       CK_OBJECT_HANDLE *h)
{
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_LABEL, (void *)label, 0},
        };
        CK_ULONG n = 0;
        int r;

        r = imago_p11_label_ok(label);
        if (r != IMAGO_OK)
                return r;
        t[1].ulValueLen = strlen(label);
        r = imago_p11_find(p, t, 2, h, 1, &n);
        if (r != IMAGO_OK)
                return r;
        return n == 1 ? IMAGO_OK : IMAGO_EP11_KEY;
}

int imago_p11_destroy(struct imago_p11 *p, enum imago_p11_objtype type, const char *label)
{
        CK_OBJECT_CLASS cls = imago_p11_class(type);
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_LABEL, (void *)label, 0},
        };
        CK_OBJECT_HANDLE h[8];
        CK_ULONG n = 0;
        int r;

        if (type == IMAGO_P11_TYPE_ANY || imago_p11_label_ok(label) != IMAGO_OK)
                return IMAGO_EINVAL;
        t[1].ulValueLen = strlen(label);
        do {
                r = imago_p11_find(p, t, 2, h, 8, &n);
                if (r != IMAGO_OK)
                        return r;
                for (CK_ULONG i = 0; i < n && i < 8; i++) {
                        r = imago_p11_rv(p->f->C_DestroyObject(p->session, h[i]));
                        if (r != IMAGO_OK)
                                return r;
                }
        } while (n > 8);
        return IMAGO_OK;
}
