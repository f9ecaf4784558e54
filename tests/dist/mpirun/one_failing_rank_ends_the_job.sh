#!/usr/bin/env bash
# A 2-rank remix-train job must end as a whole when one rank fails (the other must not wait
# forever in a collective), non-zero and with a message:
#   1. rank 1 killed with SIGKILL mid-training: mpirun ends within 20 s and says which rank died;
#   2. rank 1 alone meets an error (its data directory is missing) while rank 0 trains: its
#      message is printed and MPI_Abort ends the job within 20 s.
#   one_failing_rank_ends_the_job.sh REMIX_TRAIN "MPIRUN;ARGS;..."
set -euo pipefail
train=$1
IFS=';' read -ra mpirun <<< "$2"
dir=$(mktemp -d /tmp/remix-dist-kill-XXXXXX)
fail() { echo "FAILED: $*"; cat "$dir/log"; exit 1; }

"${mpirun[@]}" "$train" --model resnet20 --data synthetic --synthetic-train 2000 \
  --synthetic-test 100 --batch-size 16 --epochs 100 --device cpu --threads 1 \
  --compute-threads 1 --log-every 1 --out "$dir/run" > "$dir/log" 2>&1 &
launcher=$!
trap 'kill -9 "$launcher" 2>/dev/null || true; rm -rf "$dir"' EXIT

# The ranks are mpirun's children; wait until both exist and training has begun.
for _ in $(seq 1 300); do
  grep -q "epoch 1/100" "$dir/log" 2>/dev/null && break
  sleep 0.1
done
grep -q "epoch 1/100" "$dir/log" || fail "training did not start within 30 s"
mapfile -t ranks < <(pgrep -P "$launcher" -x remix-train | sort -n)
[ "${#ranks[@]}" = 2 ] || fail "expected 2 remix-train children of mpirun, found ${#ranks[*]}"
victim=${ranks[1]}
start=$(date +%s.%N)
kill -9 "$victim"
status=0
timeout 30 tail --pid="$launcher" -f /dev/null || fail "mpirun did not end within 30 s"
wait "$launcher" || status=$?
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "mpirun ended $elapsed s after the kill, exit status $status"
[ "$status" != 0 ] || fail "mpirun exited with 0"
awk -v e="$elapsed" 'BEGIN { exit !(e <= 20) }' || fail "the job took $elapsed s to end"
grep -Eiq "signal 9|killed" "$dir/log" || fail "no message says that a rank was killed"
grep -Ei "signal 9|killed" "$dir/log" | head -3

# 2. Open MPI's MPMD form, "mpirun -np 1 A : -np 1 B": rank 0 and rank 1 get different arguments.
first=()
for ((i = 0; i < ${#mpirun[@]}; ++i)); do
  if [ "${mpirun[i]}" = -np ]; then first+=(-np 1); ((++i)); else first+=("${mpirun[i]}"); fi
done
options=(--model resnet20 --synthetic-train 400 --synthetic-test 100 --batch-size 16 --epochs 3
         --device cpu --threads 1 --compute-threads 1 --out "$dir/error-run")
status=0
start=$SECONDS
timeout 60 "${first[@]}" "$train" "${options[@]}" : -np 1 "$train" "${options[@]}" \
  --data cifar10:/nonexistent-remix-data > "$dir/log" 2>&1 || status=$?
echo "a job with an error on rank 1 ended after $((SECONDS - start)) s, exit status $status"
[ "$status" != 0 ] && [ "$status" != 124 ] || fail "expected a non-zero exit before the timeout"
((SECONDS - start <= 20)) || fail "the job took $((SECONDS - start)) s to end"
grep -q "rank 1 of 2: remix-train: error: --data: the cifar10 directory" "$dir/log" \
  || fail "rank 1's message is missing"
echo "passed"
