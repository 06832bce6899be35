#!/usr/bin/env bash
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
  pids+=($!)
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
for try in 1 2 3 4 5; do
  sport=$(free_port)
  openssl s_server -accept "127.0.0.1:$sport" -cert impostor.crt -key impostor.key \
    >s_server.log 2>&1 <&7 &
  spid=$!
  pids+=($spid)
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
