/*
 * imago-cloud service: one libevent loop that runs the fleet service.
 *
 * imago_svc_run(): reads DIR/imago-cloud.conf (cloud/config.h), opens the
 * registry, decrypts the issuing CA key and the service key with the
 * passphrase, writes DIR/imago-cloud.pid (refused while another live
 * process holds it), starts Mosquitto (unless no_broker) with
 * DIR/broker/mosquitto.conf as a child that dies with us
 * (PR_SET_PDEATHSIG) and waits until its listener accepts, then runs:
 *   - the MQTT client (libmosquitto inside the loop, TLS with the service
 *     certificate, server pinned to DIR/ca/server-ca.crt, client id = the
 *     service CN, persistent session, QoS 1, reconnect with backoff),
 *     subscribed to imago/v1/prov/+/req, imago/v1/d/+/rot/req and
 *     imago/v1/svc/seen (see svc_enrol.h for the handlers);
 *   - the broker-hook HTTP endpoint on http_host:http_port (svc_hook.h);
 *   - signals: SIGTERM/SIGINT stop cleanly (broker stopped: SIGTERM, then
 *     SIGKILL after 5 s), SIGHUP rewrites nothing but publishes
 *     {"op":"reload"} to $CONTROL/imago/v1 (the admin CLI rewrote
 *     DIR/broker/deny.json before sending it) and sends the pending
 *     rotation requests;
 *   - rotation requests (`imago-cloud devices rotate`, registry): rotate-now
 *     to imago/v1/d/<id>/rot/now, QoS 1, on connect, SIGHUP, 1 s after the
 *     device is seen connecting, and every 60 s while pending; cleared when
 *     the device's new certificate is recorded (svc_rotate.c).
 * Returns when stopped: IMAGO_OK after a signal, else the setup error.
 *
 * Logs: svc_log.h, one line per event; no key, passphrase or message body.
 *
 * Ownership: opts and the passphrase are borrowed (the caller wipes it);
 * everything the service allocates is freed before return.
 */
#ifndef IMAGO_CLOUD_SVC_H
#define IMAGO_CLOUD_SVC_H

struct imago_svc_opts {
        const char *data_dir;
        const char *passphrase; /* issuing CA and service keys; NULL if not encrypted */
        int no_broker;          /* 1: a broker is already running (tests, clusters) */
};

int imago_svc_run(const struct imago_svc_opts *opts);

struct imago_svc;

/* Deny one device id now ({"op":"deny"} on the control topic; for the API). */
int imago_svc_deny_id(struct imago_svc *s, const char *id, const char *reason);

/* Publish {"op":"reload"} on the control topic. */
int imago_svc_deny_reload(struct imago_svc *s);

#endif
