#!/usr/bin/env bash
# bench/run.sh - the quick-start benchmark: installs what is missing of the
# build package set (.ci/packages.txt; not the tests' nor CI's), builds, and
# runs clcnn-bench on the default OpenCL device (the seed and resnet suites),
# writing bench-results/bench.{csv,json,svg}. Arguments go to clcnn-bench
# (e.g. --suite peers, --device gpu, --batch 32).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh build
mkdir -p bench-results
./build/bench/clcnn-bench --csv bench-results/bench.csv --json bench-results/bench.json \
  --svg bench-results/bench.svg "$@"
echo "bench/run.sh: wrote bench-results/bench.csv, bench.json and bench.svg" >&2
