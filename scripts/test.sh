#!/usr/bin/env bash
# The test command: installs what is missing, builds from scratch if needed, and runs
#   1. every suite of the normal build (build/: programs and test suites; CUDA tests skip, not
#      fail, without a GPU), then the library suites again on the CPU backend's reference loops
#      (REMIX_CPU_REFERENCE=1; the training-heavy apps and dist suites also pass in that mode, in
#      about 10 minutes on 2 cores: REMIX_CPU_REFERENCE=1 ctest --test-dir build);
#   2. remix as a library: installs it into build/install, then builds and runs
#      examples/custom-augmentation against that installed tree;
#   3. the CPU suites and a short training run under ASan + UBSan (scripts/test-sanitized.sh);
#   4. each fuzz target for 30 s (scripts/fuzz.sh), skipped with a message without libFuzzer.
# Extra arguments go to CMake for the normal build, e.g. scripts/test.sh -DREMIX_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/build.sh "$@"
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
REMIX_CPU_REFERENCE=1 ctest --test-dir build --output-on-failure -j "$(nproc)" \
  -L "tensor|autograd|nn|data|augment|exercises"
echo "test: normal build and suites took $((SECONDS - start)) s"

start=$SECONDS
rm -rf build/install build/example
cmake --install build --prefix build/install >/dev/null
cmake -S examples/custom-augmentation -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/example
build/example/custom-augmentation build/example/run
echo "test: the installed library and its example took $((SECONDS - start)) s"

start=$SECONDS
scripts/test-sanitized.sh
echo "test: sanitized build and suites took $((SECONDS - start)) s"

start=$SECONDS
for target in $(scripts/fuzz.sh --list); do
  status=0
  scripts/fuzz.sh "$target" 30 || status=$?
  if ((status == 77)); then break; fi  # no libFuzzer here: fuzz.sh said so once
  if ((status)); then exit "$status"; fi
done
echo "test: fuzzing took $((SECONDS - start)) s"
