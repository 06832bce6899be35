#!/usr/bin/env bash
# make bench: measurements side by side with a reference in the same run.
#  1. image verify throughput (1 MiB, 16 MiB) vs `openssl speed -evp sha256`
#  2. flash wear of a 1 MiB upgrade on the simulator (erases and bytes per sector)
#  3. secret store open/read/update with the token vs a plain file
#  4. device channel: enrolments/s and connections held (imago-sim vs plain Mosquitto, openssl speed)
#  5. command round trip through the API to a real device and back vs plain HTTPS requests
#  6. TUF metadata verification (10 / 1,000 / 10,000 targets) vs openssl speed and jq
# Prints a Markdown block to paste into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "## Run of $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
"$B/imago" keys gen --type ed25519 --out "$work/k.key" >/dev/null
"$B/imago" keys gen --type p256 --out "$work/p.key" >/dev/null
echo "### Image verification throughput"
echo
echo "| image | key | imago verify MB/s | openssl sha256 MB/s (16 KiB blocks) | ratio |"
echo "|---|---|---|---|---|"
ossl=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {v=$NF; sub(/k$/,"",v); print v/1000}')
for size in 1 16; do
  head -c $((size * 1024 * 1024)) /dev/urandom >"$work/body.bin"
  for k in k p; do
    "$B/imago" image sign --key "$work/$k.key" --version 1.0.0 --security-counter 1 "$work/body.bin" "$work/img.bin" >/dev/null
    rounds=$((size == 1 ? 200 : 20))
    mbps=$("$B/bench_verify" "$work/$k.key.pub" "$work/img.bin" $rounds | sed 's/.*mb_per_s=//')
    name=$([ $k = k ] && echo ed25519 || echo p256)
    ratio=$(awk -v a="$mbps" -v b="$ossl" 'BEGIN { printf "%.2f", a / b }')
    echo "| ${size} MiB | $name | $mbps | $ossl | $ratio |"
  done
done
echo
if [ -x "$B/bench_boot_wear" ]; then
  echo "### Flash wear of a 1 MiB upgrade (simulator)"
  echo
  "$B/bench_boot_wear"
fi
echo
"$B/bench_store" 50
echo
echo "### Device channel: enrolment and connections (imago-cloud + Mosquitto + plugin vs plain Mosquitto)"
echo
IMAGO_BIN=$B bench/enrol/bench_enrol.sh 500
echo
IMAGO_BIN=$B bench/cmd/bench_cmd.sh 10 15
echo
bench/delta/bench_delta.sh "$B"
echo
bench/ota/bench_tuf.sh "$B"
echo
echo "### Delivery over the device channel (imago_blkc -> Mosquitto -> imago-cloud) vs a plain TLS copy"
echo
bench/ota/bench_channel.sh "$B"
