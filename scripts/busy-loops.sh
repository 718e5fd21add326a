#!/usr/bin/env bash
# Two CPU-bound busy loops, to run the test suite the way a loaded 2-core CI machine does:
#   scripts/busy-loops.sh npx vitest run
# The loops stop when the command ends (its exit code is kept).
set -u
loops=${BUSY_LOOPS:-2}
pids=()
for _ in $(seq 1 "$loops"); do
  ( while :; do :; done ) &
  pids+=("$!")
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
"$@"
