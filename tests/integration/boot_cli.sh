#!/usr/bin/env bash
# imago-boot end to end: real keys and signed images (imago keys gen, imago
# image sign), a flash file per layout, the demo payload booted, a trial
# reverted when unhealthy and kept when confirmed, a downgrade refused, a
# permanent update, imgtool-style padded requests, recovery, bad files.
set -euo pipefail
: "${IMAGO_BIN:?}" "${IMAGO_SRC:?}"
IMAGO="$IMAGO_BIN/imago"
BOOT="$IMAGO_BIN/imago-boot"
PAYLOAD="$IMAGO_BIN/imago-demo-payload"
for p in "$IMAGO" "$BOOT" "$PAYLOAD"; do
  [ -x "$p" ] || { echo "SKIP: $p not built"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*"; exit 1; }
expect_in() { grep -qF -- "$1" "$2" || { echo "--- $2:"; cat "$2"; fail "expected '$1' in $2"; }; }
# run_boot NAME EXPECTED_RC [env...]: imago-boot run, output in NAME.out
run_boot() {
  local name=$1 want=$2 rc=0; shift 2
  env "$@" "$BOOT" run "$FLASH" >"$name.out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$name.out"; fail "$name: exit $rc, expected $want"; }
}
json() { "$BOOT" flash status "$FLASH" --json; }

"$IMAGO" keys gen --type ed25519 --out boot.key >/dev/null
"$IMAGO" keys gen --type p256 --out other.key >/dev/null
sign() { # sign KEY VERSION COUNTER OUT [extra...]
  local key=$1 ver=$2 cnt=$3 out=$4; shift 4
  "$IMAGO" image sign --key "$key" --version "$ver" --security-counter "$cnt" "$@" "$PAYLOAD" "$out" >/dev/null
}
sign boot.key 1.0.0+1 1 v1.img
sign boot.key 2.0.0+2 2 v2.img
sign boot.key 3.0.0+3 3 v3.img
sign boot.key 2.5.0 1 low-counter.img
sign other.key 9.0.0 9 foreign.img

"$BOOT" flash create x --layout help | grep -q stm32f4 || fail "layout list"

flow() { # flow LAYOUT SLOT_SIZE
  local layout=$1 slot=$2
  FLASH="$T/flash-$layout.bin"
  "$BOOT" flash create "$FLASH" --key boot.key.pub --layout "$layout" --slot-size "$slot" >/dev/null
  "$BOOT" flash write-primary "$FLASH" v1.img >/dev/null

  run_boot factory 0
  expect_in "running version 1.0.0+1" factory.out
  expect_in "confirmed 1, swap none" factory.out

  # A trial that fails its health check is reverted on the next boot.
  "$BOOT" flash write-update "$FLASH" v2.img >/dev/null
  "$BOOT" flash request "$FLASH" --test >/dev/null
  json | grep -q '"pending":"test"' || fail "pending test"
  run_boot trial-bad 1 IMAGO_DEMO_HEALTHY=0
  expect_in "running version 2.0.0+2" trial-bad.out
  expect_in "confirmed 0, swap test" trial-bad.out
  json | grep -q '"trial":true' || fail "trial state"
  if "$BOOT" flash write-update "$FLASH" v3.img >wu.out 2>&1; then fail "write-update during a trial"; fi
  expect_in "unconfirmed trial" wu.out
  run_boot reverted 0
  expect_in "running version 1.0.0+1" reverted.out
  expect_in "swap revert" reverted.out
  json | grep -q '"stored_security_counter":1' || fail "counter after revert"

  # A healthy trial confirms itself and stays.
  "$BOOT" flash write-update "$FLASH" v2.img >/dev/null
  "$BOOT" flash request "$FLASH" --test >/dev/null
  run_boot trial-good 0
  expect_in "confirmed this image" trial-good.out
  run_boot kept 0
  expect_in "running version 2.0.0+2" kept.out
  expect_in "security counter 2, confirmed 1, swap none" kept.out
  json | grep -q '"stored_security_counter":2' || fail "counter raised on confirm"

  # Downgrade below the stored counter: refused by request, dropped at boot.
  "$BOOT" flash write-update "$FLASH" low-counter.img >/dev/null
  if "$BOOT" flash request "$FLASH" --permanent >dg.out 2>&1; then fail "downgrade accepted"; fi
  expect_in "IMAGO_EBOOT_ROLLBACK" dg.out
  run_boot after-downgrade 0
  expect_in "running version 2.0.0+2" after-downgrade.out

  # Permanent update.
  "$BOOT" flash write-update "$FLASH" v3.img >/dev/null
  "$BOOT" flash request "$FLASH" --permanent >/dev/null
  run_boot permanent 0
  expect_in "running version 3.0.0+3" permanent.out
  expect_in "confirmed 1, swap permanent" permanent.out
  json | grep -q '"stored_security_counter":3' || fail "counter after permanent"

  # An image signed by another key is refused before it is written.
  if "$BOOT" flash write-update "$FLASH" foreign.img >fk.out 2>&1; then fail "foreign image written"; fi
  expect_in "IMAGO_EIMG_KEY_UNKNOWN" fk.out
  echo "ok: $layout"
}

# Slot sizes that hold the payload (a sanitizer build makes it much larger).
psize=$(stat -c %s "$PAYLOAD")
need=$((psize * 11 / 10 + 32768))
uslot=$(( (need + 16383) / 16384 * 16384 ))
k=$(( (need - 147456 + 131071) / 131072 )); [ "$k" -ge 0 ] || k=0
sslot=$(( 147456 + k * 131072 ))
flow uniform-4k "$uslot"
flow uniform-2k-zero "$uslot"
flow stm32f4 "$sslot"

# imgtool-style padded + confirmed image written to the secondary = permanent request.
FLASH="$T/flash-pad.bin"
"$BOOT" flash create "$FLASH" --key boot.key.pub --slot-size "$uslot" >/dev/null
"$BOOT" flash write-primary "$FLASH" v1.img >/dev/null
sign boot.key 2.0.0 2 padded.img --pad --slot-size "$uslot" --align 8 --confirm
"$BOOT" flash write-update "$FLASH" padded.img >/dev/null
json | grep -q '"pending":"permanent"' || fail "padded image is a permanent request"
run_boot padded 0
expect_in "swap permanent" padded.out

# Two boot keys: an image signed by the second (P-256) key boots.
FLASH="$T/flash-2keys.bin"
"$BOOT" flash create "$FLASH" --key boot.key.pub --key other.key.pub --slot-size "$uslot" >/dev/null
"$BOOT" flash write-primary "$FLASH" foreign.img >/dev/null
run_boot two-keys 0
expect_in "running version 9.0.0" two-keys.out
FLASH="$T/flash-pad.bin"

# A signed image that would run into the trailer sectors is refused.
head -c $((uslot - 2000)) /dev/urandom > big.bin
"$IMAGO" image sign --key boot.key --version 5.0.0 --security-counter 5 big.bin big.img >/dev/null
if "$BOOT" flash write-update "$FLASH" big.img >big.out 2>&1; then fail "oversized image written"; fi
expect_in "runs into the trailer" big.out

# Recovery: nothing verifies; the reason is printed and exit status is 3.
FLASH="$T/flash-rec.bin"
"$BOOT" flash create "$FLASH" --key boot.key.pub --slot-size "$uslot" >/dev/null
"$BOOT" flash write-primary "$FLASH" foreign.img --no-verify >/dev/null
run_boot recovery 3
expect_in "RECOVERY" recovery.out
expect_in "IMAGO_EIMG_KEY_UNKNOWN" recovery.out
cp v1.img tampered.img
printf '\x00' | dd of=tampered.img bs=1 seek=200 conv=notrunc status=none
"$BOOT" flash write-primary "$FLASH" tampered.img --no-verify >/dev/null
run_boot tampered 3
expect_in "IMAGO_EIMG_HASH" tampered.out

# Bad flash files are refused with a clear error.
head -c 5000 "$T/flash-pad.bin" > short.bin
if "$BOOT" flash status short.bin >bad.out 2>&1; then fail "truncated flash accepted"; fi
expect_in "not a usable flash file" bad.out
head -c $((uslot * 2 + 20480)) /dev/urandom > junk.bin
if "$BOOT" flash status junk.bin >bad2.out 2>&1; then fail "junk flash accepted"; fi
expect_in "IMAGO_EMALFORMED" bad2.out
if "$BOOT" flash create "$T/flash-pad.bin" --key boot.key.pub >ex.out 2>&1; then fail "create overwrote"; fi
if "$BOOT" flash create n.bin --key boot.key.pub --layout stm32f4 --slot-size 100K >sz.out 2>&1; then
  fail "bad slot size accepted"
fi
echo "boot_cli: all passed"
