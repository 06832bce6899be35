/* `imago app` session file: tokens at rest, 0600, written atomically; see cmd_app.h. */
#define _POSIX_C_SOURCE 200809L
#include "cmd_app.h"

#include "base/err.h"
#include "base/file.h"
#include "json/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const keys[] = {"version", "api", "ca", "user", "access_token", "refresh_token"};

void imago_app_session_clear(struct imago_app_session *s)
{
        imago_app_str_free(s->api);
        imago_app_str_free(s->ca);
        imago_app_str_free(s->user);
        imago_app_str_free(s->access);
        imago_app_str_free(s->refresh);
        memset(s, 0, sizeof(*s));
}

/* Member key as a malloc'd copy (NULL when absent and optional). */
static int take(json_t *o, const char *key, int optional, char **out)
{
        json_t *v = json_object_get(o, key);
        const char *s;

        if (v == NULL && optional)
                return IMAGO_OK;
        if ((s = imago_json_str(o, key, NULL)) == NULL || s[0] == '\0')
                return IMAGO_EMALFORMED;
        if ((*out = strdup(s)) == NULL)
                return IMAGO_ENOMEM;
        return IMAGO_OK;
}

int imago_app_session_parse(const uint8_t *buf, size_t len, struct imago_app_session *s)
{
        struct imago_app_session n;
        json_t *o = NULL, *ver;
        int r;

        memset(&n, 0, sizeof(n));
        if ((r = imago_json_object(buf, len, IMAGO_APP_SESSION_MAX, &o)) != IMAGO_OK)
                goto out;
        r = IMAGO_EMALFORMED;
        ver = json_object_get(o, "version");
        if (!imago_json_only_keys(o, keys, sizeof(keys) / sizeof(keys[0])) ||
            !json_is_integer(ver) || json_integer_value(ver) != 1)
                goto out;
        if ((r = take(o, "api", 0, &n.api)) != IMAGO_OK ||
            (r = take(o, "ca", 1, &n.ca)) != IMAGO_OK ||
            (r = take(o, "user", 0, &n.user)) != IMAGO_OK ||
            (r = take(o, "access_token", 1, &n.access)) != IMAGO_OK ||
            (r = take(o, "refresh_token", 0, &n.refresh)) != IMAGO_OK)
                goto out;
        if ((n.access != NULL && !imago_app_token_ok(n.access)) || !imago_app_token_ok(n.refresh)) {
                r = IMAGO_EMALFORMED;
                goto out;
        }
        *s = n;
        memset(&n, 0, sizeof(n));
        r = IMAGO_OK;
out:
        imago_app_session_clear(&n);
        json_decref(o);
        return r;
}

int imago_app_session_load(const char *path, struct imago_app_session *s)
{
        struct stat st;
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (lstat(path, &st) != 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        /* Like ssh with its keys: a session others can read or swap is not used. */
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
                return IMAGO_EPERM;
        if ((r = imago_file_read(path, IMAGO_APP_SESSION_MAX, &data, &len)) != IMAGO_OK)
                return r;
        r = imago_app_session_parse(data, len, s);
        imago_file_free(data, len);
        return r;
}

/* mkdir -p of path's directories with 0700 (existing ones are left as they are). */
static int make_parents(const char *path)
{
        char dir[PATH_MAX];
        size_t n = strlen(path), i;

        if (n >= sizeof(dir))
                return IMAGO_EINVAL;
        memcpy(dir, path, n + 1);
        for (i = 1; i < n; i++) {
                if (dir[i] != '/')
                        continue;
                dir[i] = '\0';
                if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                        return IMAGO_EIO;
                dir[i] = '/';
        }
        return IMAGO_OK;
}

int imago_app_session_save(const char *path, const struct imago_app_session *s, int mkdirs)
{
        json_t *o = NULL;
        char *text = NULL;
        int r = IMAGO_ENOMEM;

        if (s->api == NULL || s->user == NULL || s->refresh == NULL)
                return IMAGO_EINVAL;
        if (mkdirs && (r = make_parents(path)) != IMAGO_OK)
                return r;
        o = json_pack("{s:i, s:s, s:s, s:s}", "version", 1, "api", s->api, "user", s->user,
                      "refresh_token", s->refresh);
        if (o == NULL)
                goto out;
        if ((s->ca != NULL && json_object_set_new(o, "ca", json_string(s->ca)) != 0) ||
            (s->access != NULL &&
             json_object_set_new(o, "access_token", json_string(s->access)) != 0))
                goto out;
        if ((text = json_dumps(o, JSON_INDENT(2))) == NULL)
                goto out;
        r = imago_file_write_atomic(path, text, strlen(text), 0600);
out:
        if (text != NULL)
                imago_app_json_free(text);
        json_decref(o);
        return r;
}

int imago_app_session_remove(const char *path)
{
        char lp[PATH_MAX];

        if (unlink(path) != 0 && errno != ENOENT)
                return IMAGO_EIO;
        if (snprintf(lp, sizeof(lp), "%s.lock", path) < (int)sizeof(lp))
                (void)unlink(lp);
        return IMAGO_OK;
}

int imago_app_session_lock(const char *path, int *fd)
{
        char lp[PATH_MAX];
        struct flock l;
        int f;

        *fd = -1;
        if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp))
                return IMAGO_EINVAL;
        if ((f = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
                return IMAGO_EIO;
        memset(&l, 0, sizeof(l));
        l.l_type = F_WRLCK;
        l.l_whence = SEEK_SET;
        while (fcntl(f, F_SETLKW, &l) != 0) {
                if (errno != EINTR) {
                        close(f);
                        return IMAGO_EIO;
                }
        }
        *fd = f;
        return IMAGO_OK;
}

void imago_app_session_unlock(int fd)
{
        if (fd >= 0)
                close(fd); /* releases the lock */
}
