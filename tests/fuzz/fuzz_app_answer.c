/*
 * libFuzzer target: what `imago app` reads from outside.  The first byte
 * picks the reader, the rest is its input:
 *   0  an API or portal answer body: the error printer, the devices table,
 *      state documents, command results, field lists, the token taker;
 *   1  a QR string from a label (--qr);
 *   2  an API address and a portal HOST:PORT;
 *   3  a session file.
 * The program's sources are included (imago app is a program, not a library).
 * Its output goes to /dev/null; run with -close_fd_mask=2 to hide the error
 * lines it prints on stderr.
 */
#include "../../src/cli/cli_util.c"
#include "../../src/cli/cmd_app_command.c"
#include "../../src/cli/cmd_app_configure.c"
#include "../../src/cli/cmd_app_devices.c"
#include "../../src/cli/cmd_app_http.c"
#include "../../src/cli/cmd_app_session.c"
#include "../../src/cli/cmd_app_util.c"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(struct imago_app *a, const uint8_t *buf, size_t len)
{
        struct imago_app_resp resp;
        json_t *o = NULL;

        if (imago_json_object(buf, len, IMAGO_HTTPC_BODY_MAX, &o) != IMAGO_OK)
                return;
        resp.status = 400;
        resp.json = o;
        if (api_error(a, &resp) == IMAGO_OK)
                __builtin_trap();
        imago_app_print_fields(o, "");
        (void)imago_app_print_json(o);
        if (json_is_array(json_object_get(o, "devices")))
                print_devices(json_object_get(o, "devices"));
        print_doc("reported", o, "reported_version");
        print_doc("delta", o, NULL);
        (void)print_result(a, o);
        if (imago_app_take_tokens(a, o) == IMAGO_OK &&
            (!imago_app_token_ok(a->s.access) || !imago_app_token_ok(a->s.refresh)))
                __builtin_trap();
        json_decref(o);
}

static void qr(const char *s)
{
        struct qr q;

        memset(&q, 0, sizeof(q));
        if (parse_qr(s, &q) != IMAGO_OK)
                return;
        if (!imago_device_id_valid(q.id) || !imago_hex_is_lower(q.fp, 64, 64) || q.code[0] == '\0')
                __builtin_trap();
}

static void address(const char *s)
{
        char host[IMAGO_APP_HOST_MAX + 1];
        uint16_t port = 0;

        if (imago_app_parse_url(s, host, sizeof(host), &port) == IMAGO_OK &&
            (port == 0 || host[0] == '\0' || strpbrk(host, "/@?#[] ") != NULL))
                __builtin_trap();
        if (imago_app_parse_hostport(s, host, sizeof(host), &port) == IMAGO_OK &&
            (port == 0 || host[0] == '\0' || strpbrk(host, "/@?#[] ") != NULL))
                __builtin_trap();
}

static void session(const uint8_t *buf, size_t len)
{
        struct imago_app_session s;

        memset(&s, 0, sizeof(s));
        if (imago_app_session_parse(buf, len, &s) != IMAGO_OK)
                return;
        if (s.api == NULL || s.user == NULL || !imago_app_token_ok(s.refresh) ||
            (s.access != NULL && !imago_app_token_ok(s.access)))
                __builtin_trap();
        imago_app_session_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int init;
        struct imago_app a;
        char *text;

        if (!init) {
                imago_app_json_init();
                if (freopen("/dev/null", "w", stdout) == NULL)
                        return 0;
                init = 1;
        }
        if (size < 1)
                return 0;
        memset(&a, 0, sizeof(a));
        snprintf(a.cmd, sizeof(a.cmd), "app fuzz");
        if ((text = malloc(size)) == NULL)
                return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        switch (data[0] % 4) {
        case 0:
                answer(&a, data + 1, size - 1);
                break;
        case 1:
                qr(text);
                break;
        case 2:
                address(text);
                break;
        default:
                session(data + 1, size - 1);
                break;
        }
        imago_app_session_clear(&a.s);
        free(text);
        return 0;
}
