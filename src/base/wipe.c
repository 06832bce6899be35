/* See wipe.h. */
#define _DEFAULT_SOURCE
#include "wipe.h"

#include <string.h>

void imago_wipe(void *p, size_t n)
{
        if (p != NULL && n > 0)
                explicit_bzero(p, n);
}
