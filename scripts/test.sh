#!/usr/bin/env bash
# The test command: installs what is missing, builds everything from scratch if needed (programs
# and test suites), runs every suite. CUDA tests skip (they do not fail) on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
