#!/usr/bin/env bash
# remix against PyTorch on this machine's CPU, one training step each, in the same run.
#
#   scripts/cpu-bench.sh [ROUNDS] [THREADS]   (default 3 rounds, every core; needs
#                                             build/bin/remix-bench)
#
# For ResNet-20 (batch 128) and ResNet-18 (batch 32), each with --aug none and --aug rm, it runs
# remix-bench and bench/torch_cpu_step.py alternately (remix, PyTorch, remix, PyTorch, ...) ROUNDS
# times, so that a noisy neighbour slows both alike, and prints the median images/s of each and
# their ratio. PyTorch is only the yardstick: it is installed from PyPI into a virtual
# environment outside the build ($REMIX_TORCH_VENV, default ~/.cache/remix/torch-venv) when
# missing. Both use THREADS threads (default: one per core). Not run by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${1:-3}"
threads="${2:-$(nproc)}"
bench=build/bin/remix-bench
venv="${REMIX_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/remix/torch-venv}"
[[ -x "$bench" ]] || { echo "cpu-bench: $bench is missing; run scripts/build.sh first" >&2; exit 1; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "cpu-bench: ROUNDS must be a positive integer" >&2; exit 1; }
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "cpu-bench: THREADS must be a positive integer" >&2; exit 1; }

if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "cpu-bench: installing PyTorch into $venv (a few minutes, once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy
fi

# One measurement: the JSON line's images/s.
img_per_s() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["img_per_s"])'; }
kernel=$("$bench" --device cpu --model resnet20 --batch-size 2 --iters 1 --warmup 0 |
  python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["cpu_kernels"])')
run_remix() {  # model batch aug iters
  "$bench" --device cpu --compute-threads "$threads" --model "$1" --batch-size "$2" --aug "$3" \
    --iters "$4" --warmup 3 | img_per_s
}
run_torch() {
  "$venv/bin/python" bench/torch_cpu_step.py --threads "$threads" --model "$1" --batch "$2" \
    --aug "$3" --iters "$4" --warmup 3 | img_per_s
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rows=()
for config in "resnet20 128 15" "resnet18 32 6"; do
  read -r model batch iters <<<"$config"
  for aug in none rm; do
    remix=() torch=()
    for ((i = 1; i <= rounds; ++i)); do
      remix+=("$(run_remix "$model" "$batch" "$aug" "$iters")")
      torch+=("$(run_torch "$model" "$batch" "$aug" "$iters")")
      echo "  $model batch $batch --aug $aug, round $i: remix ${remix[-1]}, PyTorch ${torch[-1]} img/s" >&2
    done
    r=$(median "${remix[@]}") t=$(median "${torch[@]}")
    rows+=("$(printf '| %-8s | %5s | %-4s | %8.1f | %8.1f | %5.2fx |' "$model" "$batch" "$aug" "$r" "$t" \
      "$(awk -v r="$r" -v t="$t" 'BEGIN { print r / t }')")")
  done
done

torch_version=$("$venv/bin/python" -c 'import torch; print(torch.__version__)')
echo
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores," \
  "$threads threads each;" \
  "remix kernels $kernel; PyTorch $torch_version (channels_last); median of $rounds alternating" \
  "runs, training images/s"
echo
echo "| model    | batch | aug  | remix    | PyTorch  | ratio  |"
echo "|----------|-------|------|----------|----------|--------|"
printf '%s\n' "${rows[@]}"
