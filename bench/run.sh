#!/usr/bin/env bash
# bench/run.sh - the README's main-job command: installs what is missing,
# builds, and runs the notebook's conv_forward case on the default device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
./build/bench/clcnn-seed-demo "$@"
