#!/usr/bin/env bash
# The connected-product flow end to end (issue 5, docs/design-issue5.md "The flow"), every part
# real: Mosquitto + imago_broker.so + imago-cloud (service and HTTPS API), a device made by
# `imago factory provision` in a SoftHSM2 token running imago-example-thermostat (the agent
# library with a firmware's state fields and command), and `imago app` playing the phone:
#   1. the user signs up, logs in and gets a registration token;
#   2. the unconfigured device serves only its setup portal; the app configures it with the
#      label's setup code, pinned to the label's fingerprint; the portal closes;
#   3. the device enrols, forwards the token on its channel, the cloud binds it to the user;
#      a second user sees nothing of it (404 through the app); a second device configured
#      with the same token is refused (attack_replayed_registration_token), then with an
#      expired one (attack_expired_registration_token), and after a factory reset is bound
#      to the second user with a fresh token;
#   4. the device's reported state is visible; a desired-state change reaches the device and
#      comes back reported; a stale version is refused;
#   5. a signed command runs on the device and its result comes back to the app;
#   6. decommission: the device wipes its store and reopens its portal; it is revoked in the
#      registry and in the deny file, unbound, gone from the user's devices;
#   7. the audit log records it all and verifies; no secret in any log; clean stops.
# Bounded waits; the trap stops every process this script started.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
CB=${IMAGO_CLOUD_BIN:-$B}
DEV=${IMAGO_E2E_DEVICE:-$B/imago-example-thermostat}
export PATH=$PATH:/usr/sbin
for t in mosquitto softhsm2-util curl jq sqlite3 python3 openssl ss; do
  command -v "$t" >/dev/null || { echo "onboarding_e2e: $t not installed" >&2; exit 1; }
done
[ -x "$DEV" ] || { echo "onboarding_e2e: $DEV not built" >&2; exit 1; }
work=$(mktemp -d)
cpid=
apid=
cleanup() {
  local p
  for p in $apid $cpid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $apid $cpid; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "onboarding_e2e: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v '^[0-9]*: ' cloud.log 2>/dev/null | tail -n 25 >&2 || true
  echo "--- device log (tail)" >&2; tail -n 25 dev.err >&2 2>/dev/null || true
  exit 1
}
t0=$(date +%s%3N)
ok() { echo "onboarding_e2e: ok: $* [$(($(date +%s%3N) - t0)) ms]"; }
wait_for() { # seconds command...: poll until the command succeeds
  local n=$(($1 * 10))
  shift
  while [ $n -gt 0 ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.1
    n=$((n - 1))
  done
  return 1
}
listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

# --- the factory, the cloud ------------------------------------------------------------------
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
for n in 1 2; do
  softhsm2-util --init-token --free --label "dev-$n" --pin Pin-4321-q7 --so-pin 87654321 >/dev/null
done
printf 'Pin-4321-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 2 --out batch --batch thermo-a >labels.txt
label() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' labels.txt | sed -n "${3}p"; }
id=$(label id 2 1)
code=$(label setup 3 1)
fpr=$(label birth 4 1)
id2=$(label id 2 2)
code2=$(label setup 3 2)
fpr2=$(label birth 4 2)
[ ${#id} = 32 ] && [ -n "$code" ] && [ ${#fpr} = 64 ] || fail "label not as expected: $(cat labels.txt)"
[ ${#id2} = 32 ] && [ "$id2" != "$id" ] && [ ${#fpr2} = 64 ] || fail "second label: $(cat labels.txt)"
cloud_create data cloud.log batch/manifest.json || fail "imago-cloud up did not start"
wait_for 10 grep -q "event=api_listening" cloud.log || fail "the API did not start"
ok "factory batch (SoftHSM2 token), imago-cloud up: MQTT $mport, API $aport"

# --- 1. the user: account, log-in, registration token ----------------------------------------
export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$work/ca/root.crt IMAGO_SESSION=$work/alice.json
app() { "$B/imago" app "$@"; }
printf 'alice-has-a-long-password\n' >alice.pw
printf 'mallory-has-a-long-password\n' >mallory.pw
printf 'home wifi passphrase\n' >wifi.pw
app signup --user alice --password-file alice.pw >/dev/null || fail "signup alice"
app login --user alice --password-file alice.pw >/dev/null || fail "login alice"
app token --ttl 600 --out regtoken.txt >/dev/null || fail "registration token"
IMAGO_SESSION=$work/mallory.json app signup --user mallory --password-file mallory.pw >/dev/null
IMAGO_SESSION=$work/mallory.json app login --user mallory --password-file mallory.pw >/dev/null
ok "alice: signup, login, registration token (mallory: another account)"

# --- 2. the device: setup portal only, configured by the app ---------------------------------
dev_conf() { # n portal-port
  device_conf "$1" "backoff_max = 1" "portal_host = 127.0.0.1" "portal_port = $2" \
    "command_key = $work/data/keys/command.pub"
}
pport=$(free_port)
dev_conf 1 "$pport" >dev.conf
"$DEV" --config dev.conf --verbose >dev.out 2>dev.err &
apid=$!
wait_for 20 grep -q "setup portal on" dev.err || fail "no setup portal"
listening "$pport" || fail "portal not listening"
grep -q "imago: $id connected" cloud.log && fail "the unconfigured device connected to the broker"
app configure --portal "127.0.0.1:$pport" --fingerprint "$fpr" --setup-code "$code" --ssid home \
  --passphrase-file wifi.pw --token-file regtoken.txt >configure.out 2>configure.err ||
  { cat configure.err >&2; fail "configure through the portal"; }
grep -q "$id" configure.out || fail "configure output: $(cat configure.out)"
wait_for 10 bash -c "! ss -Hltn 'sport = :$pport' | grep -q LISTEN" || fail "the portal stayed open"
ok "portal pinned by the label, configured with the setup code; portal closed"

# --- 3. registration: the cloud binds the device to alice ------------------------------------
wait_for 30 grep -q "registration answered" dev.err || fail "no registration answer"
grep -q "registration answered: ok" dev.err || fail "registration: $(grep 'registration answered' dev.err)"
app devices --json >devices.json || fail "devices"
jq -e --arg id "$id" '.devices | map(select(.id == $id and .owner == true)) | length == 1' \
  devices.json >/dev/null || fail "alice's devices: $(cat devices.json)"
app device "$id" --json | jq -e '.state == "enrolled" and .group == "thermo-a"' >/dev/null ||
  fail "device: $(app device "$id" --json)"
IMAGO_SESSION=$work/mallory.json app devices --json | jq -e '.devices == []' >/dev/null ||
  fail "mallory sees a device"
rc=0
IMAGO_SESSION=$work/mallory.json app state "$id" >m.out 2>m.err || rc=$?
[ $rc = 1 ] && grep -q IMAGO_ENOTFOUND m.err || fail "mallory read the state: $rc $(cat m.err)"
rc=0
IMAGO_SESSION=$work/mallory.json app command "$id" set_target '{"value":5}' >m.out 2>m.err || rc=$?
[ $rc = 1 ] && grep -q IMAGO_ENOTFOUND m.err || fail "mallory sent a command: $rc $(cat m.err)"
ok "device enrolled, registered with the token, bound to alice; mallory gets 404"

# attack_replayed_registration_token: the same token through a second device's portal; the
# cloud claims each token once, so the second device is not bound to anyone.
pport2=$(free_port)
dev_conf 2 "$pport2" >dev2.conf
"$DEV" --config dev2.conf --verbose >dev2.out 2>dev2.err &
apid2=$!
apid="$apid $apid2"
configure2() { # token-file: prints the registration answer
  local before
  before=$(grep -c "registration answered" dev2.err || true)
  wait_for 20 listening "$pport2" || fail "device 2: no portal"
  app configure --portal "127.0.0.1:$pport2" --fingerprint "$fpr2" --setup-code "$code2" \
    --ssid home --token-file "$1" >/dev/null 2>configure2.err ||
    { cat configure2.err >&2; fail "configure device 2"; }
  wait_for 30 answered2 "$before" || fail "device 2: no registration answer"
  grep 'registration answered' dev2.err | tail -n 1 | sed 's/.*registration answered: //'
}
answered2() { [ "$(grep -c 'registration answered' dev2.err)" -gt "$1" ]; }
reset2() { # factory reset (the physical button): the portal opens again
  kill -USR1 "$apid2"
  wait_for 20 listening "$pport2" || fail "device 2: portal not reopened after the reset"
}
[ "$(configure2 regtoken.txt)" = IMAGO_EEXIST ] || fail "replayed token: $(grep 'registration answered' dev2.err)"
app devices --json | jq -e '.devices | length == 1' >/dev/null || fail "the replay bound a device to alice"
ok "attack_replayed_registration_token: a second device with the same token is refused (IMAGO_EEXIST)"

# attack_expired_registration_token: a token past its expiry is refused.
reset2
app token --ttl 1 --out expired.txt >/dev/null || fail "token --ttl 1"
sleep 2
[ "$(configure2 expired.txt)" = IMAGO_ECMD_TOKEN_EXPIRED ] ||
  fail "expired token: $(grep 'registration answered' dev2.err)"
ok "attack_expired_registration_token: refused (IMAGO_ECMD_TOKEN_EXPIRED)"

# After a factory reset, mallory's fresh token binds device 2 to mallory, not to alice.
reset2
IMAGO_SESSION=$work/mallory.json app token --out mallory-token.txt >/dev/null || fail "mallory's token"
[ "$(configure2 mallory-token.txt)" = ok ] || fail "mallory's registration: $(grep 'registration answered' dev2.err)"
IMAGO_SESSION=$work/mallory.json app devices --json |
  jq -e --arg id "$id2" '.devices | map(.id) == [$id]' >/dev/null || fail "mallory's devices"
app devices --json | jq -e --arg id "$id" '.devices | map(.id) == [$id]' >/dev/null ||
  fail "alice's devices: $(app devices --json)"
rc=0
app state "$id2" >x.out 2>x.err || rc=$?
[ $rc = 1 ] && grep -q IMAGO_ENOTFOUND x.err || fail "alice read mallory's device: $rc $(cat x.err)"
kill -TERM "$apid2"
rc=0
wait "$apid2" || rc=$?
apid=${apid% *}
[ $rc = 0 ] || fail "device 2 exit status $rc after SIGTERM"
ok "device 2 reset and bound to mallory with her token; alice gets 404 on it"

# --- 4. state: reported, desired, delta ------------------------------------------------------
reported() { app state "$id" --json >state.json && jq -e "$1" state.json >/dev/null; }
wait_for 20 reported '.reported.mode == "heat" and (.reported.target == 20) and (.reported.temperature | type) == "number"' ||
  fail "reported state: $(cat state.json)"
dv=$(jq -r .desired_version state.json)
app set-state "$id" --version "$dv" '{"target":25}' >/dev/null || fail "set-state"
# jq compares numbers by value: the device reports 25.0 for the 25 the app set (the state
# module's delta is type-strict, so it may still list target: 25 as a difference)
wait_for 20 reported '.reported.target == 25 and .desired.target == 25 and
  (.reported as $r | .delta | to_entries | all(.value == $r[.key]))' ||
  fail "desired target 25 never reported: $(cat state.json)"
rc=0
app set-state "$id" --version "$dv" '{"target":21}' >stale.out 2>stale.err || rc=$?
[ $rc = 1 ] && grep -q IMAGO_ESTATE_VERSION stale.err || fail "stale desired version: $rc $(cat stale.err)"
ok "reported state visible; desired target 25 reached the device and came back; stale version refused"

# The desired document wins over other changes (a device shadow): drop target from it
# before a command changes the target.
app set-state "$id" --version "$((dv + 1))" '{"target":null}' >/dev/null || fail "set-state null"
wait_for 10 reported '(.desired | has("target") | not) and (.delta | length) == 0' ||
  fail "desired target not removed: $(cat state.json)"

# --- 5. a signed command, there and back ------------------------------------------------------
app command "$id" set_target '{"value":22}' --wait-ms 10000 --json >cmd.json ||
  fail "command: $(cat cmd.json)"
jq -e '.status == "ok" and .result.target == 22' cmd.json >/dev/null || fail "command result: $(cat cmd.json)"
wait_for 20 reported '.reported.target == 22' || fail "command effect not reported: $(cat state.json)"
rc=0
app command "$id" no_such_command --wait-ms 10000 --json >cmd2.json 2>cmd2.err || rc=$?
jq -e '.status != "ok"' cmd2.json >/dev/null || fail "an unknown command: $rc $(cat cmd2.json cmd2.err)"
ok "command set_target: signed, run on the device, result back ($(jq -c .result cmd.json)); unknown command not ok"

# --- 6. decommission ------------------------------------------------------------------------
app decommission "$id" --json >decom.json || fail "decommission: $(cat decom.json)"
jq -e '.wiped == true' decom.json >/dev/null || fail "decommission: $(cat decom.json)"
wait_for 20 grep -q "wipe command: factory reset" dev.err || fail "the device did not wipe"
wait_for 20 listening "$pport" || fail "the portal did not reopen after the wipe"
[ "$(grep -c 'setup portal on' dev.err)" -ge 2 ] || fail "no second portal line"
"$CB/imago-cloud" devices show --data data --json "$id" | jq -e '.state == "revoked"' >/dev/null ||
  fail "registry: $("$CB/imago-cloud" devices show --data data "$id")"
jq -e --arg id "$id" '.ids[$id] == "revoked"' data/broker/deny.json >/dev/null ||
  fail "deny file: $(cat data/broker/deny.json)"
app devices --json | jq -e '.devices == []' >/dev/null || fail "alice still has the device"
rc=0
app state "$id" >x.out 2>x.err || rc=$?
[ $rc = 1 ] && grep -q IMAGO_ENOTFOUND x.err || fail "state after decommission: $rc $(cat x.err)"
ok "decommission: the device wiped and reopened its portal; revoked, denied, unbound"

# --- 7. audit, secrets, stops ----------------------------------------------------------------
actions=$(sqlite3 data/audit.db 'SELECT action FROM audit_log' | sort -u | tr '\n' ' ')
for a in user.create auth.login regtoken.issue device.register device.state.desired device.command \
  device.decommission; do
  grep -qw -- "$a" <<<"$actions" || fail "audit log lacks $a (has: $actions)"
done
"$CB/imago-cloud" audit verify --data data >verify.out 2>&1 || fail "audit verify: $(cat verify.out)"
for s in "$code" "$(cat regtoken.txt)" "home wifi passphrase" alice-has-a-long-password Pin-4321-q7; do
  for f in cloud.log dev.out dev.err dev2.out dev2.err configure.out; do
    grep -qF -- "$s" "$f" && fail "a secret is in $f"
  done
done
kill -TERM "$apid"
rc=0
wait "$apid" || rc=$?
apid=
[ $rc = 0 ] || fail "device exit status $rc after SIGTERM"
cloud_stop || fail "imago-cloud did not stop cleanly"
grep -q "event=stopped result=ok" cloud.log || fail "no clean stop in the cloud log"
ok "audit log ($actions); no secret in the logs; device and cloud stopped cleanly"
