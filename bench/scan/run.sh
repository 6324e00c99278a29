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
. bench/lib.sh
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
PEER=(grepcidr -c -f "$LIST" "$LOG")
echo "list: $LIST ($(wc -l <"$LIST") entries)  log: $LOG ($(du -m "$LOG" | cut -f1) MiB, $(wc -l <"$LOG") lines)"
describe() { echo "count $(cat "$1")"; }
race grepcidr
