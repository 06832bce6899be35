/* See datadir.h: paths, the config of a data directory, and `init`. */
#define _GNU_SOURCE /* renameat2, nftw */
#include "cloud/datadir.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "cloud/datadir_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_cloud_datadir_path(char *out, size_t cap, const char *data_dir, const char *rel)
{
        int n;

        if (out == NULL || data_dir == NULL || rel == NULL)
                return IMAGO_EINVAL;
        n = snprintf(out, cap, "%s/%s", data_dir, rel);
        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : 0;
}

int imago_cloud_datadir_config(const char *data_dir, struct imago_cloud_config *c, unsigned *line)
{
        char path[PATH_MAX], real_dir[PATH_MAX], real_conf[PATH_MAX];
        int r;

        if (line != NULL)
                *line = 0;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), data_dir, IMAGO_CLOUD_F_CONF)) != 0)
                return r;
        if ((r = imago_cloud_config_load(path, c, line)) != 0)
                return r;
        /* a copied or moved data directory must not act on another one */
        if (realpath(data_dir, real_dir) == NULL || realpath(c->data_dir, real_conf) == NULL ||
            strcmp(real_dir, real_conf) != 0) {
                IMAGO_ERR("%s: data_dir is %s, not this directory", path, c->data_dir);
                return IMAGO_ECONF_VALUE;
        }
        return 0;
}

/* Absolute path of a directory that does not exist yet: realpath(parent)/base. */
static int absolute_new_dir(const char *dir, char *out, size_t cap)
{
        char parent[PATH_MAX], real[PATH_MAX];
        const char *slash, *base;
        size_t plen;
        int n;

        if (dir[0] == '\0' || dir[strlen(dir) - 1] == '/')
                return IMAGO_EINVAL; /* no trailing slash: keep the name simple */
        slash = strrchr(dir, '/');
        base = slash != NULL ? slash + 1 : dir;
        if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return IMAGO_EINVAL;
        plen = slash == NULL ? 1 : (slash == dir ? 1 : (size_t)(slash - dir));
        if (plen >= sizeof(parent))
                return IMAGO_EINVAL;
        memcpy(parent, slash == NULL ? "." : dir, plen);
        parent[plen] = '\0';
        if (realpath(parent, real) == NULL)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        n = snprintf(out, cap, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void remove_tree(const char *dir)
{
        if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
                IMAGO_WARN("cannot remove %s: %s", dir, strerror(errno));
}

static int config_for(const struct imago_cloud_init_opts *o, const char *final,
                      struct imago_cloud_config *c)
{
        char reg[IMAGO_CLOUD_URI_MAX];
        int r, n;

        imago_cloud_config_defaults(c);
        if ((r = imago_cloud_config_set(c, "data_dir", final)) != 0)
                return r;
        n = snprintf(reg, sizeof(reg), "sqlite:%s/%s", final, IMAGO_CLOUD_F_REGISTRY);
        if (n < 0 || (size_t)n >= sizeof(reg))
                return IMAGO_ECONF_VALUE;
        if ((r = imago_cloud_config_set(c, "registry", reg)) != 0)
                return r;
        if (o->mqtt_port != 0)
                c->mqtt_port = o->mqtt_port;
        if (o->http_port != 0)
                c->http_port = o->http_port;
        if (o->api_port != 0)
                c->api_port = o->api_port;
        if (o->plugin_path != NULL &&
            (r = imago_cloud_config_set(c, "plugin_path", o->plugin_path)) != 0)
                return r;
        if (o->mosquitto_path != NULL &&
            (r = imago_cloud_config_set(c, "mosquitto_path", o->mosquitto_path)) != 0)
                return r;
        return 0;
}

static int write_text(const char *dir, const char *rel, const char *text, size_t len, mode_t mode)
{
        char path[PATH_MAX];
        int r;

        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, rel)) != 0)
                return r;
        if ((r = imago_file_write_atomic(path, text, len, mode)) != 0)
                IMAGO_ERR_R(r, "%s", path);
        return r;
}

static int fill(const struct imago_cloud_init_opts *o, const struct imago_cloud_config *c,
                const char *tmp)
{
        static const char *const subdirs[] = {IMAGO_CLOUD_D_CA, "service", IMAGO_CLOUD_D_BROKER,
                                              IMAGO_CLOUD_D_API, IMAGO_CLOUD_D_KEYS};
        struct imago_registry *reg = NULL;
        char path[PATH_MAX], uri[PATH_MAX + 8];
        char *text = NULL;
        struct passwd *pw;
        size_t i, len = 0;
        int r, n;

        for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
                if ((r = imago_cloud_datadir_path(path, sizeof(path), tmp, subdirs[i])) != 0)
                        goto out;
                if (mkdir(path, 0700) != 0) {
                        r = IMAGO_EIO;
                        goto out;
                }
        }
        if ((r = imago_cloud_datadir_copy_ca(o->ca_dir, tmp)) != 0)
                goto out;
        if ((r = imago_cloud_datadir_issue(tmp, c, o->cloud_passphrase, o->server_names,
                                           o->server_names_count)) != 0)
                goto out;
        if ((r = imago_cloud_datadir_issue_api(tmp, o->cloud_passphrase, o->server_names,
                                               o->server_names_count)) != 0 ||
            (r = imago_cloud_datadir_app_files(tmp, o->cloud_passphrase)) != 0)
                goto out;
        if ((r = imago_cloud_config_format(c, &text, &len)) != 0 ||
            (r = write_text(tmp, IMAGO_CLOUD_F_CONF, text, len, 0600)) != 0)
                goto out;
        free(text);
        text = NULL;
        /* the broker drops root to this user: the one who owns the files */
        if ((pw = getpwuid(geteuid())) == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_cloud_datadir_mosquitto_conf(c, pw->pw_name, &text, &len)) != 0 ||
            (r = write_text(tmp, IMAGO_CLOUD_F_MOSQUITTO, text, len, 0600)) != 0)
                goto out;
        n = snprintf(uri, sizeof(uri), "sqlite:%s/%s", tmp, IMAGO_CLOUD_F_REGISTRY);
        if (n < 0 || (size_t)n >= sizeof(uri)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_registry_open(uri, &reg)) != 0)
                goto out;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), tmp, IMAGO_CLOUD_F_DENY)) != 0 ||
            (r = imago_cloud_datadir_write_deny(reg, path)) != 0)
                goto out;
        r = 0;
out:
        imago_registry_close(reg);
        free(text);
        return r;
}

int imago_cloud_datadir_init(const struct imago_cloud_init_opts *o)
{
        struct imago_cloud_config c;
        char final[PATH_MAX], tmp[PATH_MAX];
        struct stat sb;
        int r, made = 0, n;

        if (o == NULL || o->data_dir == NULL || o->ca_dir == NULL || o->cloud_passphrase == NULL ||
            o->server_names_count > IMAGO_CLOUD_NAMES_MAX)
                return IMAGO_EINVAL;
        if ((r = absolute_new_dir(o->data_dir, final, sizeof(final))) != 0)
                goto out;
        if ((r = config_for(o, final, &c)) != 0)
                goto out;
        if (lstat(final, &sb) == 0) {
                r = IMAGO_EEXIST;
                goto out;
        }
        n = snprintf(tmp, sizeof(tmp), "%s.init-XXXXXX", final);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if (mkdtemp(tmp) == NULL) {
                r = IMAGO_EIO;
                goto out;
        }
        made = 1;
        if ((r = fill(o, &c, tmp)) != 0)
                goto out;
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
                r = errno == EEXIST ? IMAGO_EEXIST : IMAGO_EIO;
                goto out;
        }
        made = 0;
        r = 0;
out:
        if (made)
                remove_tree(tmp);
        return r;
}
