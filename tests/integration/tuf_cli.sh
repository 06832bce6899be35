#!/usr/bin/env bash
# imago-tuf as TUF conformance tooling drives it: a repository generated here (python3 +
# cryptography, ed25519 keys made in the test, consistent snapshots), served by
# `python3 -m http.server` on 127.0.0.1, then init / refresh / download, a root rotation, and
# bad metadata swapped in (tampered target, foreign signature, rollback, expiry, endless data):
# each refused with exit 1 and the trusted files left as they were.
set -euo pipefail
B=${IMAGO_BIN:?}
SRC=${IMAGO_SRC:?}
. "$SRC/tests/integration/lib/common.bash"
T=$(mktemp -d /tmp/imago-tuf-cli-XXXXXX)
spid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }

cat >gen.py <<'EOF'
# A small TUF repository generator: state in keys.json, metadata in repo/metadata, targets in
# repo/targets (consistent snapshots: N.snapshot.json, N.targets.json, HASH.NAME).
import hashlib, json, os, sys, datetime
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as ser

D = sys.argv[2]
M = os.path.join(D, "repo", "metadata")
TG = os.path.join(D, "repo", "targets")
STATE = os.path.join(D, "state.json")

def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def newkey():
    return Ed25519PrivateKey.generate().private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption()).hex()

def keyobj(h):
    pub = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(h)).public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw).hex()
    return {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub}}

def keyid(h):
    return hashlib.sha256(canon(keyobj(h))).hexdigest()

def sign(signed, keys):
    sigs = [{"keyid": keyid(k), "sig": Ed25519PrivateKey.from_private_bytes(bytes.fromhex(k)).sign(canon(signed)).hex()} for k in keys]
    return json.dumps({"signed": signed, "signatures": sigs}, indent=1).encode()

def exp(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def root(s, signers):
    K = s["keys"]
    roles = {r: {"keyids": [keyid(K[r])], "threshold": 1} for r in ("root", "timestamp", "snapshot", "targets")}
    keys = {keyid(K[r]): keyobj(K[r]) for r in roles}
    signed = {"_type": "root", "spec_version": "1.0.31", "version": s["root_v"], "expires": exp(365),
              "consistent_snapshot": True, "keys": keys, "roles": roles}
    b = sign(signed, signers)
    put(os.path.join(M, "%d.root.json" % s["root_v"]), b)

def publish(s, ts_key=None, ts_expires=30):
    tmap = {}
    for name, content in s["targets"].items():
        data = content.encode()
        h = hashlib.sha256(data).hexdigest()
        tmap[name] = {"length": len(data), "hashes": {"sha256": h}}
        d, _, base = name.rpartition("/")
        put(os.path.join(TG, d, "%s.%s" % (h, base)), data)
    tg = {"_type": "targets", "spec_version": "1.0.31", "version": s["v"], "expires": exp(90), "targets": tmap}
    put(os.path.join(M, "%d.targets.json" % s["v"]), sign(tg, [s["keys"]["targets"]]))
    sn = {"_type": "snapshot", "spec_version": "1.0.31", "version": s["v"], "expires": exp(30),
          "meta": {"targets.json": {"version": s["v"]}}}
    snb = sign(sn, [s["keys"]["snapshot"]])
    put(os.path.join(M, "%d.snapshot.json" % s["v"]), snb)
    ts = {"_type": "timestamp", "spec_version": "1.0.31", "version": s["v"], "expires": exp(ts_expires),
          "meta": {"snapshot.json": {"version": s["v"], "length": len(snb),
                                     "hashes": {"sha256": hashlib.sha256(snb).hexdigest()}}}}
    put(os.path.join(M, "timestamp.json"), sign(ts, [ts_key or s["keys"]["timestamp"]]))

def load():
    with open(STATE) as f:
        return json.load(f)

def save(s):
    with open(STATE, "w") as f:
        json.dump(s, f)

cmd = sys.argv[1]
if cmd == "init":
    s = {"keys": {r: newkey() for r in ("root", "timestamp", "snapshot", "targets")},
         "root_v": 1, "v": 1, "targets": {"file.txt": "hello, world\n", "dir/fw.bin": "firmware v1"}}
    root(s, [s["keys"]["root"]])
    put(os.path.join(M, "root.json"), open(os.path.join(M, "1.root.json"), "rb").read())
    publish(s)
    save(s)
elif cmd == "release":          # a new version of everything, one more target
    s = load(); s["v"] += 1
    s["targets"]["dir/fw.bin"] = "firmware v%d" % s["v"]
    s["targets"]["other.bin"] = "other %d" % s["v"]
    publish(s); save(s)
elif cmd == "rotate-root":      # root v+1 with a new root key, signed by the old and the new
    s = load(); old = s["keys"]["root"]; s["keys"]["root"] = newkey(); s["root_v"] += 1
    root(s, [old, s["keys"]["root"]]); save(s)
elif cmd == "foreign-timestamp":  # a timestamp signed by a key the root does not list
    s = load(); s["v"] += 1; publish(s, ts_key=newkey()); save(s)
elif cmd == "expired-timestamp":
    s = load(); s["v"] += 1; publish(s, ts_expires=-1); save(s)
elif cmd == "short-timestamp":  # valid, expires in 2 days (for the faketime check)
    s = load(); s["v"] += 1; publish(s, ts_expires=2); save(s)
elif cmd == "tamper":           # replace a target's bytes under its hash name
    s = load(); name = sys.argv[3]; data = s["targets"][name].encode()
    h = hashlib.sha256(data).hexdigest(); d, _, base = name.rpartition("/")
    put(os.path.join(TG, d, "%s.%s" % (h, base)), b"X" * len(data))
else:
    sys.exit("unknown command " + cmd)
EOF

python3 gen.py init "$T"
M=repo/metadata

# Serve the repository (lib/common.bash: retried on a port collision).
http_serve "$T/repo" server.log || fail "http.server did not start"
port=$sport
URL=http://127.0.0.1:$port

TUF="$B/imago-tuf"
MD=$T/md
TD=$T/tgt
mkdir -p "$MD" "$TD"
refresh() { "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" refresh; }
download() {
  local a=()
  for n in "$@"; do a+=(--target-name "$n"); done
  "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" "${a[@]}" \
    --target-base-url "$URL/targets/" --target-dir "$TD" download
}
expect1() { # expect1 WHAT CMD...: exit status exactly 1
  local rc=0
  "${@:2}" 2>>client.err || rc=$?
  [ $rc = 1 ] || fail "$1: exit $rc, want 1"
  ok "$1 refused (exit 1)"
}

# (ldd's output captured first: with pipefail, grep -q quitting early would SIGPIPE ldd)
libs=$(ldd "$TUF" 2>/dev/null || true)
grep -q 'libc\.so' <<<"$libs" || fail "imago-tuf is not dynamically linked"
ok "dynamically linked"

"$TUF" --metadata-dir "$MD" init "$M/root.json"
cmp "$MD/root.json" "$M/1.root.json" || fail "init: root.json differs"
ok "init"

refresh
for f in root timestamp snapshot targets; do [ -f "$MD/$f.json" ] || fail "refresh: no $f.json"; done
cmp "$MD/timestamp.json" "$M/timestamp.json" || fail "timestamp.json not as served"
cmp "$MD/snapshot.json" "$M/1.snapshot.json" || fail "snapshot.json not as served"
cmp "$MD/targets.json" "$M/1.targets.json" || fail "targets.json not as served"
ok "refresh (metadata stored byte for byte, non-versioned names)"

download file.txt dir/fw.bin
[ "$(cat "$TD/file.txt")" = "hello, world" ] || fail "file.txt content"
[ "$(cat "$TD/dir%2Ffw.bin")" = "firmware v1" ] || fail "dir/fw.bin content"
[ "$(ls -A "$TD" | wc -l)" = 2 ] || fail "target dir: $(ls -A "$TD")"
ok "download of two targets (URL-encoded names)"

# A new root (key rotation) and a new release.
python3 gen.py rotate-root "$T"
python3 gen.py release "$T"
refresh
cmp "$MD/root.json" "$M/2.root.json" || fail "root.json not v2 after rotation"
download dir/fw.bin
[ "$(cat "$TD/dir%2Ffw.bin")" = "firmware v2" ] || fail "dir/fw.bin not updated"
ok "root rotation followed, new release downloaded"

# Bad metadata swapped in: exit 1, trusted files unchanged.
cp -a "$MD" md.before
python3 gen.py tamper "$T" other.bin
expect1 "tampered target (attack_arbitrary_software)" download other.bin
[ ! -e "$TD/other.bin" ] || fail "tampered target written"
[ "$(ls -A "$TD" | wc -l)" = 2 ] || fail "leftovers in target dir: $(ls -A "$TD")"
expect1 "unknown target" download no-such-file

cp "$M/timestamp.json" good-ts.json
python3 gen.py foreign-timestamp "$T"
expect1 "timestamp signed by a foreign key (attack_threshold_not_met)" refresh
diff -r md.before "$MD" >/dev/null || fail "metadata dir changed after a refused refresh"

python3 gen.py release "$T" # v4, valid
refresh
cp -a "$MD" md.v4
cp good-ts.json "$M/timestamp.json" # the v2 timestamp again
expect1 "old timestamp (attack_rollback)" refresh
diff -r md.v4 "$MD" >/dev/null || fail "metadata dir changed after rollback refused"

python3 gen.py expired-timestamp "$T"
expect1 "expired timestamp (attack_indefinite_freeze)" refresh
diff -r md.v4 "$MD" >/dev/null || fail "metadata dir changed after expiry refused"

python3 -c "import sys; sys.stdout.write(open(sys.argv[1]).read() + ' ' * 40000000)" \
  "$M/timestamp.json" >big.json
mv big.json "$M/timestamp.json"
start=$(date +%s)
expect1 "40 MB timestamp.json (attack_endless_data)" refresh
[ $(($(date +%s) - start)) -lt 10 ] || fail "endless data not cut short"

# Usage errors.
expect1 "refresh without --metadata-url" "$TUF" --metadata-dir "$MD" refresh
expect1 "unknown option" "$TUF" --metadata-dir "$MD" --bogus x refresh
expect1 "download without --target-dir" "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" \
  --target-name file.txt --target-base-url "$URL/targets/" download
mkdir -p "$T/md2"
expect1 "init of a file that is not a root" "$TUF" --metadata-dir "$T/md2" init "$M/1.snapshot.json"

# The clock is the C library's: libfaketime moves it past the timestamp's expiry.
# (AddressSanitizer and libfaketime do not start together: skipped in the ASan build.)
if ! command -v faketime >/dev/null; then
  echo "skip - faketime not installed (apt-get install faketime)"
elif grep -q __asan_init "$TUF"; then
  echo "skip - faketime with an AddressSanitizer build"
else
  python3 gen.py short-timestamp "$T"
  refresh
  expect1 "timestamp expired under faketime +10 days" timeout 20 faketime -f +10d \
    "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" refresh
fi

echo "$pass passed, 0 failed"
