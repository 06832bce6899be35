#!/usr/bin/env bash
# `imago release` as the release desk runs it (docs/release.md): a root with
# 2-of-3 root keys and 2-of-3 targets keys, each holder signing on their own
# "machine" (a directory holding only their key and the metadata), combine,
# verify; the refusals (threshold not met, tampering, unauthorised key,
# duplicate, wrong version); a root rotation revoking a compromised targets key
# and replacing a root key; and an independent check of the signatures with
# python3 `cryptography` over the canonical JSON bytes.
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
expect_err() { # pattern description
  grep -q -- "$1" err.txt && ok "$2" || { bad "$2: $(cat err.txt)"; }
}
R="$IMAGO release"

# ---- command line -------------------------------------------------------------------------
expect_rc 0 "imago --help lists release" "$IMAGO" --help
grep -q "release" out.txt || bad "--help lists release"
expect_rc 0 "release --help" $R --help
for c in root targets sign combine verify; do grep -q "$c" out.txt || bad "release --help lists $c"; done
for c in "root init" "root next" "targets new" "targets add" sign combine verify; do
  # shellcheck disable=SC2086
  expect_rc 0 "release $c --help" $R $c --help
done
expect_rc 2 "release without a command" $R
expect_rc 2 "unknown release command" $R frobnicate
expect_rc 2 "unknown option" $R sign --frob x
expect_rc 2 "missing value" $R sign --key
expect_rc 2 "sign: missing args" $R sign --key k
expect_rc 2 "root init: missing keys" $R root init --out r.json --expires 10
expect_rc 2 "root init: bad --expires" $R root init --out r.json --expires 0
expect_rc 2 "verify: no META" $R verify --root r.json

# ---- keys: root r1 r2 r3, targets t1 t2 t3 (t3 P-256, encrypted), online sn ts, rogue x ------
mkdir -p desk h_r1 h_r2 h_r3 h_r4 h_t1 h_t2 h_t3 h_x
printf 'correct horse\n' > h_t3/pass.txt
for k in r1 r2 r3 r4 t1 t2 x; do "$IMAGO" keys gen --type ed25519 --out "h_$k/$k.key" >/dev/null; done
"$IMAGO" keys gen --type p256 --out h_t3/t3.key --passphrase-file h_t3/pass.txt >/dev/null
"$IMAGO" keys gen --type ed25519 --out desk/sn.key >/dev/null
"$IMAGO" keys gen --type p256 --out desk/ts.key >/dev/null
# Only public keys reach the desk.
for k in r1 r2 r3 r4 t1 t2 t3 x; do cp "h_$k/$k.key.pub" "desk/$k.pub"; done
cd desk

expect_rc 1 "root init: a key both offline (targets) and online (snapshot) refused" \
  $R root init --out bad.json --expires 30 --root-key r1.pub --root-threshold 1 \
  --targets-key t1.pub --targets-threshold 1 --snapshot-key t1.pub --timestamp-key ts.key.pub
expect_err "both an offline key" "offline/online key sharing named"
[ ! -e bad.json ] && ok "no output on error" || bad "output written on error"
expect_rc 2 "root init: threshold above the number of keys" \
  $R root init --out bad.json --expires 30 --root-key r1.pub --root-threshold 2 \
  --targets-key t1.pub --targets-threshold 1 --snapshot-key sn.key.pub --timestamp-key ts.key.pub
expect_rc 1 "root init: the same key twice in a role" \
  $R root init --out bad.json --expires 30 --root-key r1.pub --root-key r1.pub --root-threshold 1 \
  --targets-key t1.pub --targets-threshold 1 --snapshot-key sn.key.pub --timestamp-key ts.key.pub

expect_rc 0 "root init (2 of 3 root, 2 of 3 targets)" \
  $R root init --out root.json --expires 365 --consistent-snapshot \
  --root-key r1.pub --root-key r2.pub --root-key r3.pub --root-threshold 2 \
  --targets-key t1.pub --targets-key t2.pub --targets-key t3.pub --targets-threshold 2 \
  --snapshot-key sn.key.pub --timestamp-key ts.key.pub
jq -e '.signatures == [] and .signed._type == "root" and .signed.version == 1
       and .signed.consistent_snapshot == true and (.signed.keys | length) == 8
       and .signed.roles.root.threshold == 2 and (.signed.roles.targets.keyids | length) == 3
       and .signed.roles.snapshot.threshold == 1' root.json >/dev/null \
  && ok "root.json: unsigned version 1, 8 keys, thresholds" || bad "root.json: $(cat root.json)"
cp root.json root.bak
expect_rc 1 "root init never replaces a file" \
  $R root init --out root.json --expires 365 --root-key r1.pub --root-threshold 1 \
  --targets-key t1.pub --targets-threshold 1 --snapshot-key sn.key.pub --timestamp-key ts.key.pub
expect_err "IMAGO_EEXIST" "EEXIST named"
cmp -s root.json root.bak && ok "existing root.json untouched" || bad "root.json changed"

# Each root holder signs on their own machine: only root.json goes there, only the .sig comes back.
cd ..
for h in r1 r2 r3; do
  cp desk/root.json "h_$h/"
  (cd "h_$h" && "$IMAGO" release sign --key "$h.key" --in root.json --out "$h-root1.sig" >out.txt) \
    && ok "holder $h signs root v1" || bad "holder $h signs root v1"
  cp "h_$h/$h-root1.sig" desk/
done
grep -q "signed part sha256" h_r1/out.txt && ok "sign prints the digest to compare" || bad "no digest"
cd desk
expect_rc 0 "combine root (r1 r2)" $R combine --in root.json --sig r1-root1.sig --sig r2-root1.sig --out root-1.json
grep -q "2 of threshold 2" out.txt && ok "combine counts against the threshold" || bad "$(cat out.txt)"
expect_rc 0 "verify root v1" $R verify --root root-1.json root-1.json
grep -q "verified" out.txt || bad "verify output: $(cat out.txt)"

# ---- targets --------------------------------------------------------------------------------
head -c 100000 /dev/urandom > fw-1.2.0.bin
head -c 5000 /dev/urandom > base.bin
BASE=$(sha256sum base.bin | cut -d' ' -f1)
expect_rc 0 "targets new" $R targets new --out t0.json --version 1 --expires 30
expect_rc 2 "targets add: bad name" $R targets add --in t0.json --out x.json --name ../etc/passwd --file fw-1.2.0.bin
expect_rc 2 "targets add: bad base hash" $R targets add --in t0.json --out x.json --name a --file fw-1.2.0.bin --base-sha256 abc
expect_rc 1 "targets add: missing file" $R targets add --in t0.json --out x.json --name a --file nope.bin
expect_rc 0 "targets add with custom" $R targets add --in t0.json --out t1.json --name fw/thermo-1.2.0.bin \
  --file fw-1.2.0.bin --hardware-id thermo-v2 --version 1.2.0 --security-counter 3 --base-sha256 "$BASE"
expect_rc 0 "targets add a second" $R targets add --in t1.json --out targets.json --name fw/base.bin --file base.bin
expect_rc 1 "targets add: name listed already" $R targets add --in targets.json --out x.json --name fw/base.bin --file base.bin
SHA256=$(sha256sum fw-1.2.0.bin | cut -d' ' -f1)
SHA512=$(sha512sum fw-1.2.0.bin | cut -d' ' -f1)
jq -e --arg a "$SHA256" --arg b "$SHA512" --arg base "$BASE" '
  .signed.targets["fw/thermo-1.2.0.bin"] == {length: 100000, hashes: {sha256: $a, sha512: $b},
    custom: {hardware_id: "thermo-v2", version: "1.2.0", security_counter: 3, base_sha256: $base}}
  and .signed._type == "targets" and .signed.version == 1 and .signatures == []' targets.json >/dev/null \
  && ok "target entry: length, sha256, sha512, custom" || bad "targets.json: $(cat targets.json)"

# --delta-of: target_sha256/target_length (and hardware_id/version/security_counter) from the full target
head -c 3000 /dev/urandom > thermo.delta
DSHA=$(sha256sum thermo.delta | cut -d' ' -f1)
DNAME="fw/base.bin.from-${BASE:0:16}.zst"
expect_rc 2 "targets add --delta-of without --base-sha256" $R targets add --in targets.json --out d.json \
  --name "$DNAME" --file thermo.delta --delta-of fw/base.bin
expect_rc 1 "targets add --delta-of an unknown target" $R targets add --in targets.json --out d.json \
  --name "$DNAME" --file thermo.delta --delta-of fw/nope.bin --base-sha256 "$BASE"
expect_err "no such target" "unknown --delta-of named"
expect_rc 1 "targets add --delta-of a delta" $R targets add --in targets.json --out d.json \
  --name "$DNAME" --file thermo.delta --delta-of fw/thermo-1.2.0.bin --base-sha256 "$BASE"
expect_err "itself a delta" "delta of a delta refused"
[ ! -e d.json ] && ok "no output on --delta-of errors" || bad "d.json written on error"
cp targets.json tfull.json
jq '.signed.targets["fw/base.bin"].custom = {hardware_id: "thermo-v2", version: "1.3.0", security_counter: 4}' \
  tfull.json > tfull2.json
expect_rc 1 "targets add --delta-of: a different version refused" $R targets add --in tfull2.json --out d.json \
  --name "$DNAME" --file thermo.delta --delta-of fw/base.bin --base-sha256 "$BASE" --version 9.9
expect_rc 0 "targets add --delta-of" $R targets add --in tfull2.json --out d.json \
  --name "$DNAME" --file thermo.delta --delta-of fw/base.bin --base-sha256 "$BASE"
grep -q "warning" err.txt && bad "warning for a conventional delta name: $(cat err.txt)" || ok "conventional delta name: no warning"
FSHA=$(sha256sum base.bin | cut -d' ' -f1)
jq -e --arg n "$DNAME" --arg d "$DSHA" --arg f "$FSHA" --arg base "$BASE" '
  .signed.targets[$n].length == 3000 and .signed.targets[$n].hashes.sha256 == $d
  and .signed.targets[$n].custom == {hardware_id: "thermo-v2", version: "1.3.0", security_counter: 4,
    base_sha256: $base, target_sha256: $f, target_length: 5000}' d.json >/dev/null \
  && ok "delta entry: target_sha256/target_length from the full target" || bad "d.json: $(cat d.json)"
expect_rc 0 "targets add --delta-of with an unconventional name" $R targets add --in tfull2.json --out d2.json \
  --name fw/odd.delta --file thermo.delta --delta-of fw/base.bin --base-sha256 "$BASE"
expect_err "warning: delta 'fw/odd.delta' does not follow" "unconventional delta name warned"
rm -f d.json d2.json tfull.json tfull2.json

cd ..
for h in t1 t2 t3; do
  cp desk/targets.json "h_$h/"
  extra=()
  [ "$h" = t3 ] && extra=(--passphrase-file pass.txt)
  (cd "h_$h" && "$IMAGO" release sign --key "$h.key" "${extra[@]}" --in targets.json --out "$h.sig" >/dev/null) \
    && ok "holder $h signs targets" || bad "holder $h signs targets"
  cp "h_$h/$h.sig" desk/
done
(cd h_t3 && "$IMAGO" release sign --key t3.key --in targets.json --out nopass.sig >/dev/null 2>err.txt) \
  && bad "encrypted key without passphrase" || grep -q IMAGO_EKEY_PASSPHRASE h_t3/err.txt && ok "encrypted key needs its passphrase"
cp desk/targets.json h_x/
(cd h_x && "$IMAGO" release sign --key x.key --in targets.json --out x.sig >/dev/null)
cp h_x/x.sig desk/
cd desk

expect_rc 0 "combine targets 2 of 3 (t1 t3)" $R combine --root root-1.json --in targets.json --sig t1.sig --sig t3.sig --out targets-2of3.json
expect_rc 0 "verify 2 of 3" $R verify --root root-1.json targets-2of3.json
grep -q "2 of threshold 2 valid signatures by the targets keys" out.txt && ok "verify shows the count" || bad "$(cat out.txt)"
expect_rc 0 "combine targets 3 of 3 in two steps" $R combine --root root-1.json --in targets-2of3.json --sig t2.sig --out targets-3of3.json
[ "$(jq '.signatures | length' targets-3of3.json)" = 3 ] && ok "3 signatures" || bad "3 of 3"
expect_rc 0 "verify 3 of 3" $R verify --root root-1.json targets-3of3.json

# attack_threshold_not_met
expect_rc 0 "combine 1 of 3 (the desk may collect in steps)" $R combine --root root-1.json --in targets.json --sig t2.sig --out targets-1of3.json
grep -q "below threshold" out.txt && ok "combine says below threshold" || bad "$(cat out.txt)"
expect_rc 1 "attack_threshold_not_met: verify 1 of 3" $R verify --root root-1.json targets-1of3.json
expect_err "IMAGO_ETUF_THRESHOLD" "attack_threshold_not_met: ETUF_THRESHOLD named"

# refusals of combine: no output file in any of them
expect_rc 1 "combine refuses a key not authorised for targets" $R combine --root root-1.json --in targets.json --sig t1.sig --sig x.sig --out refused.json
expect_err "is not authorised to sign targets" "unauthorised key named"
expect_rc 1 "combine refuses a root key signing targets" $R combine --root root-1.json --in targets.json --sig r1-root1.sig --out refused.json
expect_rc 1 "combine refuses the same signature twice" $R combine --root root-1.json --in targets.json --sig t1.sig --sig t1.sig --out refused.json
expect_err "a second signature by key" "duplicate named"
expect_rc 1 "combine refuses a signature already in the file" $R combine --root root-1.json --in targets-2of3.json --sig t1.sig --out refused.json
expect_rc 1 "combine refuses a signature of other metadata" $R combine --root root-1.json --in t1.json --sig t1.sig --out refused.json
expect_err "does not verify" "bad signature named"
expect_rc 2 "combine targets without --root" $R combine --in targets.json --sig t1.sig --out refused.json
jq '.sig = "00" + .sig[2:]' t2.sig > t2-bad.sig
expect_rc 1 "combine refuses a corrupted signature" $R combine --root root-1.json --in targets.json --sig t2-bad.sig --out refused.json
[ ! -e refused.json ] && ok "nothing written when combine refuses" || bad "refused.json written"
expect_rc 1 "combine never replaces its output" $R combine --root root-1.json --in targets.json --sig t1.sig --sig t3.sig --out targets-2of3.json
expect_rc 0 "combine --force replaces it" $R combine --root root-1.json --in targets.json --sig t1.sig --sig t3.sig --out targets-2of3.json --force

# tampered signed part (the image hash swapped after signing)
jq '.signed.targets["fw/thermo-1.2.0.bin"].hashes.sha256 = "'"$BASE"'"' targets-3of3.json > tampered.json
expect_rc 1 "tampered signed part fails verify" $R verify --root root-1.json tampered.json
expect_err "IMAGO_ETUF_THRESHOLD" "tampering: ETUF_THRESHOLD"
grep -q "0 of threshold 2" out.txt && ok "no signature survives tampering" || bad "$(cat out.txt)"
# malformed input: strict parsing
jq '.signed.extra = 1 | .signed.version = 1.5' targets.json > float.json
expect_rc 1 "a real number in metadata refused" $R verify --root root-1.json float.json
printf '{"signed":{},"signed":{},"signatures":[]}' > dup.json
expect_rc 1 "duplicate keys refused" $R verify --root root-1.json dup.json
# strict reading: each of these is refused (exit 1) and named IMAGO_ETUF_FORMAT or IMAGO_EMALFORMED
strict_bad() { # description jq-filter file
  jq "$2" "$3" > strict.json
  expect_rc 1 "strict: $1" $R verify --root root-1.json strict.json
  grep -q "IMAGO_ETUF_FORMAT\|IMAGO_EMALFORMED" err.txt || bad "strict: $1: $(cat err.txt)"
}
strict_bad "extra top-level member" '.extra = 1' targets-2of3.json
strict_bad "signatures not an array" '.signatures = {}' targets-2of3.json
strict_bad "upper-case key id" '.signatures[0].keyid |= ascii_upcase' targets-2of3.json
strict_bad "signature with an extra member" '.signatures[0].x = 1' targets-2of3.json
strict_bad "two signatures by one key" '.signatures[1] = .signatures[0]' targets-2of3.json
strict_bad "unknown _type" '.signed._type = "mirrors"' targets-2of3.json
strict_bad "spec_version 2" '.signed.spec_version = "2.0.0"' targets-2of3.json
strict_bad "version 0" '.signed.version = 0' targets-2of3.json
strict_bad "expires without Z" '.signed.expires |= rtrimstr("Z")' targets-2of3.json
strict_bad "root: threshold 0" '.signed.roles.root.threshold = 0' root-1.json
strict_bad "root: threshold above its keys" '.signed.roles.snapshot.threshold = 2' root-1.json
strict_bad "root: a key id that is not its key's hash" '.signed.keys |= with_entries(.key |= (.[1:] + "0"))' root-1.json
strict_bad "root: a role lists an unknown key" '.signed.roles.timestamp.keyids = ["'"$(printf '%064d' 0)"'"]' root-1.json
strict_bad "root: a fifth role" '.signed.roles.mirror = .signed.roles.root' root-1.json
strict_bad "root: a role without keyids" '.signed.roles.targets |= del(.keyids)' root-1.json
head -c 40000000 /dev/zero > huge.json
expect_rc 1 "strict: a file over the size limit" $R verify --root root-1.json huge.json
expect_err "IMAGO_ETOOBIG" "ETOOBIG named"
rm -f huge.json
expect_rc 1 "a signature file that is not one" $R combine --root root-1.json --in targets.json --sig targets.json --out refused.json

# expired metadata
jq '.signed.expires = "2020-01-01T00:00:00Z"' targets.json > old.json
expect_rc 0 "sign expired metadata" "$IMAGO" release sign --key ../h_t1/t1.key --in old.json --out o1.sig
expect_err "has expired" "sign warns that the metadata has expired"
"$IMAGO" release sign --key ../h_t2/t2.key --in old.json --out o2.sig >/dev/null 2>&1
expect_rc 0 "combine expired metadata" $R combine --root root-1.json --in old.json --sig o1.sig --sig o2.sig --out old-signed.json
expect_rc 1 "verify refuses expired metadata" $R verify --root root-1.json old-signed.json
expect_err "IMAGO_ETUF_EXPIRED" "ETUF_EXPIRED named"

# ---- independent check: python3 cryptography over the canonical JSON bytes ------------------
python3 - targets-2of3.json root-1.json <<'EOF' >py.txt 2>&1 && ok "python3 cryptography verifies ed25519 and ecdsa signatures over canonical JSON" || { bad "python check"; cat py.txt; }
import json, sys, hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes, serialization
meta = json.load(open(sys.argv[1])); root = json.load(open(sys.argv[2]))
def canonical(o):  # securesystemslib encode_canonical: only '"' and '\\' escaped, keys sorted
    if isinstance(o, bool): return b"true" if o else b"false"
    if o is None: return b"null"
    if isinstance(o, int): return str(o).encode()
    if isinstance(o, str): return b'"' + o.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8") + b'"'
    if isinstance(o, list): return b"[" + b",".join(canonical(x) for x in o) + b"]"
    if isinstance(o, dict):
        return b"{" + b",".join(canonical(k) + b":" + canonical(o[k]) for k in sorted(o)) + b"}"
    raise SystemExit("not canonical: %r" % (o,))
data = canonical(meta["signed"])
kinds = set()
for s in meta["signatures"]:
    key = root["signed"]["keys"][s["keyid"]]
    assert hashlib.sha256(canonical(key)).hexdigest() == s["keyid"], "keyid"
    sig = bytes.fromhex(s["sig"])
    if key["scheme"] == "ed25519":
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["keyval"]["public"])).verify(sig, data)
    elif key["scheme"] == "ecdsa-sha2-nistp256":
        serialization.load_pem_public_key(key["keyval"]["public"].encode()).verify(sig, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise SystemExit("scheme " + key["scheme"])
    kinds.add(key["scheme"])
assert kinds == {"ed25519", "ecdsa-sha2-nistp256"}, kinds
bad = bytearray(data); bad[10] ^= 1
try:
    s = [s for s in meta["signatures"] if root["signed"]["keys"][s["keyid"]]["scheme"] == "ed25519"][0]
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(root["signed"]["keys"][s["keyid"]]["keyval"]["public"])).verify(bytes.fromhex(s["sig"]), bytes(bad))
    raise SystemExit("tampered bytes verified")
except Exception as e:
    if "tampered" in str(e): raise
print("ok")
EOF

# ---- root rotation: t1 compromised and revoked, root key r3 replaced by r4 -----------------
expect_rc 2 "root next: unknown role" $R root next --from root-1.json --out root2.json --remove-key bogus t1.pub
expect_rc 1 "root next: removing a key the role does not list" $R root next --from root-1.json --out root2.json --remove-key root t1.pub
expect_rc 1 "root next: a role left unsignable" $R root next --from root-1.json --out root2.json --threshold targets 4
[ ! -e root2.json ] && ok "nothing written" || bad "root2.json written"
T1ID=$(jq -r '.keyid' t1.sig)
expect_rc 0 "root next: revoke t1 (by key id), replace r3 by r4" $R root next --from root-1.json --out root2.json \
  --remove-key targets "$T1ID" --remove-key root r3.pub --add-key root r4.pub --expires 365
grep -q "sign it with 2 of the root keys of version 1 AND 2 of the root keys of version 2" out.txt \
  && ok "root next says both thresholds are needed" || bad "$(cat out.txt)"
jq -e --arg t1 "$T1ID" '.signed.version == 2 and .signatures == [] and (.signed.keys | has($t1) | not)
     and (.signed.roles.targets.keyids | index($t1) == null) and (.signed.roles.root.keyids | length) == 3' root2.json >/dev/null \
  && ok "root2: version 2, t1 gone from keys and targets" || bad "root2: $(cat root2.json)"
cd ..
for h in r2 r3 r4; do
  cp desk/root2.json "h_$h/"
  (cd "h_$h" && "$IMAGO" release sign --key "$h.key" --in root2.json --out "$h-root2.sig" >/dev/null)
  cp "h_$h/$h-root2.sig" desk/
done
cd desk
expect_rc 1 "combine root2: the old root's r3 refused without --prev-root" $R combine --in root2.json --sig r2-root2.sig --sig r3-root2.sig --out root-2.json
expect_err "nor the previous root\|not authorised" "unauthorised old key named"
expect_rc 0 "combine root2 (r2 r3 r4) with --prev-root" $R combine --in root2.json --prev-root root-1.json \
  --sig r2-root2.sig --sig r3-root2.sig --sig r4-root2.sig --out root-2.json
grep -q "2 of threshold 2 valid from the root keys of this root" out.txt && grep -q "2 of threshold 2 valid from the root keys of the previous root" out.txt \
  && ok "combine counts both thresholds" || bad "$(cat out.txt)"
expect_rc 0 "verify the rotation (old and new thresholds)" $R verify --root root-1.json root-2.json
expect_rc 0 "verify root-2 with --prev-root" $R verify --root root-2.json --prev-root root-1.json root-2.json
# Only new keys: r2 r4 meet the new threshold but only 1 of the old root's.
expect_rc 0 "combine root2 signed by the new keys only" $R combine --in root2.json --prev-root root-1.json \
  --sig r2-root2.sig --sig r4-root2.sig --out root-2-newonly.json
expect_rc 1 "a new root without the old threshold fails verify" $R verify --root root-1.json root-2-newonly.json
expect_err "IMAGO_ETUF_THRESHOLD" "old threshold missing: ETUF_THRESHOLD"
# Only old keys: r2 r3 meet the old threshold but only 1 of the new root's.
expect_rc 0 "combine root2 signed by the old keys only" $R combine --in root2.json --prev-root root-1.json \
  --sig r2-root2.sig --sig r3-root2.sig --out root-2-oldonly.json
expect_rc 1 "a new root without its own threshold fails verify" $R verify --root root-1.json root-2-oldonly.json
expect_rc 1 "a root skipping a version fails" $R verify --root root-1.json --prev-root root-2.json root-1.json

# attack_key_revoked_by_root_rotation
expect_rc 1 "attack_key_revoked_by_root_rotation: targets signed with t1 + t3 fail under root v2" \
  $R verify --root root-2.json targets-2of3.json
expect_err "IMAGO_ETUF_THRESHOLD" "revoked key does not count"
grep -q "1 of threshold 2" out.txt && ok "only t3 counts" || bad "$(cat out.txt)"
expect_rc 1 "attack_key_revoked_by_root_rotation: combine refuses the revoked key" \
  $R combine --root root-2.json --in targets.json --sig t1.sig --sig t2.sig --out refused.json
expect_err "is not authorised" "revoked key refused by combine"
expect_rc 0 "targets with the remaining keys (t2 t3) verify under root v2" \
  $R combine --root root-2.json --in targets.json --sig t2.sig --sig t3.sig --out targets-v2root.json
expect_rc 0 "verify" $R verify --root root-2.json targets-v2root.json

# ---- imago-tuf (the device's TUF client) accepts a repository made with these commands --------
# snapshot and timestamp are written here with jq and signed with `imago release sign` and the
# online keys (imago-cloud's job in production).
if [ -x "$IMAGO_BIN/imago-tuf" ]; then
  TUF="$IMAGO_BIN/imago-tuf"
  EXP=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
  online() { # role version meta-json out
    local b; b=$(basename "$4")
    jq -n --arg t "$1" --argjson v "$2" --arg e "$EXP" --argjson m "$3" \
      '{signed: {_type: $t, spec_version: "1.0.31", version: $v, expires: $e, meta: $m}, signatures: []}' > "u-$b"
    "$IMAGO" release sign --key "$([ "$1" = snapshot ] && echo sn.key || echo ts.key)" --in "u-$b" --out "s-$b" --force >/dev/null &&
      "$IMAGO" release combine --root root-2.json --in "u-$b" --sig "s-$b" --out "$4" --force >/dev/null
  }
  mkdir -p repo/metadata repo/targets/fw client/md client/out
  cp root-1.json repo/metadata/1.root.json
  cp root-2.json repo/metadata/2.root.json
  cp targets-v2root.json repo/metadata/1.targets.json
  online snapshot 1 '{"targets.json": {"version": 1}}' repo/metadata/1.snapshot.json &&
    online timestamp 1 '{"snapshot.json": {"version": 1}}' repo/metadata/timestamp.json &&
    ok "snapshot and timestamp signed with imago release sign" || bad "snapshot/timestamp"
  cp fw-1.2.0.bin "repo/targets/fw/$SHA256.thermo-1.2.0.bin"
  cp fw-1.2.0.bin "repo/targets/fw/$SHA512.thermo-1.2.0.bin"
  # shellcheck source=lib/common.bash
  . "$IMAGO_SRC/tests/integration/lib/common.bash"
  spid=
  trap 'if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi; rm -rf "$T"' EXIT
  http_serve repo http.log || bad "http.server did not start"
  U="http://127.0.0.1:$sport"
  expect_rc 0 "imago-tuf init with root v1" "$TUF" --metadata-dir client/md init root-1.json
  expect_rc 0 "imago-tuf refresh: root chain 1 -> 2, timestamp, snapshot, targets" \
    "$TUF" --metadata-dir client/md --metadata-url "$U/metadata/" refresh
  jq -e '.signed.version == 2' client/md/root.json >/dev/null && ok "client trusts root v2" || bad "client root"
  expect_rc 0 "imago-tuf downloads the target" "$TUF" --metadata-dir client/md --metadata-url "$U/metadata/" \
    --target-name fw/thermo-1.2.0.bin --target-base-url "$U/targets/" --target-dir client/out download
  found=$(find client/out -type f -name '*thermo-1.2.0.bin' | head -1)
  [ -n "$found" ] && cmp -s "$found" fw-1.2.0.bin && ok "downloaded image matches" || bad "downloaded image: $(ls -R client/out)"
  # The server publishes targets v2 signed with the revoked t1 (+ t3): the client refuses it.
  jq '.signed.version = 2' targets.json > t-v2.json
  "$IMAGO" release sign --key ../h_t1/t1.key --in t-v2.json --out v2t1.sig >/dev/null
  "$IMAGO" release sign --key ../h_t3/t3.key --passphrase-file ../h_t3/pass.txt --in t-v2.json --out v2t3.sig >/dev/null
  jq --slurpfile a v2t1.sig --slurpfile b v2t3.sig '.signatures = [$a[0], $b[0]]' t-v2.json > repo/metadata/2.targets.json
  online snapshot 2 '{"targets.json": {"version": 2}}' repo/metadata/2.snapshot.json
  online timestamp 2 '{"snapshot.json": {"version": 2}}' timestamp-2.json && cp timestamp-2.json repo/metadata/timestamp.json
  expect_rc 1 "attack_key_revoked_by_root_rotation: imago-tuf refuses targets signed with the revoked key" \
    "$TUF" --metadata-dir client/md --metadata-url "$U/metadata/" refresh
  grep -q "IMAGO_ETUF_THRESHOLD" err.txt && ok "the client names the threshold" || bad "client error: $(cat err.txt)"
  jq -e '.signed.version == 1' client/md/targets.json >/dev/null && ok "client keeps targets v1" || bad "client targets changed"
  # The same targets v2 signed with t2 + t3 instead: accepted (the refusal was the revoked key).
  "$IMAGO" release sign --key ../h_t2/t2.key --in t-v2.json --out v2t2.sig >/dev/null
  rm -f repo/metadata/2.targets.json
  "$IMAGO" release combine --root root-2.json --in t-v2.json --sig v2t2.sig --sig v2t3.sig --out repo/metadata/2.targets.json >/dev/null
  expect_rc 0 "imago-tuf accepts targets v2 signed by the remaining keys" \
    "$TUF" --metadata-dir client/md --metadata-url "$U/metadata/" refresh
  jq -e '.signed.version == 2' client/md/targets.json >/dev/null && ok "client trusts targets v2" || bad "client targets v2"
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=
else
  echo "skip imago-tuf checks (no $IMAGO_BIN/imago-tuf)"
fi

ls ./*.tmp.* >/dev/null 2>&1 && bad "temporary file left" || ok "no temporary files left"
exit $fail
