/* See store.h.  Creating a store and decommissioning it (cryptographic erase). */
#include "store_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <stdlib.h>
#include <string.h>

/* Remove the store key and counter from the token. */
static int destroy_token_objects(struct imago_p11 *tok)
{
        int r1 = imago_p11_destroy(tok, IMAGO_P11_TYPE_SECRET_KEY, IMAGO_STORE_KEY_LABEL);
        int r2 = imago_p11_destroy(tok, IMAGO_P11_TYPE_DATA, IMAGO_STORE_COUNTER_LABEL);

        return r1 != IMAGO_OK ? r1 : r2;
}

int imago_store_create(const char *path, struct imago_p11 *tok, const struct imago_store_ops *ops)
{
        struct imago_store s;
        int r, made = 0;

        if (path == NULL || tok == NULL)
                return IMAGO_EINVAL;
        memset(&s, 0, sizeof(s));
        s.fd = -1;
        s.tok = tok;
        s.ops = ops != NULL ? ops : imago_store_posix_ops();
        r = imago_p11_aes_find(tok, IMAGO_STORE_KEY_LABEL, &s.key);
        if (r == IMAGO_OK) {
                r = IMAGO_EEXIST;
                goto out;
        }
        if (r != IMAGO_EP11_KEY)
                goto out;
        /* a counter left by an interrupted create or decommission goes first */
        r = imago_p11_destroy(tok, IMAGO_P11_TYPE_DATA, IMAGO_STORE_COUNTER_LABEL);
        if (r != IMAGO_OK)
                goto out;
        made = 1;
        r = imago_p11_aes_generate(tok, IMAGO_STORE_KEY_LABEL, &s.key);
        if (r == IMAGO_OK)
                r = imago_p11_counter_create(tok, IMAGO_STORE_COUNTER_LABEL, 0);
        if (r != IMAGO_OK)
                goto out;
        imago_p11_token_serial(tok, s.device);
        s.pt = calloc(1, STORE_PT_CAP);
        s.scratch = calloc(1, STORE_PT_CAP);
        s.io = calloc(1, IMAGO_STORE_REGION_SIZE);
        if (s.pt == NULL || s.scratch == NULL || s.io == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = s.ops->open(s.ops->arg, path, 1);
        if (r < 0)
                goto out;
        s.fd = r;
        /* both regions zero; the empty list then goes to B as seq 1 */
        s.region = 0;
        s.seq = 0;
        r = imago_store_write(s.ops, s.fd, s.io, IMAGO_STORE_REGION_SIZE, 0);
        if (r == IMAGO_OK) /* the file has its full size from the start */
                r = imago_store_write(s.ops, s.fd, s.io, IMAGO_STORE_REGION_SIZE,
                                      IMAGO_STORE_REGION_SIZE);
        if (r != IMAGO_OK)
                goto out;
        s.pt_len = 2; /* count 0 */
        r = imago_store_commit(&s, 2);
out:
        if (r != IMAGO_OK && made)
                destroy_token_objects(tok);
        if (s.fd >= 0)
                s.ops->close(s.ops->arg, s.fd);
        free(s.pt);
        free(s.scratch);
        free(s.io);
        imago_wipe(&s, sizeof(s));
        return r;
}

int imago_store_decommission(const char *path, struct imago_p11 *tok,
                             const struct imago_store_ops *ops)
{
        uint8_t *zero = NULL;
        int fd = -1, r;

        if (path == NULL || tok == NULL)
                return IMAGO_EINVAL;
        if (ops == NULL)
                ops = imago_store_posix_ops();
        /* the key first: once it is gone, every copy of the file is noise */
        r = destroy_token_objects(tok);
        if (r != IMAGO_OK)
                goto out;
        zero = calloc(1, IMAGO_STORE_FILE_SIZE);
        if (zero == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = ops->open(ops->arg, path, 0);
        if (r < 0)
                goto out;
        fd = r;
        r = imago_store_write(ops, fd, zero, IMAGO_STORE_FILE_SIZE, 0);
        if (r == IMAGO_OK)
                r = ops->fsync(ops->arg, fd);
        if (r == IMAGO_OK)
                IMAGO_INFO("store decommissioned");
out:
        if (fd >= 0)
                ops->close(ops->arg, fd);
        free(zero);
        return r;
}
