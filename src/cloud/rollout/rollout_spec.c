/* See rollout.h: spec limits, status names, stage arithmetic, JSON string escaping. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/name.h"

#include <stdio.h>
#include <string.h>

const char *imago_rollout_status_name(enum imago_rollout_status s)
{
        switch (s) {
        case IMAGO_ROLLOUT_RUNNING:
                return "running";
        case IMAGO_ROLLOUT_PAUSED:
                return "paused";
        case IMAGO_ROLLOUT_CANCELLED:
                return "cancelled";
        case IMAGO_ROLLOUT_ABORTED:
                return "aborted";
        case IMAGO_ROLLOUT_COMPLETED:
                return "completed";
        }
        return NULL;
}

int imago_rollout_tag_valid(const char *s)
{
        return imago_name_valid(s, IMAGO_ROLLOUT_TAG_MAX);
}

/* NUL within len, every char in [lo, hi] and not '"' or '\\' */
static int text_valid(const char *s, size_t len, size_t min, char lo)
{
        size_t n = strnlen(s, len);

        if (n == len || n < min)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (s[i] < lo || s[i] > '~' || s[i] == '"' || s[i] == '\\')
                        return 0;
        return 1;
}

int imago_rollout_spec_check(const struct imago_rollout_spec *spec)
{
        size_t i;

        if (spec == NULL)
                return IMAGO_EINVAL;
        /* name: printable ASCII, may be empty; target: no spaces either, 1..200 */
        if (!text_valid(spec->name, sizeof(spec->name), 0, ' ') ||
            !text_valid(spec->target, sizeof(spec->target), 1, '!'))
                return IMAGO_EINVAL;
        if (strnlen(spec->group, sizeof(spec->group)) == sizeof(spec->group) ||
            strnlen(spec->tag, sizeof(spec->tag)) == sizeof(spec->tag))
                return IMAGO_EINVAL;
        if (spec->group[0] == '\0' && spec->tag[0] == '\0')
                return IMAGO_EINVAL;
        if ((spec->group[0] != '\0' && !imago_rollout_tag_valid(spec->group)) ||
            (spec->tag[0] != '\0' && !imago_rollout_tag_valid(spec->tag)))
                return IMAGO_EINVAL;
        if (spec->nstages < 1 || spec->nstages > IMAGO_ROLLOUT_STAGES_MAX)
                return IMAGO_EINVAL;
        for (i = 0; i < spec->nstages; i++) {
                if (spec->stages[i] < 1 || spec->stages[i] > 100)
                        return IMAGO_EINVAL;
                if (i > 0 && spec->stages[i] <= spec->stages[i - 1])
                        return IMAGO_EINVAL;
        }
        if (spec->stages[spec->nstages - 1] != 100)
                return IMAGO_EINVAL;
        if (spec->max_concurrent < 1 || spec->max_concurrent > IMAGO_ROLLOUT_LIMIT_MAX)
                return IMAGO_EINVAL;
        if (spec->abort_percent > 100)
                return IMAGO_EINVAL;
        if (spec->abort_min < 1 || spec->abort_min > IMAGO_ROLLOUT_LIMIT_MAX)
                return IMAGO_EINVAL;
        if (spec->device_timeout_s != 0 && (spec->device_timeout_s < IMAGO_ROLLOUT_TIMEOUT_MIN ||
                                            spec->device_timeout_s > IMAGO_ROLLOUT_TIMEOUT_MAX))
                return IMAGO_EINVAL;
        return 0;
}

int imago_rollout_stages_encode(const struct imago_rollout_spec *spec, char *out, size_t len)
{
        size_t i, off = 0;
        int n;

        out[0] = '\0';
        for (i = 0; i < spec->nstages; i++) {
                n = snprintf(out + off, len - off, "%s%u", i > 0 ? "," : "", spec->stages[i]);
                if (n < 0 || (size_t)n >= len - off)
                        return IMAGO_ETOOBIG;
                off += (size_t)n;
        }
        return 0;
}

int imago_rollout_stages_decode(const char *s, struct imago_rollout_spec *spec)
{
        unsigned v;
        size_t n = 0;

        memset(spec->stages, 0, sizeof(spec->stages));
        while (*s != '\0') {
                if (n >= IMAGO_ROLLOUT_STAGES_MAX || *s < '0' || *s > '9')
                        return IMAGO_EREG_DB;
                for (v = 0; *s >= '0' && *s <= '9'; s++) {
                        v = v * 10 + (unsigned)(*s - '0');
                        if (v > 100)
                                return IMAGO_EREG_DB;
                }
                spec->stages[n++] = v;
                if (*s == ',')
                        s++;
                else if (*s != '\0')
                        return IMAGO_EREG_DB;
        }
        spec->nstages = n;
        return n >= 1 ? 0 : IMAGO_EREG_DB;
}

uint64_t imago_rollout_stage_cap(const struct imago_rollout_spec *spec, unsigned stage,
                                 uint64_t total)
{
        uint64_t pct;

        if (stage >= spec->nstages)
                stage = (unsigned)spec->nstages - 1;
        pct = spec->stages[stage];
        return (pct * total + 99) / 100;
}

int imago_rollout_json_str(const char *s, char *out, size_t len)
{
        size_t o = 0;

        for (; *s != '\0'; s++) {
                int esc = *s == '"' || *s == '\\';

                if (o + (size_t)esc + 1 >= len)
                        return IMAGO_ETOOBIG;
                if (esc)
                        out[o++] = '\\';
                out[o++] = *s;
        }
        if (o >= len)
                return IMAGO_ETOOBIG;
        out[o] = '\0';
        return 0;
}
