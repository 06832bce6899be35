#!/usr/bin/env bash
# Smoke test of bench/bench_store: it creates its own SoftHSM2 token, runs a
# few rounds of store open / read / atomic update against a plain file,
# prints three table rows, and leaves no temporary token directory behind.
set -euo pipefail
B=${IMAGO_BIN:-build}
if [ ! -x "$B/bench_store" ]; then
  echo "store_bench_smoke: $B/bench_store not built"; exit 1
fi
before=$(find /tmp -maxdepth 1 -name 'imago-bench-*' | wc -l)
out=$("$B/bench_store" 3)
echo "$out"
rows=$(echo "$out" | grep -c '^| \(open\|read\|atomic\)')
[ "$rows" -eq 3 ] || { echo "store_bench_smoke: expected 3 rows, got $rows"; exit 1; }
after=$(find /tmp -maxdepth 1 -name 'imago-bench-*' | wc -l)
[ "$after" -le "$before" ] || { echo "store_bench_smoke: token directory left behind"; exit 1; }
if "$B/bench_store" nope 2>/dev/null; then
  echo "store_bench_smoke: bad ROUNDS accepted"; exit 1
fi
echo "store_bench_smoke: ok"
