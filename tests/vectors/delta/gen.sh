#!/usr/bin/env bash
# Regenerates the delta vectors (run from this directory; needs python3 and the zstd CLI).
# base.bin and target.bin are fixed: every case is applied to base.bin and must give
# target.bin (length and SHA-256) to pass; <case>.expect names the code imago_delta returns.
set -euo pipefail
python3 - <<'PY'
import random
r = random.Random(6)
base = bytearray()
for i in range(300):
    base += b"imago firmware line %05d value %08x\n" % (i, r.getrandbits(32))
base += bytes(r.getrandbits(8) for _ in range(4096))
t = bytearray(base)
for off in (100, 2000, 5000, 9000, 12000):
    t[off:off + 4] = b"EDIT"
t[7000:7000] = b"inserted bytes of version 2\n"
open("base.bin", "wb").write(base)
open("target.bin", "wb").write(t)
other = bytearray(t)
other[len(other) // 2] ^= 0xff
open("other.tmp", "wb").write(other)
PY
z() { zstd -q -f "$@"; }
z -19 --patch-from=base.bin target.bin -o ok_cli.zst
z -3 --patch-from=base.bin --no-content-size target.bin -o ok_no_content_size.zst
z -19 target.bin -o ok_plain_frame.zst                       # no prefix used: still the target
z -19 --patch-from=base.bin other.tmp -o wrong_target.zst     # same length, other content
head -c 1000 target.bin > short.tmp
z -19 --patch-from=base.bin short.tmp -o size_mismatch.zst
n=$(stat -c %s ok_cli.zst)
head -c $((n / 2)) ok_cli.zst > truncated_half.zst
head -c $((n - 1)) ok_cli.zst > truncated_last_byte.zst
head -c 5 ok_cli.zst > truncated_header.zst
: > empty.zst
printf 'hello, not a zstd frame' > not_zstd.zst
python3 - <<'PY'
d = bytearray(open("ok_cli.zst", "rb").read())
m = bytearray(d); m[len(m) // 2] ^= 0x55; open("bitflip_middle.zst", "wb").write(m)
c = bytearray(d); c[-1] ^= 0x01; open("bitflip_checksum.zst", "wb").write(c)
open("trailing_byte.zst", "wb").write(d + b"\x00")
open("two_frames.zst", "wb").write(d + d)
skip = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"imgo"
open("skippable_first.zst", "wb").write(skip + d)
# window log 31 (descriptor (31-10)<<3), no content size: refused before decoding
open("window_log_31.zst", "wb").write(b"\x28\xb5\x2f\xfd\x00\xa8" + bytes(64))
# window log 28 (one above the default limit 27)
open("window_log_28.zst", "wb").write(b"\x28\xb5\x2f\xfd\x00" + bytes([(28 - 10) << 3]) + bytes(64))
# dictionary id 7 (a prefix delta has none)
open("dict_id.zst", "wb").write(b"\x28\xb5\x2f\xfd\x01\x58\x07" + bytes(64))
PY
rm -f other.tmp short.tmp
# <case>.expect: the code, then the cause (enum imago_delta_why without IMAGO_DELTA_).
while read -r c why; do
  if [ "$why" = NONE ]; then echo "IMAGO_OK NONE"; else echo "IMAGO_EDELTA $why"; fi > "$c.expect"
done <<'CASES'
ok_cli NONE
ok_no_content_size NONE
ok_plain_frame NONE
wrong_target HASH
size_mismatch SIZE
truncated_half SHORT
truncated_last_byte SHORT
truncated_header SHORT
empty NOT_ZSTD
not_zstd NOT_ZSTD
bitflip_middle CORRUPT
bitflip_checksum CORRUPT
trailing_byte TRAILING
two_frames TRAILING
skippable_first NOT_ZSTD
window_log_31 WINDOW
window_log_28 WINDOW
dict_id NOT_ZSTD
CASES
