#!/usr/bin/env bash
# `imago keys` and `imago image` as a user runs them: help and usage errors,
# key file modes and passphrases, sign/verify/inspect, error lines, exit codes,
# and no output file when signing fails.
set -euo pipefail
: "${IMAGO_BIN:?}" "${IMAGO_SRC:?}"
IMAGO="$IMAGO_BIN/imago"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
expect_rc() { # rc description command...
  local want=$1 what=$2; shift 2
  local got=0
  "$@" >out.txt 2>err.txt || got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, want $want"; cat out.txt err.txt; fi
}

expect_rc 0 "imago --help" "$IMAGO" --help
grep -q "image" out.txt || bad "--help lists image"
expect_rc 0 "imago image --help" "$IMAGO" image --help
grep -q "inspect" out.txt || bad "image --help lists inspect"
expect_rc 0 "imago image sign --help" "$IMAGO" image sign --help
expect_rc 2 "no command" "$IMAGO"
expect_rc 2 "unknown command" "$IMAGO" frobnicate
expect_rc 2 "unknown image command" "$IMAGO" image frobnicate
expect_rc 2 "unknown option" "$IMAGO" image verify --frob x
expect_rc 2 "missing value" "$IMAGO" image verify --key
expect_rc 2 "missing args" "$IMAGO" image sign --key k
expect_rc 2 "bad key type" "$IMAGO" keys gen --type rsa --out r.pem

# keys: mode 0600, public key, refuse overwrite, passphrase
expect_rc 0 "keys gen ed25519" "$IMAGO" keys gen --type ed25519 --out ed.pem
[ "$(stat -c %a ed.pem)" = 600 ] && ok "private key mode 0600" || bad "mode $(stat -c %a ed.pem)"
grep -q "BEGIN PUBLIC KEY" ed.pem.pub && ok "KEY.pub is a PUBLIC KEY PEM" || bad "KEY.pub"
cp ed.pem ed.bak
expect_rc 1 "keys gen refuses to overwrite" "$IMAGO" keys gen --type ed25519 --out ed.pem
cmp -s ed.pem ed.bak && ok "existing key untouched" || bad "existing key changed"
grep -q IMAGO_EEXIST err.txt || bad "EEXIST named"
printf 'open sesame\n' > pass.txt
expect_rc 0 "keys gen p256 encrypted" "$IMAGO" keys gen --type p256 --out ec.pem --passphrase-file pass.txt
grep -q "BEGIN ENCRYPTED PRIVATE[ ]KEY" ec.pem && ok "encrypted PEM" || bad "not encrypted"
expect_rc 0 "keys pub from encrypted key" "$IMAGO" keys pub --key ec.pem --out ec2.pub --passphrase-file pass.txt
cmp -s ec.pem.pub ec2.pub && ok "same public key" || bad "public keys differ"
expect_rc 0 "keys pub from plain key" "$IMAGO" keys pub --key ed.pem --out ed2.pub
cmp -s ed.pem.pub ed2.pub && ok "same public key" || bad "public keys differ"

head -c 2000 /dev/urandom > fw.bin
expect_rc 1 "sign with encrypted key, no passphrase" "$IMAGO" image sign --key ec.pem --version 1.0.0 fw.bin x.img
grep -q IMAGO_EKEY_PASSPHRASE err.txt && ok "EKEY_PASSPHRASE named" || bad "$(cat err.txt)"
[ ! -e x.img ] && ok "no output on error" || bad "output written on error"
printf 'wrong\n' > wrong.txt
expect_rc 1 "sign with wrong passphrase" "$IMAGO" image sign --key ec.pem --passphrase-file wrong.txt --version 1.0.0 fw.bin x.img
[ ! -e x.img ] && ok "no output on error" || bad "output written on error"
IMAGO_KEY_PASSPHRASE='open sesame' expect_rc 0 "sign with passphrase from env" "$IMAGO" image sign --key ec.pem --version 2.1.0+7 --security-counter 3 fw.bin ec.img
chmod 644 ed.pem
expect_rc 1 "sign refuses a group-readable key" "$IMAGO" image sign --key ed.pem --version 1 fw.bin x.img
grep -q IMAGO_EKEY_PERM err.txt && ok "EKEY_PERM named" || bad "$(cat err.txt)"
chmod 600 ed.pem
expect_rc 1 "sign: image does not fit the slot" "$IMAGO" image sign --key ed.pem --version 1 --pad --slot-size 2048 fw.bin x.img
grep -q IMAGO_EIMG_TOO_LARGE err.txt && ok "EIMG_TOO_LARGE named" || bad "$(cat err.txt)"
[ ! -e x.img ] && ok "no output on error" || bad "output written on error"
ls ./*.tmp.* >/dev/null 2>&1 && bad "temporary file left" || ok "no temporary files left"
expect_rc 2 "sign: bad version" "$IMAGO" image sign --key ed.pem --version 1.2.3.4 fw.bin x.img
expect_rc 2 "sign: bad erased value" "$IMAGO" image sign --key ed.pem --version 1 --pad --slot-size 8K --erased-val 7 fw.bin x.img
expect_rc 2 "sign: --pad without --slot-size" "$IMAGO" image sign --key ed.pem --version 1 --pad fw.bin x.img
expect_rc 0 "sign padded+confirmed" "$IMAGO" image sign --key ed.pem --version 1.2.3 --security-counter 5 --header-size 0x100 --pad --slot-size 8K --erased-val 0 --confirm fw.bin ed.img
[ "$(stat -c %s ed.img)" = 8192 ] && ok "padded to the slot size" || bad "size $(stat -c %s ed.img)"

# verify
expect_rc 0 "verify ed25519" "$IMAGO" image verify --key ed.pem.pub ed.img
grep -q "^OK ed.img: version 1.2.3+0, security counter 5, key ed25519" out.txt && ok "summary line" || bad "$(cat out.txt)"
expect_rc 0 "verify p256 with two keys" "$IMAGO" image verify --key ed.pem.pub --key ec.pem.pub ec.img
grep -q "key p256 (ec.pem.pub)" out.txt && ok "names the key" || bad "$(cat out.txt)"
expect_rc 1 "verify with the wrong key" "$IMAGO" image verify --key ec.pem.pub ed.img
[ "$(cat err.txt)" = "imago: image verify: ed.img: image: signed by an unknown key (IMAGO_EIMG_KEY_UNKNOWN)" ] && ok "error line" || bad "error line: $(cat err.txt)"
cp ed.img bad.img; printf '\x55' | dd of=bad.img bs=1 seek=300 conv=notrunc status=none
expect_rc 1 "verify tampered" "$IMAGO" image verify --key ed.pem.pub bad.img
grep -q "(IMAGO_EIMG_HASH)" err.txt && ok "hash mismatch named" || bad "$(cat err.txt)"
expect_rc 1 "verify missing file" "$IMAGO" image verify --key ed.pem.pub nope.img

# inspect
expect_rc 0 "inspect" "$IMAGO" image inspect ed.img
grep -q "image_ok 0x01" out.txt && grep -q "(matches)" out.txt && ok "inspect shows trailer and hash" || bad "$(cat out.txt)"
expect_rc 0 "inspect --json" "$IMAGO" image inspect --json ed.img
if jq -e '.status == "IMAGO_OK" and .hash_ok and .security_counter == 5 and .signature == "ed25519"
          and .trailer.boot_magic and .trailer.image_ok == 1 and .header.hdr_size == 256
          and ([.tlvs[].name] == ["SEC_CNT","SHA256","KEYHASH","ED25519"])' out.txt >/dev/null; then
  ok "inspect JSON is valid and complete"
else bad "inspect JSON: $(cat out.txt)"; fi
expect_rc 0 "inspect --json tampered" "$IMAGO" image inspect --json bad.img
jq -e '.hash_ok == false' out.txt >/dev/null && ok "JSON shows the hash mismatch" || bad "$(cat out.txt)"
for v in "$IMAGO_SRC"/tests/vectors/image/*.bin; do
  "$IMAGO" image inspect --json "$v" >out.txt 2>/dev/null || true
  jq -e . out.txt >/dev/null || { bad "inspect JSON invalid for $(basename "$v")"; cat out.txt; }
done
ok "inspect JSON valid for every vector"
printf 'x' > 'we"ird\name.img'
"$IMAGO" image inspect --json 'we"ird\name.img' >out.txt 2>/dev/null || true
jq -e '.file == "we\"ird\\name.img" and .status == "IMAGO_EIMG_HDR_TRUNC"' out.txt >/dev/null && ok "JSON escapes file names" || bad "$(cat out.txt)"

exit $fail
