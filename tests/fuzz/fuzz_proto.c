/* libFuzzer target: the device channel message parser (untrusted MQTT payloads). */
#include "proto/proto.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_proto_msg m, m2;
        enum imago_proto_type t;
        char id[IMAGO_PROTO_ID_LEN + 1];
        char topic[64];

        /* The topic parser too, on a NUL-terminated copy of a prefix. */
        if (size < sizeof(topic)) {
                memcpy(topic, data, size);
                topic[size] = '\0';
                (void)imago_proto_topic_parse(topic, &t, id);
        }
        if (imago_proto_parse(data, size, &m) == 0) {
                char *text = NULL;
                size_t len = 0;

                /* What parses must build again and parse to the same message. */
                if (imago_proto_build(&m, &text, &len) != 0)
                        __builtin_trap();
                if (imago_proto_parse((const uint8_t *)text, len, &m2) != 0 || m2.type != m.type ||
                    strcmp(m2.id, m.id) != 0 || strcmp(m2.nonce, m.nonce) != 0)
                        __builtin_trap();
                imago_proto_free(&m2);
                free(text);
                imago_proto_free(&m);
        }
        return 0;
}
