/*
 * imago-agent: the device daemon.  Everything is in the imago_agent library
 * (src/device/agent/agent.h): setup portal while unconfigured, enrolment,
 * the operational connection, signed commands, factory reset.
 */
#include "device/agent/agent.h"

int main(int argc, char **argv)
{
        return imago_agent_main(argc, argv, NULL);
}
