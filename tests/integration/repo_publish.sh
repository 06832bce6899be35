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
if [ ! -s desk/snapshot.pub ] || [ ! -s desk/timestamp.pub ]; then fail "repo keys --out-dir"; fi
ok "repo keys prints key ids and PEM, copies the public keys"

# ---- the release desk: root 2 of 3, targets 2 of 3 ----------------------------------------
for k in r1 r2 r3 r4 t1 t2 t3 x; do "$IMAGO" keys gen --type ed25519 --out "$k.key" >/dev/null; done
sign() { # sign META OUT KEY...: detached signatures, combined (ROOT in $croot if set)
  local meta=$1 out=$2 k args=()
  shift 2
  rm -f "$out"
  for k in "$@"; do
    rm -f "$k.$out.sig"
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
croot='' cprev='' sign root.json 1.root.json r1 r2
croot=1.root.json
for role in snapshot timestamp; do
  want=$(grep -A1 "^$role key:" keys.out | sed -n 's/^keyid: //p')
  [ "$(jq -r ".signed.roles.$role.keyids[0]" 1.root.json)" = "$want" ] ||
    fail "the $role key id printed by repo keys is not the one in root"
done
ok "the key ids repo keys prints are the ones imago release put into root"
# release N CONTENT...: targets version N with fw/app.bin (and more files) -> N.targets.json
release() {
  local n=$1 content=$2 keys=${3:-t1 t2}
  printf '%s' "$content" >imgs/app.bin
  mkdir -p imgs/fw
  cp imgs/app.bin imgs/fw/app.bin
  rm -f "t$n.json" "t$n.a.json" "u$n.json"
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
if [ ! -f "$D/repo/targets/fw/$h.app.bin" ] || [ ! -f "$D/repo/targets/fw/$h5.app.bin" ]; then
  fail "target files: $(find "$D/repo/targets")"
fi
ok "publish: root 1, targets 1, snapshot 1, timestamp 1, targets stored as HASH.NAME"
"$CLOUD" repo status --data "$D" --json >st.json
jq -e '.published and .root.version == 1 and .targets.version == 1 and .snapshot.version == 1
       and .timestamp.version == 1 and .targets_count == 2' st.json >/dev/null || fail "status: $(cat st.json)"
ok "repo status --json"

# ---- serve and follow with imago-tuf ------------------------------------------------------
http_serve "$D/repo" server.log || fail "http.server did not start"
port=$sport
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

# ---- refusals: nothing written, the client still sees release 2 --------------------------
snap_before=$(ls "$M"; find "$D/repo/targets" | sort)
expect_fail() { # expect_fail WHAT PATTERN publish-args...
  local what=$1 pat=$2 rc=0
  shift 2
  "$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass "$@" >out.txt 2>err.txt || rc=$?
  [ $rc = 1 ] || fail "$what: exit $rc, want 1: $(cat out.txt err.txt)"
  grep -q -- "$pat" err.txt || fail "$what: error does not name $pat: $(cat err.txt)"
  [ "$(ls "$M"; find "$D/repo/targets" | sort)" = "$snap_before" ] || fail "$what: files written"
  ok "$what refused ($pat)"
}
release 3 "firmware three" t1
expect_fail "targets signed by 1 of 2 (attack_threshold_not_met)" IMAGO_ETUF_THRESHOLD \
  --targets 3.targets.json --files imgs
# combine refuses a stranger's signature: add it by hand to the 1-of-2 targets
rm -f x.sig
$R sign --key x.key --in u3.json --out x.sig >/dev/null
jq --slurpfile s x.sig '.signatures += $s' 3.targets.json >3x.json && mv 3x.json 3.targets.json
[ "$(jq '.signatures | length' 3.targets.json)" = 2 ] || fail "stranger signature not added"
expect_fail "targets signed by a stranger's key" IMAGO_ETUF_THRESHOLD --targets 3.targets.json --files imgs
release 2 "firmware two again"
expect_fail "targets version not above the published one (attack_rollback)" IMAGO_ETUF_ROLLBACK \
  --targets 2.targets.json --files imgs
release 3 "firmware three"
printf 'firmware evil' >imgs/fw/app.bin
expect_fail "a target file that does not match its hashes (attack_arbitrary_software)" \
  "IMAGO_ETUF_\(HASH\|LENGTH\)" --targets 3.targets.json --files imgs
release 3 "firmware three"
# a root 2 signed only by 1 old root key; a root 3 skipping version 2
$R root next --from 1.root.json --out root-2.json --expires 365 --remove-key root r3.key.pub \
  --add-key root r4.key.pub >/dev/null
croot='' cprev=1.root.json sign root-2.json bad-2.root.json r1 r4
expect_fail "root 2 signed by 1 of 2 old root keys (not chaining)" IMAGO_ETUF_THRESHOLD \
  --root bad-2.root.json --targets 3.targets.json --files imgs
$R root next --from root-2.json --out root-3.json --expires 365 >/dev/null
croot='' cprev='' sign root-3.json bad-3.root.json r1 r2 r4
expect_fail "root 3 with root 2 not published (not chaining)" IMAGO_ETUF_CONSISTENCY \
  --root bad-3.root.json --targets 3.targets.json --files imgs
# a root that names another timestamp key (the server's key is not the one)
"$IMAGO" keys gen --type ed25519 --out other-ts.key >/dev/null
$R root next --from 1.root.json --out root-2x.json --remove-key timestamp desk/timestamp.pub \
  --add-key timestamp other-ts.key.pub >/dev/null
croot='' cprev=1.root.json sign root-2x.json x-2.root.json r1 r2
expect_fail "root naming another timestamp key" IMAGO_EPERM --root x-2.root.json \
  --targets 3.targets.json --files imgs
grep -q "timestamp key" err.txt || fail "online key refusal does not say which key"
refresh 2>>client.err || fail "refresh after refusals"
expect_app "firmware two" "after refusals"
ok "client still at release 2 after the refusals"

# ---- a root rotation (r3 out, r4 in) with release 3 -----------------------------------------
croot='' cprev=1.root.json sign root-2.json 2.root.json r1 r2 r4
croot=2.root.json cprev='' sign u3.json 3.targets.json t1 t2
"$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass --root 2.root.json \
  --targets 3.targets.json --files imgs >/dev/null || fail "publish 3 with root 2"
refresh 2>>client.err || fail "refresh 3: $(tail -3 client.err)"
cmp "$MD/root.json" 2.root.json || fail "client did not follow root 2"
expect_app "firmware three" "release 3"
ok "root 2 (r3 revoked, r4 added) and release 3 followed"
croot=2.root.json

# ---- an expired timestamp, re-signed by repo refresh (the clock moved with libfaketime) -------
if ! command -v faketime >/dev/null; then
  echo "skip - faketime not installed: expired timestamp"
elif grep -q __asan_init "$TUF"; then
  echo "skip - faketime with an AddressSanitizer build"
else
  rc=0
  timeout 20 faketime -f +2d "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" refresh \
    2>>client.err || rc=$?
  [ $rc = 1 ] || fail "timestamp 2 days later: exit $rc, want 1 (expired)"
  timeout 20 faketime -f +2d "$CLOUD" repo status --data "$D" | grep -q EXPIRED ||
    fail "status does not say the timestamp expired"
  ts_v=$(jq .signed.version "$M/timestamp.json")
  timeout 20 faketime -f +2d "$CLOUD" repo refresh --data "$D" --passphrase-file cloud.pass >/dev/null ||
    fail "repo refresh"
  [ "$(jq .signed.version "$M/timestamp.json")" = $((ts_v + 1)) ] || fail "refresh: timestamp version"
  timeout 20 faketime -f +2d "$TUF" --metadata-dir "$MD" --metadata-url "$URL/metadata/" refresh \
    2>>client.err || fail "refresh after repo refresh: $(tail -3 client.err)"
  ok "expired timestamp refused by the client, re-signed by repo refresh, accepted again"
fi
"$CLOUD" repo refresh --data "$D" --passphrase-file cloud.pass --if-needed >out.txt
grep -q "nothing to re-sign" out.txt || fail "refresh --if-needed re-signed a fresh timestamp"
ok "refresh --if-needed leaves a fresh timestamp alone"

# ---- crash safety: publish stopped after step K, then run again ------------------------------
# steps: 1 target files, 2 N.targets.json, 3 snapshot, 4 new roots, 5 root.json, 6 timestamp
prev="firmware three"
n=3
rv=2
for K in 1 2 3 4 5; do
  n=$((n + 1))
  roots=()
  if [ $K -ge 4 ]; then # a new root in the interrupted publish too
    rv=$((rv + 1))
    rm -f "root-$rv.json"
    $R root next --from "$((rv - 1)).root.json" --out "root-$rv.json" --expires 300 >/dev/null
    croot='' cprev=$((rv - 1)).root.json sign "root-$rv.json" "$rv.root.json" r1 r2
    croot=$rv.root.json
    roots=(--root "$rv.root.json")
  fi
  release $n "firmware $n"
  rc=0
  IMAGO_REPO_TEST_STOP_AFTER=$K "$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass \
    "${roots[@]}" --targets $n.targets.json --files imgs >out.txt 2>err.txt || rc=$?
  if [ $rc != 1 ] || ! grep -q "step $K" err.txt; then fail "stop after $K: exit $rc $(cat err.txt)"; fi
  refresh 2>>client.err || fail "refresh after a stop after step $K: $(tail -3 client.err)"
  expect_app "$prev" "after a stop after step $K"
  "$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass "${roots[@]}" \
    --targets $n.targets.json --files imgs >/dev/null 2>err.txt || fail "publish again after step $K: $(cat err.txt)"
  refresh 2>>client.err || fail "refresh after the completed publish ($K): $(tail -3 client.err)"
  expect_app "firmware $n" "completed publish after step $K"
  prev="firmware $n"
  ok "publish stopped after step $K: client updates (old release), publish again completes"
done
cmp "$MD/root.json" "$rv.root.json" || fail "client not at root $rv"
ok "client followed roots to version $rv"

# ---- the service re-signs a timestamp near expiry --------------------------------------------
printf 'timestamp_expiry 60\n' >"$D/repo/repo.conf"
"$CLOUD" repo refresh --data "$D" --passphrase-file cloud.pass >/dev/null
jq -e --arg now "$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ)" '.signed.expires < $now' \
  "$M/timestamp.json" >/dev/null || fail "repo.conf timestamp_expiry not applied"
printf '# back to one day: the 60 s timestamp is within the margin now\ntimestamp_expiry 86400\n' \
  >"$D/repo/repo.conf"
ts_v=$(jq .signed.version "$M/timestamp.json")
cloud_start "$D" cloud.log || fail "imago-cloud up: $(tail -5 cloud.log)"
for _ in $(seq 150); do # the file first, then the log line
  if [ "$(jq .signed.version "$M/timestamp.json")" -gt "$ts_v" ] && grep -q "event=repo_timestamp" cloud.log; then
    break
  fi
  sleep 0.1
done
[ "$(jq .signed.version "$M/timestamp.json")" -gt "$ts_v" ] || fail "service did not re-sign: $(tail -5 cloud.log)"
grep -q "event=repo_timestamp" cloud.log || fail "no repo_timestamp in the service log"
refresh 2>>client.err || fail "refresh after the service re-signed"
cloud_stop || fail "imago-cloud up did not stop cleanly"
ok "imago-cloud up re-signed the timestamp near expiry"

# ---- audit ----------------------------------------------------------------------------------
"$CLOUD" audit show --data "$D" --json --limit 1000 >audit.json
jq -e '[.records[] | select(.action == "repo.publish")] | length >= 8' audit.json >/dev/null ||
  fail "audit: repo.publish records: $(jq -c '[.records[].action]' audit.json)"
jq -e '[.records[] | select(.action == "repo.timestamp" and .actor == "service")] | length >= 1' \
  audit.json >/dev/null || fail "audit: no repo.timestamp by the service"
jq -e '[.records[] | select(.action == "repo.timestamp" and .actor == "cli")] | length >= 1' \
  audit.json >/dev/null || fail "audit: no repo.timestamp by the cli"
"$CLOUD" audit verify --data "$D" >/dev/null || fail "audit verify"
ok "audit: repo.publish and repo.timestamp recorded, chain verifies"
echo "all passed"
