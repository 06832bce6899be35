/* See svc_enrol.h. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_enrol.h"

#include "base/err.h"
#include "base/hex.h"
#include "cloud/svc_csr.h"
#include "pki/pki.h"
#include "proto/proto.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imago_svc_issuer_load(const char *ca_dir, const char *passphrase, uint32_t device_days,
                          struct imago_svc_issuer *iss)
{
        int r;

        memset(iss, 0, sizeof(*iss));
        if ((r = imago_pki_ca_load(ca_dir, IMAGO_PKI_ISSUING, passphrase, &iss->ca)) != IMAGO_OK)
                goto out;
        if ((r = imago_svc_cert_pem(iss->ca.cert, &iss->chain_pem)) != IMAGO_OK)
                goto out;
        iss->device_days = device_days;
out:
        if (r != IMAGO_OK)
                imago_svc_issuer_free(iss);
        return r;
}

void imago_svc_issuer_free(struct imago_svc_issuer *iss)
{
        if (iss == NULL)
                return;
        imago_pki_ca_free(&iss->ca);
        free(iss->chain_pem);
        memset(iss, 0, sizeof(*iss));
}

/* The enrol decision; *cert_pem malloc'd on success. */
static int enrol(const struct imago_svc_issuer *iss, struct imago_registry *reg, const char *id,
                 const char *csr, char **cert_pem, char serial[41])
{
        struct imago_reg_device dev;
        struct imago_pubkey pub;
        char key_id[IMAGO_DEVICE_ID_LEN + 1];
        char *existing = NULL;
        int64_t not_after = 0;
        int r;

        memset(&dev, 0, sizeof(dev));
        if ((r = imago_svc_csr_check(csr, id, &pub)) != IMAGO_OK)
                goto out;
        /* same-key: the CSR key is the birth key, whose device id is the id. */
        if ((r = imago_pki_device_id(&pub, key_id)) != IMAGO_OK)
                goto out;
        if (!iss->new_key && strcmp(key_id, id) != 0) {
                r = IMAGO_EREG_KEY;
                goto out;
        }
        if ((r = imago_registry_get(reg, id, &dev)) != IMAGO_OK)
                goto out;
        if (dev.state == IMAGO_REG_ENROLLED) {
                /* A retry: the certificate already recorded, never a second one. */
                if (memcmp(dev.key_hash, pub.keyhash, 32) != 0 || dev.cert_pem == NULL) {
                        r = IMAGO_EREG_STATE;
                        goto out;
                }
                *cert_pem = dev.cert_pem;
                dev.cert_pem = NULL;
                snprintf(serial, 41, "%s", dev.cert_serial);
                r = IMAGO_OK;
                goto out;
        }
        if (dev.state != IMAGO_REG_IMPORTED) {
                r = IMAGO_EREG_STATE;
                goto out;
        }
        if ((r = imago_svc_csr_issue(iss, id, &pub, cert_pem, serial, &not_after)) != IMAGO_OK)
                goto out;
        r = imago_registry_enrol(reg, id, pub.keyhash, serial, *cert_pem, not_after, &existing);
        if (r == IMAGO_EEXIST && existing != NULL) {
                /* Another instance recorded one first: answer with that one. */
                X509 *x = NULL;
                BIO *bio = BIO_new_mem_buf(existing, -1);

                free(*cert_pem);
                *cert_pem = existing;
                existing = NULL;
                serial[0] = '\0';
                if (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
                        (void)imago_pki_cert_serial(x, serial);
                X509_free(x);
                BIO_free(bio);
                r = IMAGO_OK;
        } else if (r != IMAGO_OK) {
                free(*cert_pem);
                *cert_pem = NULL;
        }
out:
        free(existing);
        imago_registry_device_free(&dev);
        return r;
}

static int rotate(const struct imago_svc_issuer *iss, struct imago_registry *reg, const char *id,
                  const char *csr, char **cert_pem, char serial[41])
{
        struct imago_reg_device dev;
        struct imago_pubkey pub;
        int64_t not_after = 0;
        int r;

        memset(&dev, 0, sizeof(dev));
        if ((r = imago_svc_csr_check(csr, id, &pub)) != IMAGO_OK)
                goto out;
        if ((r = imago_registry_get(reg, id, &dev)) != IMAGO_OK)
                goto out;
        if (dev.state != IMAGO_REG_ENROLLED) {
                r = IMAGO_EREG_STATE;
                goto out;
        }
        /* same-key policy: the enrolled key. */
        if (memcmp(dev.key_hash, pub.keyhash, 32) != 0) {
                r = IMAGO_EREG_KEY;
                goto out;
        }
        if ((r = imago_svc_csr_issue(iss, id, &pub, cert_pem, serial, &not_after)) != IMAGO_OK)
                goto out;
        if ((r = imago_registry_rotate(reg, id, pub.keyhash, serial, *cert_pem, not_after)) !=
            IMAGO_OK) {
                free(*cert_pem);
                *cert_pem = NULL;
        }
out:
        imago_registry_device_free(&dev);
        return r;
}

int imago_svc_handle_request(const struct imago_svc_issuer *iss, struct imago_registry *reg,
                             const char *topic, const uint8_t *payload, size_t len, char **reply,
                             size_t *reply_len, char *reply_topic, size_t topic_size, int *result,
                             char *serial)
{
        struct imago_proto_msg in, out;
        enum imago_proto_type ttype;
        char tid[IMAGO_PROTO_ID_LEN + 1], ser[41] = "";
        char *cert = NULL;
        int r, res;

        memset(&in, 0, sizeof(in));
        memset(&out, 0, sizeof(out));
        *reply = NULL;
        *reply_len = 0;
        if ((r = imago_proto_topic_parse(topic, &ttype, tid)) != IMAGO_OK)
                goto out;
        if (ttype != IMAGO_PROTO_ENROL && ttype != IMAGO_PROTO_ROTATE) {
                r = IMAGO_EPROTO_FIELD;
                goto out;
        }
        if ((r = imago_proto_resp_topic(ttype, tid, reply_topic, topic_size)) != IMAGO_OK)
                goto out;
        /* Without a parsed message there is no nonce to answer to. */
        if ((r = imago_proto_parse(payload, len, &in)) != IMAGO_OK)
                goto out;
        if (in.type != ttype)
                res = IMAGO_EPROTO_STATE;
        else if (strcmp(in.id, tid) != 0)
                res = IMAGO_EPROTO_FIELD;
        else if (ttype == IMAGO_PROTO_ENROL)
                res = enrol(iss, reg, tid, in.csr, &cert, ser);
        else
                res = rotate(iss, reg, tid, in.csr, &cert, ser);

        memcpy(out.id, tid, sizeof(tid));
        memcpy(out.nonce, in.nonce, sizeof(out.nonce));
        if (res == IMAGO_OK) {
                out.type = IMAGO_PROTO_CERT;
                out.cert = cert;
                out.chain = iss->chain_pem;
        } else {
                out.type = IMAGO_PROTO_ERROR;
                snprintf(out.code, sizeof(out.code), "%s", imago_errname(res));
                snprintf(out.message, sizeof(out.message), "%s", imago_strerror(res));
        }
        if ((r = imago_proto_build(&out, reply, reply_len)) != IMAGO_OK)
                goto out;
        if (result != NULL)
                *result = res;
        if (serial != NULL)
                snprintf(serial, 41, "%s", res == IMAGO_OK ? ser : "");
out:
        free(cert);
        imago_proto_free(&in);
        return r;
}

int imago_svc_seen_parse(const uint8_t *buf, size_t len, struct imago_svc_seen *s)
{
        json_t *root = NULL, *v;
        json_error_t jerr;
        const char *k, *id, *role, *serial;
        size_t n = 0;
        int r = IMAGO_EMALFORMED;

        memset(s, 0, sizeof(*s));
        if (len > 1024) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL || !json_is_object(root))
                goto out;
        r = IMAGO_EPROTO_FIELD;
        json_object_foreach(root, k, v)
        {
                if (strcmp(k, "v") != 0 && strcmp(k, "id") != 0 && strcmp(k, "role") != 0 &&
                    strcmp(k, "serial") != 0)
                        goto out;
                n++;
        }
        v = json_object_get(root, "v");
        if (n != 4 || !json_is_integer(v) || json_integer_value(v) != 1)
                goto out;
        id = json_string_value(json_object_get(root, "id"));
        role = json_string_value(json_object_get(root, "role"));
        serial = json_string_value(json_object_get(root, "serial"));
        if (id == NULL || role == NULL || serial == NULL || !imago_device_id_valid(id))
                goto out;
        if (strcmp(role, "birth") == 0)
                s->role = 1;
        else if (strcmp(role, "device") == 0)
                s->role = 2;
        else
                goto out;
        n = strlen(serial);
        if (n == 0 || n > IMAGO_REG_SERIAL_MAX ||
            n != json_string_length(json_object_get(root, "serial")) ||
            strspn(serial, "0123456789abcdef") != n)
                goto out;
        memcpy(s->id, id, IMAGO_REG_ID_LEN + 1);
        memcpy(s->serial, serial, n + 1);
        r = IMAGO_OK;
out:
        json_decref(root);
        return r;
}

int imago_svc_handle_seen(struct imago_registry *reg, const struct imago_svc_seen *s, int *retired)
{
        struct imago_reg_device dev;
        int r;

        *retired = 0;
        memset(&dev, 0, sizeof(dev));
        if (s->role != 2) {
                r = IMAGO_OK;
                goto out;
        }
        if ((r = imago_registry_get(reg, s->id, &dev)) != IMAGO_OK)
                goto out;
        /* Only the current certificate retires the others. */
        if (dev.state != IMAGO_REG_ENROLLED || strcmp(dev.cert_serial, s->serial) != 0) {
                r = IMAGO_OK;
                goto out;
        }
        r = imago_registry_cert_retire(reg, s->id, s->serial, retired);
out:
        imago_registry_device_free(&dev);
        return r;
}
