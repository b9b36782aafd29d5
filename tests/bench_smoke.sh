#!/usr/bin/env bash
# bench_smoke.sh BENCH WORK_DIR [ONEDNN] - runs clcnn-bench on the notebook's
# shapes (with the CLBlast peer) and checks that the table, CSV, JSON and SVG
# hold a row for every op of every layer, with device, host and error
# figures. ONEDNN 1 (the bench was built with oneDNN): every row but pad has
# a oneDNN time that agrees with the device; 0: the column is empty and the
# table says the peer is not built. Either way --no-onednn empties it.
set -euo pipefail
bench=$1
work=$2
onednn=${3:-0}
rm -rf "$work"
mkdir -p "$work"
fail() { echo "bench_smoke: $*" >&2; exit 1; }
# A failing run shows its stderr (sanitizer reports included), so that the
# reason reaches ctest's log.
run() { # $1: stdout file, $2: stderr file, then the command
  local out=$1 err=$2
  shift 2
  "$@" >"$out" 2>"$err" || { cat "$err" >&2; fail "$* failed"; }
}
run "$work/table.txt" "$work/progress.txt" "$bench" --suite seed --reps 2 --budget 20 --csv "$work/seed.csv" \
  --json "$work/seed.json" --svg "$work/seed.svg"
# 3 conv layers with 3 or 4 ops (pad when padded) and 5 pool layers with 2 = 21 rows.
rows=$(($(wc -l <"$work/seed.csv") - 1))
[ "$rows" -eq 21 ] || fail "seed.csv has $rows rows, expected 21"
grep -q '"rows": \[' "$work/seed.json" || fail "seed.json has no rows"
[ "$(grep -c '"op": ' "$work/seed.json")" -eq 21 ] || fail "seed.json does not hold 21 rows"
grep -q '<svg' "$work/seed.svg" && grep -q '</svg>' "$work/seed.svg" || fail "seed.svg is not a whole SVG"
grep -q 'conv_forward' "$work/seed.svg" || fail "seed.svg lacks the conv_forward layer"
grep -q '^seed  *conv_forward  *conv_fwd ' "$work/table.txt" || fail "the table lacks the conv_forward row"
grep -q '\[layer 8 of 8\]' "$work/progress.txt" || fail "no progress lines on stderr"
# Every row has a device time, a host time and an error figure; conv_fwd rows a CLBlast figure.
awk -F, 'NR > 1 && ($26 == "" || $30 == "" || $36 == "") { bad = 1; print "incomplete row: " $0 }
         NR > 1 && $7 == "conv_fwd" && $38 == "" { bad = 1; print "no CLBlast figure: " $0 }
         END { exit bad }' "$work/seed.csv" || fail "rows with missing figures"
# The device agrees with the host: relative error far below 1e-4 in F32.
awk -F, 'NR > 1 && $37 + 0 > 1e-4 { bad = 1; print "large error: " $0 } END { exit bad }' "$work/seed.csv" \
  || fail "device and host disagree"
# The algorithm each convolution row ran (column 47 algo_ran): the heuristic's
# on this device; none for pad and pooling rows.
awk -F, 'NR > 1 && $7 ~ /^conv_/ && $47 != "direct" && $47 != "gemm" { bad = 1; print "no algorithm: " $0 }
         NR > 1 && $7 !~ /^conv_/ && $47 != "" { bad = 1; print "an algorithm for a non-conv row: " $0 }
         END { exit bad }' "$work/seed.csv" || fail "algo_ran missing or misplaced"
grep -q '"algo_ran": "' "$work/seed.json" || fail "seed.json has no algo_ran"
# The oneDNN peer (CSV columns 42 onednn_median_s, 46 onednn_max_rel_err).
if [ "$onednn" = 1 ]; then
  grep -q '^oneDNN peer: oneDNN [0-9]*\.[0-9]*\.[0-9]* on the CPU$' "$work/table.txt" || fail "the table does not name oneDNN"
  awk -F, 'NR > 1 && $7 != "pad" && ($42 == "" || $46 == "") { bad = 1; print "no oneDNN figure: " $0 }
           NR > 1 && $7 != "pad" && $46 + 0 > 1e-4 { bad = 1; print "oneDNN disagrees: " $0 }
           END { exit bad }' "$work/seed.csv" || fail "oneDNN rows missing or wrong"
  grep -q '"onednn_gflops": [0-9]' "$work/seed.json" || fail "seed.json has no oneDNN figure"
  grep -q 'oneDNN (CPU' "$work/seed.svg" || fail "seed.svg has no oneDNN series"
  what="with oneDNN figures"
else
  grep -q '^oneDNN peer: not built' "$work/table.txt" || fail "the table does not say oneDNN is not built"
  what="without oneDNN (not built)"
fi
run "$work/none.txt" "$work/none.err" "$bench" --suite seed --reps 1 --budget 5 --no-onednn --no-clblast \
  --algo gemm --csv "$work/none.csv"
grep -q '^oneDNN peer: skipped (--no-onednn)$' "$work/none.txt" || fail "--no-onednn is not reported"
awk -F, 'NR > 1 && ($42 != "" || $38 != "") { bad = 1; print "a peer ran: " $0 } END { exit bad }' "$work/none.csv" \
  || fail "--no-onednn or --no-clblast did not skip its peer"
awk -F, 'NR > 1 && $7 ~ /^conv_/ && $47 != "gemm" { bad = 1; print "not GEMM: " $0 } END { exit bad }' \
  "$work/none.csv" || fail "--algo gemm rows did not report the GEMM path"
echo "bench_smoke: 21 rows in the table, CSV, JSON and SVG, $what"
