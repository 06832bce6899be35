#!/usr/bin/env bash
# imago-cloud killed with SIGKILL (its Mosquitto child dies with it) while imago-sim
# enrols a batch, then restarted on the same ports: every device reconnects with backoff,
# retries its enrolment, and ends online with one operational certificate.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-$B}
N=${SIM_RESTART_COUNT:-60}
export PATH=$PATH:/usr/sbin
work=$(mktemp -d)
cpid=
spid=
cleanup() {
  for p in $spid $cpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "sim_cloud_restart: FAIL: $*" >&2
  grep -v 'disconnected\.$' cloud*.log 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}
ok() { echo "sim_cloud_restart: ok: $*"; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null 2>&1
"$B/imago-sim" factory --ca ca --passphrase-file root.pass --count "$N" --out fleet >/dev/null
mport=$(free_port); hport=$(free_port); aport=$(free_port)
"$CB/imago-cloud" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
  --http-port "$hport" --api-port "$aport" --plugin "${IMAGO_PLUGIN:-$CB/imago_broker.so}" >/dev/null
"$CB/imago-cloud" import-batch --data data fleet/manifest.json >/dev/null
"$CB/imago-cloud" up --data data --passphrase-file cloud.pass >cloud1.log 2>&1 &
cpid=$!
wait_port "$mport" || fail "imago-cloud did not start"
sleep 0.5

timeout 60 "$B/imago-sim" run --devices fleet --host 127.0.0.1 --port "$mport" --ca ca/server-ca.crt \
  --server-name localhost --root ca/root.crt --enrol --connect-rate 40 >sim.txt 2>&1 &
spid=$!
sleep 0.8
kill -KILL "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=
sleep 1
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$mport) 2>/dev/null || break; sleep 0.1; done
"$CB/imago-cloud" up --data data --passphrase-file cloud.pass >cloud2.log 2>&1 &
cpid=$!
wait "$spid" || { cat sim.txt; fail "not every device enrolled across the restart"; }
spid=
grep -q "enrolled $N " sim.txt || { cat sim.txt; fail "enrolled count"; }
retries=$(sed -n 's/.*retries \([0-9]*\)$/\1/p' sim.txt | tail -n1)
[ "$retries" -gt 0 ] || { cat sim.txt; fail "the restart was not noticed"; }
# one certificate per device: the stored serials are unique and the registry agrees
n=$(for f in fleet/devices/*.op.crt; do openssl x509 -in "$f" -noout -serial; done | sort -u | wc -l)
[ "$n" = "$N" ] || fail "$n distinct certificates for $N devices"
"$CB/imago-cloud" devices list --data data >list.txt
for f in fleet/devices/1.op.crt fleet/devices/$N.op.crt; do
  s=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
  grep -qi "$s" list.txt || { head -n 5 list.txt; fail "serial of $f not in the registry"; }
done
ok "$N devices enrolled across a SIGKILL of imago-cloud ($retries reconnections): $(grep 'enrolments/s' sim.txt | sed 's/summary: //')"
