/* See err.h. */
#include "err.h"

#include <string.h>

struct err_entry {
        int code;
        const char *name;
        const char *desc;
};

static const struct err_entry err_table[] = {
#define IMAGO_ERR_ROW(name, value, desc) {(value), #name, (desc)},
    IMAGO_ERR_LIST(IMAGO_ERR_ROW)
#undef IMAGO_ERR_ROW
};

static const struct err_entry *err_find(int r)
{
        for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
                if (err_table[i].code == r)
                        return &err_table[i];
        }
        return NULL;
}

const char *imago_strerror(int r)
{
        const struct err_entry *e = err_find(r);

        return e ? e->desc : "unknown error";
}

const char *imago_errname(int r)
{
        const struct err_entry *e = err_find(r);

        return e ? e->name : "IMAGO_E?";
}

int imago_err_from_name(const char *name, int *out)
{
        if (name == NULL || out == NULL)
                return IMAGO_EINVAL;
        for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
                if (strcmp(err_table[i].name, name) == 0) {
                        *out = err_table[i].code;
                        return IMAGO_OK;
                }
        }
        return IMAGO_ENOTFOUND;
}
