/* See p11.h.  P-256 identity keys: generate, find, public key, sign. */
#include "p11_priv.h"

#include "base/err.h"
#include "base/wipe.h"

#include <string.h>

/* DER OID of prime256v1 (CKA_EC_PARAMS). */
static const uint8_t p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* SubjectPublicKeyInfo prefix for an uncompressed P-256 point (65 bytes follow). */
static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

int imago_p11_ec_generate(struct imago_p11 *p, const char *label, const uint8_t *id, size_t id_len,
                          struct imago_p11_key *key)
{
        CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
        CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
        CK_ATTRIBUTE pub[] = {
            {CKA_TOKEN, &yes, sizeof(yes)},  {CKA_PRIVATE, &no, sizeof(no)},
            {CKA_VERIFY, &yes, sizeof(yes)}, {CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid)},
            {CKA_LABEL, (void *)label, 0},   {CKA_ID, (void *)id, id_len},
        };
        CK_ATTRIBUTE priv[] = {
            {CKA_TOKEN, &yes, sizeof(yes)},     {CKA_PRIVATE, &yes, sizeof(yes)},
            {CKA_SENSITIVE, &yes, sizeof(yes)}, {CKA_EXTRACTABLE, &no, sizeof(no)},
            {CKA_SIGN, &yes, sizeof(yes)},      {CKA_DERIVE, &no, sizeof(no)},
            {CKA_DECRYPT, &no, sizeof(no)},     {CKA_LABEL, (void *)label, 0},
            {CKA_ID, (void *)id, id_len},
        };
        struct imago_p11_key k;
        int r;

        if (p == NULL || key == NULL || imago_p11_label_ok(label) != IMAGO_OK || id == NULL ||
            id_len == 0 || id_len > IMAGO_P11_ID_MAX)
                return IMAGO_EINVAL;
        r = imago_p11_ec_find(p, label, NULL, 0, &k);
        if (r == IMAGO_OK)
                return IMAGO_EP11_EXISTS;
        pub[4].ulValueLen = strlen(label);
        priv[7].ulValueLen = strlen(label);
        return imago_p11_rv(
            p->f->C_GenerateKeyPair(p->session, &mech, pub, sizeof(pub) / sizeof(pub[0]), priv,
                                    sizeof(priv) / sizeof(priv[0]), &key->pub, &key->priv));
}

static int find_half(struct imago_p11 *p, CK_OBJECT_CLASS cls, const char *label, const uint8_t *id,
                     size_t id_len, CK_OBJECT_HANDLE *h)
{
        CK_KEY_TYPE kt = CKK_EC;
        CK_ATTRIBUTE t[4] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_KEY_TYPE, &kt, sizeof(kt)},
        };
        CK_ULONG count = 2, n = 0;
        int r;

        if (label != NULL) {
                t[count].type = CKA_LABEL;
                t[count].pValue = (void *)label;
                t[count].ulValueLen = strlen(label);
                count++;
        }
        if (id != NULL) {
                t[count].type = CKA_ID;
                t[count].pValue = (void *)id;
                t[count].ulValueLen = id_len;
                count++;
        }
        r = imago_p11_find(p, t, count, h, 1, &n);
        if (r != IMAGO_OK)
                return r;
        return n == 1 ? IMAGO_OK : IMAGO_EP11_KEY;
}

int imago_p11_ec_find(struct imago_p11 *p, const char *label, const uint8_t *id, size_t id_len,
                      struct imago_p11_key *key)
{
        int r;

        if (p == NULL || key == NULL || (label == NULL && id == NULL) ||
            (label != NULL && imago_p11_label_ok(label) != IMAGO_OK) ||
            (id != NULL && (id_len == 0 || id_len > IMAGO_P11_ID_MAX)))
                return IMAGO_EINVAL;
        r = find_half(p, CKO_PRIVATE_KEY, label, id, id_len, &key->priv);
        if (r != IMAGO_OK)
                return r;
        return find_half(p, CKO_PUBLIC_KEY, label, id, id_len, &key->pub);
}

int imago_p11_ec_pubkey(struct imago_p11 *p, const struct imago_p11_key *key,
                        struct imago_pubkey *out)
{
        uint8_t params[32], point[80], spki[sizeof(p256_spki_prefix) + 65];
        CK_ATTRIBUTE t[] = {
            {CKA_EC_PARAMS, params, sizeof(params)},
            {CKA_EC_POINT, point, sizeof(point)},
        };
        const uint8_t *q;
        CK_RV rv;

        if (p == NULL || key == NULL || out == NULL)
                return IMAGO_EINVAL;
        rv = p->f->C_GetAttributeValue(p->session, key->pub, t, 2);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        if (t[0].ulValueLen != sizeof(p256_oid) || memcmp(params, p256_oid, sizeof(p256_oid)) != 0)
                return IMAGO_EKEY_TYPE;
        /* CKA_EC_POINT is a DER OCTET STRING (v2.40); some modules give the raw point. */
        if (t[1].ulValueLen == 67 && point[0] == 0x04 && point[1] == 0x41 && point[2] == 0x04)
                q = point + 2;
        else if (t[1].ulValueLen == 65 && point[0] == 0x04)
                q = point;
        else
                return IMAGO_EKEY_FORMAT;
        memcpy(spki, p256_spki_prefix, sizeof(p256_spki_prefix));
        memcpy(spki + sizeof(p256_spki_prefix), q, 65);
        return imago_pubkey_from_spki(out, spki, sizeof(spki));
}

/* Append one DER INTEGER for the 32-byte big-endian v. */
static size_t der_int(uint8_t *out, const uint8_t v[32])
{
        size_t i = 0, n, o = 0;

        while (i < 31 && v[i] == 0)
                i++;
        n = 32 - i;
        out[o++] = 0x02;
        if (v[i] & 0x80) {
                out[o++] = (uint8_t)(n + 1);
                out[o++] = 0;
        } else {
                out[o++] = (uint8_t)n;
        }
        memcpy(out + o, v + i, n);
        return o + n;
}

int imago_p11_ec_sign_digest(struct imago_p11 *p, const struct imago_p11_key *key,
                             const uint8_t digest[IMAGO_SHA256_LEN],
                             uint8_t sig[IMAGO_P11_ECDSA_DER_MAX], size_t *sig_len)
{
        CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
        uint8_t rs[64], body[IMAGO_P11_ECDSA_DER_MAX];
        CK_ULONG rs_len = sizeof(rs);
        size_t n;
        CK_RV rv;
        int r;

        if (p == NULL || key == NULL || digest == NULL || sig == NULL || sig_len == NULL)
                return IMAGO_EINVAL;
        rv = p->f->C_SignInit(p->session, &mech, key->priv);
        if (rv != CKR_OK)
                return imago_p11_rv(rv);
        rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)digest, IMAGO_SHA256_LEN, rs, &rs_len);
        if (rv != CKR_OK) {
                r = imago_p11_rv(rv);
                goto out;
        }
        if (rs_len != 64) {
                r = IMAGO_EP11_FAIL;
                goto out;
        }
        n = der_int(body, rs);
        n += der_int(body + n, rs + 32);
        sig[0] = 0x30;
        sig[1] = (uint8_t)n; /* at most 70: short form */
        memcpy(sig + 2, body, n);
        *sig_len = n + 2;
        r = IMAGO_OK;
out:
        imago_wipe(rs, sizeof(rs));
        return r;
}
