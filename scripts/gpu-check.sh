#!/usr/bin/env bash
# The GPU check: runs prebuilt remix binaries on a CUDA machine beside the PyTorch yardstick.
#
#   scripts/gpu-check.sh [--bin DIR] [--data TARBALL] [--torch-ref FILE] [--epochs N]
#                        [--reference] [--skip-train] [--out DIR]
#
# Needs on the GPU machine only: the NVIDIA driver, cuDNN 9 and cuBLAS libraries, python3 with
# PyTorch (for the yardstick and the table). Nothing is compiled there: build the binaries on a
# development machine (sm_90 + compute_90 PTX, scripts/build.sh) and copy build/bin, the data
# tarball (shared/data/cifar10-jpeg.tar.xz) and shared/bench/torch_reference.py next to them.
#
# Steps:
#  1. the CUDA test suite (remix-tests-cuda: every CUDA primitive against the CPU);
#  2. throughput: remix-bench --all and torch_reference.py throughput (ResNet-18, PyramidNet-164;
#     fp32 / fp16 / bf16; without and with RecursiveMix), one after the other, alone on the GPU;
#  3. ResNet-18 on CIFAR-10 (JPEG folder) for N epochs (15), batch 128, SGD lr 0.1 cosine,
#     momentum 0.9, wd 5e-4, bf16, with --aug none, cutmix and rm: three remix runs side by side
#     (plus the same three in torch_reference.py train with --reference);
#  4. one table: test accuracy per run, images/s and peak memory of remix and PyTorch, ratios.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=build/bin data=.gpu/cifar10-jpeg.tar.xz torch_ref=.gpu/torch_reference.py epochs=15
reference=0 skip_train=0 out=${OUT:-/tmp/remix-gpu-check}
while (($#)); do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --torch-ref) torch_ref=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --reference) reference=1; shift ;;
    --skip-train) skip_train=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for f in "$bin/remix-train" "$bin/remix-bench" "$bin/remix-tests-cuda" "$data" "$torch_ref"; do
  [ -e "$f" ] || { echo "gpu-check: missing $f (see --help for what to copy here)" >&2; exit 2; }
done
mkdir -p "$out"
# cuDNN and cuBLAS of the machine; cudart is linked into the binaries.
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1
python=$(command -v python3)
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
status=0

echo "== 1. CUDA tests"
"$bin/remix-tests-cuda" --gtest_brief=1 2>&1 | tee "$out/cuda-tests.log" | tail -n 25
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "gpu-check: CUDA tests FAILED"; status=1; }

echo "== 2. throughput (remix, then PyTorch)"
"$bin/remix-bench" --all > "$out/bench-remix.jsonl" 2> "$out/bench-remix.err" \
  || { echo "gpu-check: remix-bench failed:"; tail -n 5 "$out/bench-remix.err"; status=1; }
"$python" "$torch_ref" throughput > "$out/bench-torch.jsonl" 2> "$out/bench-torch.err" \
  || { echo "gpu-check: torch_reference.py throughput failed:"; tail -n 5 "$out/bench-torch.err"; status=1; }

if ((!skip_train)); then
  echo "== 3. ResNet-18 on CIFAR-10, $epochs epochs, runs side by side"
  mkdir -p /tmp/remix-data
  [ -d /tmp/remix-data/cifar10-jpeg ] || tar -xJf "$data" -C /tmp/remix-data
  pids=()
  for aug in none cutmix rm; do
    "$bin/remix-train" --model resnet18 --data folder:/tmp/remix-data/cifar10-jpeg --aug "$aug" \
      --epochs "$epochs" --batch-size 128 --lr 0.1 --schedule cosine --momentum 0.9 --wd 5e-4 \
      --device cuda --precision bf16 --out "$out/train-remix-$aug" > "$out/train-remix-$aug.log" 2>&1 &
    pids+=($!)
    if ((reference)); then
      "$python" "$torch_ref" train --data "$data" --model resnet18 --aug "$aug" --epochs "$epochs" \
        --lr 0.1 --wd 5e-4 --precision bf16 > "$out/train-torch-$aug.jsonl" 2> "$out/train-torch-$aug.err" &
      pids+=($!)
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  ((status == 0)) || echo "gpu-check: a training run failed; see $out/train-*.log / *.err"
fi

echo "== 4. results"
"$python" scripts/gpu_check_table.py "$out" || status=1
exit $status
