#!/usr/bin/env bash
# The second OTA transport (issue 6): image repository files over HTTPS range requests to
# imago-cloud's public repository API, the director's files over the device's MQTT channel.
# Every part real: Mosquitto + imago_broker.so + imago-cloud, one SoftHSM2 device running
# imago-agent under imago-boot with ota_https_url/ota_https_ca, a desk signing with `imago release`.
# Checks: after `imago-cloud director assign` the device ends on v2 confirmed; the cloud's ota_blk
# log shows the director's files for the device and no image/ object (the image came over HTTPS);
# a power cut (SIGKILL) during the HTTPS download, when it can be caught, is survived.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
CB=${IMAGO_CLOUD_BIN:-$B}
export PATH=$PATH:/usr/sbin
for t in mosquitto softhsm2-util jq python3 openssl; do
  command -v "$t" >/dev/null || { echo "ota_https: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
cpid=
sup=
cleanup() {
  touch "$work/stop.1" 2>/dev/null || true
  if [ -n "$sup" ]; then
    pkill -TERM -P "$sup" 2>/dev/null || true
    wait "$sup" 2>/dev/null || true
  fi
  cloud_stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "ota_https: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v 'event=ota_blk' cloud.log 2>/dev/null | tail -n 30 >&2 || true
  echo "--- device (tail)" >&2; tail -n 30 dev1.err >&2 2>/dev/null || true
  exit 1
}
t0=$(date +%s%3N)
ok() { echo "ota_https: ok: $* [$(($(date +%s%3N) - t0)) ms]"; }
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
R="$B/imago release"

# --- the factory, the cloud (log_level = debug: every ota_blk request is logged) ---------------
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin Pin-8ad3-q7 --so-pin 87654321 >/dev/null
printf 'Pin-8ad3-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch thermo-a >labels.txt
id=$(awk '$1 == "id" {print $2}' labels.txt)
[ -n "$id" ] || fail "labels: $(cat labels.txt)"
export IMAGO_OTA_TICK_MS=300
cloud_create data cloud.log batch/manifest.json || fail "imago-cloud up did not start"
cloud_stop || fail "imago-cloud did not stop"
sed -i 's/^log_level = .*/log_level = debug/' data/imago-cloud.conf
grep -q '^log_level = debug$' data/imago-cloud.conf || fail "no log_level in the cloud's config"
cloud_start data cloud.log || fail "imago-cloud up did not start again"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$aport" || fail "the API did not start again"
wait_for 10 grep -q "event=api_listening" cloud.log || fail "the API did not start"
"$CB/imago-cloud" director root --data data --out director-root.json >/dev/null || fail "director root"

# --- the desk: root, targets v1 v2 (full images), published --------------------------------------
mkdir desk imgs
"$CB/imago-cloud" repo keys --data data --out-dir desk >/dev/null
for k in r1 t1 boot; do "$B/imago" keys gen --type ed25519 --out "$k.key" >/dev/null; done
$R root init --out root.json --expires 365 --consistent-snapshot --root-key r1.key.pub \
  --root-threshold 1 --targets-key t1.key.pub --targets-threshold 1 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null
$R sign --key r1.key --in root.json --out r1.sig >/dev/null
$R combine --in root.json --sig r1.sig --out 1.root.json >/dev/null
"$B/imago" image sign --key boot.key --version 1.0.0 --security-counter 1 "$B/imago-agent" imgs/fw-1.0.0.img >/dev/null
"$B/imago" image sign --key boot.key --version 2.0.0 --security-counter 2 "$B/imago-example-thermostat" imgs/fw-2.0.0.img >/dev/null
hw=(--hardware-id thermo-hw)
$R targets new --out t.json --version 1 --expires 90 >/dev/null
$R targets add --in t.json --out ta.json --name fw-1.0.0.img --file imgs/fw-1.0.0.img "${hw[@]}" \
  --version 1.0.0 --security-counter 1 >/dev/null
$R targets add --in ta.json --out tb.json --name fw-2.0.0.img --file imgs/fw-2.0.0.img "${hw[@]}" \
  --version 2.0.0 --security-counter 2 >/dev/null
$R sign --key t1.key --in tb.json --out t1.sig >/dev/null
$R combine --in tb.json --sig t1.sig --root 1.root.json --out 1.targets.json >/dev/null
"$CB/imago-cloud" repo publish --data data --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >/dev/null || fail "repo publish"
ok "cloud up, desk published v1 and v2 ($(stat -c %s imgs/fw-2.0.0.img) bytes)"

# --- the device: v1, the agent under imago-boot, image repository over HTTPS -------------------
big=$(stat -c %s "$B/imago-example-thermostat")
slot=$(((big * 5 / 4 / 1048576 + 1) * 1048576))
[ $slot -ge 4194304 ] || slot=4194304
"$B/imago-boot" flash create dev1.flash --key boot.key.pub --slot-size "$slot" >/dev/null
"$B/imago-boot" flash write-primary dev1.flash imgs/fw-1.0.0.img >/dev/null
device_conf 1 "backoff_max = 1" "command_key = $work/data/keys/command.pub" \
  "ota_dir = $work/ota1" "director_root = $work/director-root.json" \
  "image_root = $work/1.root.json" "hardware_id = thermo-hw" "ota_interval = 1" \
  "ota_https_url = https://127.0.0.1:$aport/v1/repo/" "ota_https_ca = $work/ca/root.crt" >dev1.conf
supervise() { # the watchdog: boot again whenever the device stops, until told to stop
  while [ ! -e stop.1 ]; do
    "$B/imago-boot" run dev1.flash -- --config dev1.conf --verbose >>dev1.out 2>>dev1.err || true
    sleep 0.2
  done
}
supervise &
sup=$!
wait_for 30 grep -q "imago: $id connected" cloud.log || fail "device not online"
ok "device boots v1 under imago-boot and enrols"

# --- assign v2; cut the power once while the image comes over HTTPS ----------------------------
"$CB/imago-cloud" director assign --data data --passphrase-file cloud.pass --device "$id" \
  --target fw-2.0.0.img >/dev/null || fail "director assign"
partial() { # a partial download with a durable progress record
  local f
  for f in ota1/download/*.progress; do [ -f "$f" ] && return 0; done
  return 1
}
cut=no
n=600
while [ $n -gt 0 ]; do
  if partial; then
    pkill -KILL -P "$sup" && cut=yes
    break
  fi
  "$B/imago-boot" flash status dev1.flash --json 2>/dev/null | jq -e '.version | startswith("2.0.0")' >/dev/null && break
  sleep 0.02
  n=$((n - 1))
done
v2() { "$B/imago-boot" flash status dev1.flash --json | jq -e '(.version | startswith("2.0.0")) and .confirmed' >/dev/null; }
wait_for 25 v2 || fail "device is not on v2 confirmed: $("$B/imago-boot" flash status dev1.flash)"
ok "device on v2, confirmed (power cut during the HTTPS download: $cut)"

# --- what went over which transport ---------------------------------------------------------------
grep -q "ota_blk.*device=$id.*object=director/" cloud.log || fail "no director file over the block transfer"
! grep -q "ota_blk.*device=$id.*object=image/" cloud.log || fail "an image repository file over the block transfer: $(grep "ota_blk.*object=image/" cloud.log | head -3)"
grep -q "image repository over https://127.0.0.1:$aport/v1/repo/" dev1.err || fail "the agent did not use the HTTPS transport"
if [ "$cut" = yes ]; then
  grep -q "resum" dev1.err && ok "the download resumed after the cut" || ok "the cut came before the first durable range ended"
fi
ok "director files over MQTT, image repository metadata and targets over HTTPS"
! grep -q "Pin-8ad3-q7\|cloud secret" cloud.log dev1.err || fail "a secret in a log"
touch stop.1
pkill -TERM -P "$sup" 2>/dev/null || true
wait "$sup" 2>/dev/null || true
sup=
cloud_stop || fail "imago-cloud did not stop cleanly"
ok "clean stops"
