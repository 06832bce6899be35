#!/usr/bin/env bash
# Command round trip: POST /v1/devices/ID/commands with wait (API -> signed envelope -> Mosquitto ->
# device verifies and runs the handler -> result -> Mosquitto -> API answer), at a fixed request
# rate, latency percentiles; next to, in the same run and at the same rate, a plain HTTPS request
# to the same API (GET /v1/me: TLS handshake, token check, one database read) and, when built, a
# constant answer from the bare imago_https server (bench_https_const).  Every request opens a new
# TLS connection (bench_rtt), for all three rows alike.
#
#   bench/cmd/bench_cmd.sh [RATE per second, default 10] [SECONDS, default 15]
#
# The device is a real one: a SoftHSM2 token provisioned by `imago factory provision`, running
# imago-example-thermostat, onboarded through its setup portal by `imago app`.  The rate stays
# under the API's per-account limit (20/s).  Everything on 127.0.0.1; every process is stopped.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${IMAGO_BIN:-build}" && pwd)
RATE=${1:-10}
SECS=${2:-15}
export PATH=$PATH:/usr/sbin
for p in imago imago-cloud imago_broker.so imago-example-thermostat bench_rtt; do
  [ -e "$B/$p" ] || { echo "bench_cmd: $B/$p not built" >&2; exit 1; }
done
work=$(mktemp -d /tmp/imago-cmdbench-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
# shellcheck source=../../tests/integration/lib/common.bash
. "$src/tests/integration/lib/common.bash" # free_port, device_conf
wait_for() { # tenths command...
  local n=$1
  shift
  while [ "$n" -gt 0 ]; do "$@" 2>/dev/null && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

printf 'bench root\n' >root.pass
printf 'bench cloud\n' >cloud.pass
printf 'bench-user-password-%s\n' "$RANDOM$RANDOM" >user.pw
printf 'bench wifi\n' >wifi.pw
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin 2468 --so-pin 13579111 >/dev/null
printf '2468\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch bench >labels.txt
id=$(awk '$1 == "id" {print $2}' labels.txt)
code=$(awk '$1 == "setup" {print $3}' labels.txt)
fpr=$(awk '$1 == "birth" {print $4}' labels.txt)

mport=$(free_port); hport=$(free_port); aport=$(free_port); pport=$(free_port)
"$B/imago-cloud" init --data data --ca ca --cloud-passphrase-file cloud.pass --mqtt-port "$mport" \
  --http-port "$hport" --api-port "$aport" --plugin "$B/imago_broker.so" >/dev/null
"$B/imago-cloud" import-batch --data data batch/manifest.json >/dev/null
"$B/imago-cloud" up --data data --passphrase-file cloud.pass >cloud.log 2>&1 &
pids+=($!)
wait_for 150 grep -q "event=api_listening" cloud.log || { cat cloud.log >&2; exit 1; }

export IMAGO_API=https://127.0.0.1:$aport IMAGO_API_CA=$work/ca/root.crt IMAGO_SESSION=$work/s.json
"$B/imago" app signup --user bench --password-file user.pw >/dev/null
"$B/imago" app login --user bench --password-file user.pw >/dev/null
"$B/imago" app token --out regtoken.txt >/dev/null
device_conf 1 "backoff_max = 1" "portal_host = 127.0.0.1" "portal_port = $pport" \
  "command_key = $work/data/keys/command.pub" >dev.conf
"$B/imago-example-thermostat" --config dev.conf >dev.log 2>&1 &
pids+=($!)
wait_for 200 grep -q "setup portal on" dev.log || { cat dev.log >&2; exit 1; }
"$B/imago" app configure --portal "127.0.0.1:$pport" --fingerprint "$fpr" --setup-code "$code" \
  --ssid bench --passphrase-file wifi.pw --token-file regtoken.txt >/dev/null
wait_for 300 grep -q "registration answered: ok" dev.log || { cat dev.log >&2; exit 1; }
jq -r .access_token s.json >bearer

rtt() { # label, bench_rtt arguments...
  local label=$1 line
  shift
  line=$("$B/bench_rtt" --host 127.0.0.1 --ca "$work/ca/root.crt" --server-name localhost \
    --rate "$RATE" --seconds "$SECS" "$@")
  awk -v l="$label" '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
    printf "| %s | %s | %s | %s | %s | %s | %s |\n", l, v["n"], v["errors"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"]}' <<<"$line"
}
echo "### Command round trip (issue 5): $RATE requests/s for $SECS s, new TLS connection per request"
echo
echo "| request | n | errors | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
# The access token lasts 5 minutes: enough for the three runs below.
rtt "command set_target, wait for the device's result" --port "$aport" --bearer-file bearer --method POST \
  --path "/v1/devices/$id/commands" --body '{"name":"set_target","args":{"value":21},"wait_ms":5000}'
rtt "GET /v1/me (same API, no device)" --port "$aport" --bearer-file bearer --path /v1/me
if [ -x "$B/bench_https_const" ]; then
  "$B/bench_https_const" "$work/data/api/api.crt" "$work/data/api/api.key" cloud.pass >const.out 2>const.log &
  pids+=($!)
  if wait_for 50 grep -q "^port=" const.out; then
    rtt "plain HTTPS constant (bench_https_const, same TLS server code)" --port "$(sed -n 's/^port=//p' const.out)" --path /
  fi
fi
echo
echo "Machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)."
