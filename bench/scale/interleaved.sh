#!/usr/bin/env bash
# The 5M/1M ratio of the steps that write a whole operation (issue 12), with
# the two sizes interleaved so that a machine's drift falls on both:
#
#   RUNS=3 bench/scale/interleaved.sh [SMALL] [LARGE]
#
# Builds bench/scale's deterministic store at SMALL (1,000,000) and LARGE
# (5,000,000) indicators once, with target/release/cordon (BIN= another),
# then RUNS times, for each size in turn, on a fresh copy of its store:
# `targets build`, the bulk transition of every identified target and
# `export --format plain`, each under GNU time. Prints every run and, per
# step, the median CPU seconds (user + system) at each size and their ratio.
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
  for p in 0 1 2; do
    "$BIN" --db "$ROOT/$n/fresh.db" ingest --source "partner$p" --format plain --tlp green "$ROOT/$n/partner$p.txt" >/dev/null
  done
  "$BIN" --db "$ROOT/$n/fresh.db" operation create --start 2000-01-01 --end 2100-12-31 scale >/dev/null
done
echo "interleaved: $SMALL and $LARGE indicators, $RUNS runs, in $ROOT (load average $(cut -d' ' -f1-3 /proc/loadavg))"

# run N STEP ARGS...: one timed run, its CPU seconds appended to $ROOT/N.STEP.
run() {
  local n=$1 name=$2 wall user sys kib; shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$ROOT/time" "$BIN" --db "$ROOT/$n/cordon.db" "$@" >/dev/null 2>"$ROOT/err" ||
    { cat "$ROOT/err" >&2; exit 1; }
  read -r wall user sys kib <"$ROOT/time"
  echo "$user + $sys" | bc >>"$ROOT/$n.$name"
  printf '%-10s %-12s wall %7.2f s  cpu %7.2f s  peak RSS %5d MB\n' "$n" "$name" "$wall" "$(echo "$user + $sys" | bc)" $((kib / 1024))
}

for _ in $(seq "$RUNS"); do
  for n in "$SMALL" "$LARGE"; do
    cp "$ROOT/$n/fresh.db" "$ROOT/$n/cordon.db"
    rm -f "$ROOT/$n/cordon.db-wal" "$ROOT/$n/cordon.db-shm"
    run "$n" build targets build --operation scale
    run "$n" transition target transition --operation scale --state identified --to triaged --actor bench
    run "$n" export export --format plain
  done
done
for name in build transition export; do
  small=$(median <"$ROOT/$SMALL.$name")
  large=$(median <"$ROOT/$LARGE.$name")
  ratio=n/a
  [ "$(echo "$small > 0" | bc)" = 1 ] && ratio=$(printf '%.2fx' "$(echo "scale=4; $large / $small" | bc)")
  printf '%-12s median cpu %7.2f s / %7.2f s  ratio %s\n' "$name" "$small" "$large" "$ratio"
done
rm -rf "$ROOT"
