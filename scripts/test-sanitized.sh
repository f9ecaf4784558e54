#!/usr/bin/env bash
# The CPU code under AddressSanitizer + UndefinedBehaviorSanitizer (part of scripts/test.sh):
# builds build-asan/ (-DREMIX_SANITIZE=ON, CPU only, -O1), runs the CPU suites and one short
# RecursiveMix training run, and fails on any sanitizer report, including one from a program a
# test expected to fail (the reports go to files, which are checked at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREMIX_SANITIZE=ON -DREMIX_CUDA=OFF \
  >/dev/null
cmake --build build-asan -j "$(nproc)"

reports="$PWD/build-asan/reports"
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"

# Left out, because the normal build runs them and here they would only cost time: the test that
# kills remix-train 30 times during saves and resumes each time (it waits for random instants of
# a training run several times slower under the sanitizers).
excluded='RemixTrainKilled\.'
status=0
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E "$excluded" || status=1

run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
build-asan/bin/remix-train --aug rm --device cpu --epochs 1 --synthetic-train 256 \
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
