#!/usr/bin/env bash
# `imago delta make|apply` as a user runs them, and interoperability with the zstd CLI both
# ways (`zstd -d --patch-from` applies our deltas, we apply `zstd --patch-from` ones), on a
# random image with scattered edits and on a program binary with a changed version string.
# Every failure exits 1, names IMAGO_EDELTA and its cause, and leaves no output or temporary
# file behind.
set -euo pipefail
: "${IMAGO_BIN:?}" "${IMAGO_SRC:?}"
IMAGO="$IMAGO_BIN/imago"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
command -v zstd >/dev/null || { echo "FAIL zstd CLI not installed"; exit 1; }

# old.bin: 1 MiB random; new.bin: 40 scattered small edits and a 100-byte insertion.
head -c 1048576 /dev/urandom >old.bin
python3 - <<'PY'
import os, random
b = bytearray(open("old.bin", "rb").read())
for _ in range(40):
    o = random.randrange(len(b) - 16)
    b[o:o + 8] = os.urandom(8)
b[500000:500000] = os.urandom(100)
open("new.bin", "wb").write(b)
PY
# A program and the same program with another version string (same length and longer).
prog="$IMAGO"
python3 - "$prog" <<'PY'
import sys
p = open(sys.argv[1], "rb").read()
i = p.find(b"imago %s")
assert i >= 0
q = p[:i] + b"imago v2 %s" + p[i + 8:]
open("prog1", "wb").write(p)
open("prog2", "wb").write(q)
PY

sha() { sha256sum "$1" | cut -c1-64; }
len() { stat -c %s "$1"; }
notmp() { ! ls ./*.tmp.* >/dev/null 2>&1; }

for pair in "old.bin new.bin" "prog1 prog2"; do
  read -r o n <<<"$pair"
  if "$IMAGO" delta make --base "$o" --target "$n" --out "$n.delta" >make.out; then
    grep -q "^target sha256: $(sha "$n")$" make.out && grep -q "^target length: $(len "$n")$" make.out &&
      ok "$n: make prints the target length and sha256 ($(grep '^delta:' make.out))" ||
      bad "$n: make output: $(cat make.out)"
  else
    bad "$n: make"
  fi
  rm -f out.bin
  if "$IMAGO" delta apply --base "$o" --delta "$n.delta" --out out.bin --sha256 "$(sha "$n")" \
    --length "$(len "$n")" >/dev/null && cmp -s out.bin "$n"; then
    ok "$n: imago applies its own delta"
  else
    bad "$n: imago apply of its own delta"
  fi
  rm -f out.bin
  if zstd -q -d -f --patch-from="$o" "$n.delta" -o out.bin && cmp -s out.bin "$n"; then
    ok "$n: zstd -d --patch-from applies imago's delta"
  else
    bad "$n: zstd -d --patch-from on imago's delta"
  fi
  for lv in 3 19; do
    rm -f out.bin
    zstd -q -f -$lv --patch-from="$o" "$n" -o "$n.z$lv" 2>/dev/null
    if "$IMAGO" delta apply --base "$o" --delta "$n.z$lv" --out out.bin --sha256 "$(sha "$n")" \
      --length "$(len "$n")" >/dev/null && cmp -s out.bin "$n"; then
      ok "$n: imago applies zstd -$lv --patch-from's delta ($(len "$n.z$lv") bytes)"
    else
      bad "$n: imago apply of zstd -$lv --patch-from's delta"
    fi
  done
done

# Failures: exit 1, IMAGO_EDELTA and the cause on stderr, out.bin untouched, no temp file.
S=$(sha new.bin) L=$(len new.bin)
printf previous >out.bin
head -c 1048576 /dev/urandom >other.bin
head -c 100 new.bin.delta >trunc.delta
failcase() { # name expected-cause args...
  local name=$1 cause=$2 rc=0
  shift 2
  "$IMAGO" delta apply --out out.bin "$@" >/dev/null 2>err.txt || rc=$?
  if [ $rc -eq 1 ] && grep -q IMAGO_EDELTA err.txt && grep -q "$cause" err.txt &&
    [ "$(cat out.bin)" = previous ] && notmp; then
    ok "$name refused ($(tail -1 err.txt | sed 's/^imago: delta apply: //'))"
  else
    bad "$name: rc=$rc $(cat err.txt)"
  fi
}
failcase "wrong base" "corrupt delta or another base\|SHA-256 differs" \
  --base other.bin --delta new.bin.delta --sha256 "$S" --length "$L"
failcase "wrong sha256" "SHA-256 differs" \
  --base old.bin --delta new.bin.delta --sha256 "$(sha old.bin)" --length "$L"
failcase "wrong length" "content size" \
  --base old.bin --delta new.bin.delta --sha256 "$S" --length $((L - 1))
failcase "truncated delta" "truncated" \
  --base old.bin --delta trunc.delta --sha256 "$S" --length "$L"
failcase "window over the limit" "window larger" \
  --base old.bin --delta new.bin.delta --sha256 "$S" --length "$L" --window-log-max 20

# Missing files: exit 1, the missing one named.
rc=0
"$IMAGO" delta apply --base nobase --delta new.bin.delta --out out.bin --sha256 "$S" --length "$L" \
  >/dev/null 2>err.txt || rc=$?
[ $rc -eq 1 ] && grep -q "nobase: .*IMAGO_ENOTFOUND" err.txt && ok "missing base named" ||
  bad "missing base: rc=$rc $(cat err.txt)"
rc=0
"$IMAGO" delta make --base old.bin --target nonew --out x >/dev/null 2>err.txt || rc=$?
[ $rc -eq 1 ] && [ ! -e x ] && grep -q "nonew: .*IMAGO_ENOTFOUND" err.txt && ok "make with a missing target fails" || bad "make missing target rc=$rc"

# Usage errors: exit 2.
for args in "--base old.bin --delta x --out y --length 1" \
  "--base old.bin --delta x --out y --length 1 --sha256 ABC" \
  "--base old.bin --delta x --out y --length -1 --sha256 $S" \
  "--base old.bin --delta x --out y --length 1 --sha256 $S --window-log-max 40"; do
  rc=0
  # shellcheck disable=SC2086
  "$IMAGO" delta apply $args >/dev/null 2>&1 || rc=$?
  [ $rc -eq 2 ] && ok "usage error: $args" || bad "usage: rc=$rc for $args"
done
rc=0
"$IMAGO" delta make --base old.bin --target new.bin --out x --level 23 >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] && ok "usage error: --level 23" || bad "usage: --level 23 rc=$rc"
exit $fail
