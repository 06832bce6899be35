/*
 * libFuzzer target for the store's pure parsers (no token needed): the copy
 * header parser and the decrypted record-list parser.  The first input byte
 * picks the parser (even: header, odd: record list); the rest is its input.
 * Checks: no crash, no read past the input, and on success the invariants
 * the store relies on (entries inside the buffer, valid names, ascending).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "device/store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const struct imago_store_index *ix, const uint8_t *buf, size_t len)
{
        if (ix->n > IMAGO_STORE_RECORDS_MAX)
                abort();
        for (size_t i = 0; i < ix->n; i++) {
                const struct imago_store_entry *e = &ix->e[i];

                if ((size_t)e->name_off + e->name_len > len ||
                    (size_t)e->value_off + e->value_len > len ||
                    e->value_len > IMAGO_STORE_VALUE_MAX ||
                    imago_store_name_ok(buf + e->name_off, e->name_len) != IMAGO_OK)
                        abort();
                if (i > 0) {
                        const struct imago_store_entry *p = &ix->e[i - 1];
                        size_t m = p->name_len < e->name_len ? p->name_len : e->name_len;
                        int c = memcmp(buf + p->name_off, buf + e->name_off, m);

                        if (c > 0 || (c == 0 && p->name_len >= e->name_len))
                                abort();
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_store_index ix;
        struct imago_store_hdr h;
        uint8_t *copy;
        size_t len;
        int r;

        if (size < 1)
                return 0;
        len = size - 1;
        /* an exact-size heap copy so ASan sees any read past the end */
        copy = malloc(len ? len : 1);
        if (copy == NULL)
                return 0;
        memcpy(copy, data + 1, len);
        if ((data[0] & 1) == 0) {
                r = imago_store_hdr_parse(&h, copy, len);
                if (r == IMAGO_OK &&
                    ((size_t)IMAGO_STORE_HDR_LEN + h.ct_len + IMAGO_STORE_TAG_LEN > len ||
                     h.seq == 0 || h.ct_len > IMAGO_STORE_PAYLOAD_MAX))
                        abort();
                if (r == IMAGO_OK) { /* encode gives back the same header bytes */
                        uint8_t out[IMAGO_STORE_HDR_LEN];

                        imago_store_hdr_encode(&h, out);
                        if (memcmp(out, copy, sizeof(out)) != 0)
                                abort();
                }
        } else {
                r = imago_store_records_parse(&ix, copy, len);
                if (r == IMAGO_OK)
                        check_records(&ix, copy, len);
                else if (ix.n != 0)
                        abort();
        }
        free(copy);
        return 0;
}
