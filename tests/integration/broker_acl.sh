#!/usr/bin/env bash
# A real Mosquitto 2.0 with imago_broker.so on a loopback port, certificates from
# imago ca init / ca issue, and independent clients (mosquitto_pub, mosquitto_sub)
# trying the attacks of docs/broker.md.  Bounded waits; everything killed in the trap.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
IMAGO=${IMAGO_BIN:?}/imago
PLUGIN=${IMAGO_PLUGIN:-${IMAGO_BIN:?}/imago_broker.so}
for t in mosquitto mosquitto_pub mosquitto_sub openssl; do
  command -v "$t" >/dev/null || { echo "broker_acl: $t not installed" >&2; exit 1; }
done
[ -f "$PLUGIN" ] || { echo "broker_acl: $PLUGIN not built" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "broker_acl: FAIL: $*" >&2
  echo "--- broker log (tail)" >&2; tail -n 40 broker.log >&2 2>/dev/null || true
  exit 1
}
ok() { echo "broker_acl: ok: $*"; }
now_ms() { date +%s%3N; }

# --- certificates -------------------------------------------------------------------------
printf 'broker test passphrase\n' >pw
"$IMAGO" ca init --dir ca --passphrase-file pw >/dev/null
"$IMAGO" ca init --dir other --passphrase-file pw >/dev/null
issue() { "$IMAGO" ca issue --passphrase-file pw "$@" >/dev/null; }
for k in a b svc srv x; do "$IMAGO" keys gen --type p256 --out $k.key >/dev/null; done
issue --ca ca --profile device --key a.key.pub --out a.crt
issue --ca ca --profile device --key a.key.pub --out a2.crt # a second certificate of A
issue --ca ca --profile birth --key a.key.pub --out abirth.crt
issue --ca ca --profile device --key b.key.pub --out b.crt
issue --ca ca --profile service --key svc.key.pub --cn imago-cloud --out svc.crt
issue --ca ca --profile server --key srv.key.pub --cn localhost --name 127.0.0.1 --name localhost \
  --out srv.crt
issue --ca other --profile device --key x.key.pub --out x.crt # same shape, foreign CA
cp -p a.key a2.key
cp -p a.key abirth.key
cn_of() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
A=$(cn_of a.crt)
B=$(cn_of b.crt)
[ "$A" = "$(cn_of abirth.crt)" ] || fail "birth and device certificates of A differ in CN"
cat ca/root.crt ca/factory.crt ca/issuing.crt ca/server-ca.crt >bundle.crt
cat ca/root.crt ca/server-ca.crt >server-trust.crt # what clients pin
printf '{"v": 1, "ids": {}, "serials": []}\n' >deny.json

# --- broker --------------------------------------------------------------------------------
start_broker() {
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    cat >broker.conf <<EOF
per_listener_settings false
allow_anonymous false
user $(id -un)
persistence false
log_dest file $work/broker.log
log_type all
listener $port 127.0.0.1
cafile $work/bundle.crt
certfile $work/srv.crt
keyfile $work/srv.key
require_certificate true
use_identity_as_username false
tls_version tlsv1.2
plugin $PLUGIN
plugin_opt_factory_ca $work/ca/factory.crt
plugin_opt_issuing_ca $work/ca/issuing.crt
plugin_opt_server_ca $work/ca/server-ca.crt
plugin_opt_deny_file $work/deny.json
plugin_opt_service_cn imago-cloud
EOF
    : >broker.log
    # IMAGO_BROKER_PRELOAD: run the broker with a sanitizer runtime for a sanitized plugin build
    env ${IMAGO_BROKER_PRELOAD:+LD_PRELOAD="$IMAGO_BROKER_PRELOAD"} \
      ASAN_OPTIONS="detect_leaks=0:log_path=$work/asan" UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/ubsan" \
      mosquitto -c broker.conf >broker.out 2>&1 &
    broker=$!
    pids+=("$broker")
    local _
    for _ in $(seq 1 100); do
      if grep -q "Opening ipv4 listen socket on port $port" broker.log 2>/dev/null &&
        grep -q "running" broker.log 2>/dev/null; then
        return 0
      fi
      kill -0 "$broker" 2>/dev/null || break
      sleep 0.05
    done
    kill "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
    grep -q "Address already in use" broker.log broker.out 2>/dev/null || break
  done
  cat broker.out >&2
  fail "broker did not start"
}
start_broker
ok "broker on 127.0.0.1:$port with the plugin"

# client NAME CERT-BASE [extra args]: common TLS args for mosquitto_pub/sub
tls() { echo "-h 127.0.0.1 -p $port --cafile $work/server-trust.crt --cert $work/$1.crt --key $work/$1.key"; }
pub() { # cert-base client-id topic message [extra]
  local c=$1 id=$2 t=$3 m=$4; shift 4
  # shellcheck disable=SC2046
  timeout 10 mosquitto_pub $(tls "$c") -i "$id" -q 1 -t "$t" -m "$m" "$@" 2>>pub.err
}
sub_start() { # out-file cert-base client-id topic-or-option... : background subscriber, returns once subscribed
  local out=$1 c=$2 id=$3; shift 3
  local targs=() t before
  for t in "$@"; do case $t in -*) targs+=("$t") ;; *) targs+=(-t "$t") ;; esac; done
  : >"$out"
  before=$(grep -c "Sending SUBACK to $id" broker.log || true)
  # shellcheck disable=SC2046
  timeout 25 mosquitto_sub $(tls "$c") -i "$id" -q 1 -v "${targs[@]}" >"$out" 2>"$out.err" &
  sub_pid=$!
  pids+=("$sub_pid")
  local _
  for _ in $(seq 1 100); do
    [ "$(grep -c "Sending SUBACK to $id" broker.log || true)" -gt "$before" ] && return 0
    kill -0 "$sub_pid" 2>/dev/null || break
    sleep 0.05
  done
  fail "subscriber $id on $* not subscribed"
}
wait_for() { # file pattern timeout-seconds
  local _
  for _ in $(seq 1 $(($3 * 20))); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
refused() { # cert-base client-id [extra]: the connection must be refused
  local c=$1 id=$2; shift 2
  if pub "$c" "$id" "imago/v1/d/$id/probe" probe "$@"; then return 1; fi
  return 0
}

# --- 1. who may connect ------------------------------------------------------------------
if timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" --cafile server-trust.crt -i "$A" -q 1 \
  -t "imago/v1/d/$A/x" -m nocert 2>>pub.err; then
  fail "a client without a certificate was accepted"
fi
ok "no certificate: refused"
refused x "$(cn_of x.crt)" || fail "a certificate from another CA was accepted"
ok "certificate from another CA: refused"
refused srv localhost || fail "the broker's server certificate was accepted as a client"
# (refused by TLS already: its extended key usage is serverAuth only; the plugin would refuse OU=server)
ok "server certificate as a client: refused"
refused a "not-the-cn" || fail "a client id other than the CN was accepted"
refused a "$B" || fail "A connected with B's id as client id"
grep -q "refused $A: client id is not the certificate CN" broker.log ||
  fail "client id refusal not made by the plugin"
ok "client id other than the CN: refused"

# --- 2. topics ----------------------------------------------------------------------------
# The client id is the CN, so an identity holds one connection at a time: a second
# connection with the same id takes the session over.  Each phase below therefore uses
# each identity once, and a subscriber is stopped before its identity connects again.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# 2a. service and B listen; A publishes inside and outside its prefix
sub_start svc.out svc imago-cloud 'imago/v1/#'
svc_pid=$sub_pid
sub_start b.out b "$B" "imago/v1/d/$B/#"
b_pid=$sub_pid
wait_for svc.out "imago/v1/svc/seen {\"v\":1,\"id\":\"$B\",\"role\":\"device\",\"serial\":\"$(serial_of b.crt)\"}" 5 ||
  fail "seen event of B did not reach the service"
ok "seen event reaches the service subscriber"
pub a "$A" "imago/v1/d/$A/state" a-own || fail "A cannot publish to its own topic"
pub a "$A" "imago/v1/d/$B/state" a-to-b || true
pub a "$A" "imago/v1/d/$B/state" a-spoof -u "$B" || true
pub a "$A" "imago/v1/d/$B/state" a-spoof-svc -u imago-cloud || true
pub a "$A" "imago/v1/svc/seen" a-fake-seen || true
pub a "$A" "imago/v1/prov/$A/req" a-prov || true
pub a "$A" "\$SYS/broker/x" a-sys || true
# A's last will: on B's topic it is refused, on its own topic it is delivered
will_client() { # will-topic payload: connect as A with that will, then die without DISCONNECT
  local before
  before=$(grep -c "Sending SUBACK to $A" broker.log || true)
  # not under timeout(1): SIGKILL must reach mosquitto_sub itself (bounded by the loop below)
  # shellcheck disable=SC2046
  mosquitto_sub $(tls a) -i "$A" -q 1 -t "imago/v1/d/$A/x" --will-topic "$1" \
    --will-payload "$2" --will-qos 1 >/dev/null 2>&1 &
  local w=$! _
  pids+=("$w")
  for _ in $(seq 1 100); do
    [ "$(grep -c "Sending SUBACK to $A" broker.log || true)" -gt "$before" ] && break
    sleep 0.05
  done
  kill -9 "$w" 2>/dev/null || true
  wait "$w" 2>/dev/null || true
}
will_client "imago/v1/d/$B/state" a-will-on-b
wait_for broker.log "denied $A access 2 to 'imago/v1/d/$B/state'" 5 || fail "A's will on B's topic not denied"
will_client "imago/v1/d/$A/lwt" a-own-will
wait_for svc.out "imago/v1/d/$A/lwt a-own-will" 5 || fail "A's will on its own topic was not delivered"
grep -q "a-will-on-b" b.out svc.out && fail "A's will reached B's topic"
ok "last will: on B's topic refused, on A's own topic delivered"
# birth certificate of A: its provisioning request only
pub abirth "$A" "imago/v1/d/$A/state" birth-op || true
pub abirth "$A" "imago/v1/prov/$A/req" birth-req || fail "birth certificate cannot publish its req"
wait_for svc.out "imago/v1/d/$A/state a-own" 5 || fail "A's own message did not arrive"
wait_for svc.out "imago/v1/prov/$A/req birth-req" 5 || fail "birth request did not reach the service"
wait_for svc.out "\"id\":\"$A\",\"role\":\"birth\",\"serial\":\"$(serial_of abirth.crt)\"" 5 ||
  fail "seen event of the birth identity missing"
stop "$svc_pid"
grep -q "a-to-b\|a-spoof" b.out svc.out && fail "A's message reached B's topic"
grep -q "a-fake-seen\|a-sys\|a-prov" svc.out && fail "A published outside its prefix"
grep -q "birth-op" svc.out && fail "a birth certificate reached an operational topic"
grep -q "Denied PUBLISH from $A" broker.log || fail "no ACL denial logged for A's publish"
ok "device A cannot publish to B's topics (also with -u $B / -u imago-cloud), nor outside its prefix"

# 2b. A subscribes to B's topics (exact, wildcard escapes, whole tree); the service writes to B
sub_start a_spy.out a "$A" "imago/v1/d/$B/#" 'imago/v1/d/+/state' 'imago/v1/#' '#' '$SYS/#' \
  "imago/v1/d/$A/#"
spy_pid=$sub_pid
pub svc imago-cloud "imago/v1/d/$B/rot/now" svc-to-b || fail "service cannot publish to B"
pub svc imago-cloud "imago/v1/d/$A/rot/now" svc-to-a || fail "service cannot publish to A"
wait_for b.out "imago/v1/d/$B/rot/now svc-to-b" 5 || fail "B did not get the service's message"
wait_for a_spy.out "imago/v1/d/$A/rot/now svc-to-a" 5 || fail "A did not get its own message"
sleep 0.2
stop "$spy_pid"
stop "$b_pid"
grep -q "svc-to-b" a_spy.out && fail "A received B's message through a subscription"
grep -q "denied $A access 4 to 'imago/v1/d/+/state'" broker.log || fail "wildcard escape not denied"
ok "device A cannot subscribe to B's topics (wildcard escapes, imago/v1/#, #, \$SYS/#)"

# 2c. birth identity listens on its resp and, in vain, on its operational prefix
sub_start abirth.out abirth "$A" "imago/v1/prov/$A/resp" "imago/v1/d/$A/#"
birth_pid=$sub_pid
pub svc imago-cloud "imago/v1/prov/$A/resp" prov-answer || fail "service cannot publish a resp"
pub svc imago-cloud "imago/v1/d/$A/rot/now" op-cmd || fail "service cannot publish to a device"
wait_for abirth.out "imago/v1/prov/$A/resp prov-answer" 5 || fail "birth identity did not get its resp"
sleep 0.2
stop "$birth_pid"
grep -q "op-cmd" abirth.out && fail "a birth certificate received an operational message"
ok "birth certificate: provisioning topics only"

# 2c'. a stolen birth certificate taking over the device's persistent session inherits its
# subscription to imago/v1/d/<id>/#, but every delivery is checked against the birth identity
sub_start a_persist.out a "$A" "imago/v1/d/$A/#" -c
stop "$sub_pid"
pub svc imago-cloud "imago/v1/d/$A/rot/now" queued-for-device || fail "service cannot publish to A"
sub_start abirth2.out abirth "$A" "imago/v1/prov/$A/resp" -c
birth_pid=$sub_pid
pub svc imago-cloud "imago/v1/d/$A/rot/now" live-for-device || fail "service cannot publish to A"
pub svc imago-cloud "imago/v1/prov/$A/resp" prov-answer2 || fail "service cannot publish a resp"
wait_for abirth2.out "prov-answer2" 5 || fail "birth identity did not get its resp"
sleep 0.2
stop "$birth_pid"
grep -q "for-device" abirth2.out && fail "a birth certificate read the device session's messages"
grep -q "denied $A access 1 to 'imago/v1/d/$A/rot/now': birth identity" broker.log ||
  fail "delivery to the inherited subscription was not denied by the plugin"
ok "stolen birth certificate taking over the device's persistent session reads nothing operational"

# 2d. a device publishing to the control topic, with the service's name as username, is ignored
sub_start b.out b "$B" "imago/v1/d/$B/#"
b_pid=$sub_pid
pub a "$A" '$CONTROL/imago/v1' "{\"op\":\"deny\",\"id\":\"$B\",\"reason\":\"revoked\"}" -u imago-cloud || true
sleep 0.3
kill -0 "$b_pid" 2>/dev/null || fail "a device's control message cut B"
stop "$b_pid"
pub b "$B" "imago/v1/d/$B/state" b-still || fail "a device's control message denied B"
ok "control topic from a device (spoofed username): ignored"

# --- 3. live cut by the control topic -----------------------------------------------------
control() { pub svc imago-cloud '$CONTROL/imago/v1' "$1" || fail "service could not publish $1"; }
sub_start a_live.out a "$A" "imago/v1/d/$A/#"
a_live=$sub_pid
before=$(grep -c "Client $A been disconnected by administrative action" broker.log || true)
t0=$(now_ms)
control "{\"op\":\"deny\",\"id\":\"$A\",\"reason\":\"suspended\"}"
for _ in $(seq 1 100); do
  [ "$(grep -c "Client $A been disconnected by administrative action" broker.log || true)" -gt "$before" ] && break
  sleep 0.02
done
grep -q "Client $A been disconnected by administrative action" broker.log || fail "A was not kicked after deny"
cut_ms=$(($(now_ms) - t0))
[ "$cut_ms" -le 1000 ] || fail "A cut after ${cut_ms} ms (limit 1000, including the service's publish)"
for _ in $(seq 1 150); do kill -0 "$a_live" 2>/dev/null || break; sleep 0.02; done
exit_note="mosquitto_sub exited after $(($(now_ms) - t0)) ms (its reconnect refused)"
kill -0 "$a_live" 2>/dev/null && exit_note="mosquitto_sub still running after 3 s (reconnecting, refused)"
pub svc imago-cloud "imago/v1/d/$A/rot/now" after-deny || true
sleep 0.3
grep -q after-deny a_live.out && fail "A still receives after deny"
stop "$a_live"
refused a "$A" || fail "a denied A reconnected"
ok "deny: A cut live in ${cut_ms} ms (service publish to kick); $exit_note; refused on reconnect"
pub b "$B" "imago/v1/d/$B/state" b-unaffected || fail "deny of A cut B"

control "{\"op\":\"allow\",\"id\":\"$A\"}"
pub a "$A" "imago/v1/d/$A/state" a-resumed || fail "A not back after allow"
ok "allow: A resumed"

# deny-serial: only that certificate
sub_start a_live2.out a "$A" "imago/v1/d/$A/#"
a_live2=$sub_pid
before=$(grep -c "Client $A been disconnected by administrative action" broker.log || true)
t0=$(now_ms)
control "{\"op\":\"deny-serial\",\"serial\":\"$(serial_of a.crt)\"}"
for _ in $(seq 1 100); do
  [ "$(grep -c "Client $A been disconnected by administrative action" broker.log || true)" -gt "$before" ] && break
  sleep 0.02
done
cut_ms=$(($(now_ms) - t0))
[ "$cut_ms" -le 1000 ] || fail "certificate a.crt not cut within 1 s (${cut_ms} ms)"
stop "$a_live2"
refused a "$A" || fail "the denied certificate reconnected"
pub a2 "$A" "imago/v1/d/$A/state" a-new-cert || fail "A's other certificate refused after deny-serial"
pub b "$B" "imago/v1/d/$B/state" b-unaffected2 || fail "deny-serial of A cut B"
ok "deny-serial: that certificate cut in ${cut_ms} ms and refused; A's other certificate and B still work"

# reload from the deny file
sub_start b_live.out b "$B" "imago/v1/d/$B/#"
b_live=$sub_pid
before=$(grep -c "Client $B been disconnected by administrative action" broker.log || true)
printf '{"v": 1, "ids": {"%s": "revoked"}, "serials": ["%s"]}\n' "$B" "$(serial_of a.crt)" >deny.json.tmp
mv deny.json.tmp deny.json
t0=$(now_ms)
control '{"op":"reload"}'
for _ in $(seq 1 100); do
  [ "$(grep -c "Client $B been disconnected by administrative action" broker.log || true)" -gt "$before" ] && break
  sleep 0.02
done
cut_ms=$(($(now_ms) - t0))
[ "$cut_ms" -le 1000 ] || fail "reload did not cut B within 1 s (${cut_ms} ms)"
stop "$b_live"
refused b "$B" || fail "B revoked in the deny file reconnected"
pub a2 "$A" "imago/v1/d/$A/state" a-after-reload || fail "reload cut A's other certificate"
ok "reload: B (revoked in the file) cut in ${cut_ms} ms and refused"

# a bad deny file keeps the previous set (fail closed)
printf '{"v": 1, "ids": {}, "serials": [], "extra": 1}\n' >deny.json
control '{"op":"reload"}'
wait_for broker.log "keeping the previous deny set" 3 || fail "bad deny file not reported"
refused b "$B" || fail "a bad deny file released B"
printf '{"v": 1, "ids": {}, "serials": []}\n' >deny.json
control '{"op":"reload"}'
sleep 0.2
pub b "$B" "imago/v1/d/$B/state" b-back || fail "B not back after the deny file cleared it"
ok "bad deny file: previous set kept; cleared file: B back"

# SIGHUP (Mosquitto's reload) re-reads the deny file too
sub_start b_hup.out b "$B" "imago/v1/d/$B/#"
b_hup=$sub_pid
before=$(grep -c "Client $B been disconnected by administrative action" broker.log || true)
printf '{"v": 1, "ids": {"%s": "suspended"}, "serials": []}\n' "$B" >deny.json
kill -HUP "$broker"
for _ in $(seq 1 100); do
  [ "$(grep -c "Client $B been disconnected by administrative action" broker.log || true)" -gt "$before" ] && break
  sleep 0.02
done
[ "$(grep -c "Client $B been disconnected by administrative action" broker.log || true)" -gt "$before" ] ||
  fail "SIGHUP did not cut B"
stop "$b_hup"
refused b "$B" || fail "B suspended in the file reconnected after SIGHUP"
printf '{"v": 1, "ids": {}, "serials": []}\n' >deny.json
kill -HUP "$broker"
sleep 0.3
pub b "$B" "imago/v1/d/$B/state" b-back2 || fail "B not back after SIGHUP with a cleared file"
ok "SIGHUP: deny file re-read, B cut and resumed"

# The service's persistent session keeps receiving what arrives while it is away
sub_start svc2.out svc imago-cloud 'imago/v1/d/+/state' -c
stop "$sub_pid"
pub a2 "$A" "imago/v1/d/$A/state" while-away || fail "A cannot publish while the service is away"
sub_start svc3.out svc imago-cloud 'imago/v1/d/+/state' -c
svc3=$sub_pid
wait_for svc3.out "imago/v1/d/$A/state while-away" 5 ||
  fail "message queued for the service's persistent session was lost"
stop "$svc3"
ok "persistent service session: queued message delivered after reconnect"
kill -0 "$broker" 2>/dev/null || fail "broker died"
kill -TERM "$broker"
brc=0
wait "$broker" || brc=$?
[ "$brc" = 0 ] || fail "broker exited with status $brc on SIGTERM (plugin cleanup)"
if ls asan.* ubsan.* >/dev/null 2>&1; then cat asan.* ubsan.* >&2 2>/dev/null; fail "sanitizer report"; fi
echo "broker_acl: all checks passed"
