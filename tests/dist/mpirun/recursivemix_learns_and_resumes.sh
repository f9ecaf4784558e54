#!/usr/bin/env bash
# ResNet-20 with RecursiveMix on 2 CPU ranks (mpirun), on the synthetic set: the first line says
# the global batch, rank 0 alone writes the run, the model learns (test top-1 over the whole
# test set above 20 %, twice chance), the run resumes on 2 ranks for one more epoch, and
# resuming it with 1 process is an error naming both numbers.
#   recursivemix_learns_and_resumes.sh REMIX_TRAIN "MPIRUN;ARGS;..."
set -euo pipefail
train=$1
IFS=';' read -ra mpirun <<< "$2"
threshold=0.20
dir=$(mktemp -d /tmp/remix-dist-rm-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

options=(--model resnet20 --data synthetic --synthetic-train 1024 --synthetic-test 400
         --batch-size 32 --aug rm --lr 0.1 --device cpu --threads 1 --compute-threads 1)
"${mpirun[@]}" "$train" "${options[@]}" --epochs 2 --out "$dir/run" > "$dir/first.log" 2>&1 \
  || { cat "$dir/first.log"; fail "the 2-rank run failed"; }
cat "$dir/first.log"
head -1 "$dir/first.log" | grep -q "2 processes x batch 32 = global batch 64" \
  || fail "the first line does not give the global batch"
[ "$(grep -c '^data synthetic' "$dir/first.log")" = 1 ] || fail "a rank other than 0 printed"
grep -q '"global_batch_size": 64' "$dir/run/config.json" || fail "config.json lacks the global batch"
grep -q '"world_size": 2' "$dir/run/config.json" || fail "config.json lacks the world size"
[ "$(wc -l < "$dir/run/metrics.jsonl")" = 2 ] || fail "metrics.jsonl should have 2 epochs"
top1=$(tail -1 "$dir/run/metrics.jsonl" | grep -o '"test_top1":[0-9.e+-]*' | cut -d: -f2)
echo "test top-1 after 2 epochs on 2 ranks: $top1 (must exceed $threshold)"
awk -v a="$top1" -v t="$threshold" 'BEGIN { exit !(a > t) }' || fail "did not learn: $top1"

"${mpirun[@]}" "$train" --resume "$dir/run" --epochs 3 > "$dir/resume.log" 2>&1 \
  || { cat "$dir/resume.log"; fail "resuming on 2 ranks failed"; }
grep -q "resumed .* at epoch 3, batch 0" "$dir/resume.log" || { cat "$dir/resume.log"; fail "no resume line"; }
[ "$(wc -l < "$dir/run/metrics.jsonl")" = 3 ] || fail "the resumed run should end with 3 epochs"

if "$train" --resume "$dir/run" --epochs 4 > "$dir/one.log" 2>&1; then
  fail "resuming a 2-process run with 1 process succeeded"
fi
grep -q "trained with 2 process(es) and is being resumed with 1" "$dir/one.log" \
  || { cat "$dir/one.log"; fail "the error does not name both numbers"; }
echo "passed"
