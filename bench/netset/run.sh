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
. bench/lib.sh
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
PEER=(iprange "$LIST")
echo "list: $LIST ($(wc -l <"$LIST") entries)"
describe() { echo "$(wc -l <"$1") CIDRs"; }
race iprange

if [ -z "${SKIP_CRITERION:-}" ]; then
  cargo bench -p cordon-netset --bench lookup -- --warm-up-time 2 --measurement-time 10 \
    2>&1 | grep -E "bytes/entry|^lookup|time:|thrpt:" | grep -v change
fi
