#!/usr/bin/env bash
# bench/gpu-check.sh - the one prepared GPU check: clcnn on an NVIDIA GPU
# through OpenCL, with PyTorch (cuDNN) on the same GPU as the peer column.
# One long file on purpose: it is carried to the GPU machine and run there in
# a single call, and .ci/run's dry run exercises this same file, so every
# step the GPU runs is one that CI has run.
#
# For a machine with the NVIDIA driver, CUDA and PyTorch but no network, no
# OpenCL ICD loader, no CLBlast and no cmocka. Those come as Debian 12 .deb
# files in bench/gpu-debs/ (git-ignored), prepared once on a Debian 12 x86-64
# machine with network, from the repository root:
#
#   apt-get update && mkdir -p bench/gpu-debs && (cd bench/gpu-debs && apt-get download \
#     ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers opencl-headers \
#     libclblast1 libclblast-dev libcmocka0 libcmocka-dev clinfo pkgconf pkgconf-bin libpkgconf3 pkg-config &&
#     for f in *~*.deb; do [ -e "$f" ] && mv "$f" "${f//\~/-}"; done)   # names without '~', safer to carry
#
# (14 files, about 2 MB; they need only glibc 2.34 or newer and the libstdc++
# of gcc 11 or newer from the machine.) The check unpacks them with dpkg -x into a private prefix
# (.gpu-prefix, never /), rewrites their .pc and CMake files to point into it,
# finds NVIDIA's OpenCL driver (libnvidia-opencl.so.1) and registers it in an
# OCL_ICD_VENDORS folder of its own, then:
#   probe      prints every OpenCL platform and device (a small C program, and clinfo)
#   configure  cmake against the private prefix (checks that OpenCL, cmocka and CLBlast come from it)
#   build      clcnn, its tests and clcnn-bench, into build-gpu/
#   ctest      the whole suite with CLCNN_BACKEND=opencl CLCNN_DEVICE=gpu
#              (and CLCNN_BIG_TESTS=1: bounds on tensors past 2^31 elements)
#   resnet     clcnn-bench --suite resnet (CSV, JSON, SVG)
#   peers      clcnn-bench --suite peers
#   direct, gemm  clcnn-bench --suite peers --algo direct|gemm: each convolution path forced
#   tiled      bench/gpu-sweep-tiles.sh PARTS="data filter": the tiled kernels' backward data
#              and filter against GEMM and the direct kernels (the dry run: one small shape)
#   vec        bench/gpu-sweep-tiles.sh PARTS="vec" on a, c and res3_1x1_512: the tiled kernels
#              reading their staged tiles as scalars against vectors (TILE_VEC; in the dry
#              run, part of the tiled step)
#   torch      bench/torch_peer.py: the same conv and pool rows through PyTorch
#              (cuDNN, F32, TF32 off, channels_last), forward and backward
# Each step has its own time limit inside one deadline (GPU_CHECK_DEADLINE,
# 570 s), a failed step does not stop the next, and $OUT/summary.txt says
# PASS or FAIL per step. The exit status is 0 only when every step passed.
#
# Usage: OUT=DIR bash bench/gpu-check.sh [--dry-run [--system] | --prefix-only | --rehearse]
#   (no flag)      the GPU check; fails, rather than skipping, when the debs,
#                  NVIDIA's OpenCL driver, the GPU or PyTorch with CUDA are missing
#   --dry-run      everything but the GPU parts, on whatever OpenCL this machine
#                  has (PoCL here): its ICDs, CLCNN_DEVICE=cpu, small benchmark
#                  settings (batch 1, 2 reps), torch_peer's self-test; the torch
#                  step is SKIP when there is no PyTorch with CUDA. Uses the debs
#                  in the private prefix when bench/gpu-debs/ has them
#   --system       with --dry-run: the system's packages instead of the debs
#   --prefix-only  unpacks the debs, probes OpenCL through the private loader,
#                  configures, and prints what CMake found; builds nothing
#   --rehearse     the GPU mode's own path on a machine without a GPU (root,
#                  util-linux unshare): inside a private mount namespace the
#                  system's copies of the debs' headers, libraries, .pc and
#                  CMake files and /etc/OpenCL are hidden, and this machine's first
#                  ICD (PoCL) stands in for libnvidia-opencl.so.1 with
#                  CLCNN_DEVICE=cpu and the dry run's small settings
#
# Output: $OUT (default ./gpu-results) gets at most 7 files: summary.txt,
# logs.tar.gz (every log, CSV, JSON and SVG, the CMake cache, ctest's log),
# resnet.json, peers.json, torch.json, resnet.svg, peers.svg.
#
# Environment: OUT, GPU_CHECK_DEADLINE (seconds, default 570; 900 for
# --dry-run), GPU_CHECK_TESTS (a ctest -R regex: only those tests, two at a
# time, verbose, with the whole deadline, and no benchmark or torch steps), GPU_DEBS (bench/gpu-debs), GPU_PREFIX (.gpu-prefix),
# GPU_CHECK_SCRIPT (a bash script run after ctest, in the check's
# environment, with BUILD and DEVICE set; its output goes into the summary;
# the rest of the deadline with GPU_CHECK_TESTS, else at most 120 s),
# GPU_BUILD (build-gpu; build-dry, build-dry-system, build-prefix and
# build-rehearse for the other modes), NVIDIA_OPENCL (the
# driver's libnvidia-opencl.so.1, if not found by itself), PYTHON (a python3
# with torch), CLCNN_DEVICE (the dry run's device, default cpu).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mode=gpu
use_debs=auto
for a in "$@"; do
  case $a in
    --dry-run) mode=dry ;;
    --prefix-only) mode=prefix ;;
    --rehearse) mode=rehearse ;;
    --system) use_debs=no ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument $a (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$use_debs" = no ] && [ "$mode" != dry ]; then
  echo "gpu-check: --system goes with --dry-run only" >&2
  exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# ---- --rehearse: hide the system's packages, then run the GPU path -----------
# hide_system: in the (private) mount namespace, every directory that holds a
# file of the debs is replaced by a tmpfs of links to its other entries.
hide_system() {
  local ns=$1 debs=("${GPU_DEBS:-$ROOT/bench/gpu-debs}"/*.deb) d f top
  [ -e "${debs[0]}" ] || { echo "gpu-check: --rehearse needs the debs in bench/gpu-debs" >&2; return 1; }
  declare -gA HIDE=() ONWAY=()
  while read -r f; do
    HIDE[$f]=1
    while f=${f%/*}; [ -n "$f" ]; do ONWAY[$f]=1; done
  done < <(for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done | sed -n 's#^\./\(.*[^/]\)$#/\1#p' | sort -u)
  # shadow ORIG DEST LOGICAL: DEST gets links to ORIG's entries but the hidden ones.
  shadow() {
    local e name
    mkdir -p "$2"
    for e in "$1"/* "$1"/.[!.]*; do
      [ -e "$e" ] || [ -L "$e" ] || continue
      name=${e##*/}
      if [ -n "${HIDE[$3/$name]:-}" ]; then
        continue
      elif [ -n "${ONWAY[$3/$name]:-}" ] && [ -d "$e" ] && [ ! -L "$e" ]; then
        shadow "$e" "$2/$name" "$3/$name"
      elif [ -L "$e" ]; then
        ln -s "$(readlink "$e")" "$2/$name" # relative links stay relative
      else
        ln -s "$e" "$2/$name"
      fi
    done
  }
  # /usr/bin stays: the check puts its own pkg-config and clinfo first on PATH.
  for top in /usr/include /usr/lib/x86_64-linux-gnu /usr/share/pkgconfig /usr/share/cmake; do
    [ -d "$top" ] && [ -n "${ONWAY[$top]:-}" ] || continue
    mkdir -p "$ns/orig$top" "$ns/new$top"
    mount --bind "$top" "$ns/orig$top"
    mount -t tmpfs tmpfs "$ns/new$top"
    shadow "$ns/orig$top" "$ns/new$top" "$top"
    mount --bind "$ns/new$top" "$top"
  done
  [ -d /etc/OpenCL ] && mount -t tmpfs tmpfs /etc/OpenCL
  for f in /usr/include/CL/cl.h /usr/include/cmocka.h /usr/lib/x86_64-linux-gnu/libOpenCL.so.1; do
    [ ! -e "$f" ] || { echo "gpu-check: --rehearse could not hide $f" >&2; return 1; }
  done
  echo "gpu-check: --rehearse: hid the system's copies of the ${#HIDE[@]} files in the debs, and /etc/OpenCL" >&2
}
if [ "$mode" = rehearse ] && [ -z "${GPU_CHECK_IN_NS:-}" ]; then
  # The stand-in for NVIDIA's driver: the library of this machine's first ICD.
  icd=$(cat /etc/OpenCL/vendors/*.icd 2>/dev/null | head -n 1)
  case $icd in
    /*) ;;
    ?*) for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib ""; do
          [ -z "$d" ] && icd=$(ldconfig -p | awk -v n="$icd" '$1 == n {print $NF; exit}') && break
          [ -e "$d/$icd" ] && icd=$d/$icd && break
        done ;;
  esac
  [ -n "$icd" ] && [ -e "$icd" ] || { echo "gpu-check: --rehearse needs an ICD in /etc/OpenCL/vendors" >&2; exit 2; }
  [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null || { echo "gpu-check: --rehearse needs root and unshare" >&2; exit 2; }
  GPU_CHECK_IN_NS=$(mktemp -d "${TMPDIR:-/tmp}/gpu-ns.XXXXXX")
  export NVIDIA_OPENCL=$icd GPU_CHECK_IN_NS
  rc=0
  unshare -m --propagation private bash "$0" "$@" || rc=$?
  rm -rf "$GPU_CHECK_IN_NS"
  exit "$rc"
fi
if [ "$mode" = rehearse ]; then
  hide_system "$GPU_CHECK_IN_NS" || exit 2
fi
OUT=${OUT:-$ROOT/gpu-results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DEBS=${GPU_DEBS:-$ROOT/bench/gpu-debs}
PREFIX=${GPU_PREFIX:-$ROOT/.gpu-prefix}
with_prefix=0 # the debs in $PREFIX rather than the system's packages
if [ "$mode" != dry ]; then
  with_prefix=1
elif [ "$use_debs" = auto ] && compgen -G "$DEBS/*.deb" >/dev/null; then
  with_prefix=1
fi
case $mode in
  gpu) BUILD=${GPU_BUILD:-$ROOT/build-gpu}; DEADLINE=${GPU_CHECK_DEADLINE:-570} ;;
  dry) BUILD=${GPU_BUILD:-$ROOT/build-dry$([ "$with_prefix" = 1 ] || echo -system)}; DEADLINE=${GPU_CHECK_DEADLINE:-900} ;;
  prefix) BUILD=${GPU_BUILD:-$ROOT/build-prefix}; DEADLINE=${GPU_CHECK_DEADLINE:-300} ;;
  rehearse) BUILD=${GPU_BUILD:-$ROOT/build-rehearse}; DEADLINE=${GPU_CHECK_DEADLINE:-900} ;;
esac
RESERVE=10 # seconds kept for packing the results
T0=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
LOGS=$WORK/logs
RES=$WORK/results
mkdir -p "$LOGS" "$RES"
SUMMARY=$OUT/summary.txt
OUT_FILES=(summary.txt logs.tar.gz resnet.json peers.json torch.json resnet.svg peers.svg)
for f in "${OUT_FILES[@]}"; do rm -f "$OUT/$f"; done
export OUT WORK LOGS RES BUILD ROOT

failures=0
dry_skips=0
line() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

# record NAME STATUS SECONDS NOTE: one line of the step table, at once.
record() {
  local s
  s=$(printf '%-10s %-4s %4ds  %s' "$1" "$2" "$3" "$4")
  line "$s"
  case $2 in
    PASS) ;;
    SKIP) dry_skips=$((dry_skips + 1)) ;;
    *) failures=$((failures + 1)) ;;
  esac
}

# run_step NAME LIMIT COMMAND...: runs the command (or an exported function)
# under `timeout`, its output in $LOGS/NAME.log, within what is left of the
# deadline. Exit 3 means "not available here": SKIP in the dry run, FAIL in
# the GPU check. Returns the command's status.
run_step() {
  local name=$1 limit=$2
  shift 2
  local left=$((DEADLINE - (SECONDS - T0) - RESERVE))
  if [ "$left" -lt 10 ]; then
    record "$name" FAIL 0 "not run: the ${DEADLINE} s deadline is spent"
    return 1
  fi
  [ "$limit" -le "$left" ] || limit=$left
  STEP_LIMIT=$limit
  export STEP_LIMIT
  local log=$LOGS/$name.log t=$SECONDS rc=0
  printf '== %s (limit %d s)\n' "$name" "$limit"
  timeout -k 5 "$limit" "$@" >"$log" 2>&1 || rc=$?
  local dt=$((SECONDS - t))
  if [ "$rc" -eq 0 ]; then
    record "$name" PASS "$dt" "$(step_note "$name" "$log")"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    record "$name" FAIL "$dt" "timed out after ${limit} s (log: logs/$name.log)"
  elif [ "$rc" -eq 3 ] && [ "$mode" != gpu ]; then
    record "$name" SKIP "$dt" "$(tail -n 1 "$log")"
  else
    record "$name" FAIL "$dt" "exit $rc: $(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-150)"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "-- last lines of logs/$name.log:"
    tail -n 25 "$log" | sed 's/^/   | /'
  fi
  return "$rc"
}

# A few words for a step that passed.
step_note() {
  case $1 in
    ctest) grep -E 'tests passed|tests failed' "$2" | tail -n 1 ;;
    resnet | peers | direct | gemm) grep -E '^clcnn-bench: done' "$2" | tail -n 1 ;;
    torch | torchcpu) grep -E '^torch_peer: [0-9]+ rows,' "$2" | tail -n 1 | sed 's/; wrote.*//' ;;
    selftest) tail -n 1 "$2" ;;
    probe) grep -E '^ *device' "$2" | head -n 3 | sed 's/^ *//' | paste -sd ';' - | cut -c1-160 ;;
  esac
}

# Packs everything into $OUT: the key JSON and SVG files, logs.tar.gz with
# the rest, and the end of the summary. Runs on every exit.
finish() {
  local rc=$?
  trap - EXIT INT TERM ERR
  set +e
  exec 1>&3 2>&4 # the trap may fire inside a redirection
  for f in resnet.json peers.json torch.json resnet.svg peers.svg; do
    [ -f "$RES/$f" ] && cp "$RES/$f" "$OUT/$f"
  done
  [ -f "$BUILD/CMakeCache.txt" ] && cp "$BUILD/CMakeCache.txt" "$LOGS/CMakeCache.txt"
  [ -f "$BUILD/Testing/Temporary/LastTest.log" ] && cp "$BUILD/Testing/Temporary/LastTest.log" "$LOGS/ctest-LastTest.log"
  cp "$SUMMARY" "$WORK/summary.txt" 2>/dev/null
  tar -czf "$OUT/logs.tar.gz" -C "$WORK" . 2>/dev/null
  {
    echo
    for s in probe-out found-out ctest-out script-out resnet-out peers-out direct-out gemm-out tiled-out torch-out; do
      [ -s "$WORK/$s" ] && cat "$WORK/$s" && echo
    done
    if [ "$failures" -eq 0 ] && [ "$rc" -eq 0 ]; then
      echo "RESULT: PASS ($mode mode, $dry_skips step(s) skipped) in $((SECONDS - T0)) s"
    else
      echo "RESULT: FAIL ($failures failed step(s), $mode mode) in $((SECONDS - T0)) s"
    fi
    echo "files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  } >>"$SUMMARY"
  echo "================ summary.txt ================"
  cat "$SUMMARY"
  rm -rf "$WORK"
  if [ "$failures" -ne 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
  exit "$rc"
}
exec 3>&1 4>&2
trap finish EXIT
# An unexpected failure (set -e) is a failure of the check, said where.
trap 'echo "gpu-check: line $LINENO: unexpected failure of: $BASH_COMMAND" | tee -a "$SUMMARY" >&4' ERR
trap 'echo "gpu-check: interrupted" >&2; failures=$((failures + 1)); exit 130' INT TERM

# ---- header ------------------------------------------------------------------
{
  echo "clcnn gpu-check, $mode mode, $(date -u +%Y-%m-%dT%H:%M:%SZ), deadline ${DEADLINE} s"
  echo "host: $(uname -srm); $(nproc) CPUs; tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git')"
  if command -v nvidia-smi >/dev/null 2>&1; then
    echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 2 | paste -sd ';' -)"
  fi
} >"$SUMMARY"
cat "$SUMMARY"
line ""
line "step       stat time  note"

# ---- tools ---------------------------------------------------------------------
t=$SECONDS
if ! command -v cc >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1; then
  # The tests' install check and the probe call `cc`.
  mkdir -p "$WORK/bin"
  ln -s "$(command -v gcc)" "$WORK/bin/cc"
  export PATH=$WORK/bin:$PATH
fi
missing=()
for tool in cmake cc tar timeout ldd; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  record tools FAIL $((SECONDS - t)) "missing ${missing[*]}"
  exit 1
fi
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for p in python3 /opt/torch/.venv/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then PY=$p; break; fi
  done
  PY=${PY:-python3}
fi
command -v "$PY" >/dev/null 2>&1 || PY=
export PY
record tools PASS $((SECONDS - t)) "cmake $(cmake --version | head -n 1 | awk '{print $3}'), $(cc --version | head -n 1), ${GEN[*]:-make}, python ${PY:-none}"

# ---- the private prefix ----------------------------------------------------------
# unpack_debs: every .deb of $DEBS into $PREFIX (dpkg -x, or ar + tar where
# dpkg is missing), then the .pc and CMake files rewritten from /usr to
# $PREFIX/usr.
unpack_debs() {
  shopt -s nullglob
  local debs=("$DEBS"/*.deb)
  shopt -u nullglob
  if [ ${#debs[@]} -eq 0 ]; then
    echo "no .deb files in $DEBS; prepare them (see the header of bench/gpu-check.sh or docs/gpu.md)"
    return 1
  fi
  case $PREFIX in
    / | /usr | /usr/* | /bin* | /lib* | /etc* | /opt | "") echo "refusing GPU_PREFIX=$PREFIX"; return 1 ;;
  esac
  if [ -e "$PREFIX" ] && [ ! -e "$PREFIX/.gpu-check-prefix" ]; then
    echo "refusing to replace $PREFIX: it exists and is not a prefix this script made"
    return 1
  fi
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  touch "$PREFIX/.gpu-check-prefix"
  local d
  for d in "${debs[@]}"; do
    echo "unpack $(basename "$d")"
    if command -v dpkg >/dev/null 2>&1; then
      dpkg -x "$d" "$PREFIX"
    else
      local member
      member=$(ar t "$d" | grep '^data\.tar')
      case $member in
        *.xz) ar p "$d" "$member" | tar -xJ -C "$PREFIX" ;;
        *.zst) ar p "$d" "$member" | zstd -dc | tar -x -C "$PREFIX" ;;
        *.gz) ar p "$d" "$member" | tar -xz -C "$PREFIX" ;;
        *) ar p "$d" "$member" | tar -x -C "$PREFIX" ;;
      esac
    fi
  done
  local p=$PREFIX/usr
  # .pc files: prefix=/usr, -I/usr/include, -L/usr/lib/...
  find "$PREFIX" -name '*.pc' -print0 | xargs -0 -r sed -i -E "s#(^|[= ]|-I|-L)/usr(/|\$| )#\\1$p\\2#g"
  # CMake package files: "/usr/lib/x86_64-linux-gnu/libOpenCL.so" and the like.
  find "$PREFIX" -name '*.cmake' -print0 | xargs -0 -r sed -i -E "s#\"/usr([/\"])#\"$p\\1#g"
  # The pkgconf personality (used when called as <triplet>-pkg-config).
  find "$PREFIX" -name '*.personality' -print0 | xargs -0 -r sed -i -E "s#(: |:)/usr/#\\1$p/#g"
  local lib
  lib=$(find "$PREFIX/usr/lib" -name libOpenCL.so.1 | head -n 1)
  local want=("$PREFIX/usr/include/CL/cl.h" "$PREFIX/usr/include/cmocka.h" "$PREFIX/usr/include/clblast_c.h" "$lib")
  local f
  for f in "${want[@]}"; do
    if [ -z "$f" ] || [ ! -e "$f" ]; then
      echo "the debs lack ${f:-libOpenCL.so.1}"
      return 1
    fi
  done
  LIBDIR=$(dirname "$lib")
  for f in libOpenCL.so libcmocka.so libclblast.so; do
    [ -e "$LIBDIR/$f" ] || { echo "the debs lack $LIBDIR/$f"; return 1; }
  done
  [ -x "$p/bin/pkgconf" ] || { echo "the debs lack pkgconf"; return 1; }
  # Debian 12's binaries need glibc 2.34 and libstdc++ of gcc 11 or newer.
  LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$p/bin/pkgconf" --version >/dev/null ||
    { echo "the prefix's pkgconf does not run here (glibc older than 2.34?)"; return 1; }
  echo "prefix ready: $PREFIX (libraries in $LIBDIR)"
}

# use_prefix: the environment and CMake arguments that make the build, the
# tests and clcnn-bench find everything in $PREFIX.
CMAKE_ARGS=()
use_prefix() {
  local p=$PREFIX/usr
  export PATH=$p/bin:$PATH
  export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LIBRARY_PATH=$LIBDIR${LIBRARY_PATH:+:$LIBRARY_PATH}
  export CPATH=$p/include${CPATH:+:$CPATH}
  export PKG_CONFIG_LIBDIR=$LIBDIR/pkgconfig:$p/share/pkgconfig
  export PKG_CONFIG_PATH=
  export PKG_CONFIG=$p/bin/pkg-config
  export CMAKE_PREFIX_PATH=$p${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export OpenCL_INCLUDE_DIR=$p/include OpenCL_LIBRARY=$LIBDIR/libOpenCL.so
  CMAKE_ARGS=(-DOpenCL_INCLUDE_DIR="$OpenCL_INCLUDE_DIR" -DOpenCL_LIBRARY="$OpenCL_LIBRARY"
    -DPKG_CONFIG_EXECUTABLE="$p/bin/pkg-config")
}

if [ "$with_prefix" = 1 ]; then
  t=$SECONDS
  if unpack_debs >"$LOGS/unpack.log" 2>&1; then
    use_prefix
    record unpack PASS $((SECONDS - t)) "$(ls "$DEBS"/*.deb | wc -l) debs into $PREFIX"
  else
    record unpack FAIL $((SECONDS - t)) "$(tail -n 1 "$LOGS/unpack.log")"
    exit 1
  fi
else
  record unpack SKIP 0 "--dry-run on the system's packages"
fi

# ---- the OpenCL driver -------------------------------------------------------------
find_nvidia_opencl() {
  local d f
  if [ -n "${NVIDIA_OPENCL:-}" ]; then echo "$NVIDIA_OPENCL"; return 0; fi
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
    /usr/lib/x86_64-linux-gnu/nvidia/current /usr/local/cuda/compat /usr/local/cuda/lib64; do
    for f in "$d/libnvidia-opencl.so.1" "$d"/libnvidia-opencl.so.[0-9]*; do
      if [ -e "$f" ]; then echo "$f"; return 0; fi
    done
  done
  f=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ {print $NF; exit}')
  if [ -n "$f" ]; then echo "$f"; return 0; fi
  f=$(timeout 20 find /usr /opt /lib /lib64 -xdev -name 'libnvidia-opencl.so*' 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] && echo "$f"
}

t=$SECONDS
VENDORS=$WORK/vendors
if [ "$mode" = gpu ] || [ "$mode" = rehearse ]; then
  if [ "$mode" = gpu ]; then CLCNN_DEVICE=gpu; else CLCNN_DEVICE=${CLCNN_DEVICE:-cpu}; fi
  nv=$(find_nvidia_opencl || true)
  # Only the driver registered here: an empty folder rather than /etc/OpenCL/vendors.
  mkdir -p "$VENDORS"
  export OCL_ICD_VENDORS=$VENDORS
  if [ -z "$nv" ]; then
    record icd FAIL $((SECONDS - t)) "no libnvidia-opencl.so* in /usr/local/nvidia/lib{64,}, /usr/lib{/x86_64-linux-gnu,64,}, ldconfig -p (set NVIDIA_OPENCL=path)"
  else
    echo "$nv" >"$VENDORS/nvidia.icd"
    nvdir=$(dirname "$nv")
    # The driver's own libraries (libcuda, the PTX JIT) after the prefix's.
    export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$nvdir
    { echo "nvidia.icd: $nv"; ls -l "$nvdir"/libnvidia-opencl* "$nvdir"/libcuda.so* 2>&1; ldd "$nv" 2>&1; } >"$LOGS/icd.log" || true
    if ldd "$nv" 2>/dev/null | grep 'not found' >/dev/null; then
      record icd FAIL $((SECONDS - t)) "$nv lacks libraries: $(ldd "$nv" | grep 'not found' | awk '{print $1}' | paste -sd ' ' -)"
    else
      record icd PASS $((SECONDS - t)) "OCL_ICD_VENDORS=$VENDORS with nvidia.icd -> $nv"
    fi
  fi
else
  CLCNN_DEVICE=${CLCNN_DEVICE:-cpu}
  if [ "$with_prefix" = 1 ]; then
    # The dry run: this machine's ICDs, registered the same way.
    mkdir -p "$VENDORS"
    cp /etc/OpenCL/vendors/*.icd "$VENDORS/" 2>/dev/null || true
    export OCL_ICD_VENDORS=$VENDORS
    record icd PASS $((SECONDS - t)) "OCL_ICD_VENDORS=$VENDORS with this machine's $(ls "$VENDORS" | paste -sd ' ' -)"
  else
    record icd SKIP 0 "the system's ICD loader and /etc/OpenCL/vendors"
  fi
fi
export CLCNN_BACKEND=opencl CLCNN_DEVICE
# On the GPU, bounds also runs its big cases (pooling and both convolution
# algorithms on tensors past 2^31 elements: about 40 s on an H200, 17 GiB).
[ "$mode" = gpu ] && export CLCNN_BIG_TESTS=${CLCNN_BIG_TESTS:-1}

# ---- probe: platforms and devices -----------------------------------------------------
cat >"$WORK/probe.c" <<'EOF'
/* probe.c - every OpenCL platform and device; exit 1 when no device of the
 * wanted type (argv[1]: gpu, cpu or any) is there. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    const char *want = argc > 1 ? argv[1] : "any";
    cl_platform_id p[16];
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(16, p, &np);
    if (e != CL_SUCCESS || np == 0) {
        printf("no OpenCL platform (clGetPlatformIDs: %d; -1001 is CL_PLATFORM_NOT_FOUND_KHR: no ICD registered)\n", e);
        return 1;
    }
    int found = 0;
    for (cl_uint i = 0; i < np; i++) {
        char name[256] = "", ver[256] = "", vendor[256] = "";
        clGetPlatformInfo(p[i], CL_PLATFORM_NAME, sizeof name, name, NULL);
        clGetPlatformInfo(p[i], CL_PLATFORM_VENDOR, sizeof vendor, vendor, NULL);
        clGetPlatformInfo(p[i], CL_PLATFORM_VERSION, sizeof ver, ver, NULL);
        printf("platform %u: %s (%s), %s\n", i, name, vendor, ver);
        cl_device_id d[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(p[i], CL_DEVICE_TYPE_ALL, 16, d, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint j = 0; j < nd; j++) {
            char dn[256] = "", dv[256] = "", drv[256] = "", ext[8192] = "";
            cl_device_type ty = 0;
            cl_uint cu = 0;
            cl_ulong mem = 0;
            clGetDeviceInfo(d[j], CL_DEVICE_NAME, sizeof dn, dn, NULL);
            clGetDeviceInfo(d[j], CL_DEVICE_VERSION, sizeof dv, dv, NULL);
            clGetDeviceInfo(d[j], CL_DRIVER_VERSION, sizeof drv, drv, NULL);
            clGetDeviceInfo(d[j], CL_DEVICE_EXTENSIONS, sizeof ext, ext, NULL);
            clGetDeviceInfo(d[j], CL_DEVICE_TYPE, sizeof ty, &ty, NULL);
            clGetDeviceInfo(d[j], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(d[j], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            const char *ts = ty & CL_DEVICE_TYPE_GPU ? "gpu" : ty & CL_DEVICE_TYPE_CPU ? "cpu" : "other";
            printf("  device %u.%u: %s [%s], %s, driver %s, %u compute units, %.1f GiB, fp64 %s\n", i, j, dn, ts,
                   dv, drv, cu, mem / 1073741824.0, strstr(ext, "cl_khr_fp64") ? "yes" : "no");
            if (strcmp(want, "any") == 0 || strcmp(want, ts) == 0)
                found = 1;
        }
    }
    if (!found)
        printf("no %s device\n", want);
    return found ? 0 : 1;
}
EOF
probe() {
  set -e
  echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-unset} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  cc -std=c11 -O1 -o "$WORK/probe" "$WORK/probe.c" -lOpenCL
  echo "probe links: $(ldd "$WORK/probe" | grep -i opencl)"
  local rc=0
  "$WORK/probe" "$1" || rc=$?
  if command -v clinfo >/dev/null 2>&1; then
    echo "== clinfo -l"
    clinfo -l 2>&1 || true
    clinfo >"$LOGS/clinfo.log" 2>&1 || true
  fi
  if [ "$rc" -ne 0 ] && [ -n "${OCL_ICD_VENDORS:-}" ]; then
    echo "== the loader's debug output (OCL_ICD_DEBUG=15)"
    OCL_ICD_DEBUG=15 "$WORK/probe" "$1" 2>&1 | tail -n 40 || true
  fi
  return "$rc"
}
export -f probe
case $mode in gpu) want_type=gpu ;; *) want_type=any ;; esac
run_step probe 60 bash -c 'probe "$1"' _ "$want_type" || true
{ echo "== OpenCL platforms and devices (probe)"; grep -E '^(platform|  device|no )' "$LOGS/probe.log" | awk '!seen[$0]++'; } >"$WORK/probe-out" 2>/dev/null || true

# ---- configure, and where CMake found things ------------------------------------------------
# Arrays do not cross `bash -c`; pass them as arguments instead.
run_step configure 90 bash -c 'set -e; cmake -S "$ROOT" -B "$BUILD" "$@" -DCMAKE_BUILD_TYPE=Release -DCLCNN_WERROR=OFF' _ \
  "${GEN[@]}" "${CMAKE_ARGS[@]}" || true

# found: what CMake picked for OpenCL, cmocka, CLBlast and pkg-config; with
# the prefix, each must lie inside it.
found_check() {
  local cache=$BUILD/CMakeCache.txt bad=0 k v
  [ -f "$cache" ] || { echo "no $cache"; return 1; }
  echo "== what CMake found"
  for k in OpenCL_INCLUDE_DIR OpenCL_LIBRARY PKG_CONFIG_EXECUTABLE pkgcfg_lib_CMOCKA_cmocka CMOCKA_LIBRARY_DIRS \
    CLBlast_DIR cmocka-cflags; do
    if [ "$k" = cmocka-cflags ]; then
      # pkgconf drops -I of the directories in CPATH; ask without it.
      v=$(env -u CPATH -u C_INCLUDE_PATH "$(grep -E '^PKG_CONFIG_EXECUTABLE:' "$cache" | cut -d= -f2-)" --cflags cmocka 2>&1)
      v=${v#-I}
      v=${v%% }
    else
      v=$(grep -E "^$k:[A-Z]+=" "$cache" | head -n 1 | cut -d= -f2-)
    fi
    printf '  %-24s %s\n' "$k" "${v:-(not set)}"
    if [ "$with_prefix" = 1 ]; then
      case $v in
        "$PREFIX"/*) ;;
        *) echo "  ^ not inside $PREFIX"; bad=1 ;;
      esac
    fi
  done
  return $bad
}
if [ -f "$BUILD/CMakeCache.txt" ]; then
  t=$SECONDS
  if found_check >"$WORK/found-out" 2>&1; then
    record found PASS $((SECONDS - t)) "$([ "$with_prefix" = 1 ] && echo "OpenCL, cmocka, CLBlast, pkg-config all from $PREFIX" || echo "system packages")"
  else
    record found FAIL $((SECONDS - t)) "see 'what CMake found' below"
  fi
  cat "$WORK/found-out"
fi

if [ "$mode" = prefix ]; then
  exit 0
fi

# ---- build, tests ---------------------------------------------------------------------------
run_step build 180 cmake --build "$BUILD" -j "$(nproc)" || true

# The GPU runs the whole suite; the other modes (a 2-core CI machine, which
# runs the whole suite itself afterwards) leave out the reruns of the device
# suite under other settings, so that the step fits its limit.
# On a GPU the *_gpu_profile tests repeat device and bounds (the profile is
# what a GPU already takes): left out, as the dry run leaves out the
# device_* variants that CI runs anyway.
CTEST_EXCLUDE='^(device_gpu_profile|bounds_gpu_profile)$'
[ "$mode" = gpu ] || CTEST_EXCLUDE='^(device_.*|bounds_gpu_profile|seed_gemm|errors_opencl)$'
export CTEST_EXCLUDE
ctest_run() {
  cd "$BUILD"
  rm -f Testing/Temporary/LastTest.log # a stale one would be packed if ctest is cut off
  if [ -n "${GPU_CHECK_TESTS:-}" ]; then
    echo "CLCNN_BACKEND=$CLCNN_BACKEND CLCNN_DEVICE=$CLCNN_DEVICE (only: $GPU_CHECK_TESTS, verbose)"
    ctest -V -j 2 --timeout $((STEP_LIMIT - 10)) -R "$GPU_CHECK_TESTS"
    return
  fi
  echo "CLCNN_BACKEND=$CLCNN_BACKEND CLCNN_DEVICE=$CLCNN_DEVICE${CTEST_EXCLUDE:+ (left out: $CTEST_EXCLUDE)}"
  ctest --output-on-failure -j "$(($(nproc) < 8 ? $(nproc) : 8))" --timeout $((STEP_LIMIT - 10)) \
    ${CTEST_EXCLUDE:+-E "$CTEST_EXCLUDE"}
}
export -f ctest_run
if [ -f "$BUILD/CMakeCache.txt" ]; then
  run_step ctest "$([ -n "${GPU_CHECK_TESTS:-}" ] && echo "$DEADLINE" || echo 330)" bash -c ctest_run || true
else
  record ctest FAIL 0 "not run: nothing configured"
fi
{ echo "== ctest (CLCNN_BACKEND=opencl CLCNN_DEVICE=$CLCNN_DEVICE)"; grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|tests failed|^\s+[0-9]+ - ' "$LOGS/ctest.log"; } >"$WORK/ctest-out" 2>/dev/null || true

# ---- clcnn-bench --------------------------------------------------------------------------------
BENCH=$BUILD/bench/clcnn-bench
# ---- a follow-up script of the caller's (GPU_CHECK_SCRIPT), in this environment --------------------
if [ -n "${GPU_CHECK_SCRIPT:-}" ]; then
  # the whole deadline that is left with GPU_CHECK_TESTS (no benchmark
  # steps follow), else at most 120 s, so that those steps keep theirs
  left=$((DEADLINE - (SECONDS - T0) - RESERVE))
  [ -n "${GPU_CHECK_TESTS:-}" ] || [ "$left" -le 120 ] || left=120
  run_step script "$left" env BUILD="$BUILD" DEVICE="$CLCNN_DEVICE" bash "$GPU_CHECK_SCRIPT" || true
  { echo "== $GPU_CHECK_SCRIPT"; cat "$LOGS/script.log"; } >"$WORK/script-out" 2>/dev/null || true
fi
if [ -n "${GPU_CHECK_TESTS:-}" ]; then
  line "GPU_CHECK_TESTS is set: the benchmark and torch steps are left out"
  exit "$((failures > 0))"
fi
if [ "$mode" = gpu ]; then
  BENCH_EXTRA=()
  LIMITS=(resnet:120 peers:110)
else
  BENCH_EXTRA=(--batch 1 --reps 2)
  LIMITS=(resnet:150 peers:150)
fi
for sl in "${LIMITS[@]}"; do
  suite=${sl%%:*}
  limit=${sl##*:}
  if [ ! -x "$BENCH" ]; then
    record "$suite" FAIL 0 "not run: no $BENCH (the build failed, or CLCNN_BUILD_BENCH is off)"
    continue
  fi
  left=$((DEADLINE - (SECONDS - T0) - RESERVE))
  [ "$limit" -le "$left" ] || limit=$left
  # clcnn-bench aims at --budget seconds; leave room for its first calls, the
  # single calls that exceed a row's share, and CLBlast.
  budget=$((limit * 45 / 100))
  [ "$budget" -ge 5 ] || budget=5
  run_step "$suite" "$limit" "$BENCH" --suite "$suite" --device "$CLCNN_DEVICE" --dtype f32 --budget "$budget" \
    "${BENCH_EXTRA[@]}" --csv "$RES/$suite.csv" --json "$RES/$suite.json" --svg "$RES/$suite.svg" &&
    { echo "== clcnn-bench --suite $suite"; sed -n '/^clcnn-bench: done/,$p' "$LOGS/$suite.log" | tail -n +2; } >"$WORK/$suite-out" 2>/dev/null || true
done

# ---- each convolution algorithm forced, on the peers shapes (sets the AUTO heuristic) -------------
for algo in direct gemm; do
  if [ ! -x "$BENCH" ]; then
    record "$algo" FAIL 0 "not run: no $BENCH"
    continue
  fi
  limit=60
  left=$((DEADLINE - (SECONDS - T0) - RESERVE))
  [ "$limit" -le "$left" ] || limit=$left
  run_step "$algo" "$limit" "$BENCH" --suite peers --device "$CLCNN_DEVICE" --dtype f32 --algo "$algo" \
    --no-clblast --reps 3 --budget 20 "${BENCH_EXTRA[@]}" --json "$RES/peers-$algo.json" &&
    { echo "== clcnn-bench --suite peers --algo $algo"; sed -n '/^clcnn-bench: done/,$p' "$LOGS/$algo.log" | tail -n +2 | grep -E 'conv|algorithm'; } >"$WORK/$algo-out" 2>/dev/null || true
done

# ---- the tiled kernels' backward data and filter against GEMM and the direct kernels -------------
# ---- and their staged tiles read as scalars against vectors (TILE_VEC) ---------------------------
if [ -x "$BUILD/bench/clcnn-ab" ]; then
  if [ "$mode" = gpu ]; then
    run_step tiled 90 env BUILD="$BUILD" DEVICE="$CLCNN_DEVICE" PARTS="data filter" ROUNDS=8 \
      bash "$ROOT/bench/gpu-sweep-tiles.sh" || true
    run_step vec 60 env BUILD="$BUILD" DEVICE="$CLCNN_DEVICE" PARTS="vec" ROUNDS=8 \
      SHAPES="a:64,56,56,64,64,3,3,1,1 c:32,14,14,256,256,3,3,1,1 res3_1x1_512:32,28,28,128,512,1,1,1,0" \
      bash "$ROOT/bench/gpu-sweep-tiles.sh" || true
  else
    run_step tiled 60 env BUILD="$BUILD" DEVICE="$CLCNN_DEVICE" PARTS="tiles gemm data filter vec" ROUNDS=2 \
      TILES=32:16:8:4:2 VEC_TILES=32:16:8:4:2 SHAPES=x:1,6,6,8,16,3,3,1,1 bash "$ROOT/bench/gpu-sweep-tiles.sh" ||
      true
  fi
  { echo "== bench/gpu-sweep-tiles.sh"; cat "$LOGS/tiled.log" "$LOGS/vec.log" 2>/dev/null; } >"$WORK/tiled-out" || true
else
  record tiled FAIL 0 "not run: no $BUILD/bench/clcnn-ab"
fi

# ---- the PyTorch peer ---------------------------------------------------------------------------
jsons=()
for suite in resnet peers; do
  [ -f "$RES/$suite.json" ] && jsons+=("$RES/$suite.json")
done
if [ -z "$PY" ]; then
  record selftest FAIL 0 "no python3"
  record torch FAIL 0 "no python3"
elif [ ${#jsons[@]} -eq 0 ]; then
  run_step selftest 30 "$PY" "$ROOT/bench/torch_peer.py" --self-test || true
  record torch FAIL 0 "not run: no clcnn-bench JSON to take the shapes from"
else
  # The JSON files as torch_peer reads them: schema, output sizes, flops.
  run_step selftest 30 "$PY" "$ROOT/bench/torch_peer.py" --self-test "${jsons[@]}" || true
  # torch_peer's budget: the step's limit less about 40 s for importing
  # torch, starting CUDA and cuDNN's first calls.
  left=$((DEADLINE - (SECONDS - T0) - RESERVE))
  limit=$((left < 130 ? left : 130))
  run_step torch 130 env PYTHONUNBUFFERED=1 "$PY" "$ROOT/bench/torch_peer.py" --out-dir "$RES" \
    --budget $((limit > 60 ? limit - 40 : 20)) "${jsons[@]}" || true
  if [ "$mode" != gpu ] && [ -f "$LOGS/torch.log" ] && ! [ -f "$RES/torch.json" ] &&
    "$PY" -c 'import torch' >/dev/null 2>&1; then
    # torch without CUDA: the same calls on the CPU, to try the script's torch code.
    run_step torchcpu 60 "$PY" "$ROOT/bench/torch_peer.py" --device cpu --batch 1 --reps 2 --warmup 1 \
      --out-dir "$WORK/torch-cpu" "${jsons[@]}" || true
  fi
  {
    echo "== PyTorch peer (cuDNN, F32, TF32 off, channels_last)"
    grep -E '^torch_peer: [0-9]+ rows on' "$LOGS/torch.log"
    sed -n '/^layer /,/^torch_peer: [0-9]* rows,/p' "$LOGS/torch.log"
    grep -q '^layer ' "$LOGS/torch.log" || tail -n 3 "$LOGS/torch.log"
  } >"$WORK/torch-out" 2>/dev/null || true
fi
