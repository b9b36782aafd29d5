#!/usr/bin/env bash
# no_opencl.sh SOURCE_DIR WORK_DIR stubs|headerless - configures SOURCE_DIR in
# WORK_DIR/build with -DCLCNN_OPENCL=OFF (no tests, no bench), builds only the
# library, installs it into WORK_DIR/prefix and checks what include/clcnn_cl.h
# promises for such a build:
#   stubs       the OpenCL headers are found (as on a system that has them):
#               clcnn_cl.h is installed, libclcnn exports its 5 functions,
#               and tests/consumer/no_opencl.c, built against the install,
#               gets their documented answers. Exits 77 (ctest's skip) where
#               this system has no CL/cl.h.
#   headerless  the build cannot find CL/cl.h (CMake's header search rooted
#               in an empty folder): clcnn_cl.h is not installed and none of
#               its functions is exported.
# Both then build tests/consumer/main.c against the install and run it on the
# host path. CMAKE, CC and CLCNN_WERROR (ON/OFF) come from the environment.
set -euo pipefail
src=$1
work=$2
mode=$3
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
# This test chooses its own backend: the no-OpenCL library has only the host.
unset CLCNN_BACKEND CLCNN_DEVICE CLCNN_KERNEL_DIR
fail() { echo "no_opencl ($mode): $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/empty"

args=(-DCLCNN_OPENCL=OFF -DCLCNN_BUILD_TESTS=OFF -DCLCNN_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_C_COMPILER="$cc" -DCLCNN_WERROR="${CLCNN_WERROR:-OFF}")
case $mode in
  stubs) ;;
  headerless) args+=(-DCMAKE_FIND_ROOT_PATH="$work/empty" -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY) ;;
  *) fail "unknown mode (expected stubs or headerless)" ;;
esac
"$cmake" -S "$src" -B "$work/build" "${args[@]}" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configure failed"; }
grep -q '^CLCNN_OPENCL_INCLUDE_DIR:' "$work/build/CMakeCache.txt" ||
  fail "CLCNN_OPENCL_INCLUDE_DIR is not in the cache: the build does not look for the OpenCL headers"
found=$(sed -n 's/^CLCNN_OPENCL_INCLUDE_DIR:PATH=//p' "$work/build/CMakeCache.txt")
case $mode:$found in
  stubs:*NOTFOUND* | stubs:)
    echo "no_opencl: SKIP: this system has no OpenCL headers (CL/cl.h), so a build without OpenCL cannot have clcnn_cl.h's stubs"
    exit 77 ;;
  headerless:*NOTFOUND*) ;;
  headerless:*) fail "the build found CL/cl.h in $found despite the empty search root" ;;
esac
"$cmake" --build "$work/build" --target clcnn -j 2 >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the library failed"; }
"$cmake" --install "$work/build" --prefix "$work/prefix" >"$work/install.log"

inc=$work/prefix/include
lib=$(find "$work/prefix" -name 'libclcnn.so*' -type f | head -n 1)
[ -f "$inc/clcnn.h" ] || fail "clcnn.h is not installed"
[ -n "$lib" ] || fail "no libclcnn.so installed"
exported=$(nm -D --defined-only "$lib" | awk '{ print $NF }' |
           { grep -E '^clcnn_(context_create_cl|tensor_cl_mem|context_cl_(context|device|queue))$' || true; } |
           sort | paste -sd ' ' -)
pc_dir=$(dirname "$(find "$work/prefix" -name clcnn.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc_dir
libdir=$(pkg-config --variable=libdir clcnn)
if [ "$mode" = stubs ]; then
  [ -f "$inc/clcnn_cl.h" ] || fail "clcnn_cl.h is not installed although the OpenCL headers were found"
  want="clcnn_context_cl_context clcnn_context_cl_device clcnn_context_cl_queue clcnn_context_create_cl clcnn_tensor_cl_mem"
  [ "$exported" = "$want" ] || fail "libclcnn exports [$exported], expected [$want]"
  # Built with the install's flags only: the OpenCL headers from the system,
  # and no OpenCL library to link.
  "$cc" -std=c11 -Wall -Wextra -Werror -o "$work/no_opencl" "$src/tests/consumer/no_opencl.c" \
    $(pkg-config --cflags --libs clcnn) -Wl,-rpath,"$libdir"
  "$work/no_opencl"
  what="clcnn_cl.h installed, its 5 functions exported and answering as documented"
else
  [ ! -e "$inc/clcnn_cl.h" ] || fail "clcnn_cl.h is installed although the build had no OpenCL headers"
  [ -z "$exported" ] || fail "libclcnn exports $exported without clcnn_cl.h"
  what="clcnn_cl.h not installed, none of its functions exported"
fi
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer" "$src/tests/consumer/main.c" \
  $(pkg-config --cflags --libs clcnn) -Wl,-rpath,"$libdir"
"$work/consumer"
echo "no_opencl ($mode): $what; the installed host path convolves"
