#!/usr/bin/env bash
# The setup portal of imago-agent (docs/onboarding.md), with a device made by
# `imago factory provision` in a SoftHSM2 token: the portal serves the birth certificate
# (pinned by the label's fingerprint) with the token's key; GET /v1/info; malformed and
# oversized configure bodies refused without costing a try; wrong setup codes 403, one try
# per 2 s (429), locked (423) after 5, still locked after a restart, even for the right
# code; a factory reset (SIGUSR1) unlocks; the right code configures the device, the portal
# closes and the agent then listens on no socket at all (checked in /proc and with ss); the
# setup code is not left in the process memory nor in the logs; `--factory-reset` opens
# the portal again.  No broker runs: the configured agent keeps retrying its connection
# (the cloud side is tests/integration/e2e_*.sh); every agent is stopped with SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
B=${IMAGO_BIN:?}
S=${IMAGO_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in softhsm2-util curl jq openssl python3 ss; do
  command -v "$t" >/dev/null || { echo "agent_portal: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/imago-agent-portal-XXXXXX")
apid=
cleanup() {
  if [ -n "$apid" ]; then kill -TERM "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "agent_portal: FAIL: $*" >&2
  echo "--- agent log (tail)" >&2; tail -n 20 agent.err >&2 2>/dev/null || true
  exit 1
}
ok() { echo "agent_portal: ok: $*"; }

# A device from the factory line: identity key in its token, birth certificate and the
# setup-code hash in its encrypted store; the label gives id, setup code and fingerprint.
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin Pin-4321-q7 --so-pin 87654321 >/dev/null
printf 'Pin-4321-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch portal-a >labels.txt
id=$(awk '$1 == "id" {print $2}' labels.txt)
code=$(awk '$1 == "setup" {print $3}' labels.txt)
fpr=$(awk '$1 == "birth" {print $4}' labels.txt)
[ -n "$id" ] && [ -n "$code" ] && [ ${#fpr} = 64 ] || fail "label not as expected"
# The label's fingerprint is of the birth certificate; curl pins the key in it.
openssl x509 -in batch/devices/1.crt -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64 >pin.b64
"$B/imago" keys gen --type p256 --out other.key >/dev/null
openssl pkey -in other.key -pubout -outform der | openssl dgst -sha256 -binary | base64 >other.b64

pport=$(free_port)
mport=$(free_port) # nothing listens there: the configured agent just keeps retrying
device_conf 1 "backoff_max = 1" "portal_host = 127.0.0.1" "portal_port = $pport" >agent.conf

# start_agent [flags]: background agent; waits for the portal or for the link's first try.
start_agent() {
  : >agent.err
  "$B/imago-agent" --config agent.conf --verbose "$@" >>agent.out 2>agent.err &
  apid=$!
  for _ in $(seq 100); do
    grep -q "setup portal on\|birth certificate: enrolling\|operational certificate" agent.err && return 0
    kill -0 "$apid" 2>/dev/null || fail "agent exited at start"
    sleep 0.1
  done
  fail "agent did not start"
}
stop_agent() {
  local rc=0
  kill -TERM "$apid"
  wait "$apid" || rc=$?
  apid=
  [ $rc = 0 ] || fail "SIGTERM exit code $rc"
}
# portal METHOD PATH [BODY-FILE]: prints "<status> <body>"; pinned to the birth certificate key.
portal() {
  local args=(-sS -k --max-time 10 --pinnedpubkey "sha256//$(cat pin.b64)" -X "$1"
    -o resp.json -w '%{http_code}')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "@$3")
  local st
  st=$(curl "${args[@]}" "https://127.0.0.1:$pport$2") || st=000
  echo "$st $(cat resp.json 2>/dev/null)"
}
errcode() { jq -r '.error.code' resp.json; }
configure_body() { # code -> configure.json
  jq -n --arg c "$1" --arg t "$(cat token.txt)" \
    '{setup_code: $c, network: {ssid: "home", passphrase: "correct horse battery"}, registration_token: $t}' >configure.json
}
# A registration token has the JWE compact form (the device cannot read it anyway).
printf 'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9..aXZpdml2aXZpdg.c2VjcmV0LXRva2VuLWJvZHk.dGFndGFndGFn' >token.txt

# 1. The portal: pinned by the label, the birth certificate, GET /v1/info.
start_agent
r=$(portal GET /v1/info)
[ "${r%% *}" = 200 ] || fail "GET /v1/info: $r"
[ "$(jq -r .device resp.json)" = "$id" ] && [ "$(jq -r .state resp.json)" = unconfigured ] &&
  [ "$(jq -r .attempts_left resp.json)" = 5 ] || fail "info: $(cat resp.json)"
served=$(openssl s_client -connect "127.0.0.1:$pport" </dev/null 2>/dev/null |
  openssl x509 -outform der | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$served" = "$fpr" ] || fail "served certificate $served is not the label's $fpr"
ok "portal serves the birth certificate (fingerprint = label); GET /v1/info"

# attack_unpinned_portal_certificate: a client pinning the label refuses any other key.
if curl -sS -k --max-time 10 --pinnedpubkey "sha256//$(cat other.b64)" \
  "https://127.0.0.1:$pport/v1/info" >/dev/null 2>curl.err; then
  fail "a pin of another key was accepted"
fi
if curl -sS --max-time 10 "https://127.0.0.1:$pport/v1/info" >/dev/null 2>&1; then
  fail "the portal certificate passed a web PKI check"
fi
ok "attack_unpinned_portal_certificate: other pins and unpinned clients refuse it"

# 2. Malformed, oversized and wrongly typed bodies: refused before any code check, no try spent.
n=0
for v in "$S"/tests/vectors/portal/*.json; do
  want=$(head -n1 "${v%.json}.expect")
  [ "$want" = IMAGO_OK ] && continue
  r=$(portal POST /v1/configure "$v")
  st=${r%% *}
  # Over the limit: the HTTPS server answers 413 before the body reaches the parser.
  if [ "$want" = IMAGO_ETOOBIG ]; then
    [ "$st" = 413 ] || fail "$(basename "$v"): $r (want 413)"
  else
    [ "$st" = 400 ] && [ "$(errcode)" = "$want" ] || fail "$(basename "$v"): $r (want 400 $want)"
  fi
  n=$((n + 1))
done
[ $n -ge 30 ] || fail "only $n vectors"
head -c 200000 /dev/zero | tr '\0' 'a' >huge.json
r=$(portal POST /v1/configure huge.json)
# 413, or the connection cut while curl is still sending (libevent answers 413 and closes at
# once): either way refused before any handler; the try count below shows nothing was spent.
case "${r%% *}" in 413 | 000) ;; *) fail "200 kB body: $r" ;; esac
printf '{}' >empty.json
r=$(portal PUT /v1/configure empty.json)
[ "${r%% *}" = 405 ] || fail "PUT /v1/configure: $r"
r=$(portal GET /v1/configure)
[ "${r%% *}" = 405 ] || fail "GET /v1/configure: $r"
r=$(portal GET /v1/nothing)
[ "${r%% *}" = 404 ] || fail "GET /v1/nothing: $r"
portal GET /v1/info >/dev/null
[ "$(jq -r .attempts_left resp.json)" = 5 ] || fail "malformed bodies cost tries: $(cat resp.json)"
ok "$n malformed/oversized configure vectors and a 200 kB body refused (400/413), no try spent"

# 3. attack_wrong_setup_code: 403 five times (one try per 2 s, else 429), then 423 locked.
configure_body "AAAAA-AAAAA"
for i in 1 2 3 4 5; do
  r=$(portal POST /v1/configure configure.json)
  [ "${r%% *}" = 403 ] && [ "$(errcode)" = IMAGO_ESETUP_CODE ] || fail "wrong code $i: $r"
  if [ $i = 1 ]; then
    r=$(portal POST /v1/configure configure.json)
    [ "${r%% *}" = 429 ] && [ "$(errcode)" = IMAGO_EAPI_RATE ] || fail "second try at once: $r"
  fi
  sleep 2.1
done
r=$(portal POST /v1/configure configure.json)
[ "${r%% *}" = 423 ] && [ "$(errcode)" = IMAGO_ESETUP_LOCKED ] || fail "sixth try: $r"
configure_body "$code"
r=$(portal POST /v1/configure configure.json)
[ "${r%% *}" = 423 ] || fail "right code while locked: $r"
portal GET /v1/info >/dev/null
[ "$(jq -r .state resp.json)" = locked ] && [ "$(jq -r .attempts_left resp.json)" = 0 ] ||
  fail "info while locked: $(cat resp.json)"
ok "attack_wrong_setup_code: 403 x5 (429 faster than one try per 2 s), then 423; right code refused"

# The lock is in the store: a restart does not lift it.
stop_agent
start_agent
grep -q "setup portal on .*(locked)" agent.err || fail "restart: not locked"
r=$(portal POST /v1/configure configure.json)
[ "${r%% *}" = 423 ] || fail "right code after restart: $r"
ok "attack_wrong_setup_code_restart: still locked after a restart"

# A factory reset (the reset button, SIGUSR1) lifts the lock.
kill -USR1 "$apid"
for _ in $(seq 50); do grep -q "factory reset:" agent.err && break; sleep 0.1; done
sleep 0.3
portal GET /v1/info >/dev/null
[ "$(jq -r .state resp.json)" = unconfigured ] && [ "$(jq -r .attempts_left resp.json)" = 5 ] ||
  fail "after SIGUSR1: $(cat resp.json)"
ok "factory reset (SIGUSR1) clears the lock"

# 4. The right code: configured, the portal closes, no socket listens any more.
sleep 2.1
r=$(portal POST /v1/configure configure.json)
[ "${r%% *}" = 200 ] && [ "$(jq -r .status resp.json)" = configured ] &&
  [ "$(jq -r .device resp.json)" = "$id" ] || fail "right code: $r"
for _ in $(seq 50); do grep -q "birth certificate: enrolling" agent.err && break; sleep 0.1; done
grep -q "birth certificate: enrolling" agent.err || fail "the link did not start"
sleep 0.5
# Every socket the process holds, against the kernel's LISTEN sockets (TCP state 0A) and
# every UDP socket: none may be the agent's.
inodes=$(find /proc/"$apid"/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' | sort -u)
listening=$( (awk '$4 == "0A" {print $10}' /proc/"$apid"/net/tcp /proc/"$apid"/net/tcp6
  awk 'NR > 1 {print $10}' /proc/"$apid"/net/udp /proc/"$apid"/net/udp6) 2>/dev/null | sort -u)
if [ -n "$inodes" ] && comm -12 <(echo "$inodes") <(echo "$listening") | grep -q .; then
  fail "the agent still listens: $(comm -12 <(echo "$inodes") <(echo "$listening"))"
fi
! ss -Hltunp 2>/dev/null | grep -q "pid=$apid," || fail "ss shows a listening socket of the agent"
if curl -sS -k --max-time 5 "https://127.0.0.1:$pport/v1/info" >/dev/null 2>&1; then
  fail "the portal still answers"
fi
ok "configured with the right code; portal closed: the agent listens on no socket (/proc, ss)"

# The setup code is gone from the process's memory; nothing secret was logged.
# (Not under AddressSanitizer: its shadow memory makes a core of terabytes.)
if command -v gcore >/dev/null && ! grep -qa AddressSanitizer "$B/imago-agent"; then
  timeout 60 gcore -o core "$apid" >/dev/null 2>&1 || true
  if [ -f "core.$apid" ]; then
    canon=$(echo "$code" | tr -d '-')
    if grep -c -a -e "$code" -e "$canon" "core.$apid" >/dev/null; then
      fail "the setup code is still in the agent's memory"
    fi
    rm -f "core.$apid"
    ok "the setup code is not in the agent's memory (gcore)"
  fi
fi
for s in "$code" "correct horse battery" "$(cat token.txt)" Pin-4321-q7; do
  ! grep -qF -- "$s" agent.err agent.out || fail "a secret appears in the agent's output"
done
ok "no setup code, passphrase, token or PIN in the logs"

# 5. A restart keeps the configuration (no portal); --factory-reset opens it again.
stop_agent
start_agent
! grep -q "setup portal on" agent.err || fail "portal opened on a configured device"
stop_agent
start_agent --factory-reset
grep -q "factory reset: [1-9][0-9]* records deleted" agent.err || fail "--factory-reset deleted nothing"
grep -q "setup portal on .*(unconfigured)" agent.err || fail "--factory-reset: no portal"
r=$(portal GET /v1/info)
[ "${r%% *}" = 200 ] && [ "$(jq -r .attempts_left resp.json)" = 5 ] || fail "after reset: $r"
stop_agent
ok "--factory-reset reopens the portal; SIGTERM exits 0"
