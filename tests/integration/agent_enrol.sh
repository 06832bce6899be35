#!/usr/bin/env bash
# imago-agent end to end: a device provisioned by `imago factory provision` into a
# SoftHSM2 token (identity key in the token, birth certificate in the encrypted store)
# enrols with imago-cloud (Mosquitto + plugin + service, loopback) over TLS with the
# token key, stores its operational certificate in the store, and reconnects with it;
# a second start uses the stored certificate; a file key in production mode is refused;
# a broker certificate from another CA is refused; SIGTERM stops the daemon cleanly.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-$B}
export PATH=$PATH:/usr/sbin
for t in mosquitto python3 softhsm2-util; do command -v "$t" >/dev/null || { echo "agent_enrol: $t not installed" >&2; exit 1; }; done
work=$(mktemp -d)
cpid=
apid=
cleanup() {
  for p in $apid $cpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "agent_enrol: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v 'disconnected\.$' cloud.log 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}
ok() { echo "agent_enrol: ok: $*"; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin Pin-4321-q7 --so-pin 87654321 >/dev/null
printf 'Pin-4321-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch agent-a >labels.txt
id=$(awk '$1 == "id" {print $2}' labels.txt)

cloud_create data cloud.log batch/manifest.json || fail "imago-cloud up did not start"

conf() { device_conf 1 "keepalive = 30" "$@"; } # extra lines
conf >agent.conf

# 1. First start: enrol with the birth certificate (token key), store, reconnect.
timeout 60 "$B/imago-agent" --config agent.conf --once --verbose >run1.out 2>run1.err ||
  { cat run1.out run1.err; fail "first start"; }
grep -q "birth certificate: enrolling" run1.err || { cat run1.err; fail "did not enrol"; }
grep -q "online as $id" run1.out || { cat run1.out; fail "not online"; }
grep -q "enrolled; reconnecting" run1.err || { cat run1.err; fail "no reconnection with the new certificate"; }
grep -q "imago: $id connected as device" cloud.log || fail "broker never saw the operational identity"
! grep -qi 'Pin-4321-q7' run1.err run1.out || fail "the PIN appears in the agent's output"
ok "enrolled by claim with the token key; reconnected as device (broker log)"

# 2. Second start: the operational certificate comes from the store; no enrolment.
timeout 60 "$B/imago-agent" --config agent.conf --once --verbose >run2.out 2>run2.err ||
  { cat run2.out run2.err; fail "second start"; }
grep -q "operational certificate" run2.err || { cat run2.err; fail "did not use the stored certificate"; }
! grep -q "enrolled; reconnecting" run2.err || fail "enrolled again"
ok "restart uses the stored operational certificate"

# 3. The daemon holds the connection and stops cleanly on SIGTERM.
"$B/imago-agent" --config agent.conf --verbose >run3.out 2>run3.err &
apid=$!
for _ in $(seq 50); do grep -q "online" run3.err && break; sleep 0.1; done
grep -q "online" run3.err || { cat run3.err; fail "daemon not online"; }
kill -TERM "$apid"
rc=0; wait "$apid" || rc=$?
apid=
[ $rc = 0 ] || { cat run3.err; fail "SIGTERM exit code $rc"; }
ok "daemon online, SIGTERM exits 0"

# 4. A file key in production mode is refused, with the reason.
"$B/imago" keys gen --type p256 --out file.key >/dev/null
conf "key_file = $work/file.key" >prod-file.conf
if "$B/imago-agent" --config prod-file.conf --once >run4.out 2>run4.err; then fail "file key accepted in production"; fi
grep -q "secure element" run4.err || { cat run4.err; fail "no reason given"; }
ok "file key refused in production mode"

# 5. Pinned server CA: a CA that is not the broker's is refused; the agent gives up.
"$B/imago" ca init --dir other --passphrase-file root.pass >/dev/null 2>&1
conf >other.conf
sed -i "s|^ca = .*|ca = $work/other/server-ca.crt|" other.conf
if timeout 60 "$B/imago-agent" --config other.conf --once >run5.out 2>run5.err; then fail "foreign server CA accepted"; fi
grep -q "server certificate of 127.0.0.1:$mport refused: unable to get local issuer certificate" run5.err || { cat run5.err; fail "no TLS refusal reported"; }
ok "broker not under the pinned CA refused"

# 6. Development mode: a file-key device from imago-sim factory (birth certificate from a
#    file); the agent creates its store in a SoftHSM2 token, enrols, and stores the result.
softhsm2-util --init-token --free --label devmode --pin Pin-4321-q7 --so-pin 87654321 >/dev/null
"$B/imago-sim" factory --ca ca --passphrase-file root.pass --count 1 --out devfleet --batch dev-b >/dev/null
"$CB/imago-cloud" import-batch --data data devfleet/manifest.json >/dev/null
conf "mode = development" "key_file = $work/devfleet/devices/1.key" \
  "birth_cert = $work/devfleet/devices/1.crt" >dev.conf
sed -i "s|^token = .*|token = pkcs11:token=devmode|; s|^store = .*|store = $work/dev.store|" dev.conf
timeout 60 "$B/imago-agent" --config dev.conf --once --verbose >run6.out 2>run6.err ||
  { cat run6.out run6.err; fail "development-mode enrolment"; }
grep -q "creating the secret store" run6.err || { cat run6.err; fail "store not created"; }
grep -q "enrolled; reconnecting" run6.err || { cat run6.err; fail "did not enrol"; }
timeout 60 "$B/imago-agent" --config dev.conf --once >run7.out 2>run7.err ||
  { cat run7.out run7.err; fail "development-mode restart"; }
grep -q "operational certificate" run7.err || { cat run7.err; fail "stored certificate not used"; }
ok "development mode: file key, store created, enrolled, certificate reused"
