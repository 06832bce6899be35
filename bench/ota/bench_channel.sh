#!/usr/bin/env bash
# Delivery throughput over the device channel: imago-bench-blk-fetch (imago_blkc, an enrolled
# SoftHSM2 device, MQTT/TLS through Mosquitto + imago_broker.so to imago-cloud, which reads the
# file from DIR/repo/targets) for 1 MB and 16 MB objects and windows 1/4/8 (16 KiB blocks), next to
# a plain copy of the same file over TLS on the same machine in the same run (openssl s_server
# -WWW + curl, TLS 1.3, P-256).  MB/s = 10^6 bytes / s, median of RUNS runs; the channel figure is
# measured from ONLINE to the last byte (no connection set-up), the curl one includes its TLS
# handshake (one round trip on loopback).  The cloud's per-device rate limit is lifted
# (IMAGO_OTA_BLK_RATE) so the channel itself is measured.
# Usage: bench/ota/bench_channel.sh [BUILD_DIR] [RUNS]   Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-3}
CB=${IMAGO_CLOUD_BIN:-$B}
. tests/integration/lib/common.bash
export PATH=$PATH:/usr/sbin
for t in mosquitto softhsm2-util openssl curl python3; do
  command -v "$t" >/dev/null || { echo "bench_channel: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
cpid=
spid=
cleanup() {
  [ -n "$spid" ] && { kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
  cloud_stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
die() { echo "bench_channel: $*" >&2; exit 1; }

# --- a device, the cloud ---
printf 'root secret\n' >root.pass
printf 'cloud secret\n' >cloud.pass
"$B/imago" ca init --dir ca --passphrase-file root.pass --cloud-passphrase-file cloud.pass >/dev/null
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label dev-1 --pin Pin-bench-q7 --so-pin 87654321 >/dev/null
printf 'Pin-bench-q7\n' >pin
"$B/imago" factory provision --ca ca --passphrase-file root.pass --token 'pkcs11:token=dev-{n}' \
  --pin-file pin --count 1 --out batch --batch bench >/dev/null
export IMAGO_OTA_BLK_RATE=1000000
cloud_create data cloud.log batch/manifest.json || die "imago-cloud up did not start"
if ! grep -q "event=ota result=on" cloud.log; then
  cloud_stop || true
  "$CB/imago-cloud" director keys --data data --passphrase-file cloud.pass >/dev/null || die "director keys"
  cloud_start data cloud.log || die "imago-cloud up"
fi
device_conf 1 "backoff_max = 1" >dev1.conf
timeout 60 "$B/imago-agent" --config dev1.conf --once >enrol.out 2>&1 || die "enrolment: $(tail -3 enrol.out)"

# --- the files: in DIR/repo/targets (served as image/targets/bench/...) and for s_server ---
mkdir -p data/repo/targets/bench www
head -c 1000000 /dev/urandom >www/1mb.bin
head -c 16000000 /dev/urandom >www/16mb.bin
cp www/1mb.bin www/16mb.bin data/repo/targets/bench/

median() { sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }

cpu_ticks() { # PID -> utime + stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
chan() { # FILE WINDOW -> "median MB/s | cloud CPU ms/MB | broker CPU ms/MB | device CPU ms/MB"
  local i out c0 b0 c1 b1 dev=0 t0 mb bpid tck
  bpid=$(pgrep -P "$cpid" mosquitto | head -n1)
  tck=$(getconf CLK_TCK)
  c0=$(cpu_ticks "$cpid")
  b0=$(cpu_ticks "$bpid")
  for ((i = 0; i < RUNS; i++)); do
    out=$( { /usr/bin/time -f 'cpu=%U+%S' timeout 120 "$B/imago-bench-blk-fetch" --config dev1.conf \
      --object "image/targets/bench/$1" --out "$work/got.bin" --window "$2"; } 2>"$work/time.err") ||
      die "fetch $1 window $2: $out $(tail -2 "$work/time.err")"
    cmp -s "$work/got.bin" "www/$1" || die "fetch $1: bytes differ"
    t0=$(sed -n 's/^cpu=//p' "$work/time.err" | tail -n1)
    dev=$(awk -v a="$dev" -v b="$t0" 'BEGIN {split(b, x, "+"); print a + x[1] + x[2]}')
    tr ' ' '\n' <<<"$out" | sed -n 's/^mbps=//p' >>"$work/mbps"
  done
  c1=$(cpu_ticks "$cpid")
  b1=$(cpu_ticks "$bpid")
  mb=$(awk -v s="$(stat -c %s "www/$1")" -v r="$RUNS" 'BEGIN {print s * r / 1e6}')
  printf '%s | %s | %s | %s' "$(median <"$work/mbps")" \
    "$(awk -v a="$c0" -v b="$c1" -v t="$tck" -v m="$mb" 'BEGIN {printf "%.0f", (b - a) * 1000 / t / m}')" \
    "$(awk -v a="$b0" -v b="$b1" -v t="$tck" -v m="$mb" 'BEGIN {printf "%.0f", (b - a) * 1000 / t / m}')" \
    "$(awk -v d="$dev" -v m="$mb" 'BEGIN {printf "%.0f", d * 1000 / m}')"
  rm -f "$work/mbps"
}

# plain TLS: openssl s_server -WWW serving www/, curl over TLS 1.3
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.crt \
  -days 1 -subj /CN=localhost >/dev/null 2>&1
sport=$(free_port)
(cd www && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$sport" -cert ../srv.crt -key ../srv.key) \
  >s_server.log 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$sport") 2>/dev/null && break; sleep 0.1; done
tls() { # FILE -> median MB/s
  local i t sz
  sz=$(stat -c %s "www/$1")
  for ((i = 0; i < RUNS; i++)); do
    t=$(curl -s --tlsv1.3 --cacert srv.crt -o "$work/got.bin" -w '%{time_total}' \
      "https://localhost:$sport/$1" --resolve "localhost:$sport:127.0.0.1") || die "curl $1"
    cmp -s "$work/got.bin" "www/$1" || die "curl $1: bytes differ"
    awk -v s="$sz" -v t="$t" 'BEGIN {printf "%.3f\n", s / t / 1e6}'
  done | median
}

echo "| object | path | window x block | MB/s (median of $RUNS) | imago-cloud CPU ms/MB | Mosquitto CPU ms/MB | device CPU ms/MB |"
echo "|---|---|---|---|---|---|---|"
for f in 1mb.bin 16mb.bin; do
  label=$([ "$f" = 1mb.bin ] && echo "1 MB" || echo "16 MB")
  for w in 1 4 8; do
    echo "| $label | channel: imago_blkc -> Mosquitto -> imago-cloud | $w x 16 KiB | $(chan "$f" "$w") |"
  done
  echo "| $label | plain TLS copy: curl <- openssl s_server -WWW | - | $(tls "$f") | - | - | - |"
done
echo
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) CPUs; $(uname -sr); $(mosquitto -h 2>/dev/null | head -n1 | sed 's/ is an.*//'); $(openssl version | cut -d' ' -f1-2); $(date -u +%Y-%m-%d)."
