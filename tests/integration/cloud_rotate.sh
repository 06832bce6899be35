#!/usr/bin/env bash
# Operator-commanded rotation and live suspension, end to end (imago-cloud up, loopback):
#   - device A: imago-agent daemon, key in a SoftHSM2 token (`imago factory provision`);
#     device B: imago-agent daemon in development mode with a file key (imago-sim factory),
#     so that a client can present B's old certificate with B's key.
#   - `imago-cloud devices rotate A` while A is online: rotate-now, new serial recorded, the
#     old one retired and in the deny file; A stayed up (rotated and reconnected, no
#     re-enrolment).
#   - `devices rotate B` while B is offline: the request waits in the registry (across a
#     service restart); B rotates when it comes back; its old certificate is then refused.
#   - `devices suspend A` cuts the live agent and refuses it; `devices resume A` lets the
#     agent back in by itself (reconnect with backoff).
# Bounded waits; the trap kills everything this script started.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-$B}
PLUGIN=${IMAGO_PLUGIN:-$CB/imago_broker.so}
export PATH=$PATH:/usr/sbin
for t in mosquitto mosquitto_sub python3 softhsm2-util sqlite3 openssl; do
  command -v "$t" >/dev/null || { echo "cloud_rotate: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
cpid= apid= bpid=
cleanup() {
  local p
  for p in $apid $bpid $cpid; do kill "$p" 2>/dev/null || true; done
  for p in $apid $bpid $cpid; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
t0=$(date +%s%3N)
fail() {
  echo "cloud_rotate: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v 'disconnected\.$' cloud.log 2>/dev/null | tail -n 25 >&2 || true
  echo "--- agent A (tail)" >&2; tail -n 15 a.err >&2 2>/dev/null || true
  echo "--- agent B (tail)" >&2; tail -n 15 b.err >&2 2>/dev/null || true
  exit 1
}
ok() { echo "cloud_rotate: ok: $* [$(( $(date +%s%3N) - t0 )) ms]"; }
# until SECONDS CMD...: retry CMD every 0.1 s for at most SECONDS
until_ok() {
  local n=$(($1 * 10)); shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }
more_than() { [ "$(count "$1" "$2")" -gt "$3" ]; }
q() { sqlite3 data/registry.db "$1"; }
serial() { q "SELECT cert_serial FROM devices WHERE id='$1'"; }
changed() { local s; s=$(serial "$1") && [ -n "$s" ] && [ "$s" != "$2" ]; }
in_deny() { grep -q "\"$1\"" data/broker/deny.json; }
alive() { kill -0 "$1" 2>/dev/null; }

# --- CA, devices, data directory --------------------------------------------------------------
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
# one SoftHSM2 token directory per device (two processes enumerating one file-backed token
# directory while one of them creates objects see "Failed to enumerate slots" now and then)
mkdir tokens tokens-b
for d in "" -b; do
  printf 'directories.tokendir = %s/tokens%s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" "$d" >softhsm2$d.conf
done
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin 4321 --so-pin 87654321 >/dev/null
SOFTHSM2_CONF=$work/softhsm2-b.conf softhsm2-util --init-token --free --label devmode --pin 4321 --so-pin 87654321 >/dev/null
printf '4321\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch rot-a >labels.txt
A=$(awk '$1 == "id" {print $2}' labels.txt)
"$B/imago-sim" factory --ca ca --passphrase-file root.pass --count 1 --out devfleet --batch rot-b >/dev/null
BID=$(openssl x509 -in devfleet/devices/1.crt -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
[ ${#A} = 32 ] && [ ${#BID} = 32 ] || fail "device ids ($A, $BID)"

logged_since() { tail -n +"$1" cloud.log | grep -q -- "$2"; } # LINE PATTERN
cloud_create data cloud.log batch/manifest.json devfleet/manifest.json || fail "imago-cloud up did not start"

conf() { device_conf 1 "keepalive = 30" "backoff_max = 2" "$@"; } # extra lines
conf >a.conf
conf "mode = development" "key_file = $work/devfleet/devices/1.key" \
  "birth_cert = $work/devfleet/devices/1.crt" >b.conf
sed -i "s|^token = .*|token = pkcs11:token=devmode|; s|^store = .*|store = $work/b.store|" b.conf

# --- both agents enrol by claim and stay online ------------------------------------------------
"$B/imago-agent" --config a.conf --verbose >a.out 2>a.err &
apid=$!
SOFTHSM2_CONF=$work/softhsm2-b.conf "$B/imago-agent" --config b.conf --verbose >b.out 2>b.err &
bpid=$!
until_ok 30 grep -q "enrolled; reconnecting" a.err || fail "A did not enrol"
until_ok 30 grep -q "enrolled; reconnecting" b.err || fail "B did not enrol"
until_ok 10 more_than a.err "online$" 0 || fail "A not online with its operational certificate"
until_ok 10 more_than b.err "online$" 0 || fail "B not online with its operational certificate"
ok "agents A (token key) and B (file key) enrolled and online"

# --- B goes offline; its old certificate is kept for the refusal check -------------------------
kill -TERM "$bpid"; wait "$bpid" 2>/dev/null || true; bpid=
"$CB/imago-cloud" devices show --data data --json "$BID" |
  python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["certificate"])' >b.old.crt
b_old=$(serial "$BID")
a_old=$(serial "$A")
[ -n "$a_old" ] && [ -n "$b_old" ] || fail "no serials in the registry"

# --- rotate A, online ----------------------------------------------------------------------------
a_online=$(count a.err "online$")
"$CB/imago-cloud" devices rotate --data data "$A" >rot.out || fail "devices rotate A: $(cat rot.out)"
grep -q "notified" rot.out || fail "service not notified: $(cat rot.out)"
until_ok 15 changed "$A" "$a_old" || fail "A's new certificate not recorded within 15 s"
until_ok 10 in_deny "$a_old" || fail "A's old serial not in the deny file"
[ "$(q "SELECT revoked FROM certs WHERE serial='$a_old'")" = 1 ] || fail "A's old certificate not retired"
[ "$(q "SELECT rotate_requested FROM devices WHERE id='$A'")" = 0 ] || fail "A's request not cleared"
until_ok 10 more_than a.err "online$" "$a_online" || fail "A not back online after rotating"
grep -q "rotate-now from the cloud" a.err || fail "A's log shows no rotate-now"
grep -q "rotated; reconnecting with the new certificate" a.err || fail "A's log shows no rotation"
[ "$(count a.err "enrolled; reconnecting")" = 1 ] || fail "A enrolled again"
alive "$apid" || fail "agent A exited"
grep -q "event=rotate_now id=$A .*trigger=sighup publish=ok" cloud.log || fail "no rotate-now logged"
ok "rotate A online: new serial $(serial "$A"), old $a_old retired and denied, agent reconnected"

# --- rotate B, offline; the request survives a service restart ------------------------------------
"$CB/imago-cloud" devices rotate --data data "$BID" >rotb.out || fail "devices rotate B: $(cat rotb.out)"
[ "$(q "SELECT rotate_requested FROM devices WHERE id='$BID'") " != "0 " ] || fail "B's request not recorded"
cloud_stop || fail "imago-cloud exit status $? on SIGTERM"
[ "$(serial "$BID")" = "$b_old" ] || fail "B's certificate changed while it was offline"
cloud_start data cloud.log || fail "imago-cloud did not restart"
SOFTHSM2_CONF=$work/softhsm2-b.conf "$B/imago-agent" --config b.conf --verbose >b2.out 2>b2.err &
bpid=$!
until_ok 20 changed "$BID" "$b_old" || fail "B did not rotate when it came back"
until_ok 10 in_deny "$b_old" || fail "B's old serial not in the deny file"
grep -q "rotate-now from the cloud" b2.err || fail "B's log shows no rotate-now"
! grep -q "enrolled; reconnecting" b2.err || fail "B enrolled again"
[ "$(q "SELECT rotate_requested FROM devices WHERE id='$BID'")" = 0 ] || fail "B's request not cleared"
ok "rotate B offline: request kept across a restart, B rotated when it came back ($b_old -> $(serial "$BID"))"

# the old certificate of B with B's key: refused by the broker at CONNECT
sleep 0.3
rc=0
cat ca/root.crt ca/server-ca.crt >trust.crt
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$mport" --cafile trust.crt --cert b.old.crt \
  --key devfleet/devices/1.key -i "$BID" -q 1 -t "imago/v1/d/$BID/rot/now" -C 1 -W 3 \
  >old.sub 2>old.err || rc=$?
[ $rc != 0 ] || fail "the old certificate of B still connects"
grep -qi "not authori[sz]ed" old.err || fail "old certificate not refused by the broker: $(cat old.err)"
alive "$bpid" || fail "agent B exited"
ok "B's old certificate refused by the broker ($(head -n 1 old.err))"

# --- suspend A live, then resume -----------------------------------------------------------------
a_refused=$(count a.err "broker refused the connection")
a_online=$(count a.err "online$")
"$CB/imago-cloud" devices suspend --data data --reason "rotation test" "$A" >sus.out ||
  fail "devices suspend A: $(cat sus.out)"
until_ok 10 more_than a.err "broker refused the connection" "$a_refused" ||
  fail "A not cut and refused after suspension"
[ "$(count a.err "online$")" = "$a_online" ] || fail "A came back online while suspended"
ok "suspend A: live session cut, reconnection refused"
refused() { # WHAT ID ERROR: devices rotate ID fails with ERROR and records nothing
  local rc=0
  "$CB/imago-cloud" devices rotate --data data "$2" >refused.out 2>refused.err || rc=$?
  [ $rc = 1 ] || fail "rotate of $1 device: exit $rc"
  grep -q "$3" refused.err || fail "rotate of $1 device: $(cat refused.err)"
  [ "$(q "SELECT count(*) FROM devices WHERE rotate_requested <> 0")" = 0 ] ||
    fail "rotate of $1 device recorded a request"
}
refused suspended "$A" IMAGO_EREG_STATE
refused unknown 00000000000000000000000000000000 IMAGO_EREG_UNKNOWN
ok "rotate refused for a suspended device (IMAGO_EREG_STATE) and an unknown one (IMAGO_EREG_UNKNOWN)"
"$CB/imago-cloud" devices resume --data data "$A" >res.out || fail "devices resume A: $(cat res.out)"
until_ok 15 more_than a.err "online$" "$a_online" || fail "A not online again within 15 s of resume"
alive "$apid" || fail "agent A exited"
[ "$(count a.err "enrolled; reconnecting")" = 1 ] || fail "A enrolled again"
ok "resume A: the agent reconnected by itself"

# --- revoke B (live): cut, and rotation refused --------------------------------------------------
"$CB/imago-cloud" devices revoke --data data --reason "rotation test" "$BID" >rev.out ||
  fail "devices revoke B: $(cat rev.out)"
until_ok 10 grep -q "broker refused the connection" b2.err || fail "B not cut and refused after revocation"
refused revoked "$BID" IMAGO_EREG_STATE
kill -TERM "$bpid"; wait "$bpid" 2>/dev/null || true; bpid=
ok "revoke B: cut; rotate refused for a revoked device (IMAGO_EREG_STATE)"

# --- clean stop ----------------------------------------------------------------------------------
kill -TERM "$apid"; wait "$apid" || fail "agent A exit code $?"
apid= bpid=
cloud_stop || fail "imago-cloud exit status $? on SIGTERM"
! grep -q "Sanitizer\|runtime error" cloud.log a.err b.err b2.err || fail "sanitizer report in a log"
[ ! -e data/imago-cloud.pid ] || fail "pid file left"
ok "agents and service stopped"
