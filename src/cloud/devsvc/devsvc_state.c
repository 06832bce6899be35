/* imago_devsvc: reported and desired state documents (see devsvc.h, docs/state.md). */
#include "cloud/devsvc/devsvc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "cloud/appdb/appdb.h"
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

/* Stored documents were checked when written; they are parsed as strictly as any other. */
static int devsvc_doc_load(const char *text, json_t **out)
{
        return imago_state_doc_parse(text, text != NULL ? strlen(text) : 0, 0, out);
}

static void devsvc_ack(struct imago_devsvc *ds, const char *device, uint64_t version, int accepted)
{
        struct imago_state_msg m;
        char *text = NULL;
        size_t len = 0;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_ACK;
        m.version = version;
        m.accepted = accepted;
        if ((r = imago_state_msg_build(&m, &text, &len)) != 0 ||
            (r = imago_devsvc_publish(ds, device, IMAGO_STATE_T_ACK, text, len)) != 0)
                IMAGO_WARN("state ack to %s not sent: %s", device, imago_errname(r));
        free(text);
}

/*
 * Apply a report to the stored reported document.  0: written, *version the new one and
 * *doc the new document; IMAGO_ESTATE_VERSION: stale, *version the current one; other
 * errors: not written.  st holds the documents as read (refreshed on a lost race).
 */
static int devsvc_report_apply(struct imago_devsvc *ds, const char *device,
                               const struct imago_state_msg *m, struct imago_appdb_state *st,
                               uint64_t *version, json_t **doc)
{
        char *text = NULL;
        int r = IMAGO_ESTATE_VERSION, tries;

        *doc = NULL;
        for (tries = 0; tries < 3; tries++) {
                *version = st->reported_version;
                if (m->version != 0 && m->version != st->reported_version) {
                        r = IMAGO_ESTATE_VERSION;
                        goto out;
                }
                r = m->version == 0 ? ((*doc = json_object()) != NULL ? 0 : IMAGO_ENOMEM)
                                    : devsvc_doc_load(st->reported, doc);
                if (r != 0 || (r = imago_state_merge(*doc, m->state)) != 0 ||
                    (r = imago_state_doc_dump(*doc, &text)) != 0)
                        goto out;
                r = imago_appdb_state_put_reported(ds->c.db, device, st->reported_version, text,
                                                   imago_devsvc_now(ds), version);
                free(text);
                text = NULL;
                /* A full report (version 0) replaces whatever won a race; a patch is stale. */
                if (r != IMAGO_ESTATE_VERSION || m->version != 0)
                        goto out;
                json_decref(*doc);
                *doc = NULL;
                imago_appdb_state_free(st);
                if ((r = imago_appdb_state_get(ds->c.db, device, st)) != 0)
                        goto out;
                *version = st->reported_version;
                r = IMAGO_ESTATE_VERSION;
        }
out:
        if (r != 0) {
                json_decref(*doc);
                *doc = NULL;
        }
        free(text);
        return r;
}

void imago_devsvc_on_report(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                            size_t len)
{
        struct imago_appdb_state st;
        struct imago_state_msg m;
        json_t *reported = NULL, *desired = NULL;
        uint64_t version = 0;
        int r;

        memset(&st, 0, sizeof(st));
        if ((r = imago_state_msg_parse(IMAGO_STATE_MSG_REPORT, buf, len, &m)) != 0) {
                IMAGO_INFO("dropped a state report of %s: %s", device, imago_errname(r));
                goto out;
        }
        if ((r = imago_appdb_state_get(ds->c.db, device, &st)) != 0) {
                IMAGO_ERR_R(r, "state of %s", device);
                goto out;
        }
        r = devsvc_report_apply(ds, device, &m, &st, &version, &reported);
        if (r == IMAGO_ESTATE_VERSION || r == IMAGO_ESTATE_DOC) {
                /* Stale, or the merged document would break the limits: the device sends
                 * its whole state again (version 0). */
                IMAGO_INFO("state report of %s refused: %s", device, imago_errname(r));
                devsvc_ack(ds, device, version, 0);
                goto out;
        }
        if (r != 0) {
                IMAGO_ERR_R(r, "state report of %s", device);
                goto out;
        }
        devsvc_ack(ds, device, version, 1);
        if (devsvc_doc_load(st.desired, &desired) == 0)
                (void)imago_devsvc_publish_delta(ds, device, desired, st.desired_version, reported);
out:
        json_decref(reported);
        json_decref(desired);
        imago_appdb_state_free(&st);
        imago_state_msg_free(&m);
}

int imago_devsvc_set_desired(struct imago_devsvc *ds, const char *device, uint64_t actor,
                             uint64_t expected_version, const char *patch, size_t len,
                             uint64_t *new_version)
{
        struct imago_appdb_state st;
        json_t *p = NULL, *desired = NULL, *reported = NULL;
        char *text = NULL, who[32];
        uint64_t version = 0;
        int r = IMAGO_EINVAL;

        memset(&st, 0, sizeof(st));
        if (new_version != NULL)
                *new_version = 0;
        if (ds == NULL || !imago_device_id_valid(device) || actor == 0 ||
            (patch == NULL && len > 0) || new_version == NULL)
                goto out;
        if ((r = imago_devsvc_enrolled(ds, device)) != 0)
                goto out;
        if ((r = imago_state_doc_parse(patch, len, 1, &p)) != 0)
                goto out;
        if ((r = imago_appdb_state_get(ds->c.db, device, &st)) != 0)
                goto out;
        version = st.desired_version;
        r = IMAGO_ESTATE_VERSION;
        if (expected_version != st.desired_version)
                goto out;
        if ((r = devsvc_doc_load(st.desired, &desired)) != 0 ||
            (r = imago_state_merge(desired, p)) != 0 ||
            (r = imago_state_doc_dump(desired, &text)) != 0)
                goto out;
        if ((r = imago_appdb_state_put_desired(ds->c.db, device, expected_version, text,
                                               imago_devsvc_now(ds), &version)) != 0)
                goto out;
        imago_devsvc_user_actor(actor, who, sizeof(who));
        (void)imago_devsvc_audit(ds, who, "device.state.desired", device,
                                 json_pack("{s:I}", "version", (json_int_t)version));
        if (devsvc_doc_load(st.reported, &reported) == 0)
                (void)imago_devsvc_publish_delta(ds, device, desired, version, reported);
out:
        if (new_version != NULL && (r == 0 || r == IMAGO_ESTATE_VERSION))
                *new_version = version;
        free(text);
        json_decref(p);
        json_decref(desired);
        json_decref(reported);
        imago_appdb_state_free(&st);
        return r;
}
