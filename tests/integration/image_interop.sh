#!/usr/bin/env bash
# Interoperability of `imago image sign/verify` with MCUboot's imgtool format.
#
# (a) Always: against tests/interop/mcuboot_ref.py, an independent python
#     implementation of imgtool's sign and MCUboot's verify.  Both directions,
#     ed25519 and p256, with and without a security counter, padded or not
#     (erased 0xff and 0x00, --confirm).  Ed25519 signatures are deterministic,
#     so imago's and the reference's images must be byte-identical.
# (b) When `imgtool` is on PATH: the same matrix against the real imgtool.
#     Otherwise this says SKIP clearly (it is only on PyPI).
set -euo pipefail
: "${IMAGO_BIN:?}" "${IMAGO_SRC:?}"
IMAGO="$IMAGO_BIN/imago"
REF="python3 $IMAGO_SRC/tests/interop/mcuboot_ref.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

head -c 3001 /dev/urandom > body.bin
for type in ed25519 p256; do
  "$IMAGO" keys gen --type "$type" --out "$type.pem" >/dev/null
done

# name | imago flags | imgtool/reference flags
# imgtool requires --header-size (-H), --slot-size (-S) and --align on every sign, so the
# imgtool column always spells them out (with -S 0 where nothing is padded).
cases=(
  "plain|--header-size 32|-H 32 -S 0 --align 1"
  "cnt|--security-counter 5|--security-counter 5 -H 32 -S 0 --align 1"
  "cnt-auto-hdr512|--security-counter auto --header-size 0x200|--security-counter auto -H 0x200 -S 0 --align 1"
  "pad-ff|--pad --slot-size 0x4000|--pad -S 0x4000 -H 32 --align 1"
  "pad-00-confirm-cnt|--security-counter 9 --pad --slot-size 0x4000 --erased-val 0 --confirm --align 4 --max-sectors 16|--security-counter 9 --pad -S 0x4000 -R 0 --confirm --align 4 -M 16 -H 32"
  "pad-align8|--pad --slot-size 16K --align 8|--pad -S 16384 --align 8 -H 32"
)

run_matrix() { # $1 = label, $2 = command that signs like imgtool, $3 = command that verifies like imgtool,
              # $4 = suffix of the key file the verifier gets (".pub": public key; "": the key file)
  local label=$1 sign=$2 verify=$3 vkey=${4-.pub}
  for type in ed25519 p256; do
    for c in "${cases[@]}"; do
      IFS='|' read -r name iflags rflags <<<"$c"
      id="$label/$type/$name"
      # reference/imgtool signs, imago verifies
      # shellcheck disable=SC2086
      $sign --key "$type.pem" --version 1.2.3+4 --pad-header $rflags body.bin "r-$type-$name.img"
      if "$IMAGO" image verify --key "$type.pem.pub" "r-$type-$name.img" >out.txt; then
        ok "$id: $label-signed image verifies with imago"
      else
        bad "$id: $label-signed image rejected by imago"; cat out.txt
      fi
      # imago signs, reference/imgtool verifies
      # shellcheck disable=SC2086
      "$IMAGO" image sign --key "$type.pem" --version 1.2.3+4 $iflags body.bin "i-$type-$name.img"
      if $verify --key "$type.pem$vkey" "i-$type-$name.img" >out.txt 2>&1; then
        ok "$id: imago-signed image verifies with $label"
      else
        bad "$id: imago-signed image rejected by $label"; cat out.txt
      fi
      if [ "$type" = ed25519 ]; then
        if cmp -s "r-$type-$name.img" "i-$type-$name.img"; then
          ok "$id: byte-identical to $label's image"
        else
          bad "$id: differs from $label's image"; cmp "r-$type-$name.img" "i-$type-$name.img" || true
        fi
      else
        # ECDSA is randomized: same bytes up to the signature TLV (but the TLV
        # area's total length, which counts the DER signature), same trailer
        off=$("$IMAGO" image inspect --json "i-$type-$name.img" | jq '.tlv_off')
        if cmp -s -n "$((off + 2))" "r-$type-$name.img" "i-$type-$name.img" &&
           cmp -s -n 72 -i "$((off + 4))" "r-$type-$name.img" "i-$type-$name.img"; then
          ok "$id: same bytes as $label's image up to the signature"
        else
          bad "$id: differs from $label's image before the signature"
        fi
        if [ "$(stat -c %s "r-$type-$name.img")" = "$(stat -c %s "i-$type-$name.img")" ] &&
           cmp -s <(tail -c 64 "r-$type-$name.img") <(tail -c 64 "i-$type-$name.img"); then
          ok "$id: same size and trailer"
        else
          case $name in pad*) bad "$id: size or trailer differs";; *) ok "$id: (unpadded, DER length may differ)";; esac
        fi
      fi
    done
  done
}

run_matrix reference "$REF sign" "$REF verify"

# Negative: the reference rejects a tampered imago image, imago a tampered reference image.
cp i-ed25519-cnt.img tampered.img
printf '\x00' | dd of=tampered.img bs=1 seek=100 conv=notrunc status=none
if $REF verify --key ed25519.pem.pub tampered.img >/dev/null; then bad "reference accepted a tampered image"; else ok "reference rejects a tampered image"; fi
cp r-p256-cnt.img tampered2.img
printf '\x00' | dd of=tampered2.img bs=1 seek=100 conv=notrunc status=none
if "$IMAGO" image verify --key p256.pem.pub tampered2.img 2>err.txt; then bad "imago accepted a tampered image"; else
  grep -q IMAGO_EIMG_HASH err.txt && ok "imago rejects a tampered image (IMAGO_EIMG_HASH)" || bad "wrong error: $(cat err.txt)"; fi

if imgtool version >/dev/null 2>&1; then
  echo "imgtool found: $(command -v imgtool) ($(imgtool version 2>/dev/null || echo '?'))"
  # imgtool verify is given the key file: some imgtool versions cannot verify with an
  # Ed25519 *public* key file (Ed25519Public has no verify_digest), all can with the key.
  chmod 600 ed25519.pem p256.pem
  run_matrix imgtool "imgtool sign" "imgtool verify" ""
else
  echo "SKIP: real imgtool not on PATH (pip install imgtool); only the python reference was used"
fi

# The reference agrees with imago on every negative vector (accept vs reject).
V="$IMAGO_SRC/tests/vectors/image"
for e in "$V"/*.expect; do
  c=$(basename "$e" .expect)
  if $REF verify --key "$V/key-ed25519.pub.pem" --key "$V/key-p256.pub.pem" "$V/$c.bin" >/dev/null 2>&1; then r=IMAGO_OK; else r=fail; fi
  w=$(cat "$e"); [ "$w" = IMAGO_OK ] || w=fail
  if [ "$r" = "$w" ]; then ok "vector $c: reference agrees ($w)"; else bad "vector $c: reference says $r, imago expects $w"; fi
done

# Real imgtool-signed images stored in the tree (see tests/vectors/imgtool/README.md).
# MCUboot's own imgtool test asset is RSA-2048 signed, which imago does not
# support, so it proves the layout, the hashed region and the KEYHASH TLV
# against genuine imgtool output: imago must parse it, agree with its SHA256
# TLV, and report IMAGO_EIMG_SIG_MISSING (no signature of a supported type).
IV="$IMAGO_SRC/tests/vectors/imgtool"
python3 "$IMAGO_SRC/tests/interop/ihex2bin.py" "$IV/zero_hex-addr_0.hex" > imgtool-rsa.bin
if "$IMAGO" image inspect --json imgtool-rsa.bin > insp.json &&
   jq -e '.status == "IMAGO_OK" and .hash_ok and ([.tlvs[].name] == ["SHA256","KEYHASH","RSA2048_PSS"])' insp.json >/dev/null; then
  ok "real imgtool image: layout parsed, SHA256 TLV matches imago's hash"
else bad "real imgtool image: $(cat insp.json)"; fi
if python3 - "$IV/rsa-2048.pub.pem" imgtool-rsa.bin "$(jq -r .keyhash insp.json)" "$(jq -r .tlv_off insp.json)" <<'PY'
import hashlib, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
img = open(sys.argv[2], "rb").read()
tlv_off = int(sys.argv[4])
pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
assert hashlib.sha256(pkcs1).hexdigest() == sys.argv[3], "KEYHASH"
sig = img[tlv_off + 4 + 36 + 36 + 4:][:256]
key.verify(sig, img[:tlv_off], padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
PY
then ok "real imgtool image: RSA-PSS signature over imago's hashed region verifies with MCUboot's test key"
else bad "real imgtool image: signature/keyhash check"; fi
V="$IMAGO_SRC/tests/vectors/image"
if "$IMAGO" image verify --key "$V/key-ed25519.pub.pem" imgtool-rsa.bin 2>err.txt; then bad "RSA image accepted"
elif grep -q IMAGO_EIMG_SIG_MISSING err.txt; then ok "real imgtool RSA image: IMAGO_EIMG_SIG_MISSING (RSA unsupported)"
else bad "real imgtool RSA image: $(cat err.txt)"; fi

exit $fail
