#!/usr/bin/env bash
# imago ca issue: each profile from its own CA, CN rules, CSR checks, refusals.
set -euo pipefail
IMAGO=${IMAGO_BIN:?}/imago
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "ca_issue: FAIL: $*" >&2; exit 1; }
expect_err() {
  local want=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "$* succeeded; expected $want"; fi
  grep -q "($want)" err.txt || { cat err.txt >&2; fail "$*: expected $want"; }
}
printf 'root pass\n' >root.pass
printf 'cloud pass\n' >cloud.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
"$IMAGO" keys gen --type p256 --out dev.key >/dev/null
id=$(openssl pkey -pubin -in dev.key.pub -outform DER | sha256sum | cut -c1-32)

"$IMAGO" ca issue --ca ca --passphrase-file root.pass --profile birth --key dev.key.pub --out birth.pem >/dev/null
openssl verify -CAfile ca/root.crt -untrusted ca/factory.crt -purpose sslclient birth.pem >/dev/null
openssl x509 -in birth.pem -noout -subject | grep -q "CN *= *$id" || fail "birth CN is not the device id $id"
openssl x509 -in birth.pem -noout -subject | grep -q "OU *= *birth" || fail "birth OU"

# The device profile comes only from the issuing CA, under the cloud passphrase.
expect_err IMAGO_EKEY_PASSPHRASE "$IMAGO" ca issue --ca ca --passphrase-file root.pass --profile device --key dev.key.pub --out d.pem
openssl req -new -key dev.key -subj "/CN=$id" -out good.csr 2>/dev/null
"$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile device --csr good.csr --out device.pem >/dev/null
openssl verify -CAfile ca/root.crt -untrusted ca/issuing.crt device.pem >/dev/null
cmp <(openssl x509 -in device.pem -noout -pubkey) dev.key.pub || fail "device cert does not carry the CSR key"

# CN must be the key's device id; a CSR must verify.
openssl req -new -key dev.key -subj "/CN=ffffffffffffffffffffffffffffffff" -out other.csr 2>/dev/null
expect_err IMAGO_EPKI_NAME "$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile device --csr other.csr --out x.pem
expect_err IMAGO_EPKI_NAME "$IMAGO" ca issue --ca ca --passphrase-file root.pass --profile birth --key dev.key.pub --cn 0123 --out x.pem
openssl req -new -key dev.key -subj "/CN=$id" -outform DER -out raw.der 2>/dev/null
len=$(stat -c %s raw.der)
printf '\x01' | dd of=raw.der bs=1 seek=$((len - 3)) conv=notrunc status=none
openssl req -inform DER -in raw.der -out bad.csr 2>/dev/null
expect_err IMAGO_EIMG_SIG_BAD "$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile device --csr bad.csr --out x.pem
[ ! -e x.pem ] || fail "a refused request left a certificate"

# Server certificates need names, and name constraints hold them to the permitted ones.
if "$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile server --key dev.key.pub --cn broker --out s.pem 2>/dev/null; then
  fail "server certificate without --name"
fi
"$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile server --key dev.key.pub --cn broker \
  --name 127.0.0.1 --name localhost --out server.pem >/dev/null
openssl verify -CAfile ca/root.crt -untrusted ca/server-ca.crt -purpose sslserver server.pem >/dev/null
"$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile server --key dev.key.pub --cn evil \
  --name bank.example.com --out evil.pem >/dev/null
if openssl verify -CAfile ca/root.crt -untrusted ca/server-ca.crt evil.pem >/dev/null 2>&1; then
  fail "name constraints did not stop a foreign server name"
fi
"$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile service --key dev.key.pub --cn imago-cloud --out svc.pem >/dev/null
openssl x509 -in svc.pem -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication' || fail "service EKU"
expect_err IMAGO_EEXIST "$IMAGO" ca issue --ca ca --passphrase-file cloud.pass --profile service --key dev.key.pub --cn imago-cloud --out svc.pem
echo "ca_issue: ok"
