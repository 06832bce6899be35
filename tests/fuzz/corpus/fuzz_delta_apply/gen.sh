#!/usr/bin/env bash
# Seeds for fuzz_delta_apply: deltas against its fixed base (keep in step with fz_init()).
set -euo pipefail
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
python3 - "$t" <<'PY'
import sys
d = sys.argv[1]
b = bytes(((i * 2654435761) & 0xffffffff) >> 24 for i in range(65536))
t = bytearray(b)
for i in range(0, 65536, 4099):
    t[i] = 0x55
open(d + "/base", "wb").write(b)
open(d + "/target", "wb").write(t)
PY
zstd -q -f -19 --patch-from="$t/base" "$t/target" -o seed_ok_19.zst 2>/dev/null
zstd -q -f -1 --patch-from="$t/base" "$t/target" -o seed_ok_1.zst 2>/dev/null
zstd -q -f -3 --no-content-size --patch-from="$t/base" "$t/target" -o seed_ok_nosize.zst 2>/dev/null
zstd -q -f -3 "$t/target" -o seed_plain.zst
head -c 2000 "$t/target" | zstd -q -f -3 -o seed_short.zst
