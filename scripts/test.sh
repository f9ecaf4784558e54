#!/usr/bin/env bash
# The test command: installs what is missing, builds from scratch if needed, runs every suite.
# CUDA tests skip (they do not fail) on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure -j "$(nproc)"
