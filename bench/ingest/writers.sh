#!/usr/bin/env bash
# Long imports and other writers (issue 9): how long an analyst's write
# waits while a 1M-line import runs, and what batching costs the import.
#
#   bench/ingest/writers.sh [BASE_CORDON]
#
# Builds cordon (release), generates 1,000,000 distinct public addresses
# (deterministic), and for this build (and BASE_CORDON, an older binary,
# when given) measures: a fresh import and a re-import of the same file by the same source, every line an update (median
# of 3), and, during a third import into a store holding the first, each
# `cordon org add` run back to back by another process: how many got in
# and their longest and median wall time (process start included).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p cordon
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
for name, base in (("a.txt", 0x2d000000), ("b.txt", 0x5b000000)):
    with open(f"{work}/{name}", "w") as f:
        for i in range(1_000_000):
            v = base + i * 7
            f.write(f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}\n")
PY
ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {
  local bin=$1 label=$2 db="$work/store.db" fresh=() again=()
  for _ in 1 2 3; do
    rm -f "$db" "$db"-*
    local t0; t0=$(ms); "$bin" --db "$db" ingest "$work/a.txt" --source a --format plain >/dev/null
    local t1; t1=$(ms); "$bin" --db "$db" ingest "$work/a.txt" --source a --format plain >/dev/null
    local t2; t2=$(ms)
    fresh+=($(( (t1 - t0) / 1000000 ))); again+=($(( (t2 - t1) / 1000000 )))
  done
  "$bin" --db "$db" ingest "$work/b.txt" --source b --format plain >/dev/null &
  local import=$! waits=() n=0
  sleep 0.3
  while kill -0 "$import" 2>/dev/null; do
    local w0; w0=$(ms)
    "$bin" --db "$db" org add "w$n" --kind partner >/dev/null
    waits+=($(( ($(ms) - w0) / 1000000 ))); n=$((n + 1))
  done
  wait "$import"
  local max; max=$(printf '%s\n' "${waits[@]:-0}" | sort -n | tail -1)
  local med; med=$(printf '%s\n' "${waits[@]:-0}" | median)
  printf '%-6s fresh %5s ms  re-import %5s ms  writes during import: %3d, longest %5s ms, median %4s ms\n' \
    "$label" "$(printf '%s\n' "${fresh[@]}" | median)" "$(printf '%s\n' "${again[@]}" | median)" "$n" "$max" "$med"
}
run target/release/cordon this
if [ $# -ge 1 ]; then run "$1" base; fi
