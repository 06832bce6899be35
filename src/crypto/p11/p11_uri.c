/* See p11.h.  RFC 7512 pkcs11: URI parser (strict). */
#include "p11.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"

#include <string.h>

static int is_unreserved(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 7512 pk11-pchar (path) and pk11-qchar (query), without '%'. */
static int is_pchar(unsigned char c)
{
        return is_unreserved(c) || (c != 0 && strchr(":[]@!$'()*+,=&", c) != NULL);
}

static int is_qchar(unsigned char c)
{
        return is_unreserved(c) || (c != 0 && strchr(":[]@!$'()*+,=/?|;", c) != NULL);
}

static int hexval(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/*
 * Percent-decode v[0..n) into out (cap bytes).  text: no NUL allowed and out
 * is NUL-terminated (cap includes the terminator).
 */
static int decode(const char *v, size_t n, int query, int text, uint8_t *out, size_t cap,
                  size_t *out_len)
{
        size_t o = 0;

        if (n == 0)
                return IMAGO_EP11_URI;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];

                if (c == '%') {
                        int hi, lo;

                        if (n - i < 3)
                                return IMAGO_EP11_URI;
                        hi = hexval((unsigned char)v[i + 1]);
                        lo = hexval((unsigned char)v[i + 2]);
                        if (hi < 0 || lo < 0)
                                return IMAGO_EP11_URI;
                        c = (unsigned char)(hi * 16 + lo);
                        i += 2;
                        if (text && c == 0)
                                return IMAGO_EP11_URI;
                } else if (!(query ? is_qchar(c) : is_pchar(c))) {
                        return IMAGO_EP11_URI;
                }
                if (o >= cap - (text ? 1 : 0))
                        return IMAGO_EP11_URI;
                out[o++] = c;
        }
        if (text)
                out[o] = 0;
        *out_len = o;
        return IMAGO_OK;
}

struct attr {
        const char *name;
        unsigned bit;
        int query;
};

static const struct attr attrs[] = {
    {"token", IMAGO_P11_URI_TOKEN, 0},
    {"manufacturer", IMAGO_P11_URI_MANUFACTURER, 0},
    {"serial", IMAGO_P11_URI_SERIAL, 0},
    {"model", IMAGO_P11_URI_MODEL, 0},
    {"object", IMAGO_P11_URI_OBJECT, 0},
    {"id", IMAGO_P11_URI_ID, 0},
    {"type", IMAGO_P11_URI_TYPE, 0},
    {"pin-value", IMAGO_P11_URI_PIN_VALUE, 1},
    {"pin-source", IMAGO_P11_URI_PIN_SOURCE, 1},
    {"module-path", IMAGO_P11_URI_MODULE_PATH, 1},
};

static int set_type(struct imago_p11_uri *u, const char *t)
{
        static const struct {
                const char *name;
                enum imago_p11_objtype type;
        } types[] = {
            {"public", IMAGO_P11_TYPE_PUBLIC}, {"private", IMAGO_P11_TYPE_PRIVATE},
            {"cert", IMAGO_P11_TYPE_CERT},     {"secret-key", IMAGO_P11_TYPE_SECRET_KEY},
            {"data", IMAGO_P11_TYPE_DATA},
        };

        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                if (strcmp(t, types[i].name) == 0) {
                        u->type = types[i].type;
                        return IMAGO_OK;
                }
        }
        return IMAGO_EP11_URI;
}

static int one_attr(struct imago_p11_uri *u, const char *a, size_t n, int query)
{
        const char *eq = memchr(a, '=', n);
        const struct attr *at = NULL;
        char tbuf[16];
        size_t nl, vl, got;
        const char *v;
        int r;

        if (eq == NULL)
                return IMAGO_EP11_URI;
        nl = (size_t)(eq - a);
        v = eq + 1;
        vl = n - nl - 1;
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
                if (strlen(attrs[i].name) == nl && memcmp(attrs[i].name, a, nl) == 0)
                        at = &attrs[i];
        }
        if (at == NULL || at->query != query || (u->has & at->bit) != 0)
                return IMAGO_EP11_URI;
        switch (at->bit) {
        case IMAGO_P11_URI_TOKEN:
                r = decode(v, vl, query, 1, (uint8_t *)u->token, sizeof(u->token), &got);
                break;
        case IMAGO_P11_URI_MANUFACTURER:
                r = decode(v, vl, query, 1, (uint8_t *)u->manufacturer, sizeof(u->manufacturer),
                           &got);
                break;
        case IMAGO_P11_URI_SERIAL:
                r = decode(v, vl, query, 1, (uint8_t *)u->serial, sizeof(u->serial), &got);
                break;
        case IMAGO_P11_URI_MODEL:
                r = decode(v, vl, query, 1, (uint8_t *)u->model, sizeof(u->model), &got);
                break;
        case IMAGO_P11_URI_OBJECT:
                r = decode(v, vl, query, 1, (uint8_t *)u->object, sizeof(u->object), &got);
                break;
        case IMAGO_P11_URI_ID:
                r = decode(v, vl, query, 0, u->id, sizeof(u->id), &u->id_len);
                break;
        case IMAGO_P11_URI_TYPE:
                r = decode(v, vl, query, 1, (uint8_t *)tbuf, sizeof(tbuf), &got);
                if (r == IMAGO_OK)
                        r = set_type(u, tbuf);
                break;
        case IMAGO_P11_URI_PIN_VALUE:
                r = decode(v, vl, query, 1, (uint8_t *)u->pin_value, sizeof(u->pin_value), &got);
                break;
        case IMAGO_P11_URI_PIN_SOURCE:
                r = decode(v, vl, query, 1, (uint8_t *)u->pin_source, sizeof(u->pin_source), &got);
                break;
        default:
                r = decode(v, vl, query, 1, (uint8_t *)u->module_path, sizeof(u->module_path),
                           &got);
                break;
        }
        if (r == IMAGO_OK)
                u->has |= at->bit;
        return r;
}

/* Split s[0..n) at sep and parse each attribute. */
static int attr_list(struct imago_p11_uri *u, const char *s, size_t n, char sep, int query)
{
        size_t start = 0;
        int r;

        if (n == 0)
                return IMAGO_OK;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != sep)
                        continue;
                r = one_attr(u, s + start, i - start, query);
                if (r != IMAGO_OK)
                        return r;
                start = i + 1;
        }
        return IMAGO_OK;
}

int imago_p11_uri_parse(struct imago_p11_uri *u, const char *s, size_t len)
{
        static const char scheme[] = "pkcs11:";
        const size_t sl = sizeof(scheme) - 1;
        const char *q;
        size_t plen;
        int r;

        if (u == NULL)
                return IMAGO_EINVAL;
        memset(u, 0, sizeof(*u));
        if (s == NULL || len < sl || len > IMAGO_P11_URI_MAX) {
                r = IMAGO_EP11_URI;
                goto out;
        }
        for (size_t i = 0; i < sl; i++) {
                char c = s[i];

                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (c != scheme[i]) {
                        r = IMAGO_EP11_URI;
                        goto out;
                }
        }
        s += sl;
        len -= sl;
        q = memchr(s, '?', len);
        plen = q ? (size_t)(q - s) : len;
        r = attr_list(u, s, plen, ';', 0);
        if (r != IMAGO_OK)
                goto out;
        if (q != NULL) {
                if (plen + 1 == len) { /* "?" with nothing after it */
                        r = IMAGO_EP11_URI;
                        goto out;
                }
                r = attr_list(u, q + 1, len - plen - 1, '&', 1);
                if (r != IMAGO_OK)
                        goto out;
        }
        if ((u->has & IMAGO_P11_URI_PIN_VALUE) && (u->has & IMAGO_P11_URI_PIN_SOURCE))
                r = IMAGO_EP11_URI;
out:
        if (r != IMAGO_OK)
                imago_p11_uri_wipe(u);
        return r;
}

void imago_p11_uri_wipe(struct imago_p11_uri *u)
{
        if (u != NULL)
                imago_wipe(u, sizeof(*u));
}

/* See p11.h. */
int imago_p11_uri_pin(const struct imago_p11_uri *u, const char *pin,
                      char out[IMAGO_P11_PIN_MAX + 1])
{
        const char *path = u->pin_source;
        uint8_t *data = NULL;
        size_t len = 0, n;
        int r;

        if (pin != NULL || (u->has & IMAGO_P11_URI_PIN_VALUE)) {
                const char *src = pin != NULL ? pin : u->pin_value;

                n = strlen(src);
                if (n == 0 || n > IMAGO_P11_PIN_MAX)
                        return IMAGO_EP11_PIN;
                memcpy(out, src, n + 1);
                return IMAGO_OK;
        }
        if ((u->has & IMAGO_P11_URI_PIN_SOURCE) == 0)
                return IMAGO_EP11_PIN;
        if (strncmp(path, "file:", 5) == 0)
                path += 5;
        r = imago_file_read(path, IMAGO_P11_PIN_MAX + 2, &data, &len);
        if (r != IMAGO_OK)
                goto out;
        n = len;
        if (n > 0 && data[n - 1] == '\n')
                n--;
        if (n > 0 && data[n - 1] == '\r')
                n--;
        if (n == 0 || n > IMAGO_P11_PIN_MAX || memchr(data, 0, n) != NULL ||
            memchr(data, '\n', n) != NULL) {
                r = IMAGO_EP11_PIN;
                goto out;
        }
        memcpy(out, data, n);
        out[n] = 0;
        r = IMAGO_OK;
out:
        if (data != NULL)
                imago_file_free(data, len);
        return r;
}
