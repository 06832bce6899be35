#!/usr/bin/env bash
# make demo: imago's main job so far, end to end on embedded defaults.
#   keys -> signed payload -> verified boot -> trial update reverted when not
#   confirmed -> kept when confirmed -> downgrade refused -> tampered image refused
#   -> fleet PKI -> factory -> imago-cloud -> enrolment -> live revocation
#   -> a user onboards a device through its setup portal -> state -> signed command
#   -> decommission -> audit log -> a release signed 2 of 3 offline, published, verified by
#   the TUF client -> a delta update -> a staged rollout of a new firmware by delta over the
#   devices' MQTT channel (imago-boot, trial boot, health check, confirm) -> a bad release
#   reverted by the bootloader and its rollout aborted.
# Runs in demo-out/ (recreated each time); leaves no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
B=$(cd "$build" && pwd)
IMAGO=$B/imago
BOOT=$B/imago-boot
CLOUD=$B/imago-cloud
AGENT=$B/imago-agent
export PATH=$PATH:/usr/sbin
PAYLOAD=$(find "$B" -name imago-demo-payload -type f -perm -u+x | head -n 1)
out=$PWD/demo-out
pids=()
cleanup() {
  touch "$out/stop-1" "$out/stop-2" 2>/dev/null || true # the devices' watchdog loops (step 20)
  pkill -TERM -f -- "--config ota-[12].conf" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$out"
mkdir -p "$out"
cd "$out"

step=0
results=()
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
record() { results+=("$(printf '%-76s %s' "$1" "$2")"); }
expect_fail() { # description, command...
  local what=$1; shift
  printf '$ %s\n' "$*"
  if "$@"; then echo "demo: expected a refusal: $what" >&2; exit 1; fi
}
boot() { # expected version, extra env...
  local want=$1; shift
  local log
  # The payload's exit status is its health: an unhealthy trial exits non-zero on purpose.
  log=$(env "$@" "$BOOT" run flash.bin 2>&1) || true
  echo "$log" | sed 's/^/  | /'
  echo "$log" | grep -q "running version $want" || { echo "demo: expected version $want" >&2; exit 1; }
}

say "1. Offline: generate the boot signing key (Ed25519) and a second, P-256 key"
run "$IMAGO" keys gen --type ed25519 --out boot.key
run "$IMAGO" keys gen --type p256 --out other.key
ls -l boot.key boot.key.pub | sed 's/^/  /'

say "2. Sign the payload (a host program standing for firmware) as version 1.0.0, security counter 1"
run "$IMAGO" image sign --key boot.key --version 1.0.0+1 --security-counter 1 "$PAYLOAD" app-1.0.0.img
run "$IMAGO" image inspect app-1.0.0.img
run "$IMAGO" image verify --key boot.key.pub app-1.0.0.img
record "signed image verifies" "ok"

say "3. Factory: create the flash (boot key built in) and program version 1.0.0"
run "$BOOT" flash create flash.bin --key boot.key.pub
run "$BOOT" flash write-primary flash.bin app-1.0.0.img
boot 1.0.0
record "first boot runs 1.0.0 after verification" "ok"

say "4. Update to 1.1.0 as a trial; the new version's health check fails, so it never confirms"
run "$IMAGO" image sign --key boot.key --version 1.1.0+2 --security-counter 2 "$PAYLOAD" app-1.1.0.img
run "$BOOT" flash write-update flash.bin app-1.1.0.img
run "$BOOT" flash request flash.bin --test
boot 1.1.0 IMAGO_DEMO_HEALTHY=0
echo "  (device reboots without having confirmed 1.1.0)"
boot 1.0.0
record "unconfirmed trial of 1.1.0 reverted to 1.0.0" "ok"

say "5. Try 1.1.0 again; this time it is healthy and confirms itself"
run "$BOOT" flash write-update flash.bin app-1.1.0.img
run "$BOOT" flash request flash.bin --test
boot 1.1.0
boot 1.1.0
run "$BOOT" flash status flash.bin
record "confirmed trial of 1.1.0 kept across reboots" "ok"

say "6. Downgrade attempt: a correctly signed 1.0.5 with security counter 1 (< stored 2)"
run "$IMAGO" image sign --key boot.key --version 1.0.5+3 --security-counter 1 "$PAYLOAD" app-1.0.5.img
run "$BOOT" flash write-update flash.bin app-1.0.5.img
expect_fail "rollback" "$BOOT" flash request flash.bin --permanent
boot 1.1.0
record "rollback to security counter 1 refused" "ok"

say "7. Forged and tampered updates"
run "$IMAGO" image sign --key other.key --version 2.0.0 --security-counter 3 "$PAYLOAD" app-forged.img
expect_fail "unknown key" "$IMAGO" image verify --key boot.key.pub app-forged.img
expect_fail "unknown key" "$BOOT" flash write-update flash.bin app-forged.img
cp app-1.1.0.img app-tampered.img
printf '\x00' | dd of=app-tampered.img bs=1 seek=200 conv=notrunc status=none
expect_fail "hash mismatch" "$IMAGO" image verify --key boot.key.pub app-tampered.img
boot 1.1.0
record "image signed by another key refused" "ok"
record "tampered image refused (hash mismatch)" "ok"
echo "  An attacker with raw flash access bypasses the tools and writes the forged image"
echo "  over the primary slot of a copy of the device's flash:"
cp flash.bin flash-attacked.bin
run "$BOOT" flash write-primary flash-attacked.bin app-forged.img --no-verify
rc=0
"$BOOT" run flash-attacked.bin 2>&1 | sed 's/^/  | /' || rc=${PIPESTATUS[0]}
[ "$rc" = 3 ] || { echo "demo: expected recovery (exit 3), got $rc" >&2; exit 1; }
record "forged image written to flash: bootloader stays in recovery" "ok"

say "8. Fleet PKI: offline root CA with factory, issuing and server CAs (keys encrypted)"
printf 'demo root passphrase\n' >root.pass
printf 'demo cloud passphrase\n' >cloud.pass
run "$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass --org "Demo Devices"
record "CA hierarchy created, keys encrypted at rest" "ok"

say "9. Factory: four devices, each with its own secure element (SoftHSM2 tokens)"
mkdir -p tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$out" >softhsm2.conf
export SOFTHSM2_CONF=$out/softhsm2.conf
for n in 1 2 3 4; do
  softhsm2-util --init-token --free --label "demo-$n" --pin 2468 --so-pin 13579111 >/dev/null
  echo "  token demo-$n initialised (stands for device $n's secure element)"
done
run "$IMAGO" factory provision --ca ca --passphrase-file root.pass \
  --token 'pkcs11:token=demo-{n}?pin-value=2468' --count 4 --out batch --batch demo-line-1 | tee labels.txt
run "$IMAGO" factory check --ca-certs ca batch/manifest.json
run openssl verify -CAfile ca/root.crt -untrusted ca/factory.crt batch/devices/{1,2,3,4}.crt
for code in $(awk '$1 == "setup" {print $3}' labels.txt); do
  if grep -rqa -- "$code" batch tokens; then echo "demo: setup code found in plain text" >&2; exit 1; fi
done
echo "  setup codes: on the labels only (the devices keep a salted scrypt hash inside their encrypted store)"
record "4 devices provisioned: keys in tokens, birth certs, labels" "ok"
record "batch manifest signed by the factory CA and verified" "ok"

say "10. Fleet service: imago-cloud with Mosquitto and imago's broker plugin, on loopback"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mport=$(free_port)
hport=$(free_port)
aport=$(free_port)
run "$CLOUD" init --data cloud --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
  --http-port "$hport" --api-port "$aport" --plugin "$B/imago_broker.so"
run "$CLOUD" import-batch --data cloud batch/manifest.json
echo "$ $CLOUD up --data cloud --passphrase-file cloud.pass &"
"$CLOUD" up --data cloud --passphrase-file cloud.pass >cloud.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$mport") 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat cloud.log; echo "demo: imago-cloud did not start" >&2; exit 1; }
  sleep 0.1
done
sleep 0.5
for _ in $(seq 100); do grep -q "event=api_listening" cloud.log && break; sleep 0.1; done
grep -q "event=api_listening" cloud.log || { cat cloud.log; echo "demo: the API did not start" >&2; exit 1; }
echo "  broker on 127.0.0.1:$mport (mutual TLS), broker-hook HTTP on 127.0.0.1:$hport, HTTPS API on 127.0.0.1:$aport"
record "imago-cloud up: registry, issuing CA, broker with plugin" "ok"

say "11. The factory devices enrol by claim: birth certificate -> CSR signed in the token -> operational certificate"
printf '2468\n' >pin
agent_conf() { # device number
  printf '%s\n' "token = pkcs11:token=demo-$1" "pin_file = $out/pin" "store = $out/batch/devices/$1.store" \
    "host = 127.0.0.1" "port = $mport" "ca = $out/cloud/ca/server-ca.crt" "root_ca = $out/ca/root.crt" \
    "server_name = localhost"
}
for n in 1 2 3; do # device 4 is onboarded by its user in step 13
  agent_conf "$n" >agent-$n.conf
  echo "$ $AGENT --config agent-$n.conf --once"
  timeout 60 "$AGENT" --config agent-$n.conf --once 2>&1 | sed 's/^/  | /'
done
run "$CLOUD" devices list --data cloud
[ "$("$CLOUD" devices list --data cloud | grep -c enrolled)" = 3 ] || { echo "demo: not all enrolled" >&2; exit 1; }
record "3 devices enrolled; operational certs stored in their secret stores" "ok"

say "12. Revocation cuts a live session: device 3 is online, then revoked"
"$AGENT" --config agent-3.conf --verbose >agent-3.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q online agent-3.log && break; sleep 0.1; done
grep -q online agent-3.log || { cat agent-3.log; echo "demo: device 3 not online" >&2; exit 1; }
id3=$(awk '$1 == "id" {print $2}' labels.txt | sed -n 3p)
echo "  device 3 ($id3) is online"
run "$CLOUD" devices revoke --data cloud --reason "demo: reported stolen" "$id3"
sleep 2
grep -iE "disconnect|refused|lost" agent-3.log | head -n 3 | sed 's/^/  | /'
if timeout 20 "$AGENT" --config agent-3.conf --once --timeout 5 >/dev/null 2>&1; then
  echo "demo: a revoked device came back" >&2; exit 1
fi
echo "  device 3 reconnecting: refused by the broker"
run "$CLOUD" devices show --data cloud "$id3"
record "revoked device cut off live and refused on reconnect" "ok"

say "13. A user onboards device 4: account, registration token, setup portal pinned by the label"
THERMO=$B/imago-example-thermostat
export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$out/ca/root.crt IMAGO_SESSION=$out/alice.session
printf 'alice-demo-password-2026\n' >alice.pw
printf 'home wifi passphrase\n' >wifi.pw
run "$IMAGO" app signup --user alice --password-file alice.pw
run "$IMAGO" app login --user alice --password-file alice.pw
echo "$ $IMAGO app token --out regtoken.txt"
"$IMAGO" app token --out regtoken.txt >/dev/null
echo "  registration token: a JWE only the cloud can read ($(wc -c <regtoken.txt) bytes, written 0600)"
id4=$(awk '$1 == "id" {print $2}' labels.txt | sed -n 4p)
code4=$(awk '$1 == "setup" {print $3}' labels.txt | sed -n 4p)
fpr4=$(awk '$1 == "birth" {print $4}' labels.txt | sed -n 4p)
pport=$(free_port)
{ agent_conf 4; printf '%s\n' "backoff_max = 1" "portal_host = 127.0.0.1" "portal_port = $pport" \
  "command_key = $out/cloud/keys/command.pub"; } >thermo.conf
echo "$ $THERMO --config thermo.conf --verbose &   (examples/thermostat: the agent library + 3 state fields + 1 command)"
"$THERMO" --config thermo.conf --verbose >thermo.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "setup portal on" thermo.log && break; sleep 0.1; done
grep -q "setup portal on" thermo.log || { cat thermo.log; echo "demo: no setup portal" >&2; exit 1; }
echo "  device 4 ($id4) is unconfigured: it serves only its setup portal on 127.0.0.1:$pport"
expect_fail "a wrong setup code" "$IMAGO" app configure --portal "127.0.0.1:$pport" --fingerprint "$fpr4" \
  --setup-code 00000-00000 --ssid home --passphrase-file wifi.pw --token-file regtoken.txt
sleep 2.1 # the portal takes at most one try per 2 s
run "$IMAGO" app configure --portal "127.0.0.1:$pport" --fingerprint "$fpr4" --setup-code "$code4" \
  --ssid home --passphrase-file wifi.pw --token-file regtoken.txt
for _ in $(seq 100); do ss -Hltn "sport = :$pport" | grep -q LISTEN || break; sleep 0.1; done
if ss -Hltn "sport = :$pport" | grep -q LISTEN; then echo "demo: the portal stayed open" >&2; exit 1; fi
echo "  portal closed: the device listens on no socket now"
for _ in $(seq 300); do grep -q "registration answered" thermo.log && break; sleep 0.1; done
grep "registration answered" thermo.log | sed 's/^/  | /'
grep -q "registration answered: ok" thermo.log || { cat thermo.log; echo "demo: registration failed" >&2; exit 1; }
run "$IMAGO" app devices
record "portal: wrong setup code refused, label fingerprint pinned" "ok"
record "device 4 enrolled, registered by its token, bound to alice" "ok"

say "14. State: reported by the device, desired by the app, only the difference travels"
for _ in $(seq 100); do
  "$IMAGO" app state "$id4" --json >state.json 2>/dev/null && jq -e '.reported.mode == "heat"' state.json >/dev/null && break
  sleep 0.1
done
run "$IMAGO" app state "$id4"
dv=$(jq -r .desired_version state.json)
run "$IMAGO" app set-state "$id4" --version "$dv" '{"target":23.5}'
for _ in $(seq 100); do
  "$IMAGO" app state "$id4" --json >state.json && jq -e '.reported.target == 23.5 and (.delta | length) == 0' state.json >/dev/null && break
  sleep 0.1
done
jq -e '.reported.target == 23.5' state.json >/dev/null || { cat state.json; echo "demo: desired state not reached" >&2; exit 1; }
echo "  the device applied target 23.5 and reported it back; delta is empty"
expect_fail "a stale version" "$IMAGO" app set-state "$id4" --version "$dv" '{"target":30}'
run "$IMAGO" app set-state "$id4" --version "$((dv + 1))" '{"target":null}'
record "desired state reached the device and came back; stale version refused" "ok"

say "15. A signed command: API -> Ed25519 envelope -> broker -> device verifies -> result"
run "$IMAGO" app command "$id4" set_target '{"value":21}' --wait-ms 10000
record "command signed by the cloud, verified and run on the device, result back" "ok"

say "16. Decommission: wipe command, revocation, unbinding; the device reopens its portal"
run "$IMAGO" app decommission "$id4"
for _ in $(seq 100); do [ "$(grep -c 'setup portal on' thermo.log)" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c 'setup portal on' thermo.log)" -ge 2 ] || { cat thermo.log; echo "demo: no portal after the wipe" >&2; exit 1; }
echo "  device 4 wiped its store and is unconfigured again"
run "$CLOUD" devices show --data cloud "$id4"
run "$IMAGO" app devices
record "decommissioned: wiped, revoked, unbound" "ok"

say "17. Audit: every security-relevant action in a hash chain"
run "$CLOUD" audit show --data cloud --limit 40
run "$CLOUD" audit verify --data cloud
for secret in "$code4" "$(cat regtoken.txt)" "home wifi passphrase" alice-demo-password-2026; do
  if grep -qF -- "$secret" cloud.log thermo.log; then echo "demo: a secret is in a log" >&2; exit 1; fi
done
echo "  no setup code, token, password or Wi-Fi passphrase in any log"
record "audit log verifies; no secret in the logs" "ok"

say "18. Releases: targets signed offline by 2 of 3 keys, published with online snapshot/timestamp"
mkdir -p desk rel
"$CLOUD" repo keys --data cloud --out-dir desk >/dev/null
for k in r1 r2 r3 t1 t2 t3; do "$IMAGO" keys gen --type ed25519 --out "desk/$k.key" >/dev/null; done
echo "  release desk: root keys r1 r2 r3 (2 of 3), targets keys t1 t2 t3 (2 of 3), each holder on their own machine"
run "$IMAGO" release root init --out desk/root.json --expires 365 --consistent-snapshot \
  --root-key desk/r1.key.pub --root-key desk/r2.key.pub --root-key desk/r3.key.pub --root-threshold 2 \
  --targets-key desk/t1.key.pub --targets-key desk/t2.key.pub --targets-key desk/t3.key.pub \
  --targets-threshold 2 --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub
for k in r1 r2; do "$IMAGO" release sign --key "desk/$k.key" --in desk/root.json --out "desk/$k-root.sig" >/dev/null; done
run "$IMAGO" release combine --in desk/root.json --sig desk/r1-root.sig --sig desk/r2-root.sig --out desk/1.root.json
mkdir -p rel/fw
cp app-1.1.0.img rel/fw/app.img
run "$IMAGO" release targets new --out desk/targets-new.json --version 1 --expires 90
run "$IMAGO" release targets add --in desk/targets-new.json --out desk/targets.json --name fw/app.img \
  --file rel/fw/app.img --hardware-id demo-board --version 1.1.0 --security-counter 2
echo "$ $IMAGO release sign --key desk/t1.key ...   (holder 1)   and   --key desk/t3.key ...   (holder 3)"
"$IMAGO" release sign --key desk/t1.key --in desk/targets.json --out desk/t1.sig >/dev/null
"$IMAGO" release sign --key desk/t3.key --in desk/targets.json --out desk/t3.sig >/dev/null
run "$IMAGO" release combine --root desk/1.root.json --in desk/targets.json --sig desk/t1.sig \
  --out desk/1.targets.json
expect_fail "one signature of a 2-of-3 role" "$IMAGO" release verify --root desk/1.root.json desk/1.targets.json
run "$IMAGO" release combine --root desk/1.root.json --in desk/targets.json --sig desk/t1.sig \
  --sig desk/t3.sig --out desk/1.targets.json --force
run "$IMAGO" release verify --root desk/1.root.json desk/1.targets.json
run "$CLOUD" repo publish --data cloud --passphrase-file cloud.pass --root desk/1.root.json \
  --targets desk/1.targets.json --files rel
run "$CLOUD" repo status --data cloud
rport=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$out/cloud/repo" "$rport" >repo-http.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$rport") 2>/dev/null && break; sleep 0.1; done
mkdir -p device-md device-fw
run "$B/imago-tuf" --metadata-dir device-md init desk/1.root.json
run "$B/imago-tuf" --metadata-dir device-md --metadata-url "http://127.0.0.1:$rport/metadata/" \
  --target-name fw/app.img --target-base-url "http://127.0.0.1:$rport/targets/" --target-dir device-fw download
cmp rel/fw/app.img device-fw/fw%2Fapp.img || { echo "demo: downloaded image differs" >&2; exit 1; }
echo "  the TUF client followed root -> timestamp -> snapshot -> targets and checked the image's length and hashes"
record "release signed 2 of 3 (1 of 3 refused), published, verified by imago-tuf" "ok"

say "19. Delta update: zstd --patch-from of the installed image, checked against the target hash"
run "$IMAGO" delta make --base app-1.0.0.img --target app-1.1.0.img --out app-1.0.0-1.1.0.delta
len=$(stat -c %s app-1.1.0.img)
sha=$(sha256sum app-1.1.0.img | cut -d' ' -f1)
run "$IMAGO" delta apply --base app-1.0.0.img --delta app-1.0.0-1.1.0.delta --out app-1.1.0-from-delta.img \
  --sha256 "$sha" --length "$len"
cmp app-1.1.0.img app-1.1.0-from-delta.img
echo "  full image $len bytes, delta $(stat -c %s app-1.0.0-1.1.0.delta) bytes"
expect_fail "a delta applied to the wrong base" "$IMAGO" delta apply --base app-forged.img \
  --delta app-1.0.0-1.1.0.delta --out wrong.img --sha256 "$sha" --length "$len"
record "delta rebuilt the exact 1.1.0 image; the wrong base refused" "ok"

say "20. Secure update over the channel: a staged rollout by delta, then a bad release reverted and aborted"
# The firmware: imago-agent (1.0.0), then the thermostat firmware on the same agent (2.0.0, 3.0.0).
run "$IMAGO" image sign --key boot.key --version 1.0.0 --security-counter 1 "$AGENT" rel/fw-1.0.0.img
run "$IMAGO" image sign --key boot.key --version 2.0.0 --security-counter 2 "$THERMO" rel/fw-2.0.0.img
run "$IMAGO" image sign --key boot.key --version 3.0.0 --security-counter 3 "$THERMO" rel/fw-3.0.0.img
base=$(sha256sum rel/fw-1.0.0.img | cut -d' ' -f1)
dname=fw-2.0.0.img.from-${base:0:16}.zst
run "$IMAGO" delta make --base rel/fw-1.0.0.img --target rel/fw-2.0.0.img --out "rel/$dname"
hw=(--hardware-id demo-board)
"$IMAGO" release targets new --out desk/t2-new.json --version 2 --expires 90 >/dev/null
"$IMAGO" release targets add --in desk/t2-new.json --out desk/t2-a.json --name fw/app.img --file rel/fw/app.img \
  "${hw[@]}" --version 1.1.0 --security-counter 2 >/dev/null
"$IMAGO" release targets add --in desk/t2-a.json --out desk/t2-b.json --name fw-2.0.0.img --file rel/fw-2.0.0.img \
  "${hw[@]}" --version 2.0.0 --security-counter 2 >/dev/null
"$IMAGO" release targets add --in desk/t2-b.json --out desk/t2-c.json --name "$dname" --file "rel/$dname" \
  --base-sha256 "$base" --delta-of fw-2.0.0.img >/dev/null
run "$IMAGO" release targets add --in desk/t2-c.json --out desk/targets-2.json --name fw-3.0.0.img \
  --file rel/fw-3.0.0.img "${hw[@]}" --version 3.0.0 --security-counter 3
for k in t2 t3; do "$IMAGO" release sign --key "desk/$k.key" --in desk/targets-2.json --out "desk/$k-2.sig" >/dev/null; done
echo "  targets version 2 signed by holders 2 and 3 (2 of 3): v2, a delta from v1 ($(stat -c %s "rel/$dname") of $(stat -c %s rel/fw-2.0.0.img) bytes), v3"
run "$IMAGO" release combine --root desk/1.root.json --in desk/targets-2.json --sig desk/t2-2.sig \
  --sig desk/t3-2.sig --out desk/2.targets.json
run "$CLOUD" repo publish --data cloud --passphrase-file cloud.pass --targets desk/2.targets.json --files rel
run "$CLOUD" director root --data cloud --out director-root.json
cat >health.sh <<'EOH'
#!/bin/sh
# The product's health check on a trial boot: 3.0.0 breaks the (simulated) sensor self-test.
case "$IMAGO_BOOT_VERSION" in 3.*) echo "health: sensor self-test failed" >&2; exit 1 ;; esac
exit 0
EOH
chmod 755 health.sh
slot=$(( ($(stat -c %s "$THERMO") * 5 / 4 / 1048576 + 1) * 1048576 ))
for n in 1 2; do
  rm -f "stop-$n"
  "$BOOT" flash create "dev-$n.flash" --key boot.key.pub --slot-size "$slot" >/dev/null
  "$BOOT" flash write-primary "dev-$n.flash" rel/fw-1.0.0.img >/dev/null
  { agent_conf "$n"; printf '%s\n' "backoff_max = 1" "ota_dir = $out/ota-$n" \
    "director_root = $out/director-root.json" "image_root = $out/desk/1.root.json" \
    "hardware_id = demo-board" "health_cmd = $out/health.sh" "health_timeout = 20" "ota_interval = 60"; } >"ota-$n.conf"
  # the device: imago-boot verifies and runs the agent image; a watchdog boots it again if it stops
  ( while [ ! -e "stop-$n" ]; do "$BOOT" run "dev-$n.flash" -- --config "ota-$n.conf" >>"ota-$n.log" 2>&1 || true; sleep 0.2; done ) &
  pids+=($!)
  echo "  device $n: flash with 1.0.0 from the factory, running under imago-boot"
done
printf 'rita-releases-firmware-2026\n' >rita.pw
run "$CLOUD" users add --data cloud --user rita --password-file rita.pw
run "$CLOUD" grants add --data cloud --user rita --role release_manager --group demo-line-1 --days 1
export IMAGO_SESSION=$out/rita.session
run "$IMAGO" app login --user rita --password-file rita.pw
rollout_wait() { # id status
  for _ in $(seq 600); do
    [ "$("$IMAGO" app rollout show "$1" --json | jq -r .status)" = "$2" ] && return 0
    sleep 0.2
  done
  "$IMAGO" app rollout show "$1"; echo "demo: rollout $1 did not become $2" >&2; exit 1
}
run "$IMAGO" app rollout create --target fw-2.0.0.img --group demo-line-1 --stages 50,100 --max-concurrent 1 \
  --abort-percent 50 --abort-min 1 --name "thermostat 2.0.0"
r2=$("$IMAGO" app rollout list --json | jq -r '.rollouts[0].id')
rollout_wait "$r2" completed
run "$IMAGO" app rollout show "$r2"
for n in 1 2; do grep -h "update:" "ota-$n.log" | sed "s/^/  device $n | /"; done
for n in 1 2; do "$BOOT" flash status "dev-$n.flash" | sed "s/^/  device $n | /" | grep -E "version|confirmed|counter" || true; done
record "rollout of 2.0.0 by delta (stages 50/100): both devices updated, confirmed" "ok"
run "$IMAGO" app rollout create --target fw-3.0.0.img --group demo-line-1 --stages 50,100 --max-concurrent 1 \
  --abort-percent 0 --abort-min 1 --name "thermostat 3.0.0"
r3=$("$IMAGO" app rollout list --json | jq -r '.rollouts[0].id')
rollout_wait "$r3" aborted
run "$IMAGO" app rollout show "$r3"
grep -h "health\|revert\|swap done" ota-1.log ota-2.log | sed 's/^/  | /' | tail -n 6
for n in 1 2; do
  "$BOOT" flash status "dev-$n.flash" --json | jq -e '.version | startswith("2.0.0")' >/dev/null ||
    { echo "demo: device $n is not back on 2.0.0" >&2; exit 1; }
done
echo "  both devices run 2.0.0: the one that tried 3.0.0 failed its health check and was reverted"
record "3.0.0 failed its health check: reverted by the bootloader, rollout aborted" "ok"
echo "$ $CLOUD audit show --data cloud --limit 1000 | grep -E 'ACTION|rollout|repo.publish'"
"$CLOUD" audit show --data cloud --limit 1000 | grep -E 'ACTION|rollout\.|repo\.publish' | cut -c1-150
run "$CLOUD" audit verify --data cloud
for n in 1 2; do touch "stop-$n"; done
pkill -TERM -f -- "--config ota-[12].conf" 2>/dev/null || true

say "21. Shutdown: imago-cloud stops its broker; no process is left"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
if pgrep -f "$out/cloud/broker/mosquitto.conf" >/dev/null; then echo "demo: broker left running" >&2; exit 1; fi
echo "  imago-cloud and mosquitto stopped"

say "Summary"
printf '  %s\n' "${results[@]}"
echo "  files in $out"
