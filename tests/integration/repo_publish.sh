#!/usr/bin/env bash
# The image repository of imago-cloud (docs/repo.md) with the release desk of docs/release.md:
# root 2 of 3, targets 2 of 3 (`imago release`), the online keys from `imago-cloud repo keys`;
# publish, serve DIR/repo with python3 -m http.server on 127.0.0.1 and follow it with
# imago-tuf init / refresh / download; a second release; refusals (targets below threshold, a
# root that does not chain, online keys the root does not name, a target file that does not
# match); an expired timestamp refreshed (faketime); crash safety (publish stopped after each
# step: the client still updates, the publish completes when run again); the service's timer
# re-signs a timestamp near expiry; audit records repo.publish and repo.timestamp.
set -euo pipefail
B=${IMAGO_BIN:?}
SRC=${IMAGO_SRC:?}
. "$SRC/tests/integration/lib/common.bash"
IMAGO="$B/imago"
CLOUD="$B/imago-cloud"
TUF="$B/imago-tuf"
T=$(mktemp -d /tmp/imago-repo-XXXXXX)
spid=
cpid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  cloud_stop >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
R="$IMAGO release"
D=$T/data

# ---- CA and data directory (online keys made by init) -------------------------------------
printf 'root pass\n' >root.pass
printf 'cloud pass\n' >cloud.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mport=$(free_port); hport=$(free_port); aport=$(free_port)
"$CLOUD" init --data "$D" --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
  --http-port "$hport" --api-port "$aport" --plugin "${IMAGO_PLUGIN:-$B/imago_broker.so}" >/dev/null
for f in snapshot timestamp; do
  [ "$(stat -c %a "$D/keys/$f.key")" = 600 ] || fail "keys/$f.key mode"
  grep -q "ENCRYPTED PRIVATE KEY" "$D/keys/$f.key" || fail "keys/$f.key not encrypted"
done
ok "init: online keys keys/snapshot.key, keys/timestamp.key (0600, encrypted)"
mkdir desk imgs
"$CLOUD" repo keys --data "$D" --out-dir desk >keys.out
grep -q "^keyid: [0-9a-f]\{64\}$" keys.out || fail "repo keys: no key id"
[ -s desk/snapshot.pub ] && [ -s desk/timestamp.pub ] || fail "repo keys --out-dir"
ok "repo keys prints key ids and PEM, copies the public keys"

# ---- the release desk: root 2 of 3, targets 2 of 3 ----------------------------------------
for k in r1 r2 r3 r4 t1 t2 t3 x; do "$IMAGO" keys gen --type ed25519 --out "$k.key" >/dev/null; done
sign() { # sign META OUT KEY...: detached signatures, combined (ROOT in $croot if set)
  local meta=$1 out=$2 k args=()
  shift 2
  for k in "$@"; do
    $R sign --key "$k.key" --in "$meta" --out "$k.$out.sig" >/dev/null
    args+=(--sig "$k.$out.sig")
  done
  $R combine --in "$meta" "${args[@]}" ${croot:+--root "$croot"} ${cprev:+--prev-root "$cprev"} \
    --out "$out" >/dev/null 2>&1 || true
  [ -s "$out" ] || fail "combine $out"
}
$R root init --out root.json --expires 365 --consistent-snapshot \
  --root-key r1.key.pub --root-key r2.key.pub --root-key r3.key.pub --root-threshold 2 \
  --targets-key t1.key.pub --targets-key t2.key.pub --targets-key t3.key.pub --targets-threshold 2 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null
croot= cprev= sign root.json 1.root.json r1 r2
croot=1.root.json
# release N CONTENT...: targets version N with fw/app.bin (and more files) -> N.targets.json
release() {
  local n=$1 content=$2 keys=${3:-t1 t2} in
  printf '%s' "$content" >imgs/app.bin
  mkdir -p imgs/fw
  cp imgs/app.bin imgs/fw/app.bin
  printf 'tools %s' "$n" >imgs/tools.txt
  $R targets new --out "t$n.json" --version "$n" --expires 90 >/dev/null
  $R targets add --in "t$n.json" --out "t$n.a.json" --name fw/app.bin --file imgs/fw/app.bin \
    --hardware-id thermo-v2 --version "1.0.$n" --security-counter "$n" >/dev/null
  $R targets add --in "t$n.a.json" --out "u$n.json" --name tools.txt --file imgs/tools.txt >/dev/null
  # shellcheck disable=SC2086
  sign "u$n.json" "$n.targets.json" $keys
}
release 1 "firmware one"
"$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >pub.out || fail "publish 1: $(cat pub.out)"
M=$D/repo/metadata
for f in 1.root.json root.json 1.targets.json 1.snapshot.json timestamp.json; do
  [ -f "$M/$f" ] || fail "publish: no $f"
done
cmp "$M/1.root.json" 1.root.json || fail "1.root.json not as signed"
cmp "$M/1.targets.json" 1.targets.json || fail "1.targets.json not as signed"
h=$(sha256sum imgs/fw/app.bin | cut -d' ' -f1)
h5=$(sha512sum imgs/fw/app.bin | cut -d' ' -f1)
[ -f "$D/repo/targets/fw/$h.app.bin" ] && [ -f "$D/repo/targets/fw/$h5.app.bin" ] ||
  fail "target files: $(find "$D/repo/targets")"
ok "publish: root 1, targets 1, snapshot 1, timestamp 1, targets stored as HASH.NAME"
"$CLOUD" repo status --data "$D" --json >st.json
jq -e '.published and .root.version == 1 and .targets.version == 1 and .snapshot.version == 1
       and .timestamp.version == 1 and .targets_count == 2' st.json >/dev/null || fail "status: $(cat st.json)"
ok "repo status --json"

# ---- serve and follow with imago-tuf ------------------------------------------------------
for try in 1 2 3 4 5; do
  port=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$D/repo" "$port" >server.log 2>&1 &
  spid=$!
  up=0
  for i in $(seq 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then up=1; break; fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  [ $up = 1 ] && break
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; spid=
done
[ -n "$spid" ] || fail "http.server did not start"
URL=http://127.0.0.1:$port
MD=$T/md
TD=$T/tgt
mkdir -p "$MD" "$TD"
refresh() { "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" refresh; }
download() {
  rm -f "$TD"/*
  "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" --target-name fw/app.bin \
    --target-base-url "$URL/targets/" --target-dir "$TD" download
}
expect_app() { # expect_app CONTENT WHAT
  download 2>>client.err || fail "$2: download failed: $(tail -3 client.err)"
  [ "$(cat "$TD/fw%2Fapp.bin")" = "$1" ] || fail "$2: got '$(cat "$TD/fw%2Fapp.bin")', want '$1'"
}
"$TUF" --metadata-dir "$MD" init 1.root.json
refresh 2>>client.err || fail "refresh 1: $(tail -3 client.err)"
expect_app "firmware one" "release 1"
ok "imago-tuf init / refresh / download of release 1"

release 2 "firmware two"
"$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass --targets 2.targets.json \
  --files imgs >/dev/null || fail "publish 2"
refresh 2>>client.err || fail "refresh 2"
expect_app "firmware two" "release 2"
ok "second release published and followed"
