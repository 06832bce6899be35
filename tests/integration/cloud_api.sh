#!/usr/bin/env bash
# imago-cloud's HTTPS API for apps, run as a client would: `imago-cloud init` + `up` (real
# Mosquitto, real service), then curl pinned to DIR/ca/server-ca.crt:
#   - the API certificate verifies for 127.0.0.1 and localhost (server CA, chain from the file)
#   - signup (201; a taken name 409; a weak password refused), login (a wrong password 401),
#     /v1/me, a registration token (a JWE), refresh (the old refresh token is dead), logout
#     (the access token and the refresh token are dead), 401 without or with a bad token and
#     with HTTP Basic, unknown route 404, wrong method 405
#   - restart: access tokens die with the in-memory secret, refresh tokens (app.db) survive;
#     api_signup = off closes POST /v1/users
#   - the audit log holds the actions; the service log holds no password or token
#   - SIGTERM: the service stops cleanly (exit 0), the API port is closed
# Bounded waits; the trap stops everything this script started.
set -euo pipefail
B=${IMAGO_BIN:?}
. "$(dirname "$0")/lib/common.bash"
for t in mosquitto curl jq sqlite3 python3 openssl; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "cloud_api: $t not installed" >&2; exit 1; }
done
[ -f "${IMAGO_PLUGIN:-$B/imago_broker.so}" ] || { echo "cloud_api: broker plugin not built" >&2; exit 1; }
work=$(mktemp -d)
cpid=
cleanup() {
  if [ -n "${cpid:-}" ]; then kill -9 "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
  [ -n "${CLOUD_API_KEEP:-}" ] && { echo "kept $work"; return; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "cloud_api: FAIL: $*" >&2
  echo "--- service log (tail)" >&2; grep -v '^[0-9]*: ' cloud.log 2>/dev/null | tail -n 30 >&2 || true
  exit 1
}
ok() { echo "cloud_api: ok: $*"; }

printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
cloud_create data cloud.log || fail "imago-cloud up did not start"
grep -q "event=api_listening host=127.0.0.1 port=$aport " cloud.log || fail "no api_listening line"
ok "imago-cloud up, API on 127.0.0.1:$aport"

U=https://127.0.0.1:$aport
# api METHOD PATH [BODY] [TOKEN] -> body in out.json, status echoed
api() {
  local args=(-s -o out.json -w '%{http_code}' --max-time 10 --cacert ca/server-ca.crt -X "$1")
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
  curl "${args[@]}" "$U$2"
}
expect() { # status code method path [body] [token]
  local want=$1 code=$2 got
  shift 2
  got=$(api "$@") || fail "$1 $2: curl failed"
  [ "$got" = "$want" ] || fail "$1 $2: status $got, want $want: $(cat out.json)"
  if [ "$code" != - ]; then
    [ "$(jq -r .error.code out.json)" = "$code" ] || fail "$1 $2: $(cat out.json), want $code"
  fi
}

# --- TLS -------------------------------------------------------------------------------------
curl -s -o /dev/null --max-time 10 --cacert ca/server-ca.crt "https://localhost:$aport/v1/me" ||
  fail "API certificate not valid for localhost"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$aport" -CAfile ca/root.crt \
  -verify_return_error >tls.txt 2>&1 || true
grep -q 'Verify return code: 0 (ok)' tls.txt || fail "the chain (leaf + server CA) does not verify to the root"
if curl -s -o /dev/null --max-time 10 --cacert ca/issuing.crt "$U/v1/me"; then
  fail "the API certificate verified against the issuing CA"
fi
ok "TLS: server CA chain, names 127.0.0.1 and localhost"

# --- users and log-in ------------------------------------------------------------------------
PW='correct horse battery staple'
expect 201 - POST /v1/users "{\"user\":\"alice\",\"password\":\"$PW\"}"
[ "$(jq -r .user out.json)" = alice ] && [ "$(jq -r .id out.json)" -ge 1 ] || fail "signup: $(cat out.json)"
alice_id=$(jq -r .id out.json)
expect 409 IMAGO_EEXIST POST /v1/users "{\"user\":\"alice\",\"password\":\"$PW 2\"}"
expect 400 IMAGO_EAUTH_POLICY POST /v1/users '{"user":"bob","password":"short"}'
expect 400 - POST /v1/users '{"user":"bob","password":"long enough password","admin":true}'
expect 401 - POST /v1/auth/login '{"user":"alice","password":"not the password at all"}'
expect 401 - POST /v1/auth/login "{\"user\":\"nobody\",\"password\":\"$PW\"}"
expect 200 - POST /v1/auth/login "{\"user\":\"alice\",\"password\":\"$PW\"}"
at=$(jq -r .access_token out.json)
rt=$(jq -r .refresh_token out.json)
[ "$(jq -r .token_type out.json)" = Bearer ] && [ "$(jq -r .expires_in out.json)" -gt 0 ] ||
  fail "login answer: $(cat out.json)"
[ -n "$at" ] && [ "$at" != null ] && [ -n "$rt" ] && [ "$rt" != null ] || fail "no tokens"
ok "signup, duplicate and weak password refused, wrong password 401, login"

expect 200 - GET /v1/me "" "$at"
[ "$(jq -r .user out.json)" = alice ] && [ "$(jq -r .id out.json)" = "$alice_id" ] || fail "/v1/me: $(cat out.json)"
expect 401 - GET /v1/me
expect 401 - GET /v1/me "" "at1.garbage"
# the same token with its last character changed (a forged MAC)
last=${at: -1}
[ "$last" = 0 ] && forged=${at%?}1 || forged=${at%?}0
expect 401 - GET /v1/me "" "$forged"
code=$(curl -s -o out.json -w '%{http_code}' --max-time 10 --cacert ca/server-ca.crt \
  -u "alice:$PW" "$U/v1/me")
[ "$code" = 401 ] || fail "HTTP Basic: $code"
expect 404 - GET /v1/nothing "" "$at"
expect 405 - DELETE /v1/me "" "$at"
expect 200 - GET /v1/devices "" "$at"
[ "$(jq -c .devices out.json)" = '[]' ] || fail "devices of a new user: $(cat out.json)"
ok "/v1/me with a token; 401 without, with a bad token, with Basic; 404; 405; no devices"

# --- registration token ----------------------------------------------------------------------
expect 201 - POST /v1/registration-tokens '{}' "$at"
tok=$(jq -r .token out.json)
[ "$(tr -cd . <<<"$tok" | wc -c)" = 4 ] || fail "registration token is not a compact JWE: $tok"
[ "$(jq -r .expires_at out.json)" -gt "$(date +%s)" ] || fail "expires_at: $(cat out.json)"
hdr=$(cut -d. -f1 <<<"$tok" | tr '_-' '/+')
while [ $((${#hdr} % 4)) != 0 ]; do hdr+='='; done
[ "$(base64 -d <<<"$hdr" | jq -r '.alg + " " + .enc')" = "ECDH-ES A256GCM" ] || fail "token header"
expect 201 - POST /v1/registration-tokens '{"ttl":60}' "$at"
exp=$(jq -r .expires_at out.json)
[ "$exp" -le $(($(date +%s) + 61)) ] || fail "ttl 60 gave expires_at $exp"
expect 400 - POST /v1/registration-tokens '{"ttl":0}' "$at"
expect 401 - POST /v1/registration-tokens '{}'
ok "registration tokens: ECDH-ES/A256GCM JWE, ttl honoured, refused without a token"

# --- refresh and logout ----------------------------------------------------------------------
expect 200 - POST /v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
at2=$(jq -r .access_token out.json)
rt2=$(jq -r .refresh_token out.json)
[ "$rt2" != "$rt" ] || fail "refresh token did not rotate"
expect 401 - POST /v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
expect 200 - GET /v1/me "" "$at2"
expect 204 - POST /v1/auth/logout "{\"refresh_token\":\"$rt2\"}" "$at2"
expect 401 - GET /v1/me "" "$at2"
expect 401 - POST /v1/auth/refresh "{\"refresh_token\":\"$rt2\"}"
ok "refresh rotates (old refresh token 401); logout kills the access and refresh tokens"

# --- restart: the access-token secret lives in memory only -----------------------------------
expect 200 - POST /v1/auth/login "{\"user\":\"alice\",\"password\":\"$PW\"}"
at3=$(jq -r .access_token out.json)
rt3=$(jq -r .refresh_token out.json)
expect 200 - GET /v1/me "" "$at3"
cloud_stop || fail "imago-cloud did not stop cleanly (exit $?)"
sed -i 's/^api_signup = on$/api_signup = off/' data/imago-cloud.conf
cloud_start data cloud.log || fail "imago-cloud did not restart"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$aport") 2>/dev/null && break; sleep 0.1; done
grep -q "event=api_listening host=127.0.0.1 port=$aport signup=off" cloud.log || fail "signup not off"
expect 401 - GET /v1/me "" "$at3"
expect 200 - POST /v1/auth/refresh "{\"refresh_token\":\"$rt3\"}"
at4=$(jq -r .access_token out.json)
expect 200 - GET /v1/me "" "$at4"
code=$(api POST /v1/users '{"user":"mallory","password":"long enough password"}')
[ "$code" = 401 ] || [ "$code" = 403 ] || fail "signup while off: $code $(cat out.json)"
ok "restart: old access token 401, refresh token still works; api_signup = off closes signup"

# --- audit and logs --------------------------------------------------------------------------
actions=$(sqlite3 data/audit.db 'SELECT action FROM audit_log ORDER BY seq' | sort -u | tr '\n' ' ')
for a in user.create auth.login auth.login.fail auth.logout regtoken.issue; do
  grep -qw -- "$a" <<<"$actions" || fail "audit log lacks $a (has: $actions)"
done
for secret in "$PW" "$at" "$rt" "$tok" "$at4" "${rt3#rt1.}"; do
  grep -qF -- "$secret" cloud.log && fail "the service log holds a password or token"
done
ok "audit log: $actions; no secret in the service log"

# --- clean stop ------------------------------------------------------------------------------
cloud_stop || fail "imago-cloud did not stop cleanly"
(exec 3<>/dev/tcp/127.0.0.1/"$aport") 2>/dev/null && fail "API port still open after stop"
[ ! -e data/imago-cloud.pid ] || fail "PID file left behind"
grep -q "event=stopped result=ok" cloud.log || fail "no clean stop in the log"
ok "SIGTERM: stopped cleanly, API port closed"
