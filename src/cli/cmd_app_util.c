/* `imago app` helpers: wiping JSON memory, addresses, secrets, safe output; see cmd_app.h. */
#define _POSIX_C_SOURCE 200809L
#include "cmd_app.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "base/wipe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define HDR          16U /* keeps malloc's 16-byte alignment */
#define DEFAULT_PORT 8443U

static void *wipe_malloc(size_t n)
{
        unsigned char *p;

        if (n > SIZE_MAX - HDR || (p = malloc(n + HDR)) == NULL)
                return NULL;
        memcpy(p, &n, sizeof(n));
        return p + HDR;
}

static void wipe_free(void *q)
{
        unsigned char *p;
        size_t n;

        if (q == NULL)
                return;
        p = (unsigned char *)q - HDR;
        memcpy(&n, p, sizeof(n));
        imago_wipe(q, n);
        free(p);
}

void imago_app_json_init(void)
{
        json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void imago_app_json_free(char *s)
{
        json_malloc_t m;
        json_free_t f;

        json_get_alloc_funcs(&m, &f);
        f(s);
}

void imago_app_str_free(char *s)
{
        if (s == NULL)
                return;
        imago_wipe(s, strlen(s));
        free(s);
}

char *imago_app_strdup(const char *s)
{
        return s == NULL ? NULL : strdup(s);
}

static int host_char_ok(char c, int bracketed)
{
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
                return 1;
        if (bracketed)
                return c == ':' || c == '.';
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}

/* s[0..n): HOST or HOST:PORT (need_port: the port is required). */
static int parse_hostport_n(const char *s, size_t n, int need_port, char *host, size_t host_size,
                            uint16_t *port)
{
        const char *h = s, *pp = NULL;
        size_t hl, i;
        char num[8];
        uint32_t v = DEFAULT_PORT;
        int br = 0;

        if (n == 0)
                return IMAGO_EINVAL;
        if (s[0] == '[') {
                const char *e = memchr(s, ']', n);

                if (e == NULL)
                        return IMAGO_EINVAL;
                br = 1;
                h = s + 1;
                hl = (size_t)(e - h);
                if ((size_t)(e + 1 - s) < n) {
                        if (e[1] != ':')
                                return IMAGO_EINVAL;
                        pp = e + 2;
                }
        } else {
                const char *c = memchr(s, ':', n);

                hl = c != NULL ? (size_t)(c - s) : n;
                if (c != NULL)
                        pp = c + 1;
        }
        if (hl == 0 || hl >= host_size || hl > IMAGO_APP_HOST_MAX)
                return IMAGO_EINVAL;
        for (i = 0; i < hl; i++)
                if (!host_char_ok(h[i], br))
                        return IMAGO_EINVAL;
        if (pp != NULL) {
                size_t pl = n - (size_t)(pp - s);

                if (pl == 0 || pl >= sizeof(num))
                        return IMAGO_EINVAL;
                memcpy(num, pp, pl);
                num[pl] = '\0';
                if (imago_parse_u32(num, 65535, &v) != IMAGO_OK || v == 0)
                        return IMAGO_EINVAL;
        } else if (need_port) {
                return IMAGO_EINVAL;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        *port = (uint16_t)v;
        return IMAGO_OK;
}

int imago_app_parse_url(const char *url, char *host, size_t host_size, uint16_t *port)
{
        size_t n;

        if (url == NULL || strncmp(url, "https://", 8) != 0)
                return IMAGO_EINVAL;
        url += 8;
        n = strlen(url);
        if (n > 0 && url[n - 1] == '/')
                n--;
        return parse_hostport_n(url, n, 0, host, host_size, port);
}

int imago_app_parse_hostport(const char *s, char *host, size_t host_size, uint16_t *port)
{
        if (s == NULL)
                return IMAGO_EINVAL;
        return parse_hostport_n(s, strlen(s), 1, host, host_size, port);
}

int imago_app_token_ok(const char *tok)
{
        size_t i;

        if (tok == NULL || tok[0] == '\0')
                return 0;
        for (i = 0; tok[i] != '\0'; i++)
                if (i >= IMAGO_APP_TOKEN_MAX || tok[i] < 0x21 || tok[i] > 0x7e)
                        return 0;
        return 1;
}

int imago_app_is_json_opt(struct imago_app *a, const char *arg)
{
        if (strcmp(arg, "--json") != 0)
                return 0;
        a->json = 1;
        return 1;
}

/* First line of buf[0..len) (without \r\n): 1..max bytes, no NUL. */
static int first_line(const uint8_t *buf, size_t len, size_t max, char **out)
{
        size_t n;
        char *p;

        for (n = 0; n < len && buf[n] != '\n'; n++)
                if (buf[n] == '\0')
                        return IMAGO_EMALFORMED;
        if (n > 0 && buf[n - 1] == '\r')
                n--;
        if (n == 0)
                return IMAGO_ENOTFOUND;
        if (n > max)
                return IMAGO_ETOOBIG;
        if ((p = malloc(n + 1)) == NULL)
                return IMAGO_ENOMEM;
        memcpy(p, buf, n);
        p[n] = '\0';
        *out = p;
        return IMAGO_OK;
}

/* Unbuffered (no copy left in a stdio buffer), up to a newline or EOF. */
static int read_stdin_line(uint8_t *buf, size_t size, size_t *len)
{
        size_t n = 0;
        ssize_t k;
        uint8_t c;

        for (;;) {
                k = read(STDIN_FILENO, &c, 1);
                if (k < 0)
                        return IMAGO_EIO;
                if (k == 0 || c == '\n')
                        break;
                if (n >= size)
                        return IMAGO_ETOOBIG;
                buf[n++] = c;
        }
        *len = n;
        return IMAGO_OK;
}

int imago_app_secret_read(const char *file, const char *prompt, size_t max, char **out)
{
        uint8_t *data = NULL, *buf = NULL;
        size_t len = 0, size = max + 2;
        struct termios old, quiet;
        int r, tty = 0;

        *out = NULL;
        if (file != NULL) {
                if ((r = imago_file_read(file, size, &data, &len)) != IMAGO_OK)
                        return r;
                r = first_line(data, len, max, out);
                imago_file_free(data, len);
                return r;
        }
        if ((buf = malloc(size)) == NULL)
                return IMAGO_ENOMEM;
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0) {
                tty = 1;
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
                fprintf(stderr, "%s: ", prompt);
                fflush(stderr);
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        r = read_stdin_line(buf, size, &len);
        if (tty) {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (r == IMAGO_OK)
                r = first_line(buf, len, max, out);
        imago_wipe(buf, size);
        free(buf);
        return r;
}

void imago_app_print_safe(FILE *f, const char *s)
{
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;

                fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
        }
}

void imago_app_print_value(FILE *f, json_t *v)
{
        char *t;

        if (json_is_string(v)) {
                imago_app_print_safe(f, json_string_value(v));
                return;
        }
        t = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
        if (t == NULL)
                return;
        fputs(t, f);
        imago_app_json_free(t);
}

void imago_app_print_fields(json_t *obj, const char *indent)
{
        const char *key;
        json_t *v;

        json_object_foreach(obj, key, v)
        {
                fputs(indent, stdout);
                imago_app_print_safe(stdout, key);
                fputs(": ", stdout);
                imago_app_print_value(stdout, v);
                fputc('\n', stdout);
        }
}

int imago_app_print_json(json_t *obj)
{
        char *t = json_dumps(obj, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);

        if (t == NULL)
                return IMAGO_ENOMEM;
        puts(t);
        imago_app_json_free(t);
        return IMAGO_OK;
}

int imago_app_usage(const struct imago_app *a, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "imago: %s: ", a->cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'imago %s --help')\n", a->cmd);
        return 2;
}

int imago_app_args(struct imago_app *a, int argc, char **argv, const char *help,
                   const struct imago_app_optdef *opts, size_t nopts, const char **pos,
                   size_t pos_min, size_t pos_max, size_t *npos)
{
        size_t k, n = 0;
        int i;

        for (i = 1; i < argc; i++) {
                const char *arg = argv[i];

                if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                        fputs(help, stdout);
                        return -1;
                }
                if (imago_app_is_json_opt(a, arg))
                        continue;
                if (arg[0] == '-' && arg[1] == '-') {
                        for (k = 0; k < nopts; k++)
                                if (strcmp(arg, opts[k].name) == 0)
                                        break;
                        if (k == nopts)
                                return imago_app_usage(a, "unknown option '%s'", arg);
                        if (i + 1 >= argc)
                                return imago_app_usage(a, "option %s needs a value", arg);
                        *opts[k].val = argv[++i];
                        continue;
                }
                if (n >= pos_max)
                        return imago_app_usage(a, "unexpected argument '%s'", arg);
                pos[n++] = arg;
        }
        if (n < pos_min)
                return imago_app_usage(a, "missing arguments");
        *npos = n;
        return 0;
}
