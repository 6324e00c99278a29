#!/usr/bin/env bash
# The 5M/1M ratio of issue 12's steps that need no geo data, with the two
# sizes interleaved so that a machine's drift falls on both:
#
#   RUNS=3 bench/scale/interleaved.sh [SMALL] [LARGE]
#
# Writes bench/scale's deterministic feeds at SMALL (1,000,000) and LARGE
# (5,000,000) indicators once, then RUNS times, for each size in turn, with
# target/release/cordon (BIN= another), into a new store: the ingest of the
# three partners' files (one step: their sum), `targets build`, the bulk
# transition of every identified target, `report --json`, `export --format
# plain` and `export --format stix`, each under GNU time. Prints every run
# and, per step, the median CPU seconds (user + system) at each size and
# their ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
SMALL=${1:-1000000}
LARGE=${2:-5000000}
BIN=${BIN:-$PWD/target/release/cordon}
RUNS=${RUNS:-3}
ROOT=$(mktemp -d /tmp/cordon-interleaved.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/install-peers.sh" >&2; exit 1; }

for n in "$SMALL" "$LARGE"; do
  mkdir -p "$ROOT/$n"
  scale_feeds "$n" "$ROOT/$n"
done
echo "interleaved: $SMALL and $LARGE indicators, $RUNS runs, in $ROOT (load average $(cut -d' ' -f1-3 /proc/loadavg))"

# run N STEP ARGS...: one timed run, printed; its CPU seconds left in $cpu.
run() {
  local n=$1 name=$2 wall user sys kib; shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$ROOT/time" "$BIN" --db "$ROOT/$n/cordon.db" "$@" >/dev/null 2>"$ROOT/err" ||
    { cat "$ROOT/err" >&2; exit 1; }
  read -r wall user sys kib <"$ROOT/time"
  cpu=$(echo "$user + $sys" | bc)
  printf '%-10s %-12s wall %7.2f s  cpu %7.2f s  peak RSS %5d MB\n' "$n" "$name" "$wall" "$cpu" $((kib / 1024))
}

# step N STEP ARGS...: run, its CPU seconds appended to $ROOT/N.STEP.
step() { run "$@"; echo "$cpu" >>"$ROOT/$1.$2"; }

for _ in $(seq "$RUNS"); do
  for n in "$SMALL" "$LARGE"; do
    rm -f "$ROOT/$n/cordon.db" "$ROOT/$n/cordon.db-wal" "$ROOT/$n/cordon.db-shm" "$ROOT/$n/cordon.db-import"
    total=0
    for p in 0 1 2; do
      run "$n" ingest ingest --source "partner$p" --format plain --tlp green "$ROOT/$n/partner$p.txt"
      total=$(echo "$total + $cpu" | bc)
    done
    echo "$total" >>"$ROOT/$n.ingest"
    "$BIN" --db "$ROOT/$n/cordon.db" operation create --start 2000-01-01 --end 2100-12-31 scale >/dev/null
    step "$n" build targets build --operation scale
    step "$n" transition target transition --operation scale --state identified --to triaged --actor bench
    step "$n" report report --operation scale --json
    step "$n" plain export --format plain
    step "$n" stix export --format stix
  done
done
for name in ingest build transition report plain stix; do
  small=$(median <"$ROOT/$SMALL.$name")
  large=$(median <"$ROOT/$LARGE.$name")
  ratio=n/a
  [ "$(echo "$small > 0" | bc)" = 1 ] && ratio=$(printf '%.2fx' "$(echo "scale=4; $large / $small" | bc)")
  printf '%-12s median cpu %7.2f s / %7.2f s  ratio %s\n' "$name" "$small" "$large" "$ratio"
done
rm -rf "$ROOT"
