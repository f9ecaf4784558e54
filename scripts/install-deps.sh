#!/usr/bin/env bash
# Installs the Debian packages remix builds with, if any are missing. The CUDA backend also needs
# the CUDA toolkit and cuDNN (under /usr/local/cuda); without them remix builds CPU-only. clang
# and its runtime libraries (libFuzzer) build the fuzz targets of tests/fuzz (scripts/fuzz.sh).
# Open MPI (libopenmpi-dev, openmpi-bin: mpirun) builds and tests data-parallel training (dist/).
set -euo pipefail

packages=(cmake ninja-build g++ libfmt-dev libstb-dev libgtest-dev libcli11-dev nlohmann-json3-dev
          xz-utils clang libclang-rt-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
