#!/usr/bin/env bash
# .ci/setup.sh [--install-only] [SET...] - installs the Debian packages of the
# named sets that are missing (through apt-get, as root or with sudo), then
# configures and builds clcnn in ./build. The sets, one package a line in
# their files ('#' starts a comment):
#   build  .ci/packages.txt       build the library, run it and clcnn-bench
#                                 (bench/run.sh); always included
#   test   .ci/packages-test.txt  the cmocka suite (tests/run.sh)
#   ci     .ci/packages-ci.txt    CI's sanitizer, valgrind and fuzz steps and
#                                 the GPU check's probe (.ci/run)
# No SET means build and test. Without the test set the tests need not build
# (cmocka may be missing): a fresh ./build is configured without them, an
# existing one keeps its CLCNN_BUILD_TESTS; with it they are switched on.
# --install-only stops after installing. CLCNN_WERROR=ON turns warnings into
# errors.
set -euo pipefail
cd "$(dirname "$0")/.."

install_only=0
named=()
for arg in "$@"; do
  case $arg in
    --install-only) install_only=1 ;;
    build | test | ci) named+=("$arg") ;;
    *) echo "setup: unknown package set '$arg' (expected build, test or ci)" >&2; exit 2 ;;
  esac
done
[ ${#named[@]} -gt 0 ] || named=(build test)
sets=(build)
want_tests=0
for set in test ci; do
  if [[ " ${named[*]} " == *" $set "* ]]; then
    sets+=("$set")
    [ "$set" != test ] || want_tests=1
  fi
done

missing=()
for set in "${sets[@]}"; do
  list=.ci/packages.txt
  [ "$set" = build ] || list=.ci/packages-$set.txt
  while read -r line; do
    pkg=${line%%#*}
    pkg=${pkg//[[:space:]]/}
    [ -n "$pkg" ] || continue
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done <"$list"
done

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
[ "$install_only" = 0 ] || exit 0

args=(-DCMAKE_BUILD_TYPE=Release -DCLCNN_WERROR="${CLCNN_WERROR:-OFF}")
if [ "$want_tests" = 1 ]; then
  args+=(-DCLCNN_BUILD_TESTS=ON)
elif [ ! -f build/CMakeCache.txt ]; then
  args+=(-DCLCNN_BUILD_TESTS=OFF)
fi
cmake -S . -B build "${args[@]}" >/dev/null
cmake --build build -j "$(nproc)" >&2
