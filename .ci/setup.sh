#!/usr/bin/env bash
# .ci/setup.sh - installs the Debian packages in .ci/packages.txt that are
# missing (through apt-get, as root or with sudo), then configures and builds
# clcnn in ./build. Used by the quick-start scripts (bench/run.sh,
# tests/run.sh) and by CI. CLCNN_WERROR=ON turns warnings into errors.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
  [ -n "$pkg" ] || continue
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done < .ci/packages.txt

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: please install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCLCNN_WERROR="${CLCNN_WERROR:-OFF}" >/dev/null
cmake --build build -j "$(nproc)" >&2
