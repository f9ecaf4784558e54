#!/usr/bin/env bash
# The GPU check: runs prebuilt remix binaries on a CUDA machine beside the PyTorch yardstick.
#
#   scripts/gpu-check.sh [--bin DIR] [--data TARBALL] [--torch-ref FILE] [--epochs N]
#                        [--reference] [--stages LIST] [--out DIR]
#
# Defaults: --bin .gpu/bin, --data .gpu/cifar10-jpeg.tar.xz, --torch-ref .gpu/torch_reference.py
# (.gpu/ is ignored by git, so a job can carry it), --epochs 15, --stages 1,2,3,4,5,
# --out $OUT (else /tmp/remix-gpu-check). Nothing is compiled on the GPU machine; see "The GPU
# check" in README.md for what to copy into .gpu/. Needs there: the NVIDIA driver, cuDNN 9 and
# cuBLAS libraries, python3 with PyTorch (for the yardstick and the table).
#
# Stages, riskiest first; each runs under `timeout` and writes its log under --out as it goes, so
# that a stage that hangs or crashes still leaves what it printed (budget: stages 1-4 within 3
# minutes on an H200, the whole script within 8):
#  1. the runtime, batch-norm, convolution and GEMM tests, with CUDA_LAUNCH_BLOCKING=1 and
#     REMIX_CUDA_SYNC=1 (a device fault is reported by the primitive that caused it);
#  2. the whole CUDA suite with REMIX_REQUIRE_GPU=1 (a skipped test fails);
#  3. remix-bench beside torch_reference.py throughput: ResNet-18 bf16/fp16 with aug none/rm,
#     then PyramidNet-164 the same;
#  4. one synthetic bf16 RecursiveMix epoch of remix-train;
#  5. ResNet-18 on the CIFAR-10 JPEGs for N epochs (batch 128, SGD lr 0.1 cosine, momentum 0.9,
#     wd 5e-4, bf16) with aug none, cutmix, rm, one run after the other (each followed by
#     torch_reference.py train with the same settings when --reference is given);
# then the table (scripts/gpu_check_table.py).
set -uo pipefail
cd "$(dirname "$0")/.."

bin=.gpu/bin data=.gpu/cifar10-jpeg.tar.xz torch_ref=.gpu/torch_reference.py epochs=15
reference=0 stages=1,2,3,4,5 out=${OUT:-/tmp/remix-gpu-check}
while (($#)); do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --torch-ref) torch_ref=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --reference) reference=1; shift ;;
    --stages) stages=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,26p "$0"; exit 0 ;;
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
command -v nvidia-smi >/dev/null &&
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
status=0

wanted() { [[ ",$stages," == *",$1,"* ]]; }

# run SECONDS LOG COMMAND...: the command under timeout, its output appended to LOG as it comes.
run() {
  local seconds=$1 log=$2
  shift 2
  echo "\$ $*" >> "$log"
  timeout --kill-after=10 "$seconds" "$@" >> "$log" 2>&1
  local rc=$?
  if ((rc == 124 || rc == 137)); then
    echo "gpu-check: TIMED OUT after ${seconds}s: $*" | tee -a "$log"
  elif ((rc != 0)); then
    echo "gpu-check: FAILED (exit $rc): $*; last lines of $log:"
    tail -n 15 "$log"
  fi
  ((rc == 0)) || status=1
  return $rc
}

if wanted 1; then
  echo "== 1. runtime, batch norm, convolution and GEMM tests (launch blocking, synchronised)"
  CUDA_LAUNCH_BLOCKING=1 REMIX_CUDA_SYNC=1 REMIX_REQUIRE_GPU=1 run 60 "$out/stage1-tests.log" \
    "$bin/remix-tests-cuda" --gtest_brief=1 \
    --gtest_filter='CudaRuntime*:CudaSyncCheck*:StagingRing*:CudaBatchNorm*:CudaConv2d*:CudaGemm*'
  tail -n 3 "$out/stage1-tests.log"
fi

if wanted 2; then
  echo "== 2. the whole CUDA suite (REMIX_REQUIRE_GPU=1)"
  REMIX_REQUIRE_GPU=1 run 90 "$out/stage2-tests.log" "$bin/remix-tests-cuda" --gtest_brief=1
  tail -n 3 "$out/stage2-tests.log"
fi

if wanted 3; then
  echo "== 3. throughput: remix-bench beside torch_reference.py throughput"
  : > "$out/bench-remix.jsonl"
  for model in resnet18 pyramidnet164; do
    seconds=$([ "$model" = resnet18 ] && echo 30 || echo 90)
    for precision in bf16 fp16; do
      for aug in none rm; do
        run "$seconds" "$out/stage3-bench-remix.log" bash -c \
          "\"$bin/remix-bench\" --model $model --precision $precision --aug $aug --iters 20 \
           --warmup 5 --device cuda | tee -a \"$out/bench-remix.jsonl\""
      done
    done
    run $((seconds * 2)) "$out/stage3-bench-torch.log" bash -c \
      "\"$python\" \"$torch_ref\" throughput --models $model --iters 20 \
       | tee -a \"$out/bench-torch.jsonl\""
  done
fi

if wanted 4; then
  echo "== 4. one synthetic bf16 RecursiveMix epoch of remix-train"
  run 60 "$out/stage4-train-synthetic.log" "$bin/remix-train" --data synthetic --aug rm \
    --epochs 1 --device cuda --precision bf16 --out "$out/train-synthetic"
  tail -n 2 "$out/stage4-train-synthetic.log"
fi

if wanted 5; then
  echo "== 5. ResNet-18 on CIFAR-10, $epochs epochs, none / cutmix / rm one after the other"
  mkdir -p /tmp/remix-data
  [ -d /tmp/remix-data/cifar10-jpeg ] || tar -xJf "$data" -C /tmp/remix-data
  for aug in none cutmix rm; do
    run $((epochs * 12 + 60)) "$out/train-remix-$aug.log" "$bin/remix-train" --model resnet18 \
      --data folder:/tmp/remix-data/cifar10-jpeg --aug "$aug" --epochs "$epochs" \
      --batch-size 128 --lr 0.1 --schedule cosine --momentum 0.9 --wd 5e-4 --device cuda \
      --precision bf16 --out "$out/train-remix-$aug"
    tail -n 1 "$out/train-remix-$aug.log"
    if ((reference)); then
      run $((epochs * 12 + 60)) "$out/train-torch-$aug.err" bash -c \
        "\"$python\" \"$torch_ref\" train --data \"$data\" --model resnet18 --aug $aug \
         --epochs $epochs --lr 0.1 --wd 5e-4 --precision bf16 > \"$out/train-torch-$aug.jsonl\""
    fi
  done
fi

echo "== results"
"$python" scripts/gpu_check_table.py "$out" | tee "$out/table.txt" || status=1
exit $status
