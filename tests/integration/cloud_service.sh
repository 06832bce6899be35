#!/usr/bin/env bash
# imago-cloud up end to end: a real Mosquitto with imago_broker.so started by the service,
# devices played by mosquitto_rr (one MQTT connection per device: its client id is its CN)
# with file keys and birth certificates from `imago ca issue --profile birth`.
#   - enrolment: certificate chains to the issuing CA and carries the birth key; a retry gets
#     the same serial; an unknown device and a CSR with another key get errors
#   - the broker-hook HTTP endpoint with curl (allow, deny, 400, 404, 405)
#   - rotation; the seen event retires the old certificate and the broker refuses it
#   - `imago-cloud devices revoke` -> SIGHUP -> reload -> the broker cuts the live session
#   - SIGTERM -> service and broker gone, PID file removed; a second `up` is refused
#   - crash: 28 devices enrolling in parallel, imago-cloud SIGKILLed in the middle (its broker
#     dies with it), restarted; every device ends enrolled once, with the registry's serial.
# Devices enter the registry with sqlite3 (import-batch needs a manifest signed by a SoftHSM
# factory run, which the factory tests cover); everything else uses the real commands.
# Bounded waits; the trap kills everything this script started.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
IMAGO=${IMAGO_BIN:?}/imago
CLOUD=${IMAGO_BIN:?}/imago-cloud
PLUGIN=${IMAGO_PLUGIN:-${IMAGO_BIN:?}/imago_broker.so}
N=${CLOUD_SERVICE_DEVICES:-28}
for t in mosquitto mosquitto_rr openssl sqlite3 curl python3; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "cloud_service: $t not installed" >&2; exit 1; }
done
[ -f "$PLUGIN" ] || { echo "cloud_service: $PLUGIN not built" >&2; exit 1; }
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # the broker dies with the service (PR_SET_PDEATHSIG); make sure of it anyway
  for p in $(cat "$work"/broker.pids 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${CLOUD_SERVICE_KEEP:-}" ] && { echo "kept $work"; return; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "cloud_service: FAIL: $*" >&2
  echo "--- service log (tail)" >&2; tail -n 40 up.log >&2 2>/dev/null || true
  exit 1
}
t_start=$(date +%s%3N)
ok() { echo "cloud_service: ok: $* [$(( $(date +%s%3N) - t_start )) ms]"; }
wait_for() { # file pattern seconds
  local i
  for i in $(seq 1 $(($3 * 20))); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
cn_of() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }

# --- CA, data directory, devices ------------------------------------------------------------
printf 'root passphrase\n' >pw
printf 'cloud passphrase\n' >cpw
"$IMAGO" ca init --dir ca --passphrase-file pw --cloud-passphrase-file cpw >/dev/null
MQTT=$(free_port)
HTTP=$(free_port)
"$CLOUD" init --data "$work/data" --ca ca --cloud-passphrase-file cpw --mqtt-port "$MQTT" \
  --http-port "$HTTP" --api-port "$(free_port)" --plugin "$PLUGIN" --mosquitto "$MOSQUITTO" >/dev/null
cat ca/root.crt ca/server-ca.crt >trust.crt

mkdir dev
now=$(date +%s)
sql=""
new_device() { # name
  "$IMAGO" keys gen --type p256 --out "dev/$1.key" >/dev/null
  "$IMAGO" ca issue --ca ca --passphrase-file pw --profile birth --key "dev/$1.key.pub" \
    --out "dev/$1.crt" >/dev/null
  cn_of "dev/$1.crt" >"dev/$1.id"
}
names=()
for i in $(seq 1 "$N"); do names+=("d$i"); done
names+=(a b)
k=0
for n in "${names[@]}" stranger other; do
  new_device "$n" &
  k=$((k + 1))
  [ $((k % 4)) = 0 ] && wait
done
wait
for n in "${names[@]}"; do
  sql+="INSERT INTO devices(id,state,batch,birth_serial,imported_at,updated_at) VALUES('$(cat "dev/$n.id")',1,'test','$(serial_of "dev/$n.crt")',$now,$now);"
done
sqlite3 data/registry.db "$sql"
[ "$(sqlite3 data/registry.db 'SELECT count(*) FROM devices WHERE state = 1')" = $((N + 2)) ] ||
  fail "devices not imported"
ok "CA, data directory, $((N + 3)) birth certificates, $((N + 2)) devices imported"

# --- the service ----------------------------------------------------------------------------
up() {
  : >>up.log
  local before
  before=$(grep -c "event=mqtt_connected" up.log || true)
  "$CLOUD" up --data "$work/data" --passphrase-file cpw >>up.log 2>&1 &
  svc=$!
  pids+=("$svc")
  local i
  for i in $(seq 1 200); do
    [ "$(grep -c "event=mqtt_connected" up.log || true)" -gt "$before" ] && break
    kill -0 "$svc" 2>/dev/null || fail "imago-cloud up exited"
    sleep 0.05
  done
  [ "$(grep -c "event=mqtt_connected" up.log || true)" -gt "$before" ] || fail "service did not connect"
  broker=$(grep -o "event=broker_start result=ok pid=[0-9]*" up.log | tail -1 | sed 's/.*pid=//')
  echo "$broker" >>broker.pids
}
up
[ "$(cat data/imago-cloud.pid)" = "$svc" ] || fail "PID file does not name the service"
kill -0 "$broker" || fail "no broker child"
[ "$(ps -o ppid= -p "$broker" | tr -d ' ')" = "$svc" ] || fail "broker is not the service's child"
ok "imago-cloud up: broker child $broker, service $svc connected"
if timeout 10 "$CLOUD" up --data "$work/data" --passphrase-file cpw >second.log 2>&1; then
  fail "a second imago-cloud up on the same data directory ran"
fi
grep -q "event=pid_file result=IMAGO_EEXIST" second.log || fail "second up: $(tail -1 second.log)"
[ "$(cat data/imago-cloud.pid)" = "$svc" ] || fail "second up touched the PID file"
ok "a second up on the same data directory is refused (PID file)"

# msg NAME ID KEYFILE-FOR-CSR [type]: a request (CSR for CN=ID signed by the key) in dev/NAME.msg
msg() {
  openssl req -new -key "$3" -subj "/CN=$2" -out "dev/$1.csr" 2>/dev/null
  python3 -c 'import json,sys,secrets
print(json.dumps({"v":1,"type":sys.argv[1],"id":sys.argv[2],"nonce":secrets.token_hex(16),
                  "csr":open(sys.argv[3]).read()}))' "${4:-enrol}" "$2" "dev/$1.csr" >"dev/$1.msg"
}
# rr NAME ID [CERT PREFIX]: dev/NAME.msg as one request/response on one connection (client id =
# CN), with the birth certificate dev/NAME.crt on imago/v1/prov/ID/ by default; prints the answer
rr() {
  local name=$1 id=$2 cert=${3:-dev/$1.crt} pre=${4:-imago/v1/prov/$2}
  timeout 10 mosquitto_rr -h 127.0.0.1 -p "$MQTT" --cafile trust.crt --cert "$cert" \
    --key "dev/$name.key" -i "$id" -q 1 -t "$pre/req" -e "$pre/resp" \
    -m "$(cat "dev/$name.msg")" -W "${RR_WAIT:-5}" 2>>rr.err
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- enrolment --------------------------------------------------------------------------------
A=$(cat dev/a.id)
msg a "$A" dev/a.key
rr a "$A" >a.resp || fail "no answer to A's enrol"
[ "$(field type <a.resp)" = cert ] || fail "A got $(cat a.resp)"
field cert <a.resp >a.op.crt
field chain <a.resp >a.chain.crt
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
[ "$(fp a.chain.crt)" = "$(fp data/ca/issuing.crt)" ] || fail "chain is not the issuing CA"
openssl verify -CAfile ca/root.crt -untrusted ca/issuing.crt a.op.crt >/dev/null ||
  fail "certificate does not chain to the issuing CA"
[ "$(openssl x509 -in a.op.crt -noout -pubkey)" = "$(openssl pkey -in dev/a.key -pubout)" ] ||
  fail "certificate does not carry the birth key"
[ "$(cn_of a.op.crt)" = "$A" ] || fail "certificate CN is not the id"
openssl x509 -in a.op.crt -noout -subject | grep -q "OU *= *device" || fail "not a device certificate"
ok "enrol: device certificate from the issuing CA for the birth key"
rr a "$A" >a2.resp || fail "no answer to A's retry"
[ "$(field cert <a2.resp)" = "$(cat a.op.crt)" ] || fail "retry got another certificate"
[ "$(sqlite3 data/registry.db "SELECT count(*) FROM certs WHERE device_id='$A'")" = 1 ] ||
  fail "retry recorded a second certificate"
[ "$(sqlite3 data/registry.db "SELECT cert_serial FROM devices WHERE id='$A'")" = "$(serial_of a.op.crt)" ] ||
  fail "registry serial differs from the certificate"
ok "enrol retry: same certificate (serial $(serial_of a.op.crt)), one record"

S=$(cat dev/stranger.id)
msg stranger "$S" dev/stranger.key
rr stranger "$S" >s.resp || fail "no answer to the stranger"
[ "$(field code <s.resp)" = IMAGO_EREG_UNKNOWN ] || fail "unknown device got $(cat s.resp)"
ok "unknown device: error IMAGO_EREG_UNKNOWN"
B=$(cat dev/b.id)
msg b "$B" dev/other.key
rr b "$B" >b.resp || fail "no answer to B's enrol with another key"
[ "$(field code <b.resp)" = IMAGO_EREG_KEY ] || fail "CSR with another key got $(cat b.resp)"
[ "$(sqlite3 data/registry.db "SELECT state FROM devices WHERE id='$B'")" = 1 ] ||
  fail "B changed state"
ok "CSR signed by another key: error IMAGO_EREG_KEY, device still imported"

# --- rotation, seen, retirement ----------------------------------------------------------------
msg a "$A" dev/a.key rotate
rr a "$A" a.op.crt "imago/v1/d/$A/rot" >a.rot || fail "no answer to A's rotate"
[ "$(field type <a.rot)" = cert ] || fail "rotate got $(cat a.rot)"
field cert <a.rot >a.op2.crt
old=$(serial_of a.op.crt)
new=$(serial_of a.op2.crt)
[ "$old" != "$new" ] || fail "rotation returned the same serial"
# A reconnects with the new certificate: the plugin's seen event retires the old one
timeout 10 mosquitto_pub -h 127.0.0.1 -p "$MQTT" --cafile trust.crt --cert a.op2.crt --key dev/a.key \
  -i "$A" -q 1 -t "imago/v1/d/$A/state" -m up 2>>rr.err || fail "A cannot connect with its new certificate"
wait_for data/broker/deny.json "$old" 5 || fail "old serial not in the deny file"
wait_for up.log "event=deny_refresh result=ok" 5 || fail "no deny refresh logged"
[ "$(sqlite3 data/registry.db "SELECT revoked FROM certs WHERE serial='$old'")" = 1 ] ||
  fail "old certificate not retired in the registry"
sleep 0.3
if timeout 10 mosquitto_pub -h 127.0.0.1 -p "$MQTT" --cafile trust.crt --cert a.op.crt --key dev/a.key \
  -i "$A" -q 1 -t "imago/v1/d/$A/state" -m old 2>>rr.err; then
  fail "the retired certificate still connects"
fi
ok "rotate: new serial; seen with it retires the old one (registry, deny file, broker refuses it)"

# --- HTTP broker-hook endpoint ------------------------------------------------------------------
U=http://127.0.0.1:$HTTP/broker/v1
post() { # path body -> "code body"
  curl -s -m 5 -o http.body -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$2" "$U/$1"
  echo " $(cat http.body)"
}
expect() { # what expected-code-and-body path body
  local got
  got=$(post "$3" "$4")
  [ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"
}
expect "EMQX authn enrolled device" '200 {"result":"allow"}' emqx/authn \
  "{\"clientid\":\"$A\",\"username\":\"x\",\"cert_subject\":\"CN=$A,OU=device,O=imago\",\"cert_common_name\":\"$A\"}"
expect "EMQX authn device cert for an imported id" '200 {"result":"deny"}' emqx/authn \
  "{\"clientid\":\"$B\",\"username\":\"\",\"cert_subject\":\"CN=$B,OU=device,O=imago\",\"cert_common_name\":\"$B\"}"
expect "EMQX authz own topic" '200 {"result":"allow"}' emqx/authz \
  "{\"clientid\":\"$A\",\"username\":\"$A\",\"cert_subject\":\"CN=$A,OU=device\",\"topic\":\"imago/v1/d/$A/state\",\"action\":\"publish\"}"
expect "EMQX authz other device's topic" '200 {"result":"deny"}' emqx/authz \
  "{\"clientid\":\"$A\",\"username\":\"$A\",\"cert_subject\":\"CN=$A,OU=device\",\"topic\":\"imago/v1/d/$B/state\",\"action\":\"subscribe\"}"
expect "VerneMQ register imported (birth)" '200 {"result":"ok"}' vernemq/auth_on_register \
  "{\"client_id\":\"$B\",\"username\":\"$B\",\"peer_addr\":\"127.0.0.1\",\"mountpoint\":\"\"}"
expect "VerneMQ register unknown" '200 {"result":{"error":"not_allowed"}}' vernemq/auth_on_register \
  "{\"client_id\":\"$S\",\"username\":\"$S\"}"
expect "VerneMQ birth publish outside prov" '200 {"result":{"error":"not_allowed"}}' \
  vernemq/auth_on_publish "{\"client_id\":\"$B\",\"username\":\"$B\",\"topic\":\"imago/v1/d/$B/x\",\"qos\":1}"
expect "VerneMQ subscribe wildcard" '200 {"result":{"error":"not_allowed"}}' \
  vernemq/auth_on_subscribe "{\"client_id\":\"$A\",\"username\":\"$A\",\"topics\":[{\"topic\":\"imago/v1/d/#\",\"qos\":1}]}"
for body in '' 'not json' '[1]' '{"clientid":"a"}' '{"clientid":"a","clientid":"b"}' \
  "{\"clientid\":\"$A\",\"username\":\"$A\",\"cert_subject\":\"CN=$A,OU=device\",\"topic\":\"t\",\"action\":\"drop\"}"; do
  got=$(post emqx/authz "$body")
  case "$got" in "400 {\"error\":{\"code\":\"IMAGO_E"*) ;; *) fail "bad body '$body' got '$got'" ;; esac
done
python3 -c 'print("{\"clientid\":\"" + "a" * 20000 + "\"}")' >big.json
got=$(post emqx/authz @big.json)
case "$got" in "400 "*"IMAGO_ETOOBIG"*) ;; *) fail "oversize body got '$got'" ;; esac
[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$U/emqx/authz")" = 405 ] || fail "GET not 405"
[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d '{}' "$U/emqx/nope")" = 404 ] || fail "unknown path not 404"
ok "HTTP endpoint: EMQX and VerneMQ allow/deny, 400 on bad or oversize JSON, 404, 405"

# --- revocation from the admin CLI: SIGHUP -> reload -> live session cut ---------------------------
conns=$(grep -c "New client connected from .* as $A (" up.log || true)
timeout 15 mosquitto_sub -h 127.0.0.1 -p "$MQTT" --cafile trust.crt --cert a.op2.crt --key dev/a.key \
  -i "$A" -q 1 -t "imago/v1/d/$A/#" >a.sub 2>a.sub.err &
asub=$!
pids+=("$asub")
for i in $(seq 1 100); do
  [ "$(grep -c "New client connected from .* as $A (" up.log || true)" -gt "$conns" ] && break
  sleep 0.05
done
[ "$(grep -c "New client connected from .* as $A (" up.log || true)" -gt "$conns" ] ||
  fail "A's subscriber did not connect"
reloads=$(grep -c "event=deny_reload result=ok" up.log || true)
"$CLOUD" devices revoke --data "$work/data" --reason stolen "$A" >/dev/null || fail "devices revoke"
for i in $(seq 1 100); do
  [ "$(grep -c "event=deny_reload result=ok" up.log || true)" -gt "$reloads" ] && break
  sleep 0.05
done
[ "$(grep -c "event=deny_reload result=ok" up.log || true)" -gt "$reloads" ] ||
  fail "the admin's SIGHUP did not make the service publish a reload"
for i in $(seq 1 40); do kill -0 "$asub" 2>/dev/null || break; sleep 0.05; done
grep -q "kicking $A" up.log || fail "A's live session was not cut"
expect "EMQX authn revoked device" '200 {"result":"deny"}' emqx/authn \
  "{\"clientid\":\"$A\",\"username\":\"\",\"cert_subject\":\"CN=$A,OU=device,O=imago\",\"cert_common_name\":\"$A\"}"
ok "devices revoke: SIGHUP -> reload published -> broker cut A's session; HTTP hook denies A"

# --- SIGHUP, SIGTERM ------------------------------------------------------------------------------
kill -HUP "$svc"
wait_for up.log "event=deny_reload result=ok" 5 || fail "SIGHUP did not publish a reload"
ok "SIGHUP: reload published"
kill -TERM "$svc"
for i in $(seq 1 200); do kill -0 "$svc" 2>/dev/null || break; sleep 0.05; done
kill -0 "$svc" 2>/dev/null && fail "service still running after SIGTERM"
wait "$svc" || fail "service exit status $? after SIGTERM"
kill -0 "$broker" 2>/dev/null && fail "broker left running after SIGTERM"
[ -e data/imago-cloud.pid ] && fail "PID file left behind"
ok "SIGTERM: service and broker gone, PID file removed"

# --- crash during enrolment ---------------------------------------------------------------------
enrol_loop() { # name: retry until a certificate arrives (bounded)
  local name=$1 id k
  id=$(cat "dev/$name.id")
  for k in $(seq 1 60); do
    # a request published while no service is subscribed is lost: wait 2 s, then retry
    if RR_WAIT=2 rr "$name" "$id" >"dev/$name.resp.tmp" 2>/dev/null &&
      grep -q '"type":"cert"' "dev/$name.resp.tmp"; then
      mv "dev/$name.resp.tmp" "dev/$name.resp"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
for i in $(seq 1 "$N"); do
  openssl req -new -key "dev/d$i.key" -subj "/CN=$(cat "dev/d$i.id")" -out "dev/d$i.csr" 2>/dev/null
done
python3 - "$N" <<'PY'
import json, secrets, sys
for i in range(1, int(sys.argv[1]) + 1):
    d = "dev/d%d" % i
    m = {"v": 1, "type": "enrol", "id": open(d + ".id").read().strip(),
         "nonce": secrets.token_hex(16), "csr": open(d + ".csr").read()}
    open(d + ".msg", "w").write(json.dumps(m))
PY
up
t0=$(date +%s%3N)
loops=()
for i in $(seq 1 "$N"); do
  enrol_loop "d$i" &
  loops+=("$!")
  pids+=("$!")
done
# SIGKILL once some, not all, are enrolled
for i in $(seq 1 200); do
  c=$(sqlite3 data/registry.db 'SELECT count(*) FROM devices WHERE state = 2' 2>/dev/null || echo 0)
  [ "$c" -ge 4 ] && break
  sleep 0.02
done
kill -9 "$svc"
wait "$svc" 2>/dev/null || true
at_kill=$(sqlite3 data/registry.db 'SELECT count(*) FROM devices WHERE state = 2')
for i in $(seq 1 100); do kill -0 "$broker" 2>/dev/null || break; sleep 0.05; done
kill -0 "$broker" 2>/dev/null && fail "broker survived the service's SIGKILL"
ok "imago-cloud SIGKILLed with $at_kill enrolled (incl. A); its broker died with it"
up
for p in "${loops[@]}"; do wait "$p" || fail "a device never got its certificate"; done
t1=$(date +%s%3N)
# one pass over the answers and the registry (python: sqlite3 module, a minimal DER reader)
python3 - "$N" data/registry.db <<'PY' || fail "crash check"
import base64, json, sqlite3, sys

def tlv(b, i):
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, b[i:i + n], i + n

def serial_spki(pem):
    der = base64.b64decode("".join(l for l in pem.splitlines() if "-----" not in l))
    _, cert, _ = tlv(der, 0)
    _, tbs, _ = tlv(cert, 0)
    i = 0
    if tbs[0] == 0xA0:
        i = tlv(tbs, 0)[2]
    _, serial, i = tlv(tbs, i)
    for _ in range(4):  # signature, issuer, validity, subject
        i = tlv(tbs, i)[2]
    start = i
    _, _, end = tlv(tbs, i)
    return serial.hex(), tbs[start:end]

db = sqlite3.connect(sys.argv[2])
bad = 0
for i in range(1, int(sys.argv[1]) + 1):
    d = "dev/d%d" % i
    dev_id = open(d + ".id").read().strip()
    ans = json.load(open(d + ".resp"))
    serial, spki = serial_spki(ans["cert"])
    birth_spki = serial_spki(open(d + ".crt").read())[1]
    state, reg_serial = db.execute("SELECT state, cert_serial FROM devices WHERE id = ?", (dev_id,)).fetchone()
    n = db.execute("SELECT count(*) FROM certs WHERE device_id = ?", (dev_id,)).fetchone()[0]
    if state != 2 or n != 1 or reg_serial != serial or spki != birth_spki:
        print("d%d: state %d, %d certificates, registry serial %s, received %s, same key %s"
              % (i, state, n, reg_serial, serial, spki == birth_spki), file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
PY
[ "$(sqlite3 data/registry.db 'SELECT count(*) FROM certs')" = $((N + 2)) ] || fail "extra certificates recorded"
ok "crash: $N devices enrolled exactly once each, every received serial is the registry's ($((t1 - t0)) ms)"
kill -TERM "$svc"
wait "$svc" || fail "service exit status after SIGTERM"
kill -0 "$broker" 2>/dev/null && fail "broker left running"
ok "stopped cleanly"
