#!/usr/bin/env bash
# Closing line of make check: the ctest totals of the normal and sanitizer runs.
set -euo pipefail
passed=0 failed=0
for log in "$@"; do
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  [ -n "$line" ] || { echo "check-summary: no ctest result in $log" >&2; exit 1; }
  f=$(sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  t=$(sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + t - f)); failed=$((failed + f))
done
echo "make check: lint, tests, sanitizer tests and fuzzing done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
