#!/usr/bin/env bash
# tests/run.sh - the README's test command: installs what is missing of the
# build and test package sets (.ci/packages.txt, .ci/packages-test.txt),
# builds, and runs the whole cmocka suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh build test
ctest --test-dir build --output-on-failure -j "$(nproc)"
