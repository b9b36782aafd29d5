#!/usr/bin/env bash
# tests/run.sh - the README's test command: installs what is missing, builds,
# and runs the whole cmocka suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
