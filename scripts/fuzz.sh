#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time over a copy of its seed
# corpus (tests/fuzz/corpus/<name>), so make check never grows the tree.
# Targets run FUZZ_JOBS at a time (default: the number of cores); each one's
# summary is printed in name order once all have finished.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
secs=${2:-20}
jobs_max=${FUZZ_JOBS:-$(nproc)}
shopt -s nullglob

run_one() { # binary: writes $build/<name>.log and $build/<name>.status
  local bin=$1 name seeds work rc=0
  name=$(basename "$bin")
  seeds=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  echo "$(ls "$work" | wc -l)" >"$build/$name.seeds"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$build/$name-" "$work" >"$build/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$build/$name.status"
  rm -rf "$work"
}

bins=()
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  bins+=("$bin")
  rm -f "$build/$(basename "$bin").status"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$bin" &
done
wait

status=0
for bin in "${bins[@]}"; do
  name=$(basename "$bin")
  echo "fuzz: $name for ${secs}s ($(cat "$build/$name.seeds" 2>/dev/null || echo 0) seeds)"
  if [ "$(cat "$build/$name.status" 2>/dev/null || echo 1)" != 0 ]; then
    echo "fuzz: $name FAILED; log follows"; tail -n 60 "$build/$name.log"; status=1
  else
    grep -E '^Done|stat::number_of_executed_units' "$build/$name.log" | tail -n 1 || true
  fi
done
echo "fuzz: ${#bins[@]} targets, $jobs_max at a time"
exit $status
