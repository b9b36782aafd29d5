#!/usr/bin/env bash
# install_consumer.sh BUILD_DIR WORK_DIR [opencl] - installs the clcnn built in
# BUILD_DIR into WORK_DIR/prefix, then builds and runs tests/consumer against
# it twice: through find_package(clcnn) and through pkg-config. Only the
# installed files are visible to the consumer (the source tree's include/ is
# not on any path, and CLCNN_KERNEL_DIR is unset). With `opencl`, the
# consumer must have run on the OpenCL backend.
set -euo pipefail
build=$1
work=$2
backend=${3:-}
unset CLCNN_KERNEL_DIR
# The consumer checks the installed library's default backend (AUTO), which
# must be the OpenCL one with `opencl`, whatever backend the caller forces.
unset CLCNN_BACKEND
cmake=${CMAKE:-cmake}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$work/prefix" >"$work/install.log"

echo "== find_package(clcnn)"
"$cmake" -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
"$cmake" --build "$work/cmake-build" >"$work/build.log"
"$work/cmake-build/consumer" $backend

echo "== pkg-config clcnn"
pc_dir=$(dirname "$(find "$work/prefix" -name clcnn.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc_dir
libdir=$(pkg-config --variable=libdir clcnn)
cc -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc" "$here/consumer/main.c" \
   $(pkg-config --cflags --libs clcnn) -Wl,-rpath,"$libdir"
"$work/consumer-pc" $backend
echo "install_consumer: both ways work"
