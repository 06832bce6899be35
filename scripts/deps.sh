#!/usr/bin/env bash
# Installs the Debian 12 packages imago needs to build, test and demo.
# Idempotent and quiet when everything is present; uses apt-get as root
# (or through sudo when not root).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  clang llvm libclang-rt-14-dev clang-format
  libssl-dev openssl
  libcmocka-dev libjansson-dev
  softhsm2 opensc libengine-pkcs11-openssl p11-kit libp11-kit-dev
  mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
  libevent-dev libsqlite3-dev sqlite3 curl procps psmisc
  libargon2-dev libcjose-dev
  libzstd-dev zstd bsdiff xdelta3 faketime
  python3 python3-cryptography
  jq xxd
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
