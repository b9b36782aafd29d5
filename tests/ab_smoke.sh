#!/usr/bin/env bash
# ab_smoke.sh AB - runs clcnn-ab on small layers, every op, and checks that it
# reports both settings and a ratio, applies each setting to its own side
# only, and refuses bad arguments with status 2.
set -euo pipefail
ab=$1
# clcnn-ab's contexts take their backend from the environment, and the
# settings checked here (CLCNN_KERNEL_DIR among them) are the OpenCL
# backend's: it runs there whatever backend the caller forces.
export CLCNN_BACKEND=opencl
fail() { echo "ab_smoke: $*" >&2; exit 1; }
for op in fwd data filter; do
  out=$("$ab" conv:2,9,8,5,16,3,3,1,1 "$op" CLCNN_FILTER_BLOCKED=0 CLCNN_FILTER_BLOCKED=1,CLCNN_CONV_PX=2 3)
  grep -q '^A CLCNN_FILTER_BLOCKED=0 .* ms .* GFLOP/s$' <<<"$out" || fail "conv $op: no A line: $out"
  grep -q '^B CLCNN_FILTER_BLOCKED=1,CLCNN_CONV_PX=2 .* ms' <<<"$out" || fail "conv $op: no B line: $out"
  grep -q '^speed B/A [0-9.]* (fastest of 3 calls each' <<<"$out" || fail "conv $op: no ratio: $out"
done
for op in fwd bwd; do
  "$ab" pool:max:2,9,9,8,3,2 "$op" - - 2 | grep '^speed B/A' >/dev/null || fail "pool $op: no ratio"
done
# Bursts: 3 turns of 3 calls, each turn's first untimed, leave 6 timed calls a side.
out=$("$ab" pool:avg:2,9,9,8,2,2 bwd - - 3 3)
grep -q '^speed B/A [0-9.]* (fastest of 6 calls each, alternating in bursts of 3)$' <<<"$out" ||
  fail "bursts: $out"
# A setting that breaks its side must fail the run: a kernel folder without kernels.
if "$ab" conv:1,4,4,2,2,3,3,1,1 fwd - CLCNN_KERNEL_DIR=/nonexistent 2 >/dev/null 2>&1; then
  fail "B's CLCNN_KERNEL_DIR was not applied"
fi
for bad in "x fwd - -" "conv:1,4,4,2,2,3,3,1,1 bwd - -" "pool:avg:1,4,4,2,2,2 data - -" \
           "conv:1,4,4,2,2,3,3,1,1 fwd NOEQUALS -" "conv:1,2,2,1,1,3,3,1,0 fwd - -" \
           "conv:1,4,4,2,2,3,3,1,1 fwd - - 2 0" "conv:1,4,4,2,2,3,3,1,1 fwd - - 2 3 1"; do
  set +e
  # shellcheck disable=SC2086
  "$ab" $bad >/dev/null 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "clcnn-ab $bad: status $rc, expected 2"
done
echo "ab_smoke: 5 ops, bursts, settings applied per side, 7 bad argument lists refused"
