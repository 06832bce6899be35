/* Creation of the CA hierarchy; see pki.h and docs/pki.md. */
#define _POSIX_C_SOURCE 200809L
#include "pki.h"
#include "pki_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "crypto/keys_openssl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT_DAYS_DEFAULT 7300U
#define CA_DAYS_DEFAULT   3650U

static const char *const default_server_names[] = {"localhost", "127.0.0.0/255.0.0.0",
                                                   "::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};

/* nameConstraints for the server CA: permitted subtrees only. */
static int server_constraints(const struct imago_pki_init_opts *o, char *buf, size_t size)
{
        const char *const *names = o->server_names;
        size_t count = o->server_names_count;
        char one[300];
        size_t used;
        int r;

        if (count == 0) {
                names = default_server_names;
                count = sizeof(default_server_names) / sizeof(default_server_names[0]);
        }
        used = (size_t)snprintf(buf, size, "critical");
        for (size_t i = 0; i < count; i++) {
                const char *n = names[i];
                const char *mask = "";
                int w;

                if (n == NULL)
                        return IMAGO_EPKI_NAME;
                /* A single address becomes a host-sized range. */
                if (strchr(n, '/') == NULL && strchr(n, ':') != NULL)
                        mask = "/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
                else if (strchr(n, '/') == NULL && strspn(n, "0123456789.") == strlen(n))
                        mask = "/255.255.255.255";
                w = snprintf(one, sizeof(one), "%s%s", n, mask);
                if (w < 0 || (size_t)w >= sizeof(one))
                        return IMAGO_EPKI_NAME;
                {
                        const char *item = one;
                        char v[400];

                        if ((r = pki_names_value(&item, 1, "permitted;", v, sizeof(v))) != IMAGO_OK)
                                return r;
                        w = snprintf(buf + used, size - used, ",%s", v);
                        if (w < 0 || (size_t)w >= size - used)
                                return IMAGO_ETOOBIG;
                        used += (size_t)w;
                }
        }
        return IMAGO_OK;
}

struct ca_step {
        enum imago_pki_role role;
        const char *cn;
        const char *ext_key_usage;
        int constrained; /* server names */
};

static const struct ca_step ca_steps[] = {
    {IMAGO_PKI_FACTORY, "imago factory CA", "clientAuth", 0},
    {IMAGO_PKI_ISSUING, "imago issuing CA", "clientAuth", 0},
    {IMAGO_PKI_SERVER_CA, "imago server CA", "serverAuth,clientAuth", 1},
};

static int save_pair(const char *dir, enum imago_pki_role role, X509 *cert,
                     const struct imago_privkey *key, const char *passphrase)
{
        char path[PATH_MAX];
        int r;

        if ((r = pki_path(path, sizeof(path), dir, imago_pki_key_file(role))) != IMAGO_OK ||
            (r = imago_privkey_save(key, path, passphrase)) != IMAGO_OK)
                return r;
        if ((r = pki_path(path, sizeof(path), dir, imago_pki_cert_file(role))) != IMAGO_OK)
                return r;
        return imago_pki_cert_save(cert, path);
}

static int dir_is_fresh(const char *dir)
{
        char path[PATH_MAX];

        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return IMAGO_EIO;
        for (int role = IMAGO_PKI_ROOT; role <= IMAGO_PKI_SERVER_CA; role++) {
                if (pki_path(path, sizeof(path), dir, imago_pki_key_file(role)) != IMAGO_OK)
                        return IMAGO_EINVAL;
                if (access(path, F_OK) == 0)
                        return IMAGO_EEXIST;
                if (pki_path(path, sizeof(path), dir, imago_pki_cert_file(role)) != IMAGO_OK)
                        return IMAGO_EINVAL;
                if (access(path, F_OK) == 0)
                        return IMAGO_EEXIST;
        }
        return IMAGO_OK;
}

int imago_pki_init(const struct imago_pki_init_opts *o)
{
        struct imago_privkey root_key, key;
        struct pki_cert_spec spec;
        X509 *root = NULL, *cert = NULL;
        char constraints[4096];
        const char *org;
        long root_days, ca_days;
        int r;

        memset(&root_key, 0, sizeof(root_key));
        memset(&key, 0, sizeof(key));
        if (o == NULL || o->dir == NULL || o->root_passphrase == NULL ||
            o->root_passphrase[0] == '\0')
                return IMAGO_EINVAL;
        org = o->org != NULL ? o->org : "imago";
        root_days = o->root_days ? (long)o->root_days : (long)ROOT_DAYS_DEFAULT;
        ca_days = o->ca_days ? (long)o->ca_days : (long)CA_DAYS_DEFAULT;
        if ((r = server_constraints(o, constraints, sizeof(constraints))) != IMAGO_OK)
                return r;
        if ((r = dir_is_fresh(o->dir)) != IMAGO_OK)
                return r;

        /* Root: self-signed, may certify one level of CAs. */
        if ((r = imago_privkey_generate(IMAGO_KEY_P256, &root_key)) != IMAGO_OK)
                goto out;
        memset(&spec, 0, sizeof(spec));
        spec.org = org;
        spec.cn = "imago root CA";
        spec.subject_key = imago_privkey_evp(&root_key);
        spec.issuer_key = imago_privkey_evp(&root_key);
        spec.days = root_days;
        spec.basic = "critical,CA:TRUE,pathlen:1";
        spec.key_usage = "critical,keyCertSign,cRLSign";
        if ((r = pki_cert_build(&spec, &root)) != IMAGO_OK)
                goto out;

        for (size_t i = 0; i < sizeof(ca_steps) / sizeof(ca_steps[0]); i++) {
                const struct ca_step *s = &ca_steps[i];
                const char *pass = o->root_passphrase;

                if (s->role == IMAGO_PKI_FACTORY && o->factory_passphrase != NULL)
                        pass = o->factory_passphrase;
                if (s->role != IMAGO_PKI_FACTORY && o->cloud_passphrase != NULL)
                        pass = o->cloud_passphrase;
                if ((r = imago_privkey_generate(IMAGO_KEY_P256, &key)) != IMAGO_OK)
                        goto out;
                memset(&spec, 0, sizeof(spec));
                spec.org = org;
                spec.cn = s->cn;
                spec.subject_key = imago_privkey_evp(&key);
                spec.issuer = root;
                spec.issuer_key = imago_privkey_evp(&root_key);
                spec.days = ca_days;
                spec.basic = "critical,CA:TRUE,pathlen:0";
                spec.key_usage = "critical,keyCertSign,cRLSign";
                spec.ext_key_usage = s->ext_key_usage;
                spec.name_constraints = s->constrained ? constraints : NULL;
                if ((r = pki_cert_build(&spec, &cert)) != IMAGO_OK)
                        goto out;
                if ((r = save_pair(o->dir, s->role, cert, &key, pass)) != IMAGO_OK)
                        goto out;
                X509_free(cert);
                cert = NULL;
                imago_privkey_free(&key);
        }
        /* The root last: a directory with root.key is a complete CA. */
        r = save_pair(o->dir, IMAGO_PKI_ROOT, root, &root_key, o->root_passphrase);
out:
        X509_free(cert);
        X509_free(root);
        imago_privkey_free(&key);
        imago_privkey_free(&root_key);
        return r;
}
