#!/usr/bin/env bash
# Retro-hunt benchmark: cordon vs grepcidr 2.0 on a 1,000,000-entry list and
# a 256 MiB web-server log (both generated deterministically by
# crates/scan/examples/gen_bench.rs). Checks that the match counts are
# identical, then prints the median wall time of each tool and the ratio.
#
#   bench/scan/run.sh            # RUNS=5 LOG_MB=256 by default
#   RUNS=3 LOG_MB=64 bench/scan/run.sh
#
# It times `cordon scan --count --list LIST LOG` (the release binary, list
# loading included). With USE_EXAMPLE=1 it times the library alone through
# crates/scan/examples/scan_count.rs instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
LOG_MB=${LOG_MB:-256}
ENTRIES=${ENTRIES:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
OUT=bench/out/scan
mkdir -p "$OUT"
command -v grepcidr >/dev/null || { echo "grepcidr missing: run scripts/install-peers.sh" >&2; exit 1; }

cargo build --quiet --release -p cordon-scan --example gen_bench --example scan_count
EX="$CARGO_TARGET_DIR/release/examples"
LIST="$OUT/list-$ENTRIES.txt"
LOG="$OUT/access-${LOG_MB}m.log"
if [ ! -s "$LOG" ] || [ ! -s "$LIST" ]; then
  "$EX/gen_bench" "$LIST" "$LOG" $((LOG_MB * 1024 * 1024)) "$ENTRIES"
fi

if [ -n "${USE_EXAMPLE:-}" ]; then
  CORDON=("$EX/scan_count" "$LIST" "$LOG")
else
  cargo build --quiet --release -p cordon
  CORDON=("$CARGO_TARGET_DIR/release/cordon" scan --count --list "$LIST" "$LOG")
fi
GREPCIDR=(grepcidr -c -f "$LIST" "$LOG")
echo "list: $LIST ($(wc -l <"$LIST") entries)  log: $LOG ($(du -m "$LOG" | cut -f1) MiB, $(wc -l <"$LOG") lines)"
echo "grepcidr: ${GREPCIDR[*]}"
echo "cordon:   ${CORDON[*]}"

# time_run OUTFILE CMD... : prints wall seconds, stores stdout in OUTFILE
time_run() {
  local out=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$out" || [ $? -eq 1 ]
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

g_times=(); c_times=()
for i in $(seq "$RUNS"); do
  g_times+=("$(time_run "$OUT/grepcidr.count" "${GREPCIDR[@]}")")
  c_times+=("$(time_run "$OUT/cordon.count" "${CORDON[@]}")")
  if ! cmp -s "$OUT/grepcidr.count" "$OUT/cordon.count"; then
    echo "COUNT MISMATCH: grepcidr $(cat "$OUT/grepcidr.count") vs cordon $(cat "$OUT/cordon.count")" >&2
    exit 1
  fi
  echo "run $i: grepcidr ${g_times[-1]}s  cordon ${c_times[-1]}s  (count $(cat "$OUT/cordon.count"))"
done
g_med=$(printf '%s\n' "${g_times[@]}" | median)
c_med=$(printf '%s\n' "${c_times[@]}" | median)
echo "median grepcidr: ${g_med}s"
echo "median cordon:   ${c_med}s"
echo "ratio (grepcidr / cordon): $(echo "scale=2; $g_med / $c_med" | bc)x"
