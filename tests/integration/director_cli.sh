#!/usr/bin/env bash
# `imago-cloud director ...` (docs/director.md): init creates the director keys and root;
# `director root` copies it; an image repository is published with `imago release` and
# `imago-cloud repo publish`; `director assign` of a published target (status, the signed
# per-device targets in director.db checked with jq), of an unknown target (refused, clear
# message), with a wrong passphrase (refused); `director clear`; `director keys` for a data
# directory made before the director (and refused over existing keys); audit records.
set -euo pipefail
B=${IMAGO_BIN:?}
SRC=${IMAGO_SRC:?}
. "$SRC/tests/integration/lib/common.bash"
IMAGO="$B/imago"
CLOUD="$B/imago-cloud"
T=$(mktemp -d /tmp/imago-director-XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
R="$IMAGO release"
D=$T/data
DEV=0123456789abcdef0123456789abcdef

# ---- init: director keys and root ----------------------------------------------------------
printf 'root pass\n' >root.pass
printf 'cloud pass\n' >cloud.pass
printf 'wrong pass\n' >wrong.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
"$CLOUD" init --data "$D" --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$(free_port)" \
  --http-port "$(free_port)" --api-port "$(free_port)" \
  --plugin "${IMAGO_PLUGIN:-$B/imago_broker.so}" >/dev/null
for f in director-root director; do
  [ "$(stat -c %a "$D/keys/$f.key")" = 600 ] || fail "keys/$f.key mode"
  grep -q "ENCRYPTED PRIVATE KEY" "$D/keys/$f.key" || fail "keys/$f.key not encrypted"
  [ -s "$D/keys/$f.pub" ] || fail "keys/$f.pub missing"
done
ok "init: keys/director-root.key and keys/director.key (0600, encrypted) with .pub"
RJ=$D/director/metadata/root.json
cmp "$RJ" "$D/director/metadata/1.root.json" || fail "root.json is not 1.root.json"
jq -e '.signed._type == "root" and .signed.version == 1 and .signed.consistent_snapshot == true
       and (.signed.keys | length) == 2
       and ([.signed.roles[] | .threshold] == [1,1,1,1])
       and .signed.roles.targets.keyids == .signed.roles.snapshot.keyids
       and .signed.roles.snapshot.keyids == .signed.roles.timestamp.keyids
       and .signed.roles.root.keyids != .signed.roles.targets.keyids
       and (.signatures | length) == 1
       and .signatures[0].keyid == .signed.roles.root.keyids[0]' "$RJ" >/dev/null ||
  fail "root.json: $(jq -c .signed.roles "$RJ")"
for k in $(jq -r '.signed.keys | keys[]' "$RJ"); do
  jq -e --arg k "$k" '.signed.keys[$k].keytype == "ed25519"' "$RJ" >/dev/null || fail "key $k type"
done
ok "root.json: root role -> director-root key, targets/snapshot/timestamp -> director key, signed"
"$CLOUD" director root --data "$D" --out factory-root.json >/dev/null
cmp "$RJ" factory-root.json || fail "director root --out is not root.json"
[ "$(stat -c %a factory-root.json)" = 644 ] || fail "director root --out mode"
ok "director root --out copies root.json (0644) for factory provisioning"
"$CLOUD" director status --data "$D" >st.txt
grep -q "no devices" st.txt || fail "status on an empty director: $(cat st.txt)"

# ---- the image repository: one root key, one targets key ------------------------------------
mkdir desk imgs imgs/fw
"$CLOUD" repo keys --data "$D" --out-dir desk >/dev/null
for k in r1 t1; do "$IMAGO" keys gen --type ed25519 --out "$k.key" >/dev/null; done
sign() { # sign META OUT KEY
  rm -f "$3.$2.sig" "$2"
  $R sign --key "$3.key" --in "$1" --out "$3.$2.sig" >/dev/null
  $R combine --in "$1" --sig "$3.$2.sig" ${croot:+--root "$croot"} --out "$2" >/dev/null
}
$R root init --out root.json --expires 365 --consistent-snapshot \
  --root-key r1.key.pub --root-threshold 1 --targets-key t1.key.pub --targets-threshold 1 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null 2>&1
croot='' sign root.json 1.root.json r1
croot=1.root.json
printf 'firmware 1.0.1' >imgs/fw/app.bin
printf 'notes' >imgs/notes.txt
$R targets new --out t.json --version 1 --expires 90 >/dev/null
$R targets add --in t.json --out t.a.json --name fw/app.bin --file imgs/fw/app.bin \
  --hardware-id thermo-v2 --version 1.0.1 --security-counter 4 >/dev/null
$R targets add --in t.a.json --out u.json --name notes.txt --file imgs/notes.txt >/dev/null
sign u.json 1.targets.json t1
"$CLOUD" repo publish --data "$D" --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >/dev/null || fail "repo publish"
ok "image repository published (fw/app.bin 1.0.1, notes.txt without custom)"

# ---- assign -------------------------------------------------------------------------------
"$CLOUD" director assign --data "$D" --passphrase-file cloud.pass --device "$DEV" \
  --target fw/app.bin >as.out || fail "assign: $(cat as.out)"
"$CLOUD" director status --data "$D" --json >st.json
h=$(sha256sum imgs/fw/app.bin | cut -d' ' -f1)
jq -e --arg d "$DEV" --arg h "$h" '.devices | length == 1 and .[0].device == $d
       and .[0].assigned.name == "fw/app.bin" and .[0].assigned.version == "1.0.1"
       and .[0].assigned.sha256 == $h and .[0].assigned.hardware_id == "thermo-v2"
       and .[0].assigned.security_counter == 4 and .[0].assigned.rollout == "0"
       and .[0].last_report == null' st.json >/dev/null || fail "status --json: $(cat st.json)"
"$CLOUD" director status --data "$D" | grep -q "^$DEV  assigned: fw/app.bin 1.0.1" ||
  fail "status text: $("$CLOUD" director status --data "$D")"
ok "assign fw/app.bin: status shows the assignment (json and text)"

db() { sqlite3 "$D/director.db" "$1"; }
[ "$(stat -c %a "$D/director.db")" = 600 ] || fail "director.db mode"
[ "$(db 'PRAGMA journal_mode')" = wal ] || fail "director.db not WAL"
db "SELECT CAST(targets AS TEXT) FROM devices WHERE id = '$DEV'" >tg.json
DK=$(jq -r '.signed.roles.targets.keyids[0]' "$RJ")
jq -e --arg d "$DEV" --arg h "$h" --arg k "$DK" '.signed._type == "targets"
       and .signatures[0].keyid == $k
       and (.signed.targets | keys) == ["fw/app.bin"]
       and .signed.targets["fw/app.bin"].hashes.sha256 == $h
       and .signed.targets["fw/app.bin"].length == 14
       and .signed.targets["fw/app.bin"].custom == {"device":$d,"rollout":"0",
           "hardware_id":"thermo-v2","version":"1.0.1","security_counter":4}' tg.json \
  >/dev/null || fail "director targets: $(cat tg.json)"
v1=$(jq '.signed.version' tg.json)
db "SELECT CAST(timestamp AS TEXT) FROM devices WHERE id = '$DEV'" >ts.json
db "SELECT CAST(snapshot AS TEXT) FROM devices WHERE id = '$DEV'" >sn.json
jq -e --argjson v "$v1" '.signed.meta["targets.json"].version == $v' sn.json >/dev/null ||
  fail "snapshot does not name targets $v1"
jq -e --arg k "$DK" '.signatures[0].keyid == $k and .signed._type == "timestamp"' ts.json \
  >/dev/null || fail "timestamp: $(cat ts.json)"
ok "director targets/snapshot/timestamp for the device: signed by the director key, custom as the repo"

# ---- refusals ------------------------------------------------------------------------------
if "$CLOUD" director assign --data "$D" --passphrase-file cloud.pass --device "$DEV" \
  --target fw/nope.bin >bad.out 2>bad.err; then fail "assign of an unknown target succeeded"; fi
grep -q "target 'fw/nope.bin' is not in the published image repository" bad.err ||
  fail "unknown target message: $(cat bad.err)"
if "$CLOUD" director assign --data "$D" --passphrase-file cloud.pass --device "$DEV" \
  --target notes.txt 2>bad.err; then fail "assign of a target without custom succeeded"; fi
grep -q "lacks custom" bad.err || fail "no-custom message: $(cat bad.err)"
if "$CLOUD" director assign --data "$D" --passphrase-file wrong.pass --device "$DEV" \
  --target fw/app.bin 2>bad.err; then fail "assign with a wrong passphrase succeeded"; fi
grep -q "IMAGO_EKEY_PASSPHRASE" bad.err || fail "wrong passphrase: $(cat bad.err)"
set +e
"$CLOUD" director assign --data "$D" --passphrase-file cloud.pass --device ../x \
  --target fw/app.bin 2>bad.err
rc=$?
set -e
[ "$rc" = 2 ] || fail "bad device id: exit $rc"
[ "$(db "SELECT CAST(targets AS TEXT) FROM devices WHERE id = '$DEV'" | jq .signed.version)" = "$v1" ] ||
  fail "a refused assign changed the metadata"
ok "refused: unknown target (clear message), target without custom, wrong passphrase, bad id"

# ---- clear --------------------------------------------------------------------------------
"$CLOUD" director clear --data "$D" --passphrase-file cloud.pass --device "$DEV" >/dev/null
"$CLOUD" director status --data "$D" --json >st.json
jq -e '.devices[0].assigned == null' st.json >/dev/null || fail "clear: $(cat st.json)"
db "SELECT CAST(targets AS TEXT) FROM devices WHERE id = '$DEV'" >tg.json
jq -e --argjson v "$v1" '.signed.version == $v + 1 and .signed.targets == {}' tg.json \
  >/dev/null || fail "cleared targets: $(jq -c .signed tg.json)"
ok "clear: no assignment, targets version + 1 listing nothing"

# ---- audit --------------------------------------------------------------------------------
"$CLOUD" audit show --data "$D" --json --limit 1000 >audit.json
jq -e --arg d "$DEV" '[.records[] | select(.action == "director.assign" and .object == $d)]
       | length == 1' audit.json >/dev/null ||
  fail "audit director.assign: $(jq -c '[.records[] | {action, object}]' audit.json)"
jq -e '[.records[] | select(.action == "director.clear")] | length == 1' audit.json >/dev/null ||
  fail "audit director.clear"
ok "audit: director.assign and director.clear (refusals not recorded)"

# ---- a data directory made before the director ---------------------------------------------
cp "$RJ" old-root.json
rm -rf "$D/keys/director-root.key" "$D/keys/director-root.pub" "$D/keys/director.key" \
  "$D/keys/director.pub" "$D/director"
if "$CLOUD" director status --data "$D" 2>bad.err; then fail "status without keys succeeded"; fi
grep -q "director keys" bad.err || fail "status without keys: $(cat bad.err)"
"$CLOUD" director keys --data "$D" --passphrase-file cloud.pass >/dev/null
[ -s "$D/director/metadata/root.json" ] || fail "director keys: no root.json"
if cmp -s "$D/director/metadata/root.json" old-root.json; then fail "same root after new keys"; fi
if "$CLOUD" director keys --data "$D" --passphrase-file cloud.pass 2>bad.err; then
  fail "director keys over existing keys succeeded"
fi
grep -q "IMAGO_EEXIST" bad.err || fail "keys over keys: $(cat bad.err)"
ok "director keys: creates keys and root for an older data directory, refuses to overwrite"
