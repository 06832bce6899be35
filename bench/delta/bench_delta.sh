#!/usr/bin/env bash
# Delta updates: size and make/apply time of `imago delta` (zstd --patch-from format, levels 19
# and 3) against bsdiff/bspatch and xdelta3 (-9) on the same image pairs:
#   - 1 MiB and 16 MiB random images with scattered small changes (1 edit of 1..16 bytes per
#     8 KiB on average, plus two insertions that shift what follows);
#   - a recompiled program: imago-demo-payload (examples/boot-payload) linked statically, built
#     again with a changed version string ("program"), and with that and one more function
#     ("program-code").
# Usage: bench/delta/bench_delta.sh [BUILD_DIR]   (imago from BUILD_DIR; prints a Markdown block)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$(pwd)
B=$(cd "${1:-build}" && pwd)
IMAGO="$B/imago"
for t in bsdiff bspatch xdelta3 /usr/bin/time cc; do
  command -v "$t" >/dev/null || { echo "bench_delta: $t not installed" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - <<'PY'
import random
def pair(name, size, seed):
    r = random.Random(seed)
    b = bytearray(r.getrandbits(8) for _ in range(size)) if size <= 1 << 20 else \
        bytearray(r.randbytes(size))
    t = bytearray(b)
    for _ in range(size // 8192):
        o = r.randrange(size - 16)
        t[o:o + r.randint(1, 16)] = r.randbytes(16)[:r.randint(1, 16)]
    t[size // 3:size // 3] = r.randbytes(64)
    t[2 * size // 3:2 * size // 3] = r.randbytes(200)
    open(name + ".old", "wb").write(b)
    open(name + ".new", "wb").write(t)
pair("random-1MiB", 1 << 20, 1)
pair("random-16MiB", 16 << 20, 16)
PY
for v in 1.0.0 1.1.0-rc1; do
  printf '#include "%s"\nconst char imago_payload_version[] __attribute__((used)) = "imago-demo-payload %s";\n' \
    "$SRC/examples/boot-payload/payload.c" "$v" >payload_v.c
  cc -O2 -static -o "payload-$v" payload_v.c
done
mv payload-1.0.0 program.old
mv payload-1.1.0-rc1 program.new
# The same with a code change as well: one more function, so the code after it moves.
{
  cat payload_v.c
  printf '#include <stdio.h>\n__attribute__((constructor)) static void v2_banner(void)\n'
  printf '{ if (getenv("IMAGO_PAYLOAD_BANNER")) fprintf(stderr, "payload v2 (%%s)\\n", imago_payload_version); }\n'
} >payload_code.c
cc -O2 -static -o program-code.new payload_code.c
cp program.old program-code.old

# run OUT CMD...: runs CMD under /usr/bin/time; "seconds peak_KiB" into OUT.
run() {
  local out=$1
  shift
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>&1
}

echo "### Delta updates: imago (zstd --patch-from) vs bsdiff and xdelta3"
echo
echo "| pair | target bytes | tool | delta bytes | % of target | make s | make peak MiB | apply s | apply peak MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for p in random-1MiB random-16MiB program program-code; do
  old=$p.old new=$p.new
  tl=$(stat -c %s "$new")
  sha=$(sha256sum "$new" | cut -c1-64)
  for tool in imago-19 imago-3 bsdiff xdelta3; do
    rm -f d out
    case $tool in
    imago-*)
      run mk "$IMAGO" delta make --base "$old" --target "$new" --out d --level "${tool#imago-}"
      run ap "$IMAGO" delta apply --base "$old" --delta d --out out --sha256 "$sha" --length "$tl"
      ;;
    bsdiff)
      run mk bsdiff "$old" "$new" d
      run ap bspatch "$old" out d
      ;;
    xdelta3)
      run mk xdelta3 -e -9 -f -s "$old" "$new" d
      run ap xdelta3 -d -f -s "$old" d out
      ;;
    esac
    cmp -s out "$new" || { echo "bench_delta: $tool did not rebuild $new" >&2; exit 1; }
    dl=$(stat -c %s d)
    read -r ms mk_kib <mk
    read -r as ap_kib <ap
    awk -v p="$p" -v tl="$tl" -v t="$tool" -v dl="$dl" -v ms="$ms" -v mk="$mk_kib" -v as="$as" \
      -v ak="$ap_kib" 'BEGIN { printf "| %s | %d | %s | %d | %.3f | %.2f | %.1f | %.2f | %.1f |\n",
      p, tl, t, dl, 100 * dl / tl, ms, mk / 1024, as, ak / 1024 }'
  done
done
echo
echo "imago-N: \`imago delta make --level N\` (zstd $(zstd --version | sed -n 's/.* v\([0-9.]*\).*/\1/p'), base as prefix, long-distance matching);"
echo "apply includes the SHA-256 check and the fsync + rename. bsdiff/bspatch $(dpkg-query -W -f '${Version}' bsdiff 2>/dev/null || echo '?'),"
echo "xdelta3 $(dpkg-query -W -f '${Version}' xdelta3 2>/dev/null || echo '?') at -9. Peak MiB: maximum resident set of the process (/usr/bin/time)."
