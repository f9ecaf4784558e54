#!/usr/bin/env bash
# Configures remix (Release) into build/ and builds its programs (build/bin/remix-train,
# remix-bench, ...), not the test suites: scripts/test.sh builds those.
# Extra arguments go to CMake, e.g. scripts/build.sh -DREMIX_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)" --target programs
