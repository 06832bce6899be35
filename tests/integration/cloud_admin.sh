#!/usr/bin/env bash
# imago-cloud's administrative side, run as an operator would: init from a CA made by
# `imago ca init`, import-batch of a batch made by `imago factory provision` (SoftHSM2
# tokens), devices list/show/suspend/resume/revoke with the deny file and the SIGHUP
# checked.  Enrolment is the service's job: here it is simulated in the registry.
set -euo pipefail
IMAGO=${IMAGO_BIN:?}/imago
CLOUD=${IMAGO_BIN:?}/imago-cloud
work=$(mktemp -d)
fake_pid=
broker_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "cloud_admin: FAIL: $*" >&2; exit 1; }
expect_err() { # name, command...: must fail (exit 1) with that IMAGO_E name on stderr
  local want=$1 rc=0; shift
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" = 1 ] || { cat err.txt >&2; fail "$*: exit $rc; expected 1 with $want"; }
  grep -q "^imago-cloud: .*($want)\$" err.txt || grep -q "^imago: .*($want)\$" err.txt ||
    { cat err.txt >&2; fail "$*: expected $want"; }
}
expect_usage() { # command...: must exit 2
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" = 2 ] || { cat err.txt >&2; fail "$*: exit $rc; expected usage error 2"; }
}
mode() { stat -c %a "$1"; }
deny() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d, sort_keys=True))' data/broker/deny.json; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
printf 'wrong\n' >wrong.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null

# --- init -------------------------------------------------------------------------------
expect_usage "$CLOUD" init --data data
expect_usage "$CLOUD" init --data data --ca ca --mqtt-port 0
expect_usage "$CLOUD" init --data data --ca ca --api-port 65536
expect_usage "$CLOUD" init --data data --ca ca --bogus
expect_err IMAGO_EKEY_PASSPHRASE env -u IMAGO_KEY_PASSPHRASE "$CLOUD" init --data data --ca ca
expect_err IMAGO_EKEY_PASSPHRASE "$CLOUD" init --data data --ca ca --cloud-passphrase-file wrong.pass
[ ! -e data ] || fail "a failed init left the data directory behind"
ls -d data.init-* 2>/dev/null && fail "a failed init left its temporary directory behind"
expect_err IMAGO_ENOTFOUND "$CLOUD" init --data data --ca nowhere --cloud-passphrase-file cloud.pass
expect_err IMAGO_ECONF_VALUE "$CLOUD" init --data data --ca ca --cloud-passphrase-file cloud.pass \
  --plugin 'relative/plugin.so'
mkdir exists
expect_err IMAGO_EEXIST "$CLOUD" init --data exists --ca ca --cloud-passphrase-file cloud.pass
"$CLOUD" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port 18883 \
  --http-port 18884 --plugin "${IMAGO_PLUGIN:-$IMAGO_BIN/imago_broker.so}" >/dev/null
expect_err IMAGO_EEXIST "$CLOUD" init --data data --ca ca --cloud-passphrase-file cloud.pass

[ "$(mode data)" = 700 ] || fail "data dir is $(mode data)"
for d in ca service broker api keys; do [ "$(mode data/$d)" = 700 ] || fail "data/$d is $(mode data/$d)"; done
for f in imago-cloud.conf registry.db ca/issuing.key ca/server-ca.key service/service.key \
  broker/server.key broker/mosquitto.conf broker/deny.json; do
  [ "$(mode data/$f)" = 600 ] || fail "data/$f is $(mode data/$f), not 600"
done
[ ! -e data/ca/root.key ] && [ ! -e data/ca/factory.key ] || fail "root or factory key copied"
for f in app.db audit.db api/api.key keys/command.key keys/regtoken.key; do
  [ "$(mode data/$f)" = 600 ] || fail "data/$f is $(mode data/$f), not 600"
done
for f in api/api.crt keys/command.pub; do
  [ "$(mode data/$f)" = 644 ] || fail "data/$f is $(mode data/$f), not 644"
done
for k in ca/issuing.key ca/server-ca.key service/service.key api/api.key keys/command.key \
  keys/regtoken.key; do
  grep -q 'BEGIN ENCRYPTED PRIVATE[ ]KEY' data/$k || fail "$k is not encrypted"
done
grep -q 'BEGIN PRIVATE[ ]KEY' data/broker/server.key || fail "broker key should be plain PEM"
for c in root factory issuing server-ca; do cmp -s ca/$c.crt data/ca/$c.crt || fail "$c.crt differs"; done
openssl verify -CAfile ca/root.crt -untrusted ca/server-ca.crt data/broker/server.crt >/dev/null
openssl x509 -in data/broker/server.crt -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
  fail "broker certificate lacks 127.0.0.1"
openssl x509 -in data/broker/server.crt -noout -ext subjectAltName | grep -q 'DNS:localhost' ||
  fail "broker certificate lacks localhost"
[ "$(grep -c 'BEGIN CERTIFICATE' data/broker/server.crt)" = 2 ] || fail "server.crt is not leaf + server CA"
[ "$(grep -c 'BEGIN CERTIFICATE' data/broker/ca-bundle.crt)" = 4 ] || fail "ca-bundle is not four CAs"
# the app API: a server certificate from the server CA with the same names, chain included
openssl verify -CAfile ca/root.crt -untrusted ca/server-ca.crt data/api/api.crt >/dev/null ||
  fail "API certificate does not chain to the server CA"
openssl x509 -in data/api/api.crt -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
  fail "API certificate lacks 127.0.0.1"
[ "$(grep -c 'BEGIN CERTIFICATE' data/api/api.crt)" = 2 ] || fail "api.crt is not leaf + server CA"
openssl pkey -in data/keys/command.key -passin file:cloud.pass -noout -text | grep -q ED25519 ||
  fail "command key is not an Ed25519 key opened by the cloud passphrase"
openssl pkey -pubin -in data/keys/command.pub -noout || fail "command.pub is not a public key"
openssl pkey -in data/keys/regtoken.key -passin file:cloud.pass -noout -text | grep -q 'P-256' ||
  fail "registration-token key is not a P-256 key opened by the cloud passphrase"
grep -qx "api_port = 8443" data/imago-cloud.conf || fail "config api_port default"
grep -qx "api_host = 127.0.0.1" data/imago-cloud.conf || fail "config api_host not loopback"
[ "$(sqlite3 data/audit.db 'SELECT count(*) FROM sqlite_master')" -gt 0 ] || fail "audit.db empty"
[ "$(sqlite3 data/app.db 'SELECT count(*) FROM sqlite_master')" -gt 0 ] || fail "app.db empty"
openssl verify -CAfile ca/root.crt -untrusted ca/server-ca.crt data/service/service.crt >/dev/null
openssl x509 -in data/service/service.crt -noout -subject | grep -q 'CN *= *imago-cloud' ||
  fail "service certificate CN"
openssl pkey -in data/service/service.key -passin file:cloud.pass -noout ||
  fail "service key does not open with the cloud passphrase"
conf=data/broker/mosquitto.conf
abs=$(cd data && pwd)
for line in "listener 18883 127.0.0.1" "cafile $abs/broker/ca-bundle.crt" \
  "certfile $abs/broker/server.crt" "keyfile $abs/broker/server.key" "require_certificate true" \
  "use_identity_as_username false" "allow_anonymous false" "tls_version tlsv1.2" \
  "persistence true" "persistence_location $abs/broker/" "plugin ${IMAGO_PLUGIN:-$IMAGO_BIN/imago_broker.so}" \
  "plugin_opt_factory_ca $abs/ca/factory.crt" "plugin_opt_issuing_ca $abs/ca/issuing.crt" \
  "plugin_opt_server_ca $abs/ca/server-ca.crt" "plugin_opt_deny_file $abs/broker/deny.json" \
  "plugin_opt_service_cn imago-cloud" "user $(id -un)"; do
  grep -qxF "$line" $conf || fail "mosquitto.conf lacks '$line'"
done
grep -qx "data_dir = $abs" data/imago-cloud.conf || fail "config data_dir"
grep -qx "mqtt_port = 18883" data/imago-cloud.conf || fail "config mqtt_port"
grep -qx "http_host = 127.0.0.1" data/imago-cloud.conf || fail "config http_host not loopback"
[ "$(deny)" = '{"ids": {}, "serials": [], "v": 1}' ] || fail "initial deny file: $(deny)"
[ "$(sqlite3 data/registry.db 'PRAGMA journal_mode')" = wal ] || fail "registry not in WAL mode"
[ "$(sqlite3 data/registry.db 'SELECT max(version) FROM schema_migrations')" = 2 ] || fail "schema (2: rotation requests)"

# The generated broker config loads and serves the broker certificate (the plugin lines are
# left out here: the plugin is tested with the service), and a client without a certificate
# is refused.  Port: a free ephemeral one, retried on a collision.
for attempt in 1 2 3; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed -e '/^plugin/d' -e "s/^listener 18883 /listener $port /" $conf >broker.conf
  mosquitto -c broker.conf >broker.log 2>&1 &
  broker_pid=$!
  for _ in $(seq 50); do
    grep -q 'running' broker.log && break
    kill -0 $broker_pid 2>/dev/null || break
    sleep 0.1
  done
  kill -0 $broker_pid 2>/dev/null && grep -q running broker.log && break
  broker_pid=
done
[ -n "$broker_pid" ] || { cat broker.log >&2; fail "mosquitto refused the generated config"; }
echo | timeout 5 openssl s_client -connect 127.0.0.1:$port -CAfile ca/root.crt -verify_return_error \
  -servername localhost >tls.txt 2>&1 || true
grep -q 'Verify return code: 0 (ok)' tls.txt || { cat tls.txt >&2; fail "broker certificate not verified"; }
if timeout 5 mosquitto_pub -h 127.0.0.1 -p $port --cafile ca/root.crt -t t -m x -q 1 >pub.txt 2>&1; then
  fail "client without certificate accepted"
fi
kill $broker_pid; wait $broker_pid 2>/dev/null || true; broker_pid=

# --- a factory batch --------------------------------------------------------------------
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
for n in 1 2 3; do
  softhsm2-util --init-token --free --label "line1-$n" --pin 4321 --so-pin 87654321 >/dev/null
done
"$IMAGO" factory provision --ca ca --passphrase-file root.pass \
  --token 'pkcs11:token=line1-{n}?pin-value=4321' --count 2 --out batch --batch line1-a >labels.txt
mapfile -t ids < <(awk '$1 == "id" {print $2}' labels.txt)
[ "${#ids[@]}" = 2 ] || fail "expected two devices"
A=${ids[0]} B=${ids[1]}

# --- import-batch -----------------------------------------------------------------------
expect_usage "$CLOUD" import-batch --data data
cp batch/manifest.json bad.json
cp batch/manifest.json.sig bad.json.sig
sed -i 's/line1-a/line1-b/' bad.json
expect_err IMAGO_EMANIFEST_SIG "$CLOUD" import-batch --data data bad.json
cp batch/manifest.json nosig.json
expect_err IMAGO_ENOTFOUND "$CLOUD" import-batch --data data nosig.json
"$IMAGO" ca init --dir other --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
"$CLOUD" init --data otherdata --ca other --cloud-passphrase-file cloud.pass >/dev/null
expect_err IMAGO_EMANIFEST_SIG "$CLOUD" import-batch --data otherdata batch/manifest.json
[ "$(sqlite3 data/registry.db 'SELECT count(*) FROM devices')" = 0 ] || fail "refused batch imported"

"$CLOUD" import-batch --data data batch/manifest.json >out.txt
grep -q 'batch line1-a: 2 devices, 2 imported, 0 already present' out.txt || { cat out.txt; fail "import"; }
"$CLOUD" import-batch --data data batch/manifest.json >out.txt
grep -q 'batch line1-a: 2 devices, 0 imported, 2 already present' out.txt || { cat out.txt; fail "re-import"; }
# The same device in another batch (signed by the factory CA itself) is refused as a whole.
sed 's/"line1-a"/"line1-z"/' batch/manifest.json >moved.json
openssl dgst -sha256 -sign ca/factory.key -passin file:root.pass -out moved.json.sig moved.json
expect_err IMAGO_EEXIST "$CLOUD" import-batch --data data moved.json
grep -q "device $A\|device $B" err.txt || fail "conflict does not name the device"
[ "$(sqlite3 data/registry.db "SELECT count(*) FROM devices WHERE batch = 'line1-a'")" = 2 ] ||
  fail "devices moved to another batch"

# --- list / show ------------------------------------------------------------------------
"$CLOUD" devices list --data data >out.txt
[ "$(grep -c ' imported ' out.txt)" = 2 ] || { cat out.txt; fail "list"; }
"$CLOUD" devices list --data data --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 2 and all(x["state"] == "imported" and x["batch"] == "line1-a" for x in d), d'
"$CLOUD" devices show --data data "$A" | grep -q '^state: *imported$' || fail "show"
"$CLOUD" devices show --data data --json "$A" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["id"] == sys.argv[1] and d["certificate"] is None and d["key_hash"] is None, d' "$A"
expect_err IMAGO_EREG_UNKNOWN "$CLOUD" devices show --data data 00000000000000000000000000000000
expect_err IMAGO_EINVAL "$CLOUD" devices show --data data "not-an-id"
expect_usage "$CLOUD" devices show --data data
expect_usage "$CLOUD" devices frobnicate --data data

# --- state changes ----------------------------------------------------------------------
expect_usage "$CLOUD" devices suspend --data data "$A"
expect_usage "$CLOUD" devices suspend --data data --reason "" "$A"
expect_usage "$CLOUD" devices suspend --data data --reason "$(head -c 128 /dev/zero | tr '\0' r)" "$A"
expect_err IMAGO_EINVAL "$CLOUD" devices suspend --data data --reason "$(printf 'a\tb')" "$A"
expect_err IMAGO_EREG_STATE "$CLOUD" devices suspend --data data --reason "not yet" "$A"
# The service enrols A (simulated here: the registry rows it would write).
sqlite3 data/registry.db "INSERT INTO certs(serial, device_id, kind, key_hash, pem, not_after, issued_at)
  VALUES ('0a1b', '$A', 2, zeroblob(32), '-----BEGIN CERTIFICATE-----', 0, 0);
  UPDATE devices SET state = 2, key_hash = zeroblob(32), cert_serial = '0a1b', enrolled_at = 1 WHERE id = '$A';"

"$CLOUD" devices suspend --data data --reason "lost in transit" "$A" >out.txt
grep -q "device $A suspended; deny file updated; no running imago-cloud" out.txt || { cat out.txt; fail "suspend"; }
[ "$(deny)" = "{\"ids\": {\"$A\": \"suspended\"}, \"serials\": [], \"v\": 1}" ] || fail "deny after suspend: $(deny)"
[ "$(mode data/broker/deny.json)" = 600 ] || fail "deny file mode"
"$CLOUD" devices show --data data "$A" | grep -q '^reason: *lost in transit$' || fail "reason not shown"
"$CLOUD" devices show --data data "$A" | grep -q '^enrolled at: *1970-01-01T00:00:01Z$' || fail "enrolled at"
expect_err IMAGO_EREG_STATE "$CLOUD" devices suspend --data data --reason again "$A"

# A running imago-cloud is told (SIGHUP); a pid file naming another program is not.
mkdir fakebin
cp "$(command -v sleep)" fakebin/imago-cloud
fakebin/imago-cloud 30 &
fake_pid=$!
for _ in $(seq 100); do [ "$(cat /proc/$fake_pid/comm)" = imago-cloud ] && break; sleep 0.05; done
echo "$fake_pid" >data/imago-cloud.pid
"$CLOUD" devices resume --data data "$A" >out.txt
grep -q "device $A resumed; deny file updated; imago-cloud (pid $fake_pid) notified" out.txt ||
  { cat out.txt; fail "resume did not notify"; }
rc=0; wait "$fake_pid" || rc=$?
[ "$rc" = $((128 + 1)) ] || fail "fake service got no SIGHUP (status $rc)"
fake_pid=
[ "$(deny)" = '{"ids": {}, "serials": [], "v": 1}' ] || fail "deny after resume: $(deny)"
expect_err IMAGO_EREG_STATE "$CLOUD" devices resume --data data "$A"
sleep 30 &
fake_pid=$!
for _ in $(seq 100); do [ "$(cat /proc/$fake_pid/comm)" = sleep ] && break; sleep 0.05; done
echo "$fake_pid" >data/imago-cloud.pid
"$CLOUD" devices suspend --data data --reason audit "$A" >out.txt
grep -q "no running imago-cloud" out.txt || { cat out.txt; fail "signalled a process that is not imago-cloud"; }
kill -0 "$fake_pid" || fail "signalled another program"
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=
echo 999999999 >data/imago-cloud.pid
"$CLOUD" devices resume --data data "$A" | grep -q "no running imago-cloud" || fail "stale pid"
rm data/imago-cloud.pid

# Revoked is final.
"$CLOUD" devices revoke --data data --reason "stolen" "$A" >/dev/null
"$CLOUD" devices revoke --data data --reason "never shipped" "$B" >/dev/null
want=$(python3 -c 'import json,sys; print(json.dumps({"v": 1, "ids": {sys.argv[1]: "revoked", sys.argv[2]: "revoked"}, "serials": []}, sort_keys=True))' "$A" "$B")
[ "$(deny)" = "$want" ] ||
  fail "deny after revoke: $(deny)"
expect_err IMAGO_EREG_STATE "$CLOUD" devices resume --data data "$A"
expect_err IMAGO_EREG_STATE "$CLOUD" devices suspend --data data --reason x "$A"
expect_err IMAGO_EREG_STATE "$CLOUD" devices revoke --data data --reason x "$A"
"$CLOUD" import-batch --data data batch/manifest.json >/dev/null
"$CLOUD" devices show --data data "$A" | grep -q '^state: *revoked$' || fail "re-import revived a revoked device"
[ "$(sqlite3 data/registry.db "SELECT revoked FROM certs WHERE serial = '0a1b'")" = 1 ] ||
  fail "revoked device's certificate not marked revoked"

# --- the config file is strict and bound to its directory --------------------------------
cp data/imago-cloud.conf conf.bak
echo 'bogus = 1' >>data/imago-cloud.conf
n=$(wc -l <data/imago-cloud.conf)
expect_err IMAGO_ECONF_KEY "$CLOUD" devices list --data data
grep -q "imago-cloud.conf:$n: config: unknown key" err.txt || { cat err.txt; fail "config error names no line"; }
cp conf.bak data/imago-cloud.conf
sed -i 's/^cert_days = 90$/cert_days = 9999/' data/imago-cloud.conf
expect_err IMAGO_ECONF_VALUE "$CLOUD" devices list --data data
cp conf.bak data/imago-cloud.conf
cp -a data copy
expect_err IMAGO_ECONF_VALUE "$CLOUD" devices list --data copy
expect_err IMAGO_ENOTFOUND "$CLOUD" devices list --data nowhere
# A lost registry is not silently recreated empty (its deny file would let revoked devices in).
mv data/registry.db registry.bak
expect_err IMAGO_ENOTFOUND "$CLOUD" devices revoke --data data --reason x "$B"
grep -q 'registry: not found' err.txt || fail "missing registry not named"
[ ! -e data/registry.db ] || fail "registry recreated"
grep -q '"revoked"' data/broker/deny.json || fail "deny file emptied without a registry"
mv registry.bak data/registry.db
"$CLOUD" devices list --data data >/dev/null
echo "cloud_admin: ok"
