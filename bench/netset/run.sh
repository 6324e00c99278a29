#!/usr/bin/env bash
# IP set engine benchmark:
#  1. merge of a large generated list (1,000,000 entries) with `iprange`
#     vs cordon's merge; checks the outputs are identical (IPv4 part) and
#     prints medians and the ratio;
#  2. the criterion lookup benchmark (crates/netset/benches/lookup.rs).
#
#   bench/netset/run.sh        # RUNS=5 by default; SKIP_CRITERION=1 to skip 2.
#   Times `cordon net merge` (release binary); USE_EXAMPLE=1 times the library
#   alone through crates/netset/examples/merge.rs instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
ENTRIES=${ENTRIES:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
OUT=bench/out/netset
mkdir -p "$OUT"
command -v iprange >/dev/null || { echo "iprange missing: run scripts/install-peers.sh" >&2; exit 1; }

cargo build --quiet --release -p cordon-scan --example gen_bench
cargo build --quiet --release -p cordon-netset --example merge
EX="$CARGO_TARGET_DIR/release/examples"
LIST="$OUT/list-$ENTRIES.txt"
if [ ! -s "$LIST" ]; then
  # The log is not needed here: ask for a 1-byte one.
  "$CARGO_TARGET_DIR/release/examples/gen_bench" "$LIST.all" "$OUT/unused.log" 1 "$ENTRIES"
  grep -v ':' "$LIST.all" >"$LIST"   # iprange reads IPv4 only
  rm -f "$LIST.all" "$OUT/unused.log"
fi

if [ -n "${USE_EXAMPLE:-}" ]; then
  CORDON=("$EX/merge" "$LIST")
else
  cargo build --quiet --release -p cordon
  CORDON=("$CARGO_TARGET_DIR/release/cordon" net merge "$LIST")
fi
IPRANGE=(iprange "$LIST")
echo "list: $LIST ($(wc -l <"$LIST") entries)"
echo "iprange: ${IPRANGE[*]}"
echo "cordon:  ${CORDON[*]}"

time_run() {
  local out=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$out"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

i_times=(); c_times=()
for i in $(seq "$RUNS"); do
  i_times+=("$(time_run "$OUT/iprange.out" "${IPRANGE[@]}")")
  c_times+=("$(time_run "$OUT/cordon.out" "${CORDON[@]}")")
  cmp -s "$OUT/iprange.out" "$OUT/cordon.out" || { echo "OUTPUT MISMATCH (see $OUT)" >&2; exit 1; }
  echo "run $i: iprange ${i_times[-1]}s  cordon ${c_times[-1]}s  ($(wc -l <"$OUT/cordon.out") CIDRs)"
done
i_med=$(printf '%s\n' "${i_times[@]}" | median)
c_med=$(printf '%s\n' "${c_times[@]}" | median)
echo "median iprange: ${i_med}s"
echo "median cordon:  ${c_med}s"
echo "ratio (iprange / cordon): $(echo "scale=2; $i_med / $c_med" | bc)x"

if [ -z "${SKIP_CRITERION:-}" ]; then
  cargo bench -p cordon-netset --bench lookup -- --warm-up-time 2 --measurement-time 10 \
    2>&1 | grep -E "bytes/entry|^lookup|time:|thrpt:" | grep -v change
fi
