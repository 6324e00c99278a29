#!/usr/bin/env bash
# The store's read and write paths before and after a change (issue 9: the
# visibility rule in every read must not make ingest or lookups slower).
#
#   BASE=/path/to/old/cordon bench/core/run.sh     # RUNS=5, LINES=1000000
#
# Generates LINES public IPv4 addresses deterministically (awk, fixed
# seed), then for the release binary of this tree and, when BASE is given,
# that binary, alternately: ingests them into a fresh store, looks one
# address up cold (the lookup cache rebuilt) and warm (from the cache),
# shows one indicator, lists all indicators and exports a plain blocklist.
# Prints each step's median wall time per binary and the ratio base / new.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
RUNS=${RUNS:-5}
[ "$RUNS" -ge 0 ] 2>/dev/null || { echo "RUNS must be a whole number, not '$RUNS'" >&2; exit 2; }
LINES=${LINES:-1000000}
OUT=bench/out/core
mkdir -p "$OUT"
cargo build --quiet --release -p cordon
NEW=$PWD/target/release/cordon
LIST="$OUT/list-$LINES.txt"
[ -s "$LIST" ] || public_v4_list "$LINES" >"$LIST"
PROBE=$(sed -n '1000p' "$LIST")
echo "list: $LIST ($(wc -l <"$LIST") lines), probe $PROBE"
[ "$RUNS" -gt 0 ] || exit 0   # RUNS=0: only make the list

# step NAME BIN DB CMD...: the wall time of one step.
step() { local bin=$2 db=$3; shift 3; time_run /dev/null "$bin" --db "$db" "$@"; }

declare -A times
binaries=(new)
[ -n "${BASE:-}" ] && binaries+=(base)
for i in $(seq "$RUNS"); do
  for which in "${binaries[@]}"; do
    bin=$NEW; [ "$which" = base ] && bin=$BASE
    db="$OUT/$which.db"
    rm -f "$db" "$db"-* "$db".lookup-*
    times[$which,ingest]+="$(step ingest "$bin" "$db" ingest "$LIST" --source bench --tlp green) "
    times[$which,lookup-cold]+="$(step lookup "$bin" "$db" lookup "$PROBE") "
    times[$which,lookup-warm]+="$(step lookup "$bin" "$db" lookup "$PROBE") "
    times[$which,show]+="$(step show "$bin" "$db" show "$PROBE") "
    times[$which,indicators]+="$(step indicators "$bin" "$db" indicators) "
    times[$which,export]+="$(step export "$bin" "$db" export --format plain) "
  done
  echo "run $i done"
done
printf '%-12s %10s %10s %8s\n' step new base base/new
for s in ingest lookup-cold lookup-warm show indicators export; do
  n=$(printf '%s\n' ${times[new,$s]} | median)
  if [ -n "${BASE:-}" ]; then
    b=$(printf '%s\n' ${times[base,$s]} | median)
    printf '%-12s %9.3fs %9.3fs %7.2fx\n' "$s" "$n" "$b" "$(echo "scale=3; $b / $n" | bc)"
  else
    printf '%-12s %9.3fs\n' "$s" "$n"
  fi
done
