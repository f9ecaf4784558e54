#!/usr/bin/env bash
# Configures and builds remix (Release) into build/; programs land in build/bin/.
# Extra arguments go to CMake, e.g. scripts/build.sh -DREMIX_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
