/* imago_file_open_beneath(): see file.h. */
#define _GNU_SOURCE
#include "base/file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_file_open_beneath(int dirfd, const char *rel)
{
        char path[IMAGO_FILE_BENEATH_MAX + 1];
        char *p, *slash;
        struct stat st;
        int cur, next, n;

        n = snprintf(path, sizeof(path), "%s", rel);
        if (n < 0 || (size_t)n >= sizeof(path))
                return -1;
        cur = dirfd;
        for (p = path;; p = slash + 1) {
                slash = strchr(p, '/');
                if (slash != NULL)
                        *slash = '\0';
                if (p[0] == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
                        next = -1;
                } else if (slash != NULL) {
                        next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                } else {
                        next = openat(cur, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (next >= 0 && (fstat(next, &st) != 0 || !S_ISREG(st.st_mode))) {
                                close(next);
                                next = -1;
                        }
                }
                if (cur != dirfd)
                        close(cur);
                cur = next;
                if (cur < 0 || slash == NULL)
                        return cur;
        }
}
