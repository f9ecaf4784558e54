#!/usr/bin/env bash
# A 2-rank remix-train job whose rank 1 is killed with SIGKILL mid-training must end as a whole
# (the other rank must not wait forever in a collective): mpirun exits non-zero within 20 s and
# says which rank died.
#   killing_one_rank_ends_the_job.sh REMIX_TRAIN "MPIRUN;ARGS;..."
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
echo "passed"
