#!/usr/bin/env bash
# Enrolment and connection benchmark of the device channel (docs/sim.md).
#
#   bench/enrol/bench_enrol.sh [N devices, default 200] [connect rate per second, default 0 = all at once]
#
# Needs a build (IMAGO_BIN, default ./build) with imago, imago-cloud, imago-sim and
# imago_broker.so.  Everything runs on loopback ports; all processes are stopped at the end.
#  1. imago-cloud up (Mosquitto + imago's plugin + the service): imago-sim run --enrol for N
#     simulated devices: enrolments per second (connect with birth certificate, CSR, cert,
#     reconnect) and p50/p99 latency.
#  2. The same N devices hold their operational connections for HOLD seconds on that broker,
#     then on a plain Mosquitto with the same TLS settings and no plugin: connection setup
#     rate, broker and client memory per connection.
#  3. openssl speed ecdsap256: the crypto ceiling (an enrolment costs the device one CSR
#     signature and two handshakes, the cloud a CSR verification and a certificate signature).
# Prints a Markdown table.
set -euo pipefail
B=${IMAGO_BIN:-$(pwd)/build}
# imago-cloud and the plugin may come from another build (an ASan plugin cannot load into Mosquitto)
CB=${IMAGO_CLOUD_BIN:-$B}
N=${1:-200}
RATE=${2:-0}
HOLD=${HOLD:-5}
export PATH=$PATH:/usr/sbin
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/$1/status 2>/dev/null || echo 0; }
field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" "$2" | tail -n1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

printf 'bench root\n' >root.pass
printf 'bench cloud\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null 2>&1
echo "generating $N simulated devices..." >&2
"$B/imago-sim" factory --ca ca --passphrase-file root.pass --count "$N" --out fleet >/dev/null

mport=$(free_port); hport=$(free_port)
"$CB/imago-cloud" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
  --http-port "$hport" --plugin "$CB/imago_broker.so" >/dev/null
"$CB/imago-cloud" import-batch --data data fleet/manifest.json >/dev/null
"$CB/imago-cloud" up --data data --passphrase-file cloud.pass >cloud.log 2>&1 &
cpid=$!; pids+=("$cpid")
wait_port "$mport" || { tail cloud.log >&2; echo "imago-cloud did not start" >&2; exit 1; }
sleep 0.5
bpid=$(pgrep -P "$cpid" mosquitto | head -n1)
rate_args=()
[ "$RATE" != 0 ] && rate_args=(--connect-rate "$RATE")
sim() { # port, args
  local p=$1; shift
  "$B/imago-sim" run --devices fleet --host 127.0.0.1 --port "$p" --ca ca/server-ca.crt \
    --server-name localhost --root ca/root.crt "$@"
}

echo "enrolling $N devices through imago-cloud..." >&2
b0=$(rss_kib "$bpid")
sim "$mport" --enrol "${rate_args[@]}" >enrol.txt 2>enrol.err || { tail enrol.txt enrol.err >&2; exit 1; }
echo "holding $N connections for ${HOLD}s (imago broker)..." >&2
sim "$mport" --duration "$HOLD" "${rate_args[@]}" >hold-imago.txt 2>hold-imago.err &
spid=$!
sleep $((HOLD - 1))
b1=$(rss_kib "$bpid")
wait "$spid" || { tail hold-imago.txt hold-imago.err >&2; exit 1; }
kill "$cpid"; wait "$cpid" 2>/dev/null || true

# Plain Mosquitto, same listener TLS settings, no plugin.
pport=$(free_port)
"$B/imago" keys gen --type p256 --out srv.key >/dev/null
IMAGO_KEY_PASSPHRASE='bench cloud' "$B/imago" ca issue --ca ca --profile server --key srv.key.pub \
  --cn localhost --name 127.0.0.1 --name localhost --out srv.crt >/dev/null
cat ca/root.crt ca/issuing.crt >clients.crt
cat >plain.conf <<EOF
per_listener_settings false
allow_anonymous false
user $(id -un)
persistence false
log_dest none
max_connections -1
listener $pport 127.0.0.1
cafile $work/clients.crt
certfile $work/srv.crt
keyfile $work/srv.key
require_certificate true
use_identity_as_username true
EOF
mosquitto -c plain.conf >/dev/null 2>&1 &
ppid=$!; pids+=("$ppid")
wait_port "$pport"
p0=$(rss_kib "$ppid")
echo "holding $N connections for ${HOLD}s (plain mosquitto)..." >&2
sim "$pport" --duration "$HOLD" "${rate_args[@]}" >hold-plain.txt 2>hold-plain.err &
spid=$!
sleep $((HOLD - 1))
p1=$(rss_kib "$ppid")
wait "$spid" || { tail hold-plain.txt hold-plain.err >&2; exit 1; }

speed=$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $(NF-1), $NF}')
sign=${speed% *}; verify=${speed#* }

per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0 && b > a) printf "%.1f", (b - a) / n; else print "n/a" }'; }
echo
echo "| metric | imago-cloud + plugin | plain mosquitto | crypto ceiling |"
echo "|---|---|---|---|"
echo "| devices | $N | $N | |"
echo "| enrolments/s (birth connect, CSR, cert, reconnect) | $(field 'enrolments\/s' enrol.txt) | n/a (no enrolment) | $(awk -v s="$sign" 'BEGIN{printf "%.0f", s}') ECDSA P-256 signs/s (one core) |"
echo "| enrol latency p50 / p99 ms | $(field 'p50' enrol.txt) / $(field 'p99' enrol.txt) | | |"
echo "| connections/s (operational, TLS 1.3 mutual auth) | $(field 'connections\/s' hold-imago.txt) | $(field 'connections\/s' hold-plain.txt) | $(awk -v v="$verify" 'BEGIN{printf "%.0f", v}') ECDSA P-256 verifies/s (one core) |"
echo "| connections held | $(field 'peak-online' hold-imago.txt) | $(field 'peak-online' hold-plain.txt) | |"
echo "| broker KiB per connection | $(per "$b0" "$b1" "$N") | $(per "$p0" "$p1" "$N") | |"
echo "| imago-sim KiB per connection (client side) | $(field 'kib-per-connection' hold-imago.txt) | $(field 'kib-per-connection' hold-plain.txt) | |"
