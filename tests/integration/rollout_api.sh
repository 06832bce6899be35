#!/usr/bin/env bash
# The rollout API and `imago app rollout|tags` against a real imago-cloud (init + up: Mosquitto,
# the service, the director, an image repository published from `imago release` metadata), without
# devices (tests/integration/ota_e2e.sh drives rollouts with devices end to end):
#   - list: empty; show/pause of an unknown id: 404
#   - an operator cannot create a rollout (403); a release manager of another group cannot either
#   - a target the repository does not publish: 404 with a message naming it (CLI exit 1)
#   - a published target but no enrolled device in the group: 409 IMAGO_ESTATE
#   - strict bodies (unknown member, stages not ending at 100): 400; CLI usage errors exit 2
#   - tags of an unknown device: 404
# Bounded waits; the trap stops everything this script started.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
CB=${IMAGO_CLOUD_BIN:-$B}
export PATH=$PATH:/usr/sbin
for t in mosquitto curl jq python3 openssl; do
  command -v "$t" >/dev/null || { echo "rollout_api: $t not installed" >&2; exit 1; }
done
[ -f "${IMAGO_PLUGIN:-$CB/imago_broker.so}" ] || { echo "rollout_api: broker plugin not built" >&2; exit 1; }
work=$(mktemp -d)
cpid=
cleanup() {
  cloud_stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "rollout_api: FAIL: $*" >&2
  echo "--- cloud log (tail)" >&2; grep -v '^[0-9]*: ' cloud.log 2>/dev/null | tail -n 30 >&2 || true
  exit 1
}
ok() { echo "rollout_api: ok: $*"; }
R="$B/imago release"

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
cloud_create data cloud.log || fail "imago-cloud up did not start"
ok "imago-cloud up, API on 127.0.0.1:$aport"

# --- a release: root and targets 1 of 1, one image ---------------------------------------------
mkdir desk imgs
"$CB/imago-cloud" repo keys --data data --out-dir desk >/dev/null
for k in r1 t1; do "$B/imago" keys gen --type ed25519 --out "$k.key" >/dev/null; done
head -c 4096 /dev/urandom >imgs/fw-2.0.0.img
$R root init --out root.json --expires 365 --consistent-snapshot --root-key r1.key.pub \
  --root-threshold 1 --targets-key t1.key.pub --targets-threshold 1 \
  --snapshot-key desk/snapshot.pub --timestamp-key desk/timestamp.pub >/dev/null
$R sign --key r1.key --in root.json --out r1.sig >/dev/null
$R combine --in root.json --sig r1.sig --out 1.root.json >/dev/null
$R targets new --out t.json --version 1 --expires 90 >/dev/null
$R targets add --in t.json --out ta.json --name fw-2.0.0.img --file imgs/fw-2.0.0.img \
  --hardware-id thermo-hw --version 2.0.0 --security-counter 2 >/dev/null
$R sign --key t1.key --in ta.json --out t1.sig >/dev/null
$R combine --in ta.json --sig t1.sig --root 1.root.json --out 1.targets.json >/dev/null
"$CB/imago-cloud" repo publish --data data --passphrase-file cloud.pass --root 1.root.json \
  --targets 1.targets.json --files imgs >/dev/null || fail "repo publish"
ok "image repository published (fw-2.0.0.img)"

# --- users: rita release manager of thermo-a, otto operator there, gina release manager of g2 ---
for u in rita otto gina; do
  printf '%s-has-a-long-password\n' "$u" >"$u.pw"
  "$CB/imago-cloud" users add --data data --user "$u" --password-file "$u.pw" >/dev/null
done
"$CB/imago-cloud" grants add --data data --user rita --role release_manager --group thermo-a --days 1 >/dev/null
"$CB/imago-cloud" grants add --data data --user otto --role operator --group thermo-a --days 1 >/dev/null
"$CB/imago-cloud" grants add --data data --user gina --role release_manager --group g2 --days 1 >/dev/null
export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$work/ca/root.crt
app() { # USER ARGS...: imago app as USER; stdout in out.txt, stderr in err.txt, exit status echoed
  local u=$1 rc=0
  shift
  IMAGO_SESSION=$work/$u.json "$B/imago" app "$@" >out.txt 2>err.txt || rc=$?
  echo $rc
}
for u in rita otto gina; do
  [ "$(app $u login --user $u --password-file $u.pw)" = 0 ] || fail "login $u: $(cat err.txt)"
done

# --- the CLI and the API ---------------------------------------------------------------------
[ "$(app rita rollout list)" = 0 ] && grep -q "no rollouts" out.txt || fail "list: $(cat out.txt err.txt)"
[ "$(app rita rollout list --json)" = 0 ] && jq -e '.rollouts == []' out.txt >/dev/null ||
  fail "list --json: $(cat out.txt)"
[ "$(app rita rollout show 99)" = 1 ] && grep -q IMAGO_ENOTFOUND err.txt || fail "show 99: $(cat err.txt)"
[ "$(app rita rollout pause 99)" = 1 ] && grep -q IMAGO_ENOTFOUND err.txt || fail "pause 99: $(cat err.txt)"
ok "list empty, unknown rollout 404"

[ "$(app otto rollout create --target fw-2.0.0.img --group thermo-a)" = 1 ] &&
  grep -q IMAGO_EAUTH_DENIED err.txt && grep -q "release_manager" err.txt ||
  fail "operator created a rollout: $(cat out.txt err.txt)"
[ "$(app gina rollout create --target fw-2.0.0.img --group thermo-a)" = 1 ] &&
  grep -q IMAGO_EAUTH_DENIED err.txt || fail "another group's release manager: $(cat err.txt)"
ok "operator and another group's release manager refused (403)"

[ "$(app rita rollout create --target fw-9.9.9.img --group thermo-a)" = 1 ] &&
  grep -q IMAGO_ENOTFOUND err.txt && grep -q "fw-9.9.9.img.*not published" err.txt ||
  fail "unknown target: $(cat err.txt)"
ok "unpublished target refused (404, named)"

[ "$(app rita rollout create --target fw-2.0.0.img --group thermo-a --stages 10,50,100)" = 1 ] &&
  grep -q IMAGO_ESTATE err.txt && grep -q "no enrolled device" err.txt ||
  fail "no device: $(cat err.txt)"
ok "published target, no enrolled device in the group: 409"

[ "$(app rita rollout create --target fw-2.0.0.img --group thermo-a --stages 10,50)" = 1 ] &&
  grep -q IMAGO_EINVAL err.txt || fail "stages not ending at 100: $(cat err.txt)"
[ "$(app rita rollout create --target fw-2.0.0.img)" = 2 ] || fail "no group/tag: not a usage error"
[ "$(app rita rollout create --group thermo-a)" = 2 ] || fail "no target: not a usage error"
[ "$(app rita rollout frob 1)" = 2 ] || fail "unknown subcommand: not a usage error"
[ "$(app rita rollout show x1)" = 2 ] || fail "bad id: not a usage error"
# the API itself, with curl: an unknown member
TOK=$(jq -r .access_token "$work/rita.json")
code=$(curl -s -o body.json -w '%{http_code}' --max-time 10 --cacert ca/root.crt \
  -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
  --data-binary '{"target":"fw-2.0.0.img","group":"thermo-a","devices":["x"]}' \
  "$IMAGO_API/v1/rollouts")
[ "$code" = 400 ] && [ "$(jq -r .error.code body.json)" = IMAGO_EINVAL ] || fail "unknown member: $code $(cat body.json)"
ok "strict bodies (400), CLI usage errors (exit 2)"

[ "$(app otto tags 00112233445566778899aabbccddeeff)" = 1 ] && grep -q IMAGO_ENOTFOUND err.txt ||
  fail "tags of an unknown device: $(cat err.txt)"
[ "$(app otto tags 00112233445566778899aabbccddeeff --set a,b --clear)" = 2 ] || fail "--set with --clear"
ok "tags of an unknown device: 404"

cloud_stop || fail "imago-cloud did not stop cleanly"
ok "imago-cloud stopped"
