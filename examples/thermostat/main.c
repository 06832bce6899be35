/*
 * imago-example-thermostat: what a firmware team writes on top of imago.
 * The agent library does onboarding (setup portal), the secure connection,
 * signed commands and factory reset; the firmware only says which commands
 * it runs and which state it reports (src/device/app/dev.h,
 * docs/device-app.md).  Run it like imago-agent: --config FILE.
 */
#include "base/err.h"
#include "device/agent/agent.h"
#include "device/app/dev.h"

#include <string.h>

struct thermostat {
        struct imago_dev *dev;
        double temperature; /* measured, degrees C (simulated here) */
        double target;      /* set point, degrees C */
        char mode[8];       /* "off" | "heat" */
};

/* Read-only field: a real device reads its sensor; this one drifts towards the target. */
static json_t *get_temperature(void *arg)
{
        struct thermostat *t = arg;

        if (strcmp(t->mode, "heat") == 0)
                t->temperature += (t->target - t->temperature) / 4;
        return json_real(t->temperature);
}

static json_t *get_target(void *arg)
{
        return json_real(((struct thermostat *)arg)->target);
}

/* Writable field: refuse what the hardware cannot do (the cloud keeps the desired value). */
static int set_target(void *arg, json_t *v)
{
        struct thermostat *t = arg;

        if (!json_is_number(v) || json_number_value(v) < 5 || json_number_value(v) > 30)
                return IMAGO_ERANGE;
        t->target = json_number_value(v);
        return IMAGO_OK;
}

static json_t *get_mode(void *arg)
{
        return json_string(((struct thermostat *)arg)->mode);
}

static int set_mode(void *arg, json_t *v)
{
        struct thermostat *t = arg;
        const char *m = json_string_value(v);

        if (m == NULL || (strcmp(m, "off") != 0 && strcmp(m, "heat") != 0))
                return IMAGO_EINVAL;
        memcpy(t->mode, m, strlen(m) + 1);
        return IMAGO_OK;
}

/* Command set_target {"value": N}: runs only if the cloud signed it for this device. */
static int cmd_set_target(void *arg, const char *name, json_t *args, json_t **result)
{
        struct thermostat *t = arg;
        int r = set_target(t, json_object_get(args, "value"));

        (void)name;
        if (r != IMAGO_OK)
                return r;
        *result = json_pack("{s:f}", "target", t->target);
        (void)imago_dev_state_changed(t->dev, "target"); /* report the new value now */
        return IMAGO_OK;
}

/* Called by the agent when it opens the device library (at start, after onboarding and
 * after a factory reset): register commands and state fields. */
static int setup(void *arg, struct imago_dev *dev)
{
        struct thermostat *t = arg;
        int r;

        t->dev = dev;
        if ((r = imago_dev_command(dev, "set_target", cmd_set_target, t)) != IMAGO_OK ||
            (r = imago_dev_state_field(dev, "temperature", get_temperature, NULL, t)) != IMAGO_OK ||
            (r = imago_dev_state_field(dev, "target", get_target, set_target, t)) != IMAGO_OK ||
            (r = imago_dev_state_field(dev, "mode", get_mode, set_mode, t)) != IMAGO_OK)
                return r;
        return IMAGO_OK;
}

int main(int argc, char **argv)
{
        static struct thermostat t = {.temperature = 18.0, .target = 20.0, .mode = "heat"};
        const struct imago_agent_app app = {
            .name = "imago-example-thermostat", .setup = setup, .arg = &t};

        return imago_agent_main(argc, argv, &app);
}
