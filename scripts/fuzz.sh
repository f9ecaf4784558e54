#!/usr/bin/env bash
# Builds the fuzz targets of tests/fuzz into build-fuzz/ (clang, libFuzzer, ASan + UBSan) and
# runs one of them:
#   scripts/fuzz.sh TARGET SECONDS     TARGET: safetensors cifar image image_folder resume
#   scripts/fuzz.sh --list             the targets, one a line
#   scripts/fuzz.sh --available        exit 0 when clang++ with libFuzzer is installed, 77 if not
#   scripts/fuzz.sh --configure        configure build-fuzz/ (also the sanitized suites' build)
# The run starts from the seeds in tests/fuzz/corpus/TARGET (only read) and keeps what it finds
# new in build-fuzz/corpus/TARGET, so a second run goes on where the first stopped. An input
# that crashes, breaks a promise of the reader or hangs is saved in build-fuzz/findings/TARGET/
# and the script fails; reproduce it with build-fuzz/bin/remix-fuzz-TARGET FILE.
# Exits 77 with a message when clang++ or its libFuzzer runtime is missing (Debian: clang and
# libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(safetensors cifar image image_folder resume)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
mode="${1:-}"
target="$mode"
seconds="${2:-}"
if [[ "$mode" != --available && "$mode" != --configure ]] &&
   { [[ ! " ${targets[*]} " == *" $target "* ]] || [[ ! "$seconds" =~ ^[1-9][0-9]*$ ]]; }; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS (TARGET: ${targets[*]}; SECONDS >= 1)" >&2
  exit 2
fi

# libFuzzer comes with clang's runtime libraries: try to link an empty target.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1; then
  echo "fuzz: skipped, clang++ with libFuzzer is not installed (Debian: apt-get install clang" \
       "libclang-rt-14-dev)" >&2
  exit 77
fi

if [ "$mode" = --available ]; then exit 0; fi
# The test suites are configured too: scripts/test-sanitized.sh runs them from this build.
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREMIX_FUZZ=ON \
    -DREMIX_CUDA=OFF >/dev/null
fi
if [ "$mode" = --configure ]; then exit 0; fi
cmake --build build-fuzz -j "$(nproc)" --target "remix-fuzz-$target"

mkdir -p "build-fuzz/corpus/$target" "build-fuzz/findings/$target"
# A CIFAR input holds up to three records of 3074 bytes; the other readers' inputs stay small.
max_len=4096
if [ "$target" = cifar ]; then max_len=10000; fi
echo "fuzz: $target for $seconds s"
# -close_fd_mask=2: the readers' warnings stay out of the log (libFuzzer's and the sanitizers'
# reports still come through).
nice -n 15 "build-fuzz/bin/remix-fuzz-$target" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -use_value_profile=1 -close_fd_mask=2 -print_final_stats=1 \
  -artifact_prefix="build-fuzz/findings/$target/" \
  "build-fuzz/corpus/$target" "tests/fuzz/corpus/$target"
