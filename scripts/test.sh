#!/usr/bin/env bash
# The test command: installs what is missing, builds everything from scratch if needed (programs
# and test suites), runs every suite, then installs remix into build/install and builds and runs
# examples/custom-augmentation against that installed tree. CUDA tests skip (they do not fail)
# on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "== remix as a library: install, then build and run examples/custom-augmentation"
rm -rf build/install build/example
cmake --install build --prefix build/install >/dev/null
cmake -S examples/custom-augmentation -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/example
build/example/custom-augmentation build/example/run
