#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time over a copy of its seed
# corpus (tests/fuzz/corpus/<name>), so make check never grows the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
secs=${2:-20}
status=0
shopt -s nullglob
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  echo "fuzz: $name for ${secs}s ($(ls "$work" | wc -l) seeds)"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix="$build/$name-" "$work" >"$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; log follows"; tail -n 60 "$build/$name.log"; status=1
  else
    grep -E '^Done|stat::number_of_executed_units' "$build/$name.log" | tail -n 1 || true
  fi
  rm -rf "$work"
done
exit $status
