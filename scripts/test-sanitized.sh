#!/usr/bin/env bash
# The CPU code under AddressSanitizer + UndefinedBehaviorSanitizer (part of scripts/test.sh):
# builds it (CPU only, -O1), runs the CPU suites and one short
# RecursiveMix training run, and fails on any sanitizer report, including one from a program a
# test expected to fail (the reports go to files, which are checked at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# With clang and libFuzzer this is the fuzz targets' build too (build-fuzz/, -DREMIX_FUZZ=ON implies
# the sanitizers), so that CI compiles the sanitized code once; otherwise g++ in build-asan/.
if scripts/fuzz.sh --available 2>/dev/null; then
  dir=build-fuzz
  scripts/fuzz.sh --configure
else
  dir=build-asan
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREMIX_SANITIZE=ON -DREMIX_CUDA=OFF \
    >/dev/null
fi
# The CPU suites of the libraries (tensor ... augment), the exercises and the docs check, and
# remix-train. The apps suite is left out: its tests train for minutes, several times slower
# under the sanitizers, and the normal build runs it; the training run below covers the app.
suites=(tensor autograd nn data augment dist exercises docs)
cmake --build "$dir" -j "$(nproc)" --target remix-train "${suites[@]/#/remix-tests-}"

reports="$PWD/$dir/reports"
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"

status=0
labels="^($(IFS='|'; echo "${suites[*]}"))\$"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -L "$labels" || status=1

run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
"$dir/bin/remix-train" --aug rm --device cpu --epochs 1 --synthetic-train 256 \
  --synthetic-test 128 --batch-size 32 --threads 2 --out "$run/run" >/dev/null || status=1

if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  cat "$reports"/* >&2
  status=1
fi
if ((status)); then
  echo "test-sanitized: FAILED" >&2
else
  echo "test-sanitized: all CPU suites and the training run passed with no sanitizer report"
fi
exit "$status"
