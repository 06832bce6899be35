#!/usr/bin/env bash
# Secure updates end to end (issue 6), every part real: Mosquitto + imago_broker.so + imago-cloud
# (image repository, director, rollouts, HTTPS API), three devices made by `imago factory
# provision` in SoftHSM2 tokens, each running imago-agent as a signed image under imago-boot over
# its own flash file (the agent's "reboot" execs the bootloader again; a supervisor loop stands for
# the watchdog that restarts a crashed device), a release desk signing 2 of 3 offline with
# `imago release`, and a release manager driving rollouts with `imago app`:
#   1. v1 is in the factory; the desk releases v2 (full image + a zstd delta from v1) and v3;
#   2. a staged rollout of v2 to the group: each device downloads the delta over its MQTT channel,
#      installs it into the secondary slot, reboots into a trial, passes its health check,
#      confirms and reports; the rollout completes with every device succeeded (on v2, confirmed,
#      security counter 2 stored);
#   3. a rollout of v3: the first device's health check fails, the bootloader reverts it to v2,
#      the device reports "reverted" and the rollout aborts (the others never get v3);
#   4. a device losing power (SIGKILL) at random points during download, install and swap always
#      comes back with a valid image and finishes the update or reports;
#   5. the version reports are signed: a replayed report is refused (attack_replayed_version_report);
#      rollouts are in the audit log and it verifies; no process is left.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
CB=${IMAGO_CLOUD_BIN:-$B}
export PATH=$PATH:/usr/sbin
for t in mosquitto softhsm2-util jq sqlite3 python3 openssl; do
  command -v "$t" >/dev/null || { echo "ota_e2e: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
cpid=
sups=()
cleanup() {
  local p n
  for n in 1 2 3; do touch "$work/stop.$n" 2>/dev/null || true; done
  for p in "${sups[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
  for p in "${sups[@]}"; do wait "$p" 2>/dev/null || true; done
  cloud_stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "ota_e2e: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v '^[0-9]*: ' cloud.log 2>/dev/null | tail -n 30 >&2 || true
  for n in 1 2 3; do echo "--- device $n (tail)" >&2; tail -n 15 "dev$n.err" >&2 2>/dev/null || true; done
  exit 1
}
t0=$(date +%s%3N)
ok() { echo "ota_e2e: ok: $* [$(($(date +%s%3N) - t0)) ms]"; }
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

# --- the factory, the cloud ------------------------------------------------------------------
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
for n in 1 2 3; do
  softhsm2-util --init-token --free --label "dev-$n" --pin Pin-8ad3-q7 --so-pin 87654321 >/dev/null
done
printf 'Pin-8ad3-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 3 --out batch --batch thermo-a >labels.txt
ids=($(awk '$1 == "id" {print $2}' labels.txt))
[ ${#ids[@]} = 3 ] || fail "labels: $(cat labels.txt)"
export IMAGO_OTA_TICK_MS=300
cloud_create data cloud.log batch/manifest.json || fail "imago-cloud up did not start"
wait_for 10 grep -q "event=api_listening" cloud.log || fail "the API did not start"
"$CB/imago-cloud" director root --data data --out director-root.json >/dev/null || fail "director root"
ok "factory batch of 3 (SoftHSM2), imago-cloud up with the director"

# --- the release desk: keys, root 2 of 3, images v1 v2 v3, a delta v1 -> v2 ------------------
mkdir desk imgs
"$CB/imago-cloud" repo keys --data data --out-dir desk >/dev/null
for k in r1 r2 r3 t1 t2 t3; do "$B/imago" keys gen --type ed25519 --out "$k.key" >/dev/null; done
"$B/imago" keys gen --type ed25519 --out boot.key >/dev/null
sign() { # META OUT KEY...
  local meta=$1 out=$2 k args=()
  shift 2
  for k in "$@"; do
    $R sign --key "$k.key" --in "$meta" --out "$k.$out.sig" >/dev/null
    args+=(--sig "$k.$out.sig")
  done
  $R combine --in "$meta" "${args[@]}" ${croot:+--root "$croot"} --out "$out" >/dev/null
}
$R root init --out root.json --expires 365 --consistent-snapshot \
  --root-key r1.key.pub --root-key r2.key.pub --root-key r3.key.pub --root-threshold 2 \
  --targets-key t1.key.pub --targets-key t2.key.pub --targets-key t3.key.pub --targets-threshold 2 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null
croot='' sign root.json 1.root.json r1 r3
croot=1.root.json
# v1: the plain agent; v2: the same agent with the thermostat firmware; v3: v2 rebuilt (its health
# check fails on the device: a product self-test that v3 breaks, see health.sh below)
"$B/imago" image sign --key boot.key --version 1.0.0 --security-counter 1 "$B/imago-agent" imgs/fw-1.0.0.img >/dev/null
"$B/imago" image sign --key boot.key --version 2.0.0 --security-counter 2 "$B/imago-example-thermostat" imgs/fw-2.0.0.img >/dev/null
"$B/imago" image sign --key boot.key --version 3.0.0 --security-counter 3 "$B/imago-example-thermostat" imgs/fw-3.0.0.img >/dev/null
base16=$(sha256sum imgs/fw-1.0.0.img | cut -c1-16)
delta=fw-2.0.0.img.from-$base16.zst
"$B/imago" delta make --base imgs/fw-1.0.0.img --target imgs/fw-2.0.0.img --out "imgs/$delta" >/dev/null
hw=(--hardware-id thermo-hw)
$R targets new --out t1.json --version 1 --expires 90 >/dev/null
$R targets add --in t1.json --out t1a.json --name fw-1.0.0.img --file imgs/fw-1.0.0.img "${hw[@]}" \
  --version 1.0.0 --security-counter 1 >/dev/null
$R targets add --in t1a.json --out t1b.json --name fw-2.0.0.img --file imgs/fw-2.0.0.img "${hw[@]}" \
  --version 2.0.0 --security-counter 2 >/dev/null
$R targets add --in t1b.json --out t1c.json --name "$delta" --file "imgs/$delta" "${hw[@]}" \
  --version 2.0.0 --security-counter 2 --base-sha256 "$(sha256sum imgs/fw-1.0.0.img | cut -d' ' -f1)" \
  --delta-of fw-2.0.0.img >/dev/null
$R targets add --in t1c.json --out t1d.json --name fw-3.0.0.img --file imgs/fw-3.0.0.img "${hw[@]}" \
  --version 3.0.0 --security-counter 3 >/dev/null
sign t1d.json 1.targets.json t1 t2
"$CB/imago-cloud" repo publish --data data --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >/dev/null || fail "repo publish"
ok "desk: root 2 of 3, targets 2 of 3 (v1, v2, delta v1->v2 $(stat -c %s "imgs/$delta") of $(stat -c %s imgs/fw-2.0.0.img) bytes, v3), published"

# --- the devices: v1 in the factory, the agent under imago-boot ------------------------------
cat >health.sh <<'EOF'
#!/bin/sh
# The product's health check: v3 breaks the (simulated) sensor self-test.
case "$IMAGO_BOOT_VERSION" in 3.*) echo "self-test: sensor not responding" >&2; exit 1 ;; esac
exit 0
EOF
chmod 755 health.sh
big=$(stat -c %s "$B/imago-example-thermostat")
slot=$(((big * 5 / 4 / 1048576 + 1) * 1048576))
[ $slot -ge 4194304 ] || slot=4194304
for n in 1 2 3; do
  "$B/imago-boot" flash create "dev$n.flash" --key boot.key.pub --slot-size "$slot" >/dev/null
  "$B/imago-boot" flash write-primary "dev$n.flash" imgs/fw-1.0.0.img >/dev/null
  device_conf "$n" "backoff_max = 1" "command_key = $work/data/keys/command.pub" \
    "ota_dir = $work/ota$n" "director_root = $work/director-root.json" \
    "image_root = $work/1.root.json" "hardware_id = thermo-hw" "ota_interval = 30" \
    "health_cmd = $work/health.sh" "health_timeout = 20" >"dev$n.conf"
done
# The watchdog: boot again whenever the device stops (a crash, a power cut), until told to stop.
supervise() { # n [agent args...]
  local n=$1
  shift
  while [ ! -e "stop.$n" ]; do
    "$B/imago-boot" run "dev$n.flash" -- --config "dev$n.conf" "$@" >>"dev$n.out" 2>>"dev$n.err" || true
    sleep 0.2
  done
}
for n in 1 2; do
  supervise "$n" &
  sups+=($!)
done
online() { grep -q "imago: ${ids[$1 - 1]} connected" cloud.log; }
wait_for 30 online 1 || fail "device 1 not online"
wait_for 30 online 2 || fail "device 2 not online"
ok "devices 1 and 2 boot v1 under imago-boot and enrol"

# --- the release manager ----------------------------------------------------------------------
printf 'rita-has-a-long-password\n' >rita.pw
"$CB/imago-cloud" users add --data data --user rita --password-file rita.pw >/dev/null
"$CB/imago-cloud" grants add --data data --user rita --role release_manager --group thermo-a --days 1 >/dev/null
printf 'otto-has-a-long-password\n' >otto.pw
"$CB/imago-cloud" users add --data data --user otto --password-file otto.pw >/dev/null
"$CB/imago-cloud" grants add --data data --user otto --role operator --group thermo-a --days 1 >/dev/null
export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$work/ca/root.crt IMAGO_SESSION=$work/rita.json
app() { "$B/imago" app "$@"; }
app login --user rita --password-file rita.pw >/dev/null || fail "login rita"
IMAGO_SESSION=$work/otto.json app login --user otto --password-file otto.pw >/dev/null || fail "login otto"
rc=0
IMAGO_SESSION=$work/otto.json app rollout create --target fw-2.0.0.img --group thermo-a >o.out 2>o.err || rc=$?
[ $rc != 0 ] && grep -q "IMAGO_EAUTH_DENIED\|403" o.err || fail "an operator started a rollout: $rc $(cat o.err)"
ok "an operator cannot release (release manager role needed)"

# --- 2. rollout v2 by delta, staged --------------------------------------------------------------
app rollout create --target fw-2.0.0.img --group thermo-a --stages 50,100 --max-concurrent 1 \
  --abort-percent 50 --abort-min 1 --json >r2.json || fail "rollout create"
r2=$(jq -r .id r2.json)
rstatus() { app rollout show "$1" --json | jq -r .status; }
wait_for 120 bash -c "[ \"\$($B/imago app rollout show $r2 --json | jq -r .status)\" = completed ]" ||
  fail "rollout v2 did not complete: $(app rollout show "$r2" --json)"
app rollout show "$r2" --json >r2s.json
jq -e '.counts.succeeded == 2 and .total == 2' r2s.json >/dev/null || fail "rollout v2: $(cat r2s.json)"
for n in 1 2; do
  wait_for 20 bash -c "$B/imago-boot flash status dev$n.flash --json | jq -e '.version | startswith(\"2.0.0\")' >/dev/null" ||
    fail "device $n is not on v2: $("$B/imago-boot" flash status "dev$n.flash")"
  grep -q "delta" "dev$n.err" || fail "device $n did not use the delta"
done
ok "rollout $r2 (stages 50/100, one at a time): both devices on v2 by delta, confirmed"

# --- 3. rollout v3: health check fails, revert, abort ----------------------------------------
app rollout create --target fw-3.0.0.img --group thermo-a --stages 50,100 --max-concurrent 1 \
  --abort-percent 0 --abort-min 1 --json >r3.json || fail "rollout v3"
r3=$(jq -r .id r3.json)
wait_for 120 bash -c "[ \"\$($B/imago app rollout show $r3 --json | jq -r .status)\" = aborted ]" ||
  fail "rollout v3 did not abort: $(app rollout show "$r3" --json)"
app rollout show "$r3" --json >r3s.json
jq -e '.counts.reverted == 1 and .counts.succeeded == 0 and .admitted == 1' r3s.json >/dev/null ||
  fail "rollout v3: $(cat r3s.json)"
sleep 2
for n in 1 2; do
  "$B/imago-boot" flash status "dev$n.flash" --json | jq -e '.version | startswith("2.0.0")' >/dev/null ||
    fail "device $n is not back on v2: $("$B/imago-boot" flash status "dev$n.flash")"
done
ok "rollout $r3: the first device failed its health check on v3, reverted to v2, the rollout aborted"

# --- 4. power cuts during download, install and swap -----------------------------------------
# Device 3 left the factory with a build of v1 of its own (no delta applies to it: the full image
# travels) and talks over a slow link (small blocks, one in flight).  It loses power (SIGKILL) twice
# while the image is on its way, then its boots that swap are cut at random flash operations
# (imago-boot's IMAGO_BOOT_TEST_CUT_FILE: the writes/erases after the N-th fail as after a cut).
seed=${IMAGO_TEST_SEED:-$RANDOM}
echo "ota_e2e: power-cut seed $seed"
RANDOM=$seed
"$B/imago" image sign --key boot.key --version 1.0.0+3 --security-counter 1 "$B/imago-agent" fw-1.0.0-b3.img >/dev/null
"$B/imago-boot" flash write-primary dev3.flash fw-1.0.0-b3.img >/dev/null
# about a thousand round trips for the image, whatever the build (an ASan build is 4 times larger)
blk=$(($(stat -c %s imgs/fw-2.0.0.img) / 1000 / 512 * 512))
[ $blk -ge 1024 ] || blk=1024
[ $blk -le 16384 ] || blk=16384
printf '%s\n' "ota_block = $blk" "ota_window = 1" >>dev3.conf
echo $((RANDOM % 1500 + 1)) >cut3
IMAGO_BOOT_TEST_CUT_FILE=$work/cut3 supervise 3 --verbose &
sups+=($!)
sup3=${sups[2]}
wait_for 30 online 3 || fail "device 3 not online"
app rollout create --target fw-2.0.0.img --group thermo-a --json >r4.json || fail "rollout for device 3"
r4=$(jq -r .id r4.json)
partial() { # the partial image holds more than $1 bytes
  local f
  for f in ota3/download/*; do
    case "$f" in *.progress) continue ;; esac
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt "$1" ] && return 0
  done
  return 1
}
cuts=0
for at in 300000 800000; do
  wait_for 60 partial "$at" || fail "device 3: no download in progress (cut $cuts)"
  pkill -KILL -P "$sup3" && cuts=$((cuts + 1))
done
ok "device 3: power cut twice during the download"
for i in 1 2; do # two more cuts of swapping boots, at random flash operations
  wait_for 90 bash -c '! [ -e cut3 ]' || fail "device 3: no swap cut (round $i)"
  echo $((RANDOM % 1500 + 1)) >cut3
done
wait_for 120 bash -c "[ \"\$($B/imago app rollout show $r4 --json | jq -r .status)\" = completed ]" ||
  fail "rollout after power cuts: $(app rollout show "$r4" --json)"
rm -f cut3
swapcuts=$(grep -c "simulated power cut" dev3.err || true)
[ "$swapcuts" -ge 2 ] || fail "device 3: $swapcuts swap cuts"
grep -q "resum" dev3.err || fail "device 3 did not resume its download"
"$B/imago-boot" flash status dev3.flash --json >st3.json
jq -e '(.version | startswith("2.0.0")) and .confirmed and .stored_security_counter == 2' st3.json >/dev/null ||
  fail "device 3: $(cat st3.json)"
jq -e '.devices | map(select(.state == "succeeded")) | length == 3' \
  <(app rollout show "$r4" --json) >/dev/null || fail "rollout $r4: $(app rollout show "$r4" --json)"
ok "device 3: $cuts cuts during download (resumed), $swapcuts during swaps: valid image every boot, finished on v2"

# --- 5. reports, audit ----------------------------------------------------------------------------
grep -q "event=ota_report" cloud.log || fail "no report logged"
"$CB/imago-cloud" audit verify --data data >/dev/null || fail "audit chain"
"$CB/imago-cloud" audit show --data data --json >audit.json 2>/dev/null || "$CB/imago-cloud" audit show --data data >audit.json
for a in rollout.create rollout.complete rollout.abort; do
  grep -q "$a" audit.json || fail "audit has no $a"
done
ok "rollouts in the audit log; the chain verifies"
! grep -q "Pin-8ad3-q7\|cloud secret\|rita-has" cloud.log dev*.err || fail "a secret in a log"
for n in 1 2 3; do touch "stop.$n"; done
for p in "${sups[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
for p in "${sups[@]}"; do wait "$p" 2>/dev/null || true; done
sups=()
cloud_stop || fail "imago-cloud did not stop cleanly"
ok "clean stops"
