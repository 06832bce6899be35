#!/usr/bin/env bash
# imago ca init + imago factory provision/check, run as a factory operator would,
# against real SoftHSM2 tokens (one per device) created here.
set -euo pipefail
IMAGO=${IMAGO_BIN:?}/imago
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "factory_cli: FAIL: $*" >&2; exit 1; }
expect_err() { # name, command...: must fail with that IMAGO_E name on stderr
  local want=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "$* succeeded; expected $want"; fi
  grep -q "($want)" err.txt || { cat err.txt >&2; fail "$*: expected $want"; }
}

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
expect_err IMAGO_EKEY_PASSPHRASE env -u IMAGO_KEY_PASSPHRASE "$IMAGO" ca init --dir ca
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass \
  --org "Acme Devices" >/dev/null
expect_err IMAGO_EEXIST "$IMAGO" ca init --dir ca --passphrase-file root.pass
openssl verify -CAfile ca/root.crt ca/factory.crt ca/issuing.crt ca/server-ca.crt >/dev/null
for k in root factory issuing server-ca; do
  [ "$(stat -c %a ca/$k.key)" = 600 ] || fail "$k.key is not 0600"
  grep -q 'BEGIN ENCRYPTED PRIVATE[ ]KEY' ca/$k.key || fail "$k.key is not encrypted"
done
# The server CA may certify only its permitted names.
openssl x509 -in ca/server-ca.crt -noout -ext nameConstraints | grep -q 'DNS:localhost' ||
  fail "server CA has no name constraints"

# Three devices on the line, each with its own secure element.
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
for n in 1 2 3 4; do
  softhsm2-util --init-token --free --label "line1-$n" --pin 4321 --so-pin 87654321 >/dev/null
done
expect_err IMAGO_EKEY_PASSPHRASE "$IMAGO" factory provision --ca ca --passphrase-file cloud.pass \
  --token 'pkcs11:token=line1-{n}?pin-value=4321' --count 3 --out batch
expect_err IMAGO_EP11_PIN "$IMAGO" factory provision --ca ca --passphrase-file root.pass \
  --token 'pkcs11:token=line1-{n}?pin-value=0000' --count 1 --first 4 --out wrongpin
"$IMAGO" factory provision --ca ca --passphrase-file root.pass \
  --token 'pkcs11:token=line1-{n}?pin-value=4321' --count 3 --out batch --batch line1-a >labels.txt
[ "$(grep -c '^device ' labels.txt)" = 3 ] || fail "expected three labels"
"$IMAGO" factory check --ca-certs ca batch/manifest.json >/dev/null

# Unique identities; certificates chain; CN = device id.
ids=$(awk '$1 == "id" {print $2}' labels.txt)
[ "$(echo "$ids" | sort -u | wc -l)" = 3 ] || fail "device ids are not unique"
for n in 1 2 3; do
  openssl verify -CAfile ca/root.crt -untrusted ca/factory.crt batch/devices/$n.crt >/dev/null
  cn=$(openssl x509 -in batch/devices/$n.crt -noout -subject -nameopt multiline | awk '/commonName/ {print $3}')
  echo "$ids" | grep -qx "$cn" || fail "certificate $n has CN $cn, not a device id"
done
[ "$(for n in 1 2 3; do openssl x509 -in batch/devices/$n.crt -noout -pubkey; done | sort -u | grep -vc -- -----)" -ge 3 ] ||
  fail "devices share a public key"

# The identity key cannot leave the token.
pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label line1-1 --login --pin 4321 \
  --list-objects --type privkey 2>/dev/null | grep -q 'never extractable' ||
  fail "identity key is extractable"

# Setup codes appear on the labels only.
for code in $(awk '$1 == "setup" {print $3}' labels.txt); do
  if grep -rqa -- "$code" batch tokens; then fail "setup code $code found in plain text"; fi
done

# A device is provisioned once.
expect_err IMAGO_EEXIST "$IMAGO" factory provision --ca ca --passphrase-file root.pass \
  --token 'pkcs11:token=line1-2?pin-value=4321' --count 1 --out again

# Tampered manifest, missing signature, foreign CA.
cp batch/manifest.json bad.json
cp batch/manifest.json.sig bad.json.sig
sed -i 's/line1-a/line1-b/' bad.json
expect_err IMAGO_EMANIFEST_SIG "$IMAGO" factory check --ca-certs ca bad.json
cp batch/manifest.json nosig.json
expect_err IMAGO_ENOTFOUND "$IMAGO" factory check --ca-certs ca nosig.json
"$IMAGO" ca init --dir other --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
expect_err IMAGO_EMANIFEST_SIG "$IMAGO" factory check --ca-certs other batch/manifest.json
printf '{"format": "imago-factory-manifest", "version": 1, "batch": "x", "devices": []' >broken.json
cp batch/manifest.json.sig broken.json.sig
expect_err IMAGO_EMANIFEST_FORMAT "$IMAGO" factory check --ca-certs ca broken.json
echo "factory_cli: ok"
