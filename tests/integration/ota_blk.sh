#!/usr/bin/env bash
# Block transfer over the device channel (docs/blk.md "Over the link", "Serving"), every part
# real: Mosquitto + imago_broker.so + imago-cloud serving DIR/repo, devices made by `imago factory
# provision` in SoftHSM2 tokens and enrolled by imago-agent, imago-bench-blk-fetch (imago_blkc):
#   1. image/metadata/timestamp.json, director/root.json and a ~3 MB target arrive byte for byte
#      (get and file fetch); an object over the caller's limit is refused before any byte;
#   2. an object that does not exist: IMAGO_ENOTFOUND;
#   3. imago-cloud and its broker restarted during a fetch: the fetch completes;
#   4. a fetch killed with SIGKILL half way resumes from its durable progress record (offset > 0);
#   5. a revoked device gets nothing.
# The cloud's per-device rate (IMAGO_OTA_BLK_RATE) is lowered so a transfer lasts seconds.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
CB=${IMAGO_CLOUD_BIN:-$B}
export PATH=$PATH:/usr/sbin
for t in mosquitto softhsm2-util python3 cmp; do
  command -v "$t" >/dev/null || { echo "ota_blk: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
cpid=
fpid=
cleanup() {
  [ -n "$fpid" ] && { kill -9 "$fpid" 2>/dev/null || true; wait "$fpid" 2>/dev/null || true; }
  cloud_stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "ota_blk: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v '^[0-9]*: ' cloud.log 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}
ok() { echo "ota_blk: ok: $*"; }
FETCH="$B/imago-bench-blk-fetch"
fetch() { # N ARGS...: fetch as device N (timeouts short: the rate limit drops requests)
  local n=$1
  shift
  timeout 60 "$FETCH" --config "dev$n.conf" --timeout-ms 200 --idle-ms 20000 "$@"
}
R="$B/imago release"

# --- a fleet of 2, the cloud with a repository ------------------------------------------------
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
for n in 1 2; do
  softhsm2-util --init-token --free --label "dev-$n" --pin Pin-b1k7-q7 --so-pin 87654321 >/dev/null
done
printf 'Pin-b1k7-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 2 --out batch --batch blk-a >labels.txt
ids=($(awk '$1 == "id" {print $2}' labels.txt))
export IMAGO_OTA_BLK_RATE=64
cloud_create data cloud.log batch/manifest.json || fail "imago-cloud up did not start"
if ! grep -q "event=ota result=on" cloud.log; then
  # a data directory made before the director: OTA needs its keys
  cloud_stop || true
  "$CB/imago-cloud" director keys --data data --passphrase-file cloud.pass >/dev/null || fail "director keys"
  cloud_start data cloud.log || fail "imago-cloud up (with director keys)"
fi
grep -q "event=ota result=on" cloud.log || fail "OTA not on"
for n in 1 2; do
  device_conf "$n" "backoff_max = 1" >"dev$n.conf"
  timeout 60 "$B/imago-agent" --config "dev$n.conf" --once >"enrol$n.out" 2>&1 || { cat "enrol$n.out"; fail "device $n enrolment"; }
done

mkdir desk imgs
"$CB/imago-cloud" repo keys --data data --out-dir desk >/dev/null
for k in r1 t1; do "$B/imago" keys gen --type ed25519 --out "$k.key" >/dev/null; done
$R root init --out root.json --expires 365 --consistent-snapshot --root-key r1.key.pub \
  --root-threshold 1 --targets-key t1.key.pub --targets-threshold 1 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null
$R sign --key r1.key --in root.json --out r1.sig >/dev/null
$R combine --in root.json --sig r1.sig --out 1.root.json >/dev/null
head -c 3100000 /dev/urandom >imgs/fw.img
$R targets new --out t.json --version 1 --expires 90 >/dev/null
$R targets add --in t.json --out t1.json --name fw.img --file imgs/fw.img --hardware-id blk-hw \
  --version 1.0.0 --security-counter 1 >/dev/null
$R sign --key t1.key --in t1.json --out t1.sig >/dev/null
$R combine --in t1.json --sig t1.sig --root 1.root.json --out 1.targets.json >/dev/null
"$CB/imago-cloud" repo publish --data data --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >/dev/null || fail "repo publish"
tfile=$(cd data/repo/targets && find . -type f -name '*fw.img' | sed 's|^\./||' | head -n1)
[ -n "$tfile" ] || fail "no target file in data/repo/targets"
len=$(stat -c %s imgs/fw.img)
ok "2 devices enrolled; repository published with a $len-byte target ($tfile)"

# --- 1. metadata and the target, byte for byte ------------------------------------------------
fetch 1 --object image/metadata/timestamp.json --out ts.json >f1.out 2>f1.err || { cat f1.out f1.err; fail "timestamp.json"; }
cmp ts.json data/repo/metadata/timestamp.json || fail "timestamp.json differs"
fetch 1 --object "image/targets/$tfile" --out t-get.bin >f2.out 2>f2.err || { cat f2.out f2.err; fail "target (get)"; }
cmp t-get.bin imgs/fw.img || fail "target (get) differs"
fetch 1 --object "image/targets/$tfile" --out t-file.bin --length "$len" >f3.out 2>f3.err || { cat f3.out f3.err; fail "target (file)"; }
cmp t-file.bin imgs/fw.img || fail "target (file) differs"
[ ! -e t-file.bin.progress ] || fail "progress record left after a complete fetch"
"$CB/imago-cloud" director root --data data --out director-root.json >/dev/null || fail "director root"
fetch 1 --object director/root.json --out droot.json >f3b.out 2>f3b.err || { cat f3b.out f3b.err; fail "director/root.json"; }
cmp droot.json director-root.json || fail "director/root.json differs from imago-cloud director root"
fetch 1 --object "image/targets/$tfile" --out small.bin --max 1000 >f4.out 2>f4.err && fail "an object over --max accepted"
grep -q "result=IMAGO_ETUF_LENGTH" f4.out || { cat f4.out; fail "over max: $(cat f4.out)"; }
[ ! -s small.bin ] || fail "bytes of an object over max reached the sink"
ok "timestamp.json, director/root.json and the target identical (get and resumable file fetch); over max refused before any byte"

# --- 2. not found -----------------------------------------------------------------------------
fetch 1 --object image/metadata/nope.json --out nope >f5.out 2>f5.err && fail "a missing object fetched"
grep -q "result=IMAGO_ENOTFOUND" f5.out || { cat f5.out f5.err; fail "missing object: $(cat f5.out)"; }
fetch 1 --object image/targets/fw >f6.out 2>f6.err && fail "a directory fetched"
grep -q "result=IMAGO_ENOTFOUND" f6.out || { cat f6.out; fail "directory: $(cat f6.out)"; }
ln -s "$work/cloud.pass" "data/repo/metadata/link.json"
fetch 1 --object image/metadata/link.json >f7.out 2>f7.err && fail "a symbolic link followed"
grep -q "result=IMAGO_ENOTFOUND" f7.out || { cat f7.out; fail "symlink: $(cat f7.out)"; }
rm -f data/repo/metadata/link.json
ok "missing object, a directory and a symbolic link: IMAGO_ENOTFOUND"

# --- 3. the cloud (and its broker) restarted during a fetch -----------------------------------
fetch 1 --object "image/targets/$tfile" --out t-rst.bin --length "$len" >f8.out 2>f8.err &
fpid=$!
for _ in $(seq 100); do [ -e t-rst.bin.progress ] && break; sleep 0.05; done
[ -e t-rst.bin.progress ] || fail "no progress during the fetch"
cloud_stop || fail "cloud stop"
sleep 0.5
cloud_start data cloud.log || fail "imago-cloud restart"
rc=0; wait "$fpid" || rc=$?
fpid=
[ $rc = 0 ] || { cat f8.out f8.err; fail "fetch across the restart: exit $rc"; }
cmp t-rst.bin imgs/fw.img || fail "target after the restart differs"
ok "imago-cloud and Mosquitto restarted during a fetch: completed, identical"

# --- 4. SIGKILL half way, then resume ---------------------------------------------------------
"$FETCH" --config dev1.conf --timeout-ms 200 --object "image/targets/$tfile" --out t-kill.bin \
  --length "$len" >f9.out 2>f9.err &
fpid=$!
for _ in $(seq 100); do [ -e t-kill.bin.progress ] && break; sleep 0.05; done
[ -e t-kill.bin.progress ] || fail "no progress record before the kill"
{ kill -9 "$fpid"; wait "$fpid"; } 2>/dev/null || true
fpid=
fetch 1 --object "image/targets/$tfile" --out t-kill.bin --length "$len" >f10.out 2>f10.err || { cat f10.out f10.err; fail "resume"; }
resumed=$(sed -n 's/.* resumed=\([0-9]*\) .*/\1/p' f10.out)
[ -n "$resumed" ] && [ "$resumed" -gt 0 ] || { cat f10.out; fail "did not resume: $(cat f10.out)"; }
cmp t-kill.bin imgs/fw.img || fail "resumed target differs"
ok "killed (SIGKILL) half way, resumed at offset $resumed of $len, identical"

# --- 5. a revoked device gets nothing ---------------------------------------------------------
"$CB/imago-cloud" devices revoke --data data --reason "stolen" "${ids[1]}" >/dev/null || fail "revoke"
kill -HUP "$cpid"
if timeout 60 "$FETCH" --config dev2.conf --timeout-ms 200 --idle-ms 3000 --max-failures 3 \
  --object image/metadata/timestamp.json --out rev.json >f11.out 2>f11.err; then
  fail "a revoked device fetched"
fi
[ ! -s rev.json ] || fail "a revoked device got bytes"
grep -q "bytes=0 .*result=IMAGO_E" f11.out || { cat f11.out f11.err; fail "revoked device: no clean failure"; }
ok "revoked device: nothing ($(cat f11.out))"

cloud_stop || fail "imago-cloud did not stop cleanly"
ok "no process left"
