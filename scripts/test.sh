#!/usr/bin/env bash
# The test command: installs what is missing, builds from scratch if needed, and runs
#   1. every suite of the normal build (build/; CUDA tests skip, not fail, without a GPU),
#   2. the CPU suites and a short training run under ASan + UBSan (scripts/test-sanitized.sh),
#   3. each fuzz target for 30 s (scripts/fuzz.sh), skipped with a message without libFuzzer.
# Extra arguments go to CMake for the normal build, e.g. scripts/test.sh -DREMIX_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "test: normal build and suites took $((SECONDS - start)) s"

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
