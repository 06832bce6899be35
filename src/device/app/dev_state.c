/* imago_dev: state fields: full and patch reports, acks, desired-state deltas (see dev.h). */
#include "device/app/dev_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>

static struct imago_dev_field *dev_field_find(struct imago_dev *d, const char *name)
{
        size_t i;

        for (i = 0; i < d->nfields; i++)
                if (strcmp(d->fields[i].name, name) == 0)
                        return &d->fields[i];
        return NULL;
}

/* The field's current value, or NULL (logged) when get() gives none or one a document refuses. */
static json_t *dev_field_value(struct imago_dev *d, struct imago_dev_field *f)
{
        json_t *v = f->get(f->arg), *one = NULL;

        if (v == NULL) {
                IMAGO_WARN("dev %s: field %s: get() gave no value", d->id, f->name);
                goto out;
        }
        if ((one = json_object()) == NULL || json_object_set(one, f->name, v) != 0 ||
            imago_state_doc_check(one, 0) != 0) {
                IMAGO_WARN("dev %s: field %s: value not reportable", d->id, f->name);
                json_decref(v);
                v = NULL;
        }
out:
        json_decref(one);
        return v;
}

/* Publish {"version":version,"state":state}; on success remember the values as reported. */
static int dev_report(struct imago_dev *d, uint64_t version, json_t *state)
{
        struct imago_state_msg m;
        struct imago_dev_field *f;
        const char *name;
        char *text = NULL;
        size_t len = 0;
        json_t *v;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_REPORT;
        m.version = version;
        m.state = state;
        if ((r = imago_state_msg_build(&m, &text, &len)) != 0) {
                IMAGO_ERR_R(r, "dev %s: cannot build the state report", d->id);
                goto out;
        }
        if ((r = imago_dev_publish(d, IMAGO_STATE_T_REPORT, text, len)) != 0) {
                /* Offline (IMAGO_ESTATE) is normal: the next online reports everything. */
                imago_log(r == IMAGO_ESTATE ? IMAGO_LOG_INFO : IMAGO_LOG_WARN, __func__, 0,
                          "dev %s: state report not sent: %s", d->id, imago_errname(r));
                goto out;
        }
        json_object_foreach(state, name, v)
        {
                if ((f = dev_field_find(d, name)) == NULL)
                        continue;
                json_decref(f->reported);
                f->reported = json_incref(v);
        }
out:
        free(text);
        return r;
}

void imago_dev_report_full(struct imago_dev *d)
{
        json_t *state = json_object(), *v;
        size_t i;

        if (state == NULL)
                return;
        for (i = 0; i < d->nfields; i++) {
                if ((v = dev_field_value(d, &d->fields[i])) == NULL)
                        continue;
                if (json_object_set_new(state, d->fields[i].name, v) != 0)
                        goto out;
        }
        d->acked = 0;
        (void)dev_report(d, 0, state);
out:
        json_decref(state);
}

/* A patch report, or a full report while no ack tells the version to patch. */
static void dev_report_patch(struct imago_dev *d, json_t *patch)
{
        if (!d->acked)
                imago_dev_report_full(d);
        else
                (void)dev_report(d, d->version, patch);
}

int imago_dev_state_changed(struct imago_dev *d, const char *name)
{
        struct imago_dev_field *f;
        json_t *patch = NULL, *v;
        int r = IMAGO_EINVAL;

        if (d == NULL || name == NULL)
                goto out;
        r = IMAGO_ENOTFOUND;
        if ((f = dev_field_find(d, name)) == NULL)
                goto out;
        r = IMAGO_EINVAL;
        if ((v = dev_field_value(d, f)) == NULL)
                goto out;
        r = IMAGO_ENOMEM;
        if ((patch = json_object()) == NULL || json_object_set_new(patch, f->name, v) != 0)
                goto out;
        dev_report_patch(d, patch);
        r = 0;
out:
        json_decref(patch);
        return r;
}

void imago_dev_on_ack(struct imago_dev *d, const uint8_t *buf, size_t len)
{
        struct imago_state_msg m;
        int r;

        memset(&m, 0, sizeof(m));
        if ((r = imago_state_msg_parse(IMAGO_STATE_MSG_ACK, buf, len, &m)) != 0) {
                IMAGO_WARN("dev %s: state ack dropped: %s", d->id, imago_errname(r));
                goto out;
        }
        if (m.accepted) {
                d->acked = 1;
                d->version = m.version;
        } else {
                IMAGO_INFO("dev %s: state report stale (version %llu): full report", d->id,
                           (unsigned long long)m.version);
                imago_dev_report_full(d);
        }
out:
        imago_state_msg_free(&m);
}

/*
 * set() with the whole desired value: a delta carries only the members of an object that differ,
 * so an object is merged into a copy of the field's current object value first.
 */
static int dev_field_set(struct imago_dev *d, struct imago_dev_field *f, json_t *desired)
{
        json_t *cur = NULL, *merged = NULL;
        int r;

        if (json_is_object(desired) && (cur = f->get(f->arg)) != NULL && json_is_object(cur)) {
                r = IMAGO_ENOMEM;
                if ((merged = json_deep_copy(cur)) == NULL)
                        goto out;
                if ((r = imago_state_merge(merged, desired)) != 0) {
                        IMAGO_WARN("dev %s: desired %s cannot be merged", d->id, f->name);
                        goto out;
                }
                desired = merged;
        }
        r = f->set(f->arg, desired);
out:
        json_decref(merged);
        json_decref(cur);
        return r;
}

void imago_dev_on_delta(struct imago_dev *d, const uint8_t *buf, size_t len)
{
        struct imago_state_msg m;
        struct imago_dev_field *f;
        int accepted[IMAGO_DEV_MAX_FIELDS];
        json_t *patch = NULL, *desired, *v;
        const char *name;
        size_t i;
        int r;

        memset(&m, 0, sizeof(m));
        memset(accepted, 0, sizeof(accepted));
        if ((r = imago_state_msg_parse(IMAGO_STATE_MSG_DELTA, buf, len, &m)) != 0) {
                IMAGO_WARN("dev %s: state delta dropped: %s", d->id, imago_errname(r));
                goto out;
        }
        json_object_foreach(m.state, name, desired)
        {
                if ((f = dev_field_find(d, name)) == NULL || f->set == NULL) {
                        IMAGO_DEBUG("dev %s: desired %s ignored (no such writable field)", d->id,
                                    name);
                        continue;
                }
                if ((r = dev_field_set(d, f, desired)) != 0) {
                        IMAGO_INFO("dev %s: desired %s refused: %s", d->id, name, imago_errname(r));
                        continue;
                }
                accepted[f - d->fields] = 1;
        }
        if ((patch = json_object()) == NULL)
                goto out;
        for (i = 0; i < d->nfields; i++) {
                f = &d->fields[i];
                if (!accepted[i] || (v = dev_field_value(d, f)) == NULL)
                        continue;
                /* Only what changed since the last report: a value the field clamps or keeps
                 * does not start a report -> delta -> report loop. */
                if (f->reported != NULL && json_equal(v, f->reported)) {
                        json_decref(v);
                        continue;
                }
                if (json_object_set_new(patch, f->name, v) != 0)
                        goto out;
        }
        if (json_object_size(patch) > 0)
                dev_report_patch(d, patch);
out:
        json_decref(patch);
        imago_state_msg_free(&m);
}
