#!/usr/bin/env bash
# shellcheck disable=SC2154 # mport, aport are set by cloud_create (lib/common.bash)
# imago app, run as a user's scripts would: usage errors, the session file's protection, the
# setup portal pinned by the label's fingerprint (a fake portal: a Python HTTPS server, and
# `openssl s_server` for the unpinned-certificate attack, certificates generated here), and,
# when imago-cloud serves the API, the account and device commands against it.
set -euo pipefail
IMAGO=${IMAGO_BIN:?}/imago
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "${cpid:-}" ]; then kill -TERM "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
# shellcheck source=lib/common.bash
. "${IMAGO_SRC:-$(dirname "$0")/../..}/tests/integration/lib/common.bash"
fail() { echo "app_cli: FAIL: $*" >&2; exit 1; }
expect_err() { # name, command...: must fail (exit 1) with that IMAGO_E name on stderr
  local want=$1 rc=0; shift
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" = 1 ] || { cat out.txt err.txt >&2; fail "$*: exit $rc; expected 1 with $want"; }
  grep -q "^imago: .*($want)\$" err.txt || { cat err.txt >&2; fail "$*: expected $want"; }
}
expect_usage() { # command...: must exit 2
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" = 2 ] || { cat out.txt err.txt >&2; fail "$*: exit $rc; expected usage error 2"; }
}
mode() { stat -c %a "$1"; }
fingerprint() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
# A self-signed P-256 certificate, as a device's birth certificate stands for its portal.
selfsigned() { # name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=$1" -keyout "$1.key" -out "$1.crt" 2>/dev/null
}

export IMAGO_SESSION=$work/session.json
unset IMAGO_API IMAGO_API_CA
dev=0123456789abcdef0123456789abcdef
code=7K2QX-M9D4T
printf 'hunter2-correct-horse\n' >pw.txt
printf 'wifi-secret-passphrase\n' >wifi.txt
printf 'REGTOKEN.header.key.iv.ciphertext.tag\n' >regtoken.txt
selfsigned portal
selfsigned impostor
fp=$(fingerprint portal.crt)
fp_impostor=$(fingerprint impostor.crt)
cp portal.crt api-ca.crt # a CA file for the commands that need one before they fail

# --- usage errors (exit 2) ----------------------------------------------------------------
expect_usage "$IMAGO" app
expect_usage "$IMAGO" app bogus
expect_usage "$IMAGO" app --bogus me
expect_usage "$IMAGO" app --api
"$IMAGO" app --help | grep -q configure || fail "app --help lists no configure"
"$IMAGO" app login --help | grep -q password-file || fail "login --help"
# The password never comes from the command line: there is no such option.
expect_usage "$IMAGO" app --ca api-ca.crt login --user alice --password hunter2
grep -rq -- '--password ' "${IMAGO_SRC:-.}/docs/app-cli.md" 2>/dev/null &&
  fail "docs/app-cli.md mentions a --password option"
expect_usage "$IMAGO" app --ca api-ca.crt login --password-file pw.txt
expect_usage "$IMAGO" app --ca api-ca.crt --api http://127.0.0.1:1 me
expect_usage "$IMAGO" app --ca api-ca.crt --api https://127.0.0.1:99999 me
expect_usage "$IMAGO" app --ca api-ca.crt --api 'https://a/b@c' me
expect_usage env -u HOME -u IMAGO_SESSION "$IMAGO" app --ca api-ca.crt me
expect_usage "$IMAGO" app me # no CA for the API
expect_usage "$IMAGO" app --ca api-ca.crt device ../../v1/users
expect_usage "$IMAGO" app --ca api-ca.crt device "$dev" extra
expect_usage "$IMAGO" app --ca api-ca.crt state
expect_usage "$IMAGO" app --ca api-ca.crt set-state "$dev" '{"a":1}'
expect_usage "$IMAGO" app --ca api-ca.crt set-state "$dev" --version x '{"a":1}'
expect_usage "$IMAGO" app --ca api-ca.crt set-state "$dev" --version 1 '[1]'
expect_usage "$IMAGO" app --ca api-ca.crt set-state "$dev" --version 1 '{"a":1}{}'
expect_usage "$IMAGO" app --ca api-ca.crt command "$dev"
expect_usage "$IMAGO" app --ca api-ca.crt command "$dev" reboot --wait-ms 30001
expect_usage "$IMAGO" app --ca api-ca.crt command "$dev" reboot --ttl 0
expect_usage "$IMAGO" app --ca api-ca.crt command "$dev" reboot '{"a":'
expect_usage "$IMAGO" app --ca api-ca.crt command-get "$dev" -1
expect_usage "$IMAGO" app --ca api-ca.crt token --ttl 0
expect_usage "$IMAGO" app configure --fingerprint "$fp" --setup-code "$code" --ssid home \
  --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1 --fingerprint "$fp" --setup-code "$code" \
  --ssid home --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --fingerprint "${fp:0:60}" \
  --setup-code "$code" --ssid home --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --fingerprint "$fp" --ssid home \
  --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:1:$dev:$code:$fp" \
  --fingerprint "$fp" --ssid home --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:2:$dev:$code:$fp" \
  --ssid home --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:1:xyz:$code:$fp" \
  --ssid home --token-file regtoken.txt
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:1:$dev:$code:$fp" \
  --ssid home
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:1:$dev:$code:$fp" \
  --ssid home --token-file regtoken.txt --token-stdin
expect_usage "$IMAGO" app configure --portal 127.0.0.1:1 --qr "IMAGO:1:$dev:$code:$fp" \
  --ssid 123456789012345678901234567890123 --token-file regtoken.txt

# --- the session file ----------------------------------------------------------------------
expect_err IMAGO_EAPI_AUTH "$IMAGO" app --ca api-ca.crt me
cat >session.json <<EOF
{"version": 1, "api": "https://127.0.0.1:8443", "user": "alice", "refresh_token": "r.x"}
EOF
chmod 644 session.json
expect_err IMAGO_EPERM "$IMAGO" app --ca api-ca.crt me
chmod 600 session.json
ln -s session.json link.json
expect_err IMAGO_EPERM "$IMAGO" app --ca api-ca.crt --session link.json me
printf '{"version": 1, "api": "https://127.0.0.1:8443", "user": "a", "refresh_token": "a\\r\\nX: y"}' \
  >session.json
expect_err IMAGO_EMALFORMED "$IMAGO" app --ca api-ca.crt me
printf '{"version": 1, "api": "x", "user": "a", "refresh_token": "r", "refresh_token": "s"}' \
  >session.json
expect_err IMAGO_EMALFORMED "$IMAGO" app --ca api-ca.crt me
rm -f session.json link.json
# Nothing listens there: the password is read, the connection fails, nothing is printed.
dead=$(free_port)
expect_err IMAGO_EIO "$IMAGO" app --api "https://127.0.0.1:$dead" --ca api-ca.crt login \
  --user alice --password-file pw.txt
! grep -q hunter2 out.txt err.txt || fail "the password was printed"
[ ! -e session.json ] || fail "a failed login wrote a session"

# --- the setup portal ----------------------------------------------------------------------
# A fake portal: answers POST /v1/configure like the agent's (code $code), logs what it got.
cat >portal.py <<'EOF'
import http.server, json, ssl, sys
cert, key, code, dev, log = sys.argv[1:6]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(log, "ab") as f:
            f.write(self.command.encode() + b" " + self.path.encode() + b"\n" + body + b"\n")
        d = json.loads(body)
        if d.get("setup_code") != code:
            st, ans = 403, {"error": {"code": "IMAGO_ESETUP_CODE", "message": "setup: wrong setup code"}}
        else:
            st, ans = 200, {"device": dev, "status": "configured"}
        out = json.dumps(ans).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(out)
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF
start_portal() { # cert name, log: sets pport
  rm -f "$2" pport.txt
  python3 portal.py "$1.crt" "$1.key" "$code" "$dev" "$2" >pport.txt 2>/dev/null &
  pids+=("$!")
  for _ in $(seq 100); do [ -s pport.txt ] && break; sleep 0.05; done
  pport=$(cat pport.txt)
  [ -n "$pport" ] || fail "the fake portal did not start"
}
start_portal portal portal.log
"$IMAGO" app configure --portal "127.0.0.1:$pport" --qr "IMAGO:1:$dev:$code:$fp" --ssid home \
  --passphrase-file wifi.txt --token-file regtoken.txt >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "configure with the right label"; }
grep -q "device $dev configured" out.txt || fail "configure output: $(cat out.txt)"
python3 - portal.log "$code" <<'EOF' || fail "the portal got the wrong request"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[0] == b"POST /v1/configure", lines[0]
d = json.loads(lines[1])
assert d == {"setup_code": sys.argv[2], "network": {"ssid": "home", "passphrase": "wifi-secret-passphrase"},
             "registration_token": "REGTOKEN.header.key.iv.ciphertext.tag"}, d
EOF
! grep -q -e wifi-secret -e REGTOKEN out.txt err.txt || fail "configure printed a secret"
# The same with --fingerprint (colons and capitals as some labels print it), the token on
# stdin, no passphrase (open network), --json.
fpc=$(echo "$fp" | tr a-f A-F | sed 's/../&:/g; s/:$//')
"$IMAGO" app configure --portal "127.0.0.1:$pport" --fingerprint "$fpc" --setup-code "$code" \
  --ssid cafe --token-stdin --json <regtoken.txt >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "configure --fingerprint --token-stdin"; }
jq -e '.status == "configured"' out.txt >/dev/null || fail "configure --json: $(cat out.txt)"
tail -n 1 portal.log | jq -e '.network == {"ssid": "cafe"}' >/dev/null ||
  fail "open network sent as $(tail -n 1 portal.log)"

# attack_wrong_setup_code: the portal's refusal comes back as its code, exit 1.
expect_err IMAGO_ESETUP_CODE "$IMAGO" app configure --portal "127.0.0.1:$pport" \
  --fingerprint "$fp" --setup-code 00000-00000 --ssid home --token-file regtoken.txt
# The label's id is checked against the portal's answer.
other=fedcba9876543210fedcba9876543210
expect_err IMAGO_EHTTP "$IMAGO" app configure --portal "127.0.0.1:$pport" \
  --qr "IMAGO:1:$other:$code:$fp" --ssid home --token-file regtoken.txt

# attack_unpinned_portal_certificate: a portal with another certificate (a neighbour's device,
# an evil twin access point) is refused in the handshake; it receives no request at all.
start_portal impostor impostor.log
expect_err IMAGO_EHTTP_PIN "$IMAGO" app configure --portal "127.0.0.1:$pport" \
  --qr "IMAGO:1:$dev:$code:$fp" --ssid home --passphrase-file wifi.txt --token-file regtoken.txt
[ ! -s impostor.log ] || fail "the impostor portal received: $(cat impostor.log)"
# The same against openssl s_server, which prints whatever it receives (its stdin is a FIFO
# held open here: at EOF on stdin it would shut down).
mkfifo s_server.in
exec 7<>s_server.in
for _ in 1 2 3 4 5; do
  sport=$(free_port)
  openssl s_server -accept "127.0.0.1:$sport" -cert impostor.crt -key impostor.key \
    >s_server.log 2>&1 <&7 &
  spid=$!
  pids+=("$spid")
  for _ in $(seq 100); do grep -q ACCEPT s_server.log && break; sleep 0.05; done
  kill -0 "$spid" 2>/dev/null && break
done
expect_err IMAGO_EHTTP_PIN "$IMAGO" app configure --portal "127.0.0.1:$sport" \
  --fingerprint "$fp" --setup-code "$code" --ssid home --passphrase-file wifi.txt \
  --token-file regtoken.txt
sleep 0.2
if grep -q -e POST -e "$code" -e wifi-secret -e REGTOKEN s_server.log; then
  fail "s_server received a secret: $(cat s_server.log)"
fi
# Control: with the impostor's own fingerprint pinned, s_server does log the request (it never
# answers, so the client is stopped after 2 s).
rc=0
timeout 2 "$IMAGO" app configure --portal "127.0.0.1:$sport" --fingerprint "$fp_impostor" \
  --setup-code "$code" --ssid home --token-file regtoken.txt >/dev/null 2>&1 || rc=$?
[ "$rc" = 124 ] || fail "control configure against s_server: exit $rc"
grep -aq 'POST /v1/configure' s_server.log || fail "control: s_server logs no request"
echo "app_cli: portal and usage checks passed"

# --- against imago-cloud's API -----------------------------------------------------------
B=$IMAGO_BIN
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-${CB:-$B}}
export PATH=$PATH:/usr/sbin
[ -x "$CB/imago-cloud" ] || { echo "app_cli: no imago-cloud: API checks skipped"; exit 0; }
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$IMAGO" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
# One device from the factory line (SoftHSM2 token) for the onboarding at the end.
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" \
  >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin Pin-4321-q7 --so-pin 87654321 >/dev/null
printf 'Pin-4321-q7\n' >pin
"$IMAGO" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch app-a >labels.txt
cloud_create data cloud.log batch/manifest.json ||
  { tail -n 30 cloud.log >&2; fail "imago-cloud did not start"; }
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$aport") 2>/dev/null && break; sleep 0.1; done
export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$work/ca/root.crt
api_curl() { curl -sS --cacert ca/root.crt "$@"; }
secrets=(hunter2-correct-horse)
no_secret_in() { # files...: none holds a password or token seen so far
  local s
  for s in "${secrets[@]}"; do
    ! grep -qF -- "$s" "$@" || fail "a secret was printed in $*"
  done
}

# Accounts.
printf 'wrong-password-here\n' >bad.txt
"$IMAGO" app signup --user alice --password-file pw.txt >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "signup"; }
grep -q '^created user alice (id [0-9]*)$' out.txt || fail "signup said: $(cat out.txt)"
printf 'bob-password-is-long\n' | "$IMAGO" app signup --user bob --json >out.txt ||
  fail "signup with the password on stdin"
jq -e '.user == "bob"' out.txt >/dev/null || fail "signup --json: $(cat out.txt)"
rc=0
"$IMAGO" app signup --user alice --password-file pw.txt >out.txt 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q '^imago: app signup: HTTP 4[0-9][0-9]: .*(IMAGO_E[A-Z_]*)$' err.txt ||
  fail "second signup of alice: exit $rc: $(cat err.txt)"
expect_err IMAGO_EAUTH_PASSWORD "$IMAGO" app login --user alice --password-file bad.txt
[ ! -e session.json ] || fail "a failed login wrote a session"
"$IMAGO" app login --user alice --password-file pw.txt --json >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "login"; }
[ "$(mode session.json)" = 600 ] || fail "session file is $(mode session.json)"
access=$(jq -r .access_token session.json)
refresh=$(jq -r .refresh_token session.json)
[ -n "$access" ] && [ "$access" != null ] && [ -n "$refresh" ] || fail "session: $(jq -c 'keys' session.json)"
secrets+=("$access" "$refresh")
jq -e 'has("access_token") or has("refresh_token") | not' out.txt >/dev/null ||
  fail "login --json printed a token"
no_secret_in out.txt err.txt
api_curl -H "Authorization: Bearer $access" "$IMAGO_API/v1/me" | jq -e '.user == "alice"' \
  >/dev/null || fail "the session's access token does not work with curl"

"$IMAGO" app me >out.txt 2>err.txt || { cat err.txt >&2; fail "me"; }
grep -q '^user: alice$' out.txt && grep -q '^grants: none$' out.txt || fail "me: $(cat out.txt)"
"$IMAGO" app me --json | jq -e '.user == "alice" and (.grants | length) == 0' >/dev/null ||
  fail "me --json"
no_secret_in out.txt err.txt

# Registration tokens: printed (that is the command's purpose) or written 0600.
"$IMAGO" app token >tok1.txt 2>err.txt || { cat err.txt >&2; fail "token"; }
[ "$(wc -l <tok1.txt)" = 1 ] && [ "$(wc -c <tok1.txt)" -gt 100 ] || fail "token: $(cat tok1.txt)"
"$IMAGO" app token --ttl 600 --out tok2.txt >out.txt 2>err.txt || { cat err.txt >&2; fail "token --out"; }
[ "$(mode tok2.txt)" = 600 ] || fail "token file is $(mode tok2.txt)"
grep -q "^registration token written to tok2.txt (expires at [0-9]*)$" out.txt ||
  fail "token --out said: $(cat out.txt)"
secrets+=("$(cat tok1.txt)" "$(cat tok2.txt)")
no_secret_in out.txt err.txt
"$IMAGO" app token --json | jq -e '(.token | length) > 100 and .expires_at > 0' >/dev/null ||
  fail "token --json"

# Devices: none yet; any id is 404 IMAGO_ENOTFOUND, through every device command.
"$IMAGO" app devices >out.txt || fail "devices"
grep -q '^no devices$' out.txt || fail "devices: $(cat out.txt)"
"$IMAGO" app devices --json | jq -e '.devices == []' >/dev/null || fail "devices --json"
expect_err IMAGO_ENOTFOUND "$IMAGO" app device "$dev"
expect_err IMAGO_ENOTFOUND "$IMAGO" app state "$dev"
expect_err IMAGO_ENOTFOUND "$IMAGO" app set-state "$dev" --version 0 '{"t":1}'
expect_err IMAGO_ENOTFOUND "$IMAGO" app command "$dev" blink '{"n":1}' --wait-ms 0
expect_err IMAGO_ENOTFOUND "$IMAGO" app command-get "$dev" 1
expect_err IMAGO_ENOTFOUND "$IMAGO" app decommission "$dev"

# The refresh path: without an access token the session is refreshed first; the new pair is
# saved (0600) and the old refresh token is dead.
jq 'del(.access_token)' session.json >s.tmp && mv s.tmp session.json && chmod 600 session.json
"$IMAGO" app me >out.txt 2>err.txt || { cat err.txt >&2; fail "me after dropping the access token"; }
[ "$(mode session.json)" = 600 ] || fail "refreshed session file is $(mode session.json)"
access2=$(jq -r .access_token session.json)
refresh2=$(jq -r .refresh_token session.json)
[ "$access2" != null ] && [ "$refresh2" != "$refresh" ] || fail "the session was not refreshed"
secrets+=("$access2" "$refresh2")
code_old=$(api_curl -o /dev/null -w '%{http_code}' -X POST -d "{\"refresh_token\":\"$refresh\"}" \
  "$IMAGO_API/v1/auth/refresh")
[ "$code_old" = 401 ] || fail "the replaced refresh token still works ($code_old)"
# An access token the API refuses (401) is refreshed once, then the request is retried.
jq '.access_token = "AAAA.BBBB.CCCC"' session.json >s.tmp && mv s.tmp session.json &&
  chmod 600 session.json
"$IMAGO" app devices >out.txt 2>err.txt || { cat err.txt >&2; fail "devices with a bad access token"; }
[ "$(jq -r .access_token session.json)" != AAAA.BBBB.CCCC ] || fail "not refreshed after a 401"
secrets+=("$(jq -r .access_token session.json)" "$(jq -r .refresh_token session.json)")
# Parallel runs that all need a refresh: one refreshes (under session.json.lock), the others
# take its tokens instead of spending the same refresh token again.
jq 'del(.access_token)' session.json >s.tmp && mv s.tmp session.json && chmod 600 session.json
ppids=()
for n in 1 2 3 4; do
  "$IMAGO" app me >"par$n.out" 2>"par$n.err" &
  ppids+=("$!")
done
for p in "${ppids[@]}"; do wait "$p" || fail "a parallel run failed: $(cat par*.err)"; done
[ "$(mode session.json.lock)" = 600 ] || fail "lock file is $(mode session.json.lock)"
secrets+=("$(jq -r .access_token session.json)" "$(jq -r .refresh_token session.json)")
# A dead refresh token: the user is told to log in again.
jq --arg r "$refresh" 'del(.access_token) | .refresh_token = $r' session.json >s.tmp &&
  mv s.tmp session.json && chmod 600 session.json
expect_err IMAGO_EAUTH_REFRESH "$IMAGO" app me
grep -q "imago app login" err.txt || fail "no hint to log in again: $(cat err.txt)"

# The tokens go only to their API and its certificate must chain to the CA.
"$IMAGO" app login --user alice --password-file pw.txt >/dev/null || fail "login again"
secrets+=("$(jq -r .access_token session.json)" "$(jq -r .refresh_token session.json)")
expect_err IMAGO_EAPI_AUTH "$IMAGO" app --api "https://localhost:$aport" me
rc=0
"$IMAGO" app --ca portal.crt me >out.txt 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q '^imago: app me: .*(IMAGO_E[A-Z_]*)$' err.txt ||
  fail "an API certificate from another CA: exit $rc $(cat err.txt)"
# The session's CA is used when none is given.
env -u IMAGO_API_CA "$IMAGO" app me >/dev/null || fail "me with the session's CA"

# The default session file: ~/.config/imago (0700) / session.json (0600).
mkdir home
printf 'bob-password-is-long\n' >bob.txt
HOME=$work/home env -u IMAGO_SESSION "$IMAGO" app login --user bob --password-file bob.txt \
  >out.txt || fail "login with the default session file"
[ "$(mode home/.config/imago)" = 700 ] && [ "$(mode home/.config/imago/session.json)" = 600 ] ||
  fail "default session: $(mode home/.config/imago) $(mode home/.config/imago/session.json)"
HOME=$work/home env -u IMAGO_SESSION "$IMAGO" app me | grep -q '^user: bob$' || fail "me as bob"
secrets+=("$(jq -r .access_token home/.config/imago/session.json)")
# Log out with an expired access token: refreshed first, then the new refresh token revoked.
bs=home/.config/imago/session.json
jq 'del(.access_token)' "$bs" >s.tmp && mv s.tmp "$bs" && chmod 600 "$bs"
HOME=$work/home env -u IMAGO_SESSION "$IMAGO" app logout >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "logout of a session without an access token"; }
[ ! -e "$bs" ] || fail "logout left bob's session file"

# Log out: both tokens revoked at the API, the file gone.
access=$(jq -r .access_token session.json)
refresh=$(jq -r .refresh_token session.json)
"$IMAGO" app logout >out.txt 2>err.txt || { cat err.txt >&2; fail "logout"; }
[ ! -e session.json ] || fail "logout left the session file"
[ "$(api_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $access" "$IMAGO_API/v1/me")" = 401 ] ||
  fail "the access token works after logout"
[ "$(api_curl -o /dev/null -w '%{http_code}' -X POST -d "{\"refresh_token\":\"$refresh\"}" \
  "$IMAGO_API/v1/auth/refresh")" = 401 ] || fail "the refresh token works after logout"
expect_err IMAGO_EAPI_AUTH "$IMAGO" app me
expect_err IMAGO_EAPI_AUTH "$IMAGO" app logout

echo "app_cli: API checks passed"

# --- onboarding a real device with imago app ------------------------------------------------
DEVICE=$B/imago-example-thermostat
[ -x "$DEVICE" ] || { echo "app_cli: no imago-example-thermostat: onboarding skipped"; exit 0; }
id=$(awk '$1 == "id" {print $2}' labels.txt)
dcode=$(awk '$1 == "setup" {print $3}' labels.txt)
dfp=$(awk '$1 == "birth" {print $4}' labels.txt)
qr=$(awk '$1 == "QR" {print $2}' labels.txt)
[ "$qr" = "IMAGO:1:$id:$dcode:$dfp" ] || fail "label: $(cat labels.txt)"
secrets+=("$dcode" wifi-secret-passphrase Pin-4321-q7)
pport=$(free_port)
device_conf 1 "backoff_max = 1" "portal_host = 127.0.0.1" "portal_port = $pport" \
  "command_key = $work/data/keys/command.pub" >device.conf
"$DEVICE" --config device.conf --verbose >device.out 2>device.err &
dpid=$!
pids+=("$dpid")
touch device.err
for _ in $(seq 100); do grep -q "setup portal on" device.err && break; sleep 0.1; done
grep -q "setup portal on" device.err || { cat device.err >&2; fail "the device opened no portal"; }
info() { curl -sS -k --max-time 5 "https://127.0.0.1:$pport/v1/info"; }

"$IMAGO" app login --user alice --password-file pw.txt >/dev/null || fail "login for onboarding"
printf 'bob-password-is-long\n' | "$IMAGO" app --session bob.json login --user bob >/dev/null ||
  fail "bob's login"
"$IMAGO" app token --out reg.tok >/dev/null || fail "token for onboarding"
secrets+=("$(cat reg.tok)" "$(jq -r .access_token session.json)" "$(jq -r .refresh_token session.json)")

# attack_unpinned_portal_certificate (the real portal): a label pinning another certificate
# is refused before the request, so the device counts no try.
expect_err IMAGO_EHTTP_PIN "$IMAGO" app configure --portal "127.0.0.1:$pport" \
  --fingerprint "$fp_impostor" --setup-code "$dcode" --ssid home --token-file reg.tok
[ "$(info | jq -r .attempts_left)" = 5 ] || fail "a refused portal counted a try: $(info)"
# attack_wrong_setup_code: the device's 403 comes back as its code.
expect_err IMAGO_ESETUP_CODE "$IMAGO" app configure --portal "127.0.0.1:$pport" \
  --qr "IMAGO:1:$id:AAAAA-AAAAA:$dfp" --ssid home --token-file reg.tok
[ "$(info | jq -r .attempts_left)" = 4 ] || fail "after a wrong code: $(info)"
sleep 2.1 # the portal takes one try per 2 s
"$IMAGO" app configure --portal "127.0.0.1:$pport" --qr "$qr" --ssid home \
  --passphrase-file wifi.txt --token-file reg.tok >out.txt 2>err.txt ||
  { cat err.txt device.err >&2; fail "configure the real device"; }
grep -q "^device $id configured" out.txt || fail "configure: $(cat out.txt)"

# The device enrols, registers with the token, reports its state.
for _ in $(seq 150); do
  "$IMAGO" app devices --json 2>/dev/null | jq -e --arg id "$id" '.devices[] | select(.id == $id)' \
    >/dev/null && break
  sleep 0.2
done
"$IMAGO" app devices >out.txt || fail "devices after onboarding"
grep -q "^$id  *[a-z]*  *app-a  *yes$" out.txt || { cat device.err >&2; fail "devices: $(cat out.txt)"; }
"$IMAGO" app device "$id" >out.txt || fail "device"
grep -q "^id: $id$" out.txt && grep -q '^owner: true$' out.txt || fail "device: $(cat out.txt)"
for _ in $(seq 100); do
  "$IMAGO" app state "$id" --json >state.json 2>/dev/null &&
    jq -e '.reported.target == 20' state.json >/dev/null && break
  sleep 0.2
done
jq -e '.reported.mode == "heat"' state.json >/dev/null || fail "state: $(cat state.json)"
"$IMAGO" app state "$id" >out.txt || fail "state"
grep -q '^reported (version [0-9]*): {.*"target":20' out.txt || fail "state: $(cat out.txt)"

# Desired state: conditional on the version; the device applies the difference.  (22.5, not
# 22: the device reports reals, and the state delta compares 22 and 22.0 as different.)
dv=$(jq -r .desired_version state.json)
"$IMAGO" app set-state "$id" --version "$dv" '{"target": 22.5}' >out.txt || fail "set-state"
grep -q "^desired state of $id is now version $((dv + 1))$" out.txt || fail "set-state: $(cat out.txt)"
expect_err IMAGO_ESTATE_VERSION "$IMAGO" app set-state "$id" --version "$dv" '{"target": 23}'
for _ in $(seq 100); do
  "$IMAGO" app state "$id" --json >state.json && jq -e '.reported.target == 22.5' state.json \
    >/dev/null && break
  sleep 0.2
done
jq -e '.reported.target == 22.5 and .delta == {}' state.json >/dev/null ||
  fail "desired target not applied: $(cat state.json)"

# Signed commands: answered ok, failed (handler refused), unknown (no handler).
"$IMAGO" app command "$id" set_target '{"value": 25}' >out.txt 2>err.txt ||
  { cat err.txt >&2; fail "command set_target"; }
grep -q '^command [0-9]*: ok$' out.txt && grep -q '^result: {"target":25' out.txt ||
  fail "command: $(cat out.txt)"
cid=$(awk '$1 == "command" {print $2}' out.txt | tr -d :)
"$IMAGO" app command-get "$id" "$cid" --json | jq -e '.status == "ok"' >/dev/null ||
  fail "command-get $cid"
rc=0
"$IMAGO" app command "$id" set_target '{"value": 99}' >out.txt 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q ': failed$' out.txt || fail "a failing handler: exit $rc $(cat out.txt)"
rc=0
"$IMAGO" app command "$id" nosuch >out.txt 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q ': unknown$' out.txt || fail "an unknown command: exit $rc $(cat out.txt)"
"$IMAGO" app command "$id" set_target '{"value": 21}' --wait-ms 0 --json >out.txt ||
  fail "command --wait-ms 0"
jq -e '.status == "sent"' out.txt >/dev/null || fail "command --wait-ms 0: $(cat out.txt)"

# Another user's device does not exist for them, through every command.
for c in "device $id" "state $id" "command-get $id $cid"; do
  # shellcheck disable=SC2086
  expect_err IMAGO_ENOTFOUND "$IMAGO" app --session bob.json $c
done
expect_err IMAGO_ENOTFOUND "$IMAGO" app --session bob.json set-state "$id" --version 0 '{"target":5}'
expect_err IMAGO_ENOTFOUND "$IMAGO" app --session bob.json command "$id" set_target '{"value":5}'
expect_err IMAGO_ENOTFOUND "$IMAGO" app --session bob.json decommission "$id"
"$IMAGO" app --session bob.json devices | grep -q '^no devices$' || fail "bob sees a device"

# Decommission: wiped, revoked, unbound; the device opens its portal again.
"$IMAGO" app decommission "$id" >out.txt 2>err.txt || { cat err.txt >&2; fail "decommission"; }
grep -q "^device $id decommissioned: .*confirmed the wipe$" out.txt || fail "decommission: $(cat out.txt)"
"$IMAGO" app devices | grep -q '^no devices$' || fail "the device is still listed"
for _ in $(seq 100); do [ "$(grep -c "setup portal on" device.err)" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "setup portal on" device.err)" -ge 2 ] || fail "the wiped device opened no portal"
kill -TERM "$dpid"
wait "$dpid" || fail "the device did not stop cleanly"

no_secret_in cloud.log device.out device.err
cloud_stop || fail "imago-cloud did not stop cleanly"
echo "app_cli: onboarding passed"
