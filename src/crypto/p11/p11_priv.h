/*
 * Internals of imago_p11 shared by its source files.  Not for other modules:
 * only this folder includes <p11-kit/pkcs11.h>.
 */
#ifndef IMAGO_CRYPTO_P11_PRIV_H
#define IMAGO_CRYPTO_P11_PRIV_H

#include <p11-kit/pkcs11.h>

#include "p11.h"

struct imago_p11 {
        struct p11_lib *lib;
        CK_FUNCTION_LIST_PTR f;
        CK_SLOT_ID slot;
        CK_SESSION_HANDLE session;
        int has_session;
        CK_TOKEN_INFO info;
};

/* Map a CK_RV to an IMAGO_E* code (CKR_OK -> IMAGO_OK, unknown -> IMAGO_EP11_FAIL). */
int imago_p11_rv(CK_RV rv);

/* CKO_* class for an object type (ANY is not valid). */
CK_OBJECT_CLASS imago_p11_class(enum imago_p11_objtype type);

/*
 * Find objects matching tmpl; up to max handles into h, the number found
 * (which may exceed max) into *n.
 */
int imago_p11_find(struct imago_p11 *p, CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *h,
                   CK_ULONG max, CK_ULONG *n);

/* The one object with this class and label: IMAGO_EP11_KEY if none or several. */
int imago_p11_find_one(struct imago_p11 *p, CK_OBJECT_CLASS cls, const char *label,
                       CK_OBJECT_HANDLE *h);

/*
 * From now on, never C_Finalize or unload a module: other code in the
 * process (the pkcs11 engine) uses it too, and C_Finalize would end its
 * sessions.  Called when the engine is loaded.
 */
void imago_p11_keep_modules(void);

/* Label length check: 1..IMAGO_P11_LABEL_MAX bytes. */
int imago_p11_label_ok(const char *label);

#endif
