#!/usr/bin/env bash
# imago_tuf against an independent implementation: test_tuf_core writes an ed25519 and an
# ecdsa-sha2-nistp256 signed document (key object, signed object, signature); Python (the
# `cryptography` package, no securesystemslib) rebuilds the canonical JSON the way
# securesystemslib.formats.encode_canonical does, checks the key id (SHA-256 of the canonical
# key object) and verifies the signature; then a flipped byte of the signed object must fail.
set -euo pipefail
B=${IMAGO_BIN:?}
T=$B/tests/test_tuf_core
[ -x "$T" ] || T=$B/test_tuf_core
[ -x "$T" ] || { echo "tuf_crosscheck: test_tuf_core not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "tuf_crosscheck: python3 missing" >&2; exit 1; }
python3 -c 'import cryptography' || { echo "tuf_crosscheck: python3 cryptography missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TUF_CROSSCHECK_DIR=$work "$T" >"$work/test.log" 2>&1 || { cat "$work/test.log" >&2; exit 1; }
for f in ed25519 ecdsa; do
  [ -s "$work/$f.json" ] || { echo "tuf_crosscheck: FAIL: $f.json not written" >&2; exit 1; }
done
python3 - "$work" <<'PY'
import hashlib, json, re, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

def canon(o):
    # securesystemslib.formats.encode_canonical, rewritten
    if isinstance(o, str):
        return '"%s"' % re.sub(r'(["\\])', r'\\\1', o)
    if o is True:
        return "true"
    if o is False:
        return "false"
    if o is None:
        return "null"
    if isinstance(o, int):
        return str(o)
    if isinstance(o, list):
        return "[" + ",".join(canon(x) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ",".join(canon(k) + ":" + canon(v) for k, v in sorted(o.items())) + "}"
    raise ValueError("not canonical: %r" % (o,))

def verify(key, sig_hex, data):
    sig = bytes.fromhex(sig_hex)
    if key["keytype"] == "ed25519" and key["scheme"] == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["keyval"]["public"])).verify(sig, data)
    elif key["keytype"] in ("ecdsa", "ecdsa-sha2-nistp256") and key["scheme"] == "ecdsa-sha2-nistp256":
        pub = serialization.load_pem_public_key(key["keyval"]["public"].encode())
        assert isinstance(pub.curve, ec.SECP256R1)
        pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise ValueError("unexpected key " + key["keytype"])

d = sys.argv[1]
for name in ("ed25519", "ecdsa"):
    doc = json.load(open("%s/%s.json" % (d, name), encoding="utf-8"))
    key, signed, sig = doc["key"], doc["signed"], doc["signature"]
    keyid = hashlib.sha256(canon(key).encode("utf-8")).hexdigest()
    if keyid != sig["keyid"]:
        sys.exit("tuf_crosscheck: FAIL: %s key id %s, python computes %s" % (name, sig["keyid"], keyid))
    data = canon(signed).encode("utf-8")
    try:
        verify(key, sig["sig"], data)
    except InvalidSignature:
        sys.exit("tuf_crosscheck: FAIL: %s signature does not verify in python" % name)
    signed["version"] += 1
    try:
        verify(key, sig["sig"], canon(signed).encode("utf-8"))
        sys.exit("tuf_crosscheck: FAIL: %s signature verifies over other bytes" % name)
    except InvalidSignature:
        pass
    print("tuf_crosscheck: ok: %s (key id and signature verified by python cryptography)" % name)
PY
