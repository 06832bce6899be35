#!/usr/bin/env bash
# TUF metadata verification: the device's full update decision (imago_tuf_client open + refresh
# + find of one target, over a local fetcher) for N = 10, 1,000 and 10,000 targets, ed25519 and
# ecdsa-sha2-nistp256 repositories, beside what it reduces to in the same run: openssl speed's
# signature verify rates and sha256 throughput (4 signature checks + the hashes of snapshot and
# targets), and jq parsing the same targets.json (a plain JSON parser, process start included).
# Usage: bench/ota/bench_tuf.sh [BUILD_DIR] [RUNS]   Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-7}
prog=$B/imago-bench-tuf-verify
[ -x "$prog" ] || { echo "bench_tuf: $prog not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

field() { # line name
  local v
  v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")
  echo "${v:-?}"
}

# openssl speed: verify/s of each algorithm and sha256 kB/s at 16 KiB blocks.
ossl_sig=$(openssl speed -seconds 1 ed25519 ecdsap256 2>/dev/null)
v_ed=$(awk '/EdDSA \(Ed25519\)/ {print $NF}' <<<"$ossl_sig")
v_ec=$(awk '/ecdsa \(nistp256\)/ {print $NF}' <<<"$ossl_sig")
sha_kbs=$(openssl speed -seconds 1 sha256 2>/dev/null | awk '/^sha256/ {v=$NF; sub(/k$/,"",v); print v}')

# Median wall time of RUNS runs of a command, in ms.
median_ms() {
  local i t0 t1 ts=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    ts+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

echo "### TUF metadata verification"
echo
echo "Run of $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $RUNS runs per case, medians."
echo
echo "| targets | keys | metadata bytes (targets.json) | decision ms (wall) | decision ms (CPU) | peak heap | heap / metadata | floor ms: 4 verifies + sha256 (openssl) | jq parse of targets.json ms |"
echo "|---|---|---|---|---|---|---|---|---|"
jq_empty_ms=""
for n in 10 1000 10000; do
  jq_ms=""
  for k in ed25519 ecdsa; do
    rdir=$work/repo-$n-$k
    line=$("$prog" --runs "$RUNS" --repo-dir "$rdir" "$n" "$k")
    meta=$(field "$line" meta_bytes)
    tbytes=$(field "$line" targets_bytes)
    peak=$(field "$line" peak_heap_bytes)
    rate=$([ "$k" = ed25519 ] && echo "$v_ed" || echo "$v_ec")
    floor=$(awk -v r="$rate" -v b="$meta" -v s="$sha_kbs" 'BEGIN { printf "%.2f", 4000 / r + b / s }')
    ratio=$(awk -v p="$peak" -v b="$meta" 'BEGIN { if (p < 0) print "n/a"; else printf "%.1f", p / b }')
    peak_h=$(awk -v p="$peak" 'BEGIN { if (p < 0) print "n/a"; else if (p >= 1048576) printf "%.1f MiB", p / 1048576; else printf "%.0f KiB", p / 1024 }')
    [ -n "$jq_ms" ] || jq_ms=$(median_ms jq empty "$rdir/1.targets.json")
    name=$([ "$k" = ed25519 ] && echo ed25519 || echo "ecdsa P-256")
    echo "| $n | $name | $meta ($tbytes) | $(field "$line" median_ms) | $(field "$line" cpu_median_ms) | $peak_h | $ratio | $floor | $jq_ms |"
  done
done
echo '{}' >"$work/empty.json"
jq_empty_ms=$(median_ms jq empty "$work/empty.json")
echo
echo "Reference in the same run: openssl speed verify/s: ed25519 $v_ed, ecdsa P-256 $v_ec;" \
  "sha256 $(awk -v s="$sha_kbs" 'BEGIN { printf "%.0f", s / 1000 }') MB/s (16 KiB blocks);" \
  "jq start-up on an empty document: $jq_empty_ms ms."
echo "Decision: open (load and self-verify the trusted root) + refresh (timestamp, snapshot," \
  "targets: parse, canonical JSON, signature, hash, atomic write with fsync) + find; peak heap" \
  "counted by malloc wrappers in the bench process (live bytes above those before open)."
