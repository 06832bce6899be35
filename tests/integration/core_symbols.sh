#!/usr/bin/env bash
# The boot core promises no allocation and no OS calls: every object of
# libimago_boot.a, and the image verifier it links, may only reference
# memcpy/memset/memcmp, imago_* symbols, and (in sanitizer builds) the
# sanitizer runtime.  This test reads the undefined symbols of those objects.
set -euo pipefail
bin=${IMAGO_BIN:?}
fail=0

check_objects() { # archive, member-regex
  local ar=$1 members=$2 member="" sym
  [ -f "$ar" ] || { echo "core_symbols: missing $ar"; fail=1; return; }
  while read -r line; do
    case "$line" in
      *.o:) member=${line%:}; continue ;;
      "") continue ;;
    esac
    [[ "$member" =~ $members ]] || continue
    sym=${line##* }
    case "$sym" in
      memcpy|memset|memcmp|memmove|strcmp|strlen|imago_*|__asan_*|__ubsan_*|__sanitizer_*|_GLOBAL_OFFSET_TABLE_) ;;
      *) echo "core_symbols: $member uses '$sym' (not allowed in the boot core)"; fail=1 ;;
    esac
  done < <(nm -u "$ar" 2>/dev/null | sed 's/^ *//')
}

check_objects "$bin/libimago_boot.a" '.*'
check_objects "$bin/libimago_image.a" '^image_verify\.c\.o$'
check_objects "$bin/libimago_base.a" '^(rd|err)\.c\.o$'
if [ $fail -eq 0 ]; then
  echo "core_symbols: boot core and image verifier reference no allocator and no OS call"
fi
exit $fail
