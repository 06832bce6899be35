/*
 * libFuzzer target: the TUF metadata parser (untrusted bytes from a repository).  The first
 * byte picks the role type (root, timestamp, snapshot, targets); the rest is the document.
 * A parsed document is then used the way the trusted set uses it: signatures counted against
 * its own keys (root) or its delegations' keys (targets), delegation paths matched, and its
 * canonical form re-parsed when it is JSON (it must give the same canonical bytes).
 */
#include "tuf/tuf.h"

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const paths[] = {"fw.bin", "a/x", "a/b/c", "", "*"};
        struct imago_tuf_meta m;
        enum imago_tuf_type type;
        size_t i, j;

        if (size < 1)
                return 0;
        type = (enum imago_tuf_type)(data[0] % 4 + 1);
        if (imago_tuf_meta_parse(type, data + 1, size - 1, NULL, &m) != IMAGO_OK)
                return 0;
        if (type == IMAGO_TUF_ROOT) {
                for (i = 0; i < 4; i++)
                        (void)imago_tuf_meta_verify(&m, &m, &m.roles[i], NULL);
        }
        for (i = 0; i < m.n_delegations; i++) {
                (void)imago_tuf_meta_verify(&m, &m, &m.delegations[i].role, NULL);
                for (j = 0; j < sizeof(paths) / sizeof(paths[0]); j++)
                        (void)imago_tuf_delegation_matches(&m.delegations[i], paths[j]);
        }
        for (i = 0; i < m.n_targets; i++) {
                struct imago_tuf_filecheck c;

                if (imago_tuf_filecheck_init(&c, &m.targets[i]) == IMAGO_OK) {
                        (void)imago_tuf_filecheck_update(&c, data, size < 16 ? size : 16);
                        (void)imago_tuf_filecheck_final(&c);
                }
        }
        {
                json_error_t e;
                json_t *again = json_loadb(m.canonical, m.canonical_len, 0, &e);
                char *c2 = NULL;
                size_t n2 = 0;

                /* canonical JSON leaves control characters raw (not JSON then); otherwise it
                 * must round-trip */
                if (again != NULL && (imago_tuf_cjson(again, &c2, &n2) != IMAGO_OK ||
                                      n2 != m.canonical_len || memcmp(c2, m.canonical, n2) != 0))
                        abort();
                free(c2);
                json_decref(again);
        }
        imago_tuf_meta_free(&m);
        return 0;
}
