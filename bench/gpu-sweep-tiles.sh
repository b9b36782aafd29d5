#!/usr/bin/env bash
# bench/gpu-sweep-tiles.sh - the tiled forward (conv_forward_tiled) against
# the other forward kernels, on the resnet and peers shapes at their GPU
# batches: for GPU_CHECK_SCRIPT (bench/gpu-check.sh sets BUILD and DEVICE).
#
#   GPU_CHECK_TESTS='^random$' GPU_CHECK_SCRIPT=bench/gpu-sweep-tiles.sh bash bench/gpu-check.sh
#
# PARTS (default "tiles gemm bench") picks what runs. For each shape,
# clcnn-ab (one process, alternating calls, fastest of ROUNDS) compares:
#   tiles  the forward's conv_forward_<N> (CLCNN_CONV_TILED=0) with the
#          tiled kernel at each tile size in TILES;
#   gemm   the forward's GEMM path with the tiled kernel (default tiles);
#   data   backward data (stride-1 shapes): the GEMM path, and the direct
#          path without the tiled kernel, each against the tiled kernel;
#   filter backward filter: the same two against conv_backward_filter_tiled.
#   vec    the tiled kernels reading their staged tiles as scalars, strided
#          (A), and as vectors (B, TILE_VEC=1), at each tile size in
#          VEC_TILES: forward, backward data (stride 1) and backward filter.
#   bench  the resnet and peers suites with the direct algorithm, whose
#          error columns check the tiled kernel against the host reference;
#   auto   the same suites with AUTO (every direction).
set -uo pipefail
PARTS=${PARTS:-tiles gemm bench}
has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
failed=0
ab() { # name what spec op A B: one clcnn-ab line, "A ms, B ms, B/A speed"; its output where it fails
  local r rc=0
  r=$("$AB" "conv:$3" "$4" "$5" "$6" "$ROUNDS" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || ! echo "$r" | grep '^speed' >/dev/null; then
    echo "$1 $2: FAILED (exit $rc):"
    echo "$r" | sed 's/^/  /'
    failed=$((failed + 1))
    return
  fi
  echo "$1 $2: $(echo "$r" | awk '/^A /{a=$(NF-3)} /^B /{b=$(NF-3)} /speed/{print "A " a " ms, B " b " ms, speed B/A " $3}')"
}
AB=$BUILD/bench/clcnn-ab
ROUNDS=${ROUNDS:-10}
TILES=${TILES:-64:64:16:4:4 128:64:16:8:4 128:128:16:8:8 128:128:8:8:8}
VEC_TILES=${VEC_TILES:-64:64:16:4:4 128:128:16:8:8}
SHAPES=${SHAPES:-a:64,56,56,64,64,3,3,1,1 b:32,28,28,128,128,3,3,1,1 c:32,14,14,256,256,3,3,1,1
  d:64,224,224,3,64,7,7,2,3 e:128,28,28,192,32,1,1,1,0 res2_1x1_64:32,56,56,64,64,1,1,1,0
  res2_1x1_256:32,56,56,64,256,1,1,1,0 res2_1x1_256to64:32,56,56,256,64,1,1,1,0
  res3_1x1_512:32,28,28,128,512,1,1,1,0 res4_1x1_1024:32,14,14,256,1024,1,1,1,0
  res5_3x3_512:32,7,7,512,512,3,3,1,1 res5_1x1_2048:32,7,7,512,2048,1,1,1,0}
export CLCNN_DEVICE=${DEVICE:-gpu}
for s in $SHAPES; do
  name=${s%%:*} spec=${s#*:}
  if has tiles; then
    for t in $TILES; do
      ab "$name" "fwd direct (A) vs tiled $t (B)" "$spec" fwd CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=0 \
        "CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1,CLCNN_CONV_TILE=$t"
    done
  fi
  if has gemm; then
    ab "$name" "fwd gemm (A) vs tiled (B)" "$spec" fwd CLCNN_CONV_ALGO=gemm CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1
  fi
  if has data && [ "$(echo "$spec" | cut -d, -f8)" = 1 ]; then
    ab "$name" "data gemm (A) vs tiled (B)" "$spec" data CLCNN_CONV_ALGO=gemm CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1
    ab "$name" "data direct (A) vs tiled (B)" "$spec" data CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=0 \
      CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1
  fi
  if has filter; then
    ab "$name" "filter gemm (A) vs tiled (B)" "$spec" filter CLCNN_CONV_ALGO=gemm CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1
    ab "$name" "filter direct (A) vs tiled (B)" "$spec" filter CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=0 \
      CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1
  fi
  if has vec; then
    ops="fwd filter"
    [ "$(echo "$spec" | cut -d, -f8)" = 1 ] && ops="fwd data filter"
    for t in $VEC_TILES; do
      for op in $ops; do
        ab "$name" "$op tiled $t scalar (A) vs vector (B)" "$spec" "$op" \
          "CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1,CLCNN_CONV_TILE=$t:0" \
          "CLCNN_CONV_ALGO=direct,CLCNN_CONV_TILED=1,CLCNN_CONV_TILE=$t:1"
      done
    done
  fi
done
if has bench; then
  for suite in peers resnet; do
    echo "== clcnn-bench --suite $suite --algo direct (tiled forward by default)"
    out=$("$BUILD/bench/clcnn-bench" --suite "$suite" --device "$CLCNN_DEVICE" --algo direct --no-clblast \
      --reps 3 --budget 15 2>&1) || { failed=$((failed + 1)); echo "$out" | tail -n 5; }
    echo "$out" | grep -E 'conv_fwd|conv_bwd_data|algorithm'
  done
fi
if has auto; then
  for suite in peers resnet; do
    echo "== clcnn-bench --suite $suite (AUTO)"
    out=$("$BUILD/bench/clcnn-bench" --suite "$suite" --device "$CLCNN_DEVICE" --no-clblast --reps 3 \
      --budget 15 --json "$BUILD/$suite-auto.json" 2>&1) || { failed=$((failed + 1)); echo "$out" | tail -n 5; }
    echo "$out" | grep -E 'conv_|algorithm'
  done
fi
[ "$failed" -eq 0 ] || { echo "gpu-sweep-tiles: $failed run(s) failed"; exit 1; }
