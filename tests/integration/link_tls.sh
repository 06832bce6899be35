#!/usr/bin/env bash
# The device link against a real Mosquitto (no plugin, no cloud) on a loopback port:
# TLS with file keys and operational certificates (imago-sim), the pinned server CA
# refusing a foreign broker certificate, and reconnection with backoff after the broker
# restarts.  Bounded waits; the broker is killed in the trap.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
IMAGO=${IMAGO_BIN:?}/imago
SIM=${IMAGO_BIN:?}/imago-sim
for t in mosquitto openssl python3; do
  PATH=$PATH:/usr/sbin command -v "$t" >/dev/null || { echo "link_tls: $t not installed" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin
work=$(mktemp -d)
bpid=
cleanup() {
  if [ -n "$bpid" ]; then kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "link_tls: FAIL: $*" >&2
  echo "--- broker log (tail)" >&2; tail -n 20 broker.log >&2 2>/dev/null || true
  exit 1
}
ok() { echo "link_tls: ok: $*"; }

printf 'link test passphrase\n' >pw
"$IMAGO" ca init --dir ca --passphrase-file pw >/dev/null
"$IMAGO" ca init --dir other --passphrase-file pw >/dev/null
issue() { "$IMAGO" ca issue --passphrase-file pw "$@" >/dev/null; }
"$SIM" factory --ca ca --passphrase-file pw --count 3 --out fleet >/dev/null
for n in 1 2 3; do
  issue --ca ca --profile device --key fleet/devices/$n.key --out fleet/devices/$n.op.crt
  cp ca/issuing.crt fleet/devices/$n.chain.crt
done
"$IMAGO" keys gen --type p256 --out srv.key >/dev/null
"$IMAGO" keys gen --type p256 --out osrv.key >/dev/null
issue --ca ca --profile server --key srv.key.pub --cn localhost --name 127.0.0.1 --name localhost --out srv.crt
issue --ca other --profile server --key osrv.key.pub --cn localhost --name 127.0.0.1 --name localhost --out osrv.crt
cat ca/root.crt ca/issuing.crt >clients.crt

start_broker() { # certfile keyfile [port]
  local try
  for try in 1 2 3 4 5; do
    port=${3:-$(free_port)}
    cat >broker.conf <<EOF
per_listener_settings false
allow_anonymous false
user $(id -un)
persistence false
log_dest file $work/broker.log
log_type error
log_type warning
listener $port 127.0.0.1
cafile $work/clients.crt
certfile $work/$1
keyfile $work/$2
require_certificate true
use_identity_as_username true
EOF
    mosquitto -c broker.conf >/dev/null 2>&1 &
    bpid=$!
    for _ in $(seq 50); do
      if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then return 0; fi
      kill -0 "$bpid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true; bpid=
    [ -n "${3:-}" ] && sleep 0.5
  done
  fail "broker did not start"
}
stop_broker() { kill "$bpid"; wait "$bpid" 2>/dev/null || true; bpid=; }
run_sim() { # ca-file extra-args...
  local cafile=$1; shift
  timeout 30 "$SIM" run --devices fleet --host 127.0.0.1 --port "$port" --ca "$cafile" \
    --server-name localhost --root ca/root.crt "$@"
}

# 1. TLS with file keys; operational certificates; QoS 1 publishes at a set rate.
start_broker srv.crt srv.key
run_sim ca/server-ca.crt --publish-rate 5 --duration 2 >sim1.txt 2>&1 || { cat sim1.txt; fail "sim run"; }
grep -q 'peak-online 3 ' sim1.txt || { cat sim1.txt; fail "not all devices online"; }
pub=$(sed -n 's/.*published \([0-9]*\) .*/\1/p' sim1.txt)
[ "$pub" -ge 15 ] || { cat sim1.txt; fail "only $pub messages published"; }
ok "3 devices online over TLS 1.3 with file keys, $pub QoS 1 messages"

# 2. The pinned server CA refuses a broker certificate from another CA (same name).
stop_broker
start_broker osrv.crt osrv.key
if run_sim ca/server-ca.crt --count 1 --duration 2 >sim2.txt 2>&1; then cat sim2.txt; fail "foreign broker accepted"; fi
grep -q 'peak-online 0 ' sim2.txt || { cat sim2.txt; fail "a device got online"; }
grep -q 'never came online\|failed' sim2.txt || { cat sim2.txt; fail "no failure reported"; }
ok "broker certificate from a foreign CA refused (pinned server CA)"
# and a wrong server name is refused too
stop_broker
start_broker srv.crt srv.key
if timeout 30 "$SIM" run --devices fleet --host 127.0.0.1 --port "$port" --ca ca/server-ca.crt \
  --server-name broker.example --root ca/root.crt --count 1 --duration 2 >sim3.txt 2>&1; then
  cat sim3.txt; fail "wrong server name accepted"; fi
ok "server name mismatch refused"

# 3. Broker restart: devices reconnect with backoff and are all online at the end.
# (a simple command in the background: a backgrounded function would run the EXIT trap)
timeout 30 "$SIM" run --devices fleet --host 127.0.0.1 --port "$port" --ca ca/server-ca.crt \
  --server-name localhost --root ca/root.crt --publish-rate 2 --duration 9 >sim4.txt 2>&1 &
spid=$!
sleep 2.5
stop_broker
sleep 1.5
start_broker srv.crt srv.key "$port"
wait "$spid" || { cat sim4.txt; fail "sim run across the restart"; }
grep -q 'online-at-end 3 ' sim4.txt || { cat sim4.txt; fail "devices did not come back"; }
retries=$(sed -n 's/.*retries \([0-9]*\)$/\1/p' sim4.txt | tail -n1)
[ "$retries" -ge 3 ] || { cat sim4.txt; fail "no reconnection recorded"; }
ok "all devices back after a broker restart ($retries retries with backoff)"

# 4. rotate-now on imago/v1/d/<id>/rot/now (published here by another client of the plain
#    broker): the device answers with a `rotate` request carrying a CSR on .../rot/req.
"$IMAGO" keys gen --type p256 --out pub.key >/dev/null
issue --ca ca --profile device --key pub.key.pub --out pub.crt
cat ca/root.crt ca/server-ca.crt >server-trust.crt
id1=$(openssl x509 -in fleet/devices/1.crt -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
mq() { "$1" -h 127.0.0.1 -p "$port" --cafile server-trust.crt --cert pub.crt --key pub.key "${@:2}"; }
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$port" --cafile server-trust.crt --cert pub.crt --key pub.key \
  -t "imago/v1/d/$id1/rot/req" -C 1 -W 8 >rotreq.json 2>/dev/null &
subpid=$!
timeout 30 "$SIM" run --devices fleet --host 127.0.0.1 --port "$port" --ca ca/server-ca.crt \
  --server-name localhost --root ca/root.crt --count 1 --duration 4 --verbose >sim5.txt 2>&1 &
spid=$!
sleep 1.5
mq mosquitto_pub -q 1 -t "imago/v1/d/$id1/rot/now" \
  -m "{\"v\": 1, \"type\": \"rotate-now\", \"id\": \"$id1\", \"nonce\": \"00112233445566778899aabbccddeeff\"}"
mq mosquitto_pub -q 1 -t "imago/v1/d/$id1/rot/now" -m '{"v": 1, "type": "rotate-now", "id": "x"}'
wait "$subpid" || { cat sim5.txt; fail "no rotate request seen"; }
wait "$spid" || true
grep -q "rotate-now from the cloud" sim5.txt || { cat sim5.txt; fail "rotate-now not taken"; }
grep -q "malformed rotate-now ignored" sim5.txt || { cat sim5.txt; fail "malformed rotate-now not refused"; }
grep -q '"type": *"rotate"' rotreq.json || { cat rotreq.json; fail "no rotate message"; }
grep -q "BEGIN CERTIFICATE REQUEST" rotreq.json || fail "rotate without a CSR"
ok "rotate-now answered with a rotate request (CSR); a malformed rotate-now ignored"
