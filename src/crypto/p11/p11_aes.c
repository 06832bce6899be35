/* See p11.h.  AES-256 store key and AES-GCM inside the token. */
#include "p11_priv.h"

#include "base/err.h"

#include <string.h>

int imago_p11_aes_generate(struct imago_p11 *p, const char *label, unsigned long *key)
{
        CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_KEY_TYPE kt = CKK_AES;
        CK_ULONG klen = 32;
        CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},       {CKA_KEY_TYPE, &kt, sizeof(kt)},
            {CKA_VALUE_LEN, &klen, sizeof(klen)}, {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &yes, sizeof(yes)},     {CKA_SENSITIVE, &yes, sizeof(yes)},
            {CKA_EXTRACTABLE, &no, sizeof(no)},   {CKA_ENCRYPT, &yes, sizeof(yes)},
            {CKA_DECRYPT, &yes, sizeof(yes)},     {CKA_WRAP, &no, sizeof(no)},
            {CKA_UNWRAP, &no, sizeof(no)},        {CKA_SIGN, &no, sizeof(no)},
            {CKA_VERIFY, &no, sizeof(no)},        {CKA_DERIVE, &no, sizeof(no)},
            {CKA_LABEL, (void *)label, 0},
        };
        CK_OBJECT_HANDLE h;
        int r;

        if (p == NULL || key == NULL || imago_p11_label_ok(label) != IMAGO_OK)
                return IMAGO_EINVAL;
        r = imago_p11_find_one(p, CKO_SECRET_KEY, label, &h);
        if (r == IMAGO_OK)
                return IMAGO_EP11_EXISTS;
        t[14].ulValueLen = strlen(label);
        r = imago_p11_rv(p->f->C_GenerateKey(p->session, &mech, t, sizeof(t) / sizeof(t[0]), &h));
        if (r == IMAGO_OK)
                *key = h;
        return r;
}

int imago_p11_aes_find(struct imago_p11 *p, const char *label, unsigned long *key)
{
        CK_OBJECT_HANDLE h;
        int r;

        if (p == NULL || key == NULL)
                return IMAGO_EINVAL;
        r = imago_p11_find_one(p, CKO_SECRET_KEY, label, &h);
        if (r == IMAGO_OK)
                *key = h;
        return r;
}

int imago_p11_gcm_encrypt(struct imago_p11 *p, unsigned long key,
                          const uint8_t iv[IMAGO_P11_GCM_IV_LEN], const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
        CK_GCM_PARAMS gp = {
            (CK_BYTE_PTR)iv, IMAGO_P11_GCM_IV_LEN,     IMAGO_P11_GCM_IV_LEN * 8, (CK_BYTE_PTR)aad,
            aad_len,         IMAGO_P11_GCM_TAG_LEN * 8};
        CK_MECHANISM mech = {CKM_AES_GCM, &gp, sizeof(gp)};
        CK_ULONG out_len;
        CK_RV rv;

        if (p == NULL || iv == NULL || (in == NULL && len > 0) || out == NULL ||
            len > SIZE_MAX - IMAGO_P11_GCM_TAG_LEN)
                return IMAGO_EINVAL;
        out_len = len + IMAGO_P11_GCM_TAG_LEN;
        rv = p->f->C_EncryptInit(p->session, &mech, key);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        rv = p->f->C_Encrypt(p->session, (CK_BYTE_PTR)in, len, out, &out_len);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        return out_len == len + IMAGO_P11_GCM_TAG_LEN ? IMAGO_OK : IMAGO_EP11_FAIL;
}

int imago_p11_gcm_decrypt(struct imago_p11 *p, unsigned long key,
                          const uint8_t iv[IMAGO_P11_GCM_IV_LEN], const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
        CK_GCM_PARAMS gp = {
            (CK_BYTE_PTR)iv, IMAGO_P11_GCM_IV_LEN,     IMAGO_P11_GCM_IV_LEN * 8, (CK_BYTE_PTR)aad,
            aad_len,         IMAGO_P11_GCM_TAG_LEN * 8};
        CK_MECHANISM mech = {CKM_AES_GCM, &gp, sizeof(gp)};
        CK_ULONG out_len = len;
        CK_RV rv;

        if (p == NULL || iv == NULL || in == NULL || out == NULL || len < IMAGO_P11_GCM_TAG_LEN)
                return IMAGO_EINVAL;
        rv = p->f->C_DecryptInit(p->session, &mech, key);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        /* out must hold len bytes: some modules ask for room for the tag too. */
        rv = p->f->C_Decrypt(p->session, (CK_BYTE_PTR)in, len, out, &out_len);
        if (rv != CKR_OK) {
                int r = imago_p11_rv(rv);

                return r == IMAGO_EP11_FAIL ? IMAGO_EP11_DECRYPT : r;
        }
        return out_len == len - IMAGO_P11_GCM_TAG_LEN ? IMAGO_OK : IMAGO_EP11_FAIL;
}
