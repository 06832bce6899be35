#!/usr/bin/env bash
# imago-cloud's accounts, grants and audit log, as an operator runs them: users add (password
# from a file or stdin, never argv; weak and duplicate refused), users list, grants
# add/list/delete with expiry, audit verify/show; then an attacker with file access edits
# audit.db (triggers dropped first) and verify names the record; --head catches a cut tail.
set -euo pipefail
IMAGO=${IMAGO_BIN:?}/imago
CLOUD=${IMAGO_BIN:?}/imago-cloud
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
fail() { echo "cloud_users: FAIL: $*" >&2; exit 1; }
expect_err() { # name, command...: must fail (exit 1) with that IMAGO_E name on stderr
  local want=$1 rc=0; shift
  "$@" >out.txt 2>err.txt </dev/null || rc=$?
  [ "$rc" = 1 ] || { cat err.txt >&2; fail "$*: exit $rc; expected 1 with $want"; }
  grep -q "^imago-cloud: .*($want)\$" err.txt || { cat err.txt >&2; fail "$*: expected $want"; }
}
expect_usage() { # command...: must exit 2
  local rc=0
  "$@" >out.txt 2>err.txt </dev/null || rc=$?
  [ "$rc" = 2 ] || { cat err.txt >&2; fail "$*: exit $rc; expected usage error 2"; }
}
audit_count() { sqlite3 data/audit.db 'SELECT count(*) FROM audit_log'; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
# no data directory yet: nothing is created
expect_err IMAGO_ENOTFOUND "$CLOUD" users list --data data
[ ! -e data ] || fail "users list created a data directory"
"$CLOUD" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port 18883 \
  --http-port 18884 --plugin "${IMAGO_PLUGIN:-$IMAGO_BIN/imago_broker.so}" >/dev/null

# --- users ------------------------------------------------------------------------------
expect_usage "$CLOUD" users add --data data
expect_usage "$CLOUD" users add --data data --user "a'; DROP TABLE users; --" --password-file x
expect_usage "$CLOUD" users add --data data --user alice --password 'in argv'
printf 'correct horse battery staple\n' >alice.pw
"$CLOUD" users add --data data --user alice --password-file alice.pw >out.txt
grep -q '^user alice created (id 1)$' out.txt || fail "users add: $(cat out.txt)"
[ "$(stat -c %a data/app.db)" = 600 ] || fail "app.db is $(stat -c %a data/app.db)"
printf 'another fine passphrase\r\n' | "$CLOUD" users add --data data --user bob >out.txt
grep -q '^user bob created (id 2)$' out.txt || fail "users add from stdin: $(cat out.txt)"
# weak passwords: short, one repeated byte, the user name, from stdin and from a file
printf 'short\n' >weak.pw
expect_err IMAGO_EAUTH_POLICY "$CLOUD" users add --data data --user carol --password-file weak.pw
printf 'aaaaaaaaaaaaaaaa\n' >weak.pw
expect_err IMAGO_EAUTH_POLICY "$CLOUD" users add --data data --user carol --password-file weak.pw
printf 'carol@example.com\n' >weak.pw
expect_err IMAGO_EAUTH_POLICY "$CLOUD" users add --data data --user carol@example.com \
  --password-file weak.pw
expect_err IMAGO_EAUTH_POLICY "$CLOUD" users add --data data --user carol # empty stdin
head -c 300 /dev/zero | tr '\0' 'x' | sed 's/^/y/' >long.pw
expect_err IMAGO_EAUTH_POLICY "$CLOUD" users add --data data --user carol --password-file long.pw
expect_err IMAGO_ENOTFOUND "$CLOUD" users add --data data --user carol --password-file nowhere
# duplicate
expect_err IMAGO_EEXIST "$CLOUD" users add --data data --user alice --password-file alice.pw
"$CLOUD" users list --data data >out.txt
[ "$(grep -c -E '^[0-9]+ ' out.txt)" = 2 ] || fail "users list: $(cat out.txt)"
"$CLOUD" users list --data data --json >users.json
[ "$(jq -r '[.[].user] | join(",")' users.json)" = "alice,bob" ] || fail "users list --json"
# the password is stored only as an argon2id hash
sqlite3 data/app.db 'SELECT pw_hash FROM users' | grep -qv '^[$]argon2id[$]' && fail "hash format"
grep -q 'correct horse' data/app.db && fail "password in app.db"
[ "$(audit_count)" = 2 ] || fail "audit records after users add: $(audit_count)"

# --- grants -----------------------------------------------------------------------------
now=$(date +%s)
expect_usage "$CLOUD" grants add --data data --user alice --role operator --group batch-1
expect_usage "$CLOUD" grants add --data data --user alice --role operator --group batch-1 \
  --days 1 --until $((now + 60))
expect_usage "$CLOUD" grants add --data data --user alice --role root --group batch-1 --days 1
expect_usage "$CLOUD" grants add --data data --user alice --role viewer --group 'b;1' --days 1
expect_usage "$CLOUD" grants add --data data --user alice --role viewer --group b --days 0
expect_usage "$CLOUD" grants add --data data --user alice --role viewer --group b --days 367
expect_usage "$CLOUD" grants add --data data --user alice --role viewer --group b \
  --until $((now - 1))
expect_err IMAGO_ENOTFOUND "$CLOUD" grants add --data data --user nobody --role viewer \
  --group b --days 1
"$CLOUD" grants add --data data --user alice --role operator --group batch-1 --days 30 >out.txt
grep -q '^grant 1: alice is operator of group batch-1 until ' out.txt || fail "$(cat out.txt)"
"$CLOUD" grants add --data data --user bob --role security_admin --group batch-2 \
  --until $((now + 2)) >/dev/null
"$CLOUD" grants add --data data --user bob --role viewer --group batch-1 --days 1 >/dev/null
"$CLOUD" grants list --data data --json >grants.json
[ "$(jq length grants.json)" = 3 ] || fail "grants list --json: $(cat grants.json)"
[ "$(jq -r '.[1].expires' grants.json)" = $((now + 2)) ] ||
  [ "$(jq -r '.[1].expires' grants.json)" = $((now + 3)) ] || fail "until not kept"
[ "$(jq -r '.[0].expires - .[0].not_before' grants.json)" = $((30 * 86400)) ] || fail "--days"
"$CLOUD" grants list --data data --user bob --json >bob.json
[ "$(jq -r '[.[].role] | join(",")' bob.json)" = "security_admin,viewer" ] || fail "per user"
# expiry: the short grant is listed as expired once its time has passed
sleep 3
"$CLOUD" grants list --data data --user bob >out.txt
grep -E '^2 +bob +security_admin +batch-2 .* expired$' out.txt >/dev/null ||
  fail "expired grant: $(cat out.txt)"
grep -E '^3 +bob +viewer +batch-1 .* active$' out.txt >/dev/null || fail "active: $(cat out.txt)"
expect_usage "$CLOUD" grants delete --data data
expect_usage "$CLOUD" grants delete --data data abc
"$CLOUD" grants delete --data data 2 >out.txt
grep -q '^grant 2 deleted$' out.txt || fail "grants delete: $(cat out.txt)"
expect_err IMAGO_ENOTFOUND "$CLOUD" grants delete --data data 2
[ "$("$CLOUD" grants list --data data --json | jq length)" = 2 ] || fail "deleted grant listed"

# --- audit ------------------------------------------------------------------------------
[ "$(audit_count)" = 6 ] || fail "audit records: $(audit_count)"
"$CLOUD" audit show --data data --json >audit.json
[ "$(jq -r '[.records[].action] | join(",")' audit.json)" = \
  "user.create,user.create,grant.add,grant.add,grant.add,grant.delete" ] ||
  fail "audit actions: $(jq -c . audit.json)"
[ "$(jq -r '[.records[].actor] | unique | join(",")' audit.json)" = cli ] || fail "actor"
[ "$(jq -r '.records[5].object' audit.json)" = grant:2 ] || fail "grant.delete object"
"$CLOUD" audit show --data data --after 4 --limit 1 --json >one.json
[ "$(jq -r '[.records[].seq] | join(",")' one.json)" = 5 ] || fail "--after/--limit"
"$CLOUD" audit verify --data data >out.txt
grep -q '^records checked: 6$' out.txt || fail "verify: $(cat out.txt)"
head=$(sed -n 's/^head: //p' out.txt)
[[ $head =~ ^6:[0-9a-f]{64}$ ]] || fail "head: $head"
"$CLOUD" audit verify --data data --head "$head" >/dev/null || fail "verify --head"
expect_usage "$CLOUD" audit verify --data data --head 6:zz
# the triggers stop a plain edit...
sqlite3 data/audit.db "UPDATE audit_log SET object = 'grant:9' WHERE seq = 3" 2>/dev/null &&
  fail "the audit triggers let an UPDATE through"
# ...an attacker with file access drops them, and the chain still names the record
cp data/audit.db audit.orig
sqlite3 data/audit.db "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
  UPDATE audit_log SET detail = '{\"user\":1,\"role\":\"security_admin\"}' WHERE seq = 3"
expect_err IMAGO_EAUDIT_CHAIN "$CLOUD" audit verify --data data
grep -q '^imago-cloud: audit verify: record 3: ' err.txt || fail "verify: $(cat err.txt)"
grep -q '^records checked: 2$' out.txt || fail "records before the bad one: $(cat out.txt)"
# a deleted record in the middle
cp audit.orig data/audit.db
rm -f data/audit.db-wal data/audit.db-shm
sqlite3 data/audit.db "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 4"
expect_err IMAGO_EAUDIT_CHAIN "$CLOUD" audit verify --data data
grep -q 'record 4: ' err.txt || fail "deleted record: $(cat err.txt)"
# a truncated tail is a valid shorter chain: only the head kept elsewhere catches it
cp audit.orig data/audit.db
rm -f data/audit.db-wal data/audit.db-shm
sqlite3 data/audit.db "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 5"
"$CLOUD" audit verify --data data >out.txt || fail "a shorter intact chain must verify"
grep -q '^records checked: 4$' out.txt || fail "$(cat out.txt)"
expect_err IMAGO_EAUDIT_HEAD "$CLOUD" audit verify --data data --head "$head"
grep -q 'record 5: ' err.txt || fail "truncated: $(cat err.txt)"
echo "cloud_users: OK"
