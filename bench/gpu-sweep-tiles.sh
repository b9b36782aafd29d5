#!/usr/bin/env bash
# bench/gpu-sweep-tiles.sh - the tiled forward (conv_forward_tiled) against
# the other forward kernels, on the resnet and peers shapes at their GPU
# batches: for GPU_CHECK_SCRIPT (bench/gpu-check.sh sets BUILD and DEVICE).
#
#   GPU_CHECK_TESTS='^random$' GPU_CHECK_SCRIPT=bench/gpu-sweep-tiles.sh bash bench/gpu-check.sh
#
# For each shape, clcnn-ab (one process, alternating calls, fastest of
# ROUNDS) compares conv_forward_<N> (CLCNN_CONV_TILED=0) with each tile
# size in TILES, and the GEMM path with the default tiles. Then the resnet
# and peers suites with the direct algorithm, whose error columns check the
# tiled kernel's results against the host reference.
set -uo pipefail
AB=$BUILD/bench/clcnn-ab
ROUNDS=${ROUNDS:-10}
TILES=${TILES:-64:64:16:4:4 128:64:8:8:4 128:128:8:8:8 64:32:16:4:2}
SHAPES=${SHAPES:-a:64,56,56,64,64,3,3,1,1 b:32,28,28,128,128,3,3,1,1 c:32,14,14,256,256,3,3,1,1
  d:64,224,224,3,64,7,7,2,3 e:128,28,28,192,32,1,1,1,0 res2_1x1_64:32,56,56,64,64,1,1,1,0
  res2_1x1_256:32,56,56,64,256,1,1,1,0 res2_1x1_256to64:32,56,56,256,64,1,1,1,0
  res3_1x1_512:32,28,28,128,512,1,1,1,0 res4_1x1_1024:32,14,14,256,1024,1,1,1,0
  res5_3x3_512:32,7,7,512,512,3,3,1,1 res5_1x1_2048:32,7,7,512,2048,1,1,1,0}
export CLCNN_DEVICE=${DEVICE:-gpu}
for s in $SHAPES; do
  name=${s%%:*} spec=${s#*:}
  for t in $TILES; do
    r=$("$AB" "conv:$spec" fwd CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=0 \
      "CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1,CLCNN_CONV_TILE=$t" "$ROUNDS" 2>&1)
    echo "$name tile $t: $(echo "$r" | awk '/^A /{a=$(NF-3)} /^B /{b=$(NF-3)} /speed/{print "direct " a " ms, tiled " b " ms, B/A " $3}')"
  done
  r=$("$AB" "conv:$spec" fwd CLCNN_CONV_ALGO=gemm CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1 "$ROUNDS" 2>&1)
  echo "$name gemm vs tiled: $(echo "$r" | awk '/^A /{a=$(NF-3)} /^B /{b=$(NF-3)} /speed/{print "gemm " a " ms, tiled " b " ms, B/A " $3}')"
done
for suite in peers resnet; do
  echo "== clcnn-bench --suite $suite --algo direct (tiled forward by default)"
  "$BUILD/bench/clcnn-bench" --suite "$suite" --device "$CLCNN_DEVICE" --algo direct --no-clblast --reps 3 \
    --budget 15 2>&1 | grep -E 'conv_fwd|algorithm'
done
