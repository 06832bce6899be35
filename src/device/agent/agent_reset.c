/* Factory reset of the secret store; see agent.h. */
#include "agent.h"

#include "base/err.h"
#include "base/log.h"
#include "device/store/store.h"
#include "factory/provision.h"

#include <string.h>

static int is_factory(const char *name)
{
        /*
         * Explicit list: everything else (certificates, network, tokens, the lock counter) goes.
         * The last accepted command sequence stays: the cloud keeps counting for this device
         * across owners, and a reset must not make a captured, still unexpired envelope (up to
         * 24 h) acceptable again.
         */
        static const char *const keep[] = {IMAGO_REC_BIRTH_CERT, IMAGO_REC_DEVICE_ID,
                                           IMAGO_REC_SETUP_CODE_HASH, IMAGO_AGENT_REC_SEQ};

        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
                if (strcmp(name, keep[i]) == 0)
                        return 1;
        return 0;
}

int imago_agent_factory_reset(struct imago_store *s, size_t *deleted)
{
        char name[IMAGO_STORE_NAME_MAX + 1];
        size_t i = 0, n = 0, len;
        uint8_t type;
        int r = IMAGO_OK;

        if (s == NULL)
                return IMAGO_EINVAL;
        /* Indexes shift after a delete: walk from the start, skipping what stays. */
        while (i < imago_store_count(s)) {
                if ((r = imago_store_entry(s, i, name, &type, &len)) != IMAGO_OK)
                        goto out;
                if (is_factory(name)) {
                        i++;
                        continue;
                }
                if ((r = imago_store_delete(s, name)) != IMAGO_OK)
                        goto out;
                n++;
        }
out:
        if (deleted != NULL)
                *deleted = n;
        return r;
}
