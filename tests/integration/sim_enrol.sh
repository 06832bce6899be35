#!/usr/bin/env bash
# End to end: imago-cloud up (Mosquitto with imago_broker.so + the fleet service) on
# loopback ports, a simulated factory batch imported, and imago-sim enrolling every
# device by claim (birth certificate -> CSR -> cert -> reconnect), then holding the
# operational connections and publishing.  Bounded waits; everything killed in the trap.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-$B}
N=${SIM_ENROL_COUNT:-50}
export PATH=$PATH:/usr/sbin
for t in mosquitto python3; do command -v "$t" >/dev/null || { echo "sim_enrol: $t not installed" >&2; exit 1; }; done
work=$(mktemp -d)
cpid=
cleanup() {
  if [ -n "$cpid" ]; then kill "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "sim_enrol: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; tail -n 30 cloud.log >&2 2>/dev/null || true
  exit 1
}
ok() { echo "sim_enrol: ok: $*"; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
"$B/imago-sim" factory --ca ca --passphrase-file root.pass --count "$N" --out fleet >/dev/null
cloud_create data cloud.log fleet/manifest.json || fail "imago-cloud up did not start"

sim() {
  timeout 60 "$B/imago-sim" run --devices fleet --host 127.0.0.1 --port "$mport" \
    --ca ca/server-ca.crt --server-name localhost --root ca/root.crt "$@"
}
# 1. Enrolment of the whole batch.
sim --enrol --connect-rate 100 >enrol.txt 2>&1 || { cat enrol.txt; fail "enrolment run"; }
grep -q "enrolled $N " enrol.txt || { cat enrol.txt; fail "not every device enrolled"; }
ls fleet/devices/*.op.crt | wc -l | grep -qx "$N" || fail "operational certificates not stored"
for n in 1 $N; do
  openssl verify -CAfile ca/root.crt -untrusted fleet/devices/$n.chain.crt fleet/devices/$n.op.crt >/dev/null ||
    fail "device $n: certificate does not chain"
  openssl x509 -in fleet/devices/$n.op.crt -noout -subject | grep -q 'OU = device' || fail "device $n: not OU=device"
done
ok "$N devices enrolled by claim: $(grep 'enrolments/s' enrol.txt | sed 's/summary: //')"

# 2. Operational connections held with publishing; certificates from the store files.
sim --publish-rate 2 --duration 3 >hold.txt 2>&1 || { cat hold.txt; fail "hold run"; }
grep -q "peak-online $N " hold.txt || { cat hold.txt; fail "not every device online"; }
grep -q "enrolled 0 " hold.txt || { cat hold.txt; fail "devices enrolled again"; }
ok "$N devices online with operational certificates: $(grep 'published' hold.txt | sed 's/summary: //')"

# 3. Enrolling again is idempotent (same key): the cloud answers with the recorded certificate.
cp fleet/devices/1.op.crt first.crt
rm fleet/devices/1.op.crt fleet/devices/1.chain.crt
sim --enrol --count 1 >again.txt 2>&1 || { cat again.txt; fail "re-enrolment of device 1"; }
cmp -s first.crt fleet/devices/1.op.crt || fail "a second certificate was issued for device 1"
ok "re-enrolment returns the certificate already issued"

# 4. Rotation by CSR over the operational connection: new certificate, same key, reconnect.
for n in 2 3; do cp fleet/devices/$n.op.crt before-$n.crt; done
sim --rotate --count 3 >rot.txt 2>&1 || { cat rot.txt; fail "rotation run"; }
grep -q "rotated 3" rot.txt || { cat rot.txt; fail "not every device rotated"; }
for n in 2 3; do
  ! cmp -s before-$n.crt fleet/devices/$n.op.crt || fail "device $n: certificate unchanged"
  [ "$(openssl x509 -in before-$n.crt -noout -pubkey)" = "$(openssl x509 -in fleet/devices/$n.op.crt -noout -pubkey)" ] ||
    fail "device $n: rotation changed the key"
done
ok "3 devices rotated their certificates and reconnected with them"
