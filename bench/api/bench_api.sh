#!/usr/bin/env bash
# API requests per second: imago-cloud's HTTPS API (GET /v1/me with a bearer token) next to a plain
# HTTPS baseline in the same run (bench_https_const: the same imago_https server, TLS settings and
# certificate profile, answering a constant of the same size with no auth, database or rate limit),
# with keep-alive off (a new TLS connection per request, as `imago app` does) and on.
#
#   bench/api/bench_api.sh [CLIENTS, default 200] [SECONDS per run, default 3] [ACCOUNTS, default 2 x CLIENTS]
#
# Needs a build (IMAGO_BIN, default ./build) with imago, imago-cloud, imago_broker.so,
# bench_api_load and bench_https_const (IMAGO_CLOUD_BIN for imago-cloud and the plugin from another
# build).  THREADS (default 4) load threads share CLIENTS simulated clients; each client has its
# own loopback source address (127.0.0.2...) and ACCOUNTS/CLIENTS accounts used in turn, like many
# apps: the API's rate limits (50 requests/s per address, 20 per account, with bursts) apply as
# deployed and are not switched off; there are enough clients and accounts that they do not bind
# (any 429 answer is counted and shown, and would mean the figure is the limiter's, not the API's).  Everything runs on 127.0.0.0/8; every process this script
# starts is stopped on exit.  Prints a Markdown section for docs/BENCHMARKS.md.
set -euo pipefail
B=$(cd "${IMAGO_BIN:-build}" && pwd)
CB=$(cd "${IMAGO_CLOUD_BIN:-$B}" && pwd)
CLIENTS=${1:-200}
SECS=${2:-3}
ACCOUNTS=${3:-$((2 * CLIENTS))}
THREADS=${THREADS:-4}
export PATH=$PATH:/usr/sbin
for p in "$B/imago" "$CB/imago-cloud" "$CB/imago_broker.so" "$B/bench_api_load" "$B/bench_https_const"; do
  [ -e "$p" ] || { echo "bench_api: $p not built" >&2; exit 1; }
done
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
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p; s/^$1=\([0-9.]*\).*/\1/p" <<<"$2" | head -n1; }

printf 'bench root\n' >root.pass
printf 'bench cloud\n' >cloud.pass
printf 'bench password %s\n' "$RANDOM$RANDOM" >user.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null 2>&1

# imago-cloud with its API on a free port.
for try in 1 2 3; do
  mport=$(free_port); hport=$(free_port); aport=$(free_port)
  rm -rf data
  "$CB/imago-cloud" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
    --http-port "$hport" --api-port "$aport" --plugin "$CB/imago_broker.so" >/dev/null
  "$CB/imago-cloud" up --data data --passphrase-file cloud.pass >cloud.log 2>&1 &
  cpid=$!
  pids+=("$cpid")
  for _ in $(seq 150); do
    grep -q "event=api_listening" cloud.log && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "event=api_listening" cloud.log && break
  kill "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
done
grep -q "event=api_listening" cloud.log || { tail cloud.log >&2; echo "bench_api: the API did not start" >&2; exit 1; }

# The baseline: same CA, a server certificate of the same profile and key type.
"$B/imago" keys gen --type p256 --out base.key >/dev/null
IMAGO_KEY_PASSPHRASE='bench cloud' "$B/imago" ca issue --ca ca --profile server --key base.key.pub \
  --cn localhost --name 127.0.0.1 --out base.crt >/dev/null
cat base.crt ca/server-ca.crt >base-chain.crt
"$B/bench_https_const" base-chain.crt base.key >base.out 2>base.err &
pids+=("$!")
for _ in $(seq 50); do grep -q '^port=' base.out && break; sleep 0.1; done
bport=$(sed -n 's/^port=//p' base.out)
[ -n "$bport" ] || { cat base.err >&2; echo "bench_api: baseline server did not start" >&2; exit 1; }

echo "signing up and logging in $ACCOUNTS users..." >&2
"$B/bench_api_load" login 127.0.0.1 "$aport" ca/server-ca.crt 127.0.0.1 "$ACCOUNTS" user.pass tokens.txt

run() { # port tokens keepalive
  "$B/bench_api_load" run 127.0.0.1 "$1" ca/server-ca.crt 127.0.0.1 /v1/me "$2" "$CLIENTS" "$THREADS" "$SECS" "$3"
}
row() { # label keepalive result
  local r=$3
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(field rps "$r")" "$(field p50_ms "$r")" \
    "$(field p99_ms "$r")" "$(field requests "$r")" "$(field rate_limited "$r")" \
    "$(($(field other "$r") + $(field errors "$r")))"
}

declare -A res
load0=$(cut -d' ' -f1 /proc/loadavg)
for ka in 0 1; do
  echo "keep-alive $ka: baseline..." >&2
  res[base$ka]=$(run "$bport" - "$ka")
  echo "keep-alive $ka: API..." >&2
  res[api$ka]=$(run "$aport" tokens.txt "$ka")
done
load1=$(cut -d' ' -f1 /proc/loadavg)
rm -f tokens.txt

echo "### App API requests per second (bench/api/bench_api.sh)"
echo
echo "Run of $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');"
echo "load average $load0 before, $load1 after. $CLIENTS clients (own loopback address each), $ACCOUNTS accounts,"
echo "$THREADS load threads, ${SECS} s per run, one request in flight per thread; server and load generator share the machine."
echo
echo "| server | keep-alive | 2xx requests/s | p50 ms | p99 ms | requests | 429 | errors/other |"
echo "|---|---|---|---|---|---|---|---|"
row "plain HTTPS (imago_https, constant answer)" off "${res[base0]}"
row "imago-cloud API, GET /v1/me" off "${res[api0]}"
row "plain HTTPS (imago_https, constant answer)" on "${res[base1]}"
row "imago-cloud API, GET /v1/me" on "${res[api1]}"
echo
for ka in 0 1; do
  awk -v a="$(field rps "${res[api$ka]}")" -v b="$(field rps "${res[base$ka]}")" -v k="$ka" \
    'BEGIN { if (b > 0) printf "keep-alive %s: the API answers at %.0f%% of the baseline rate.\n", k ? "on" : "off", 100 * a / b }'
done
