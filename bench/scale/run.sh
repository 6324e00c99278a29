#!/usr/bin/env bash
# Scale benchmark (issue 12): a deterministic store of N indicators (85%
# IPv4, 10% URLs, 5% CIDRs, from three partners), then each step timed with
# GNU time: wall seconds, CPU seconds (user + system) and peak RSS.
#
#   bench/scale/run.sh [N] [CORDON_BEFORE]
#
# N defaults to 1,000,000. The store is built once with the cordon of this
# tree (target/release/cordon); the steps that changed run with both the
# binary of this tree ("after") and CORDON_BEFORE ("before", e.g. a release
# build of the base commit), on the same store, each step 3 times (targets
# build and the bulk transition once each, on copies of the same store);
# the medians are printed. GNU time comes with scripts/install-peers.sh.
#
# Then, with the geo snapshot of data/geo (scripts/fetch-geodata.sh), for
# each binary in turn: a whole-store `enrich`, a 1,000-line ingest of new
# addresses (a new file each run), a warm `lookup` of one listed address and
# `show` of it, and a warm `scan --count` of a 100,000-line log (half of it
# listed addresses); "warm" means after one untimed call that writes the
# binary's lookup snapshot (the two binaries' snapshots share a name, so all
# of one binary's steps run before the other's).
# STEPS=lookup runs only these (skipping targets, report and exports).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
AFTER=$PWD/target/release/cordon
BEFORE=${2:-}
RUNS=${RUNS:-3}
OUT=$(mktemp -d /tmp/cordon-scale.XXXXXX)
DB=$OUT/cordon.db
# shellcheck source=bench/lib.sh
source bench/lib.sh
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/install-peers.sh" >&2; exit 1; }

# The feeds (bench/lib.sh): the same indicators on every run.
scale_feeds "$N" "$OUT"

# step NAME BINARY ARGS...: bench/lib.sh's timed_step, $RUNS times.
step() { timed_step "$@"; }

# once NAME ARGS...: a setup step, run once with this tree's cordon.
once() { local name=$1; shift; RUNS=1 step "$name" "$AFTER" "$@"; }

echo "scale benchmark: $N indicators, $RUNS runs per step, in $OUT"
for p in 0 1 2; do once "ingest partner$p" ingest --source "partner$p" --format plain --tlp green "$OUT/partner$p.txt"; done
once "operation create" operation create --start 2000-01-01 --end 2100-12-31 scale
if [ "${STEPS:-all}" != lookup ]; then
# Targets build and the bulk transition change the store: each binary runs
# them once on its own copy of the store as it is now.
cp "$DB" "$OUT/fresh.db"
for side in before after; do
  bin=$AFTER; [ "$side" = before ] && bin=$BEFORE
  [ -n "$bin" ] || continue
  cp "$OUT/fresh.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
  RUNS=1 step "targets build ($side)" "$bin" targets build --operation scale
  RUNS=1 step "target transition ($side)" "$bin" target transition --operation scale --state identified --to triaged --actor bench
done
for side in before after; do
  bin=$AFTER; [ "$side" = before ] && bin=$BEFORE
  [ -n "$bin" ] || continue
  step "report ($side)" "$bin" report --operation scale --json
  step "export plain ($side)" "$bin" export --format plain
  step "export stix ($side)" "$bin" export --format stix
done
if [ -n "$BEFORE" ]; then
  "$BEFORE" --db "$DB" report --operation scale --json >"$OUT/report.before"
  "$AFTER" --db "$DB" report --operation scale --json >"$OUT/report.after"
  cmp "$OUT/report.before" "$OUT/report.after" && echo "report: before and after print the same JSON"
fi
fi

# Lookups, scans and enrichment (see the header).
[ -d data/geo/asn ] || { echo "data/geo is missing: run scripts/fetch-geodata.sh" >&2; exit 1; }
"$AFTER" --db "$DB" --geo "$OUT/geo.snap" geo import data/geo/asn data/geo/asn-country >/dev/null
LISTED=$(head -n 1 "$OUT/partner0.txt")
{ head -n 50000 "$OUT/partner1.txt"; public_v4_list 50000; } >"$OUT/access.log"
for side in before after; do
  bin=$AFTER; [ "$side" = before ] && bin=$BEFORE
  [ -n "$bin" ] || continue
  for i in $(seq "$RUNS"); do
    # 1,000 addresses of a 5.N.0.0/16 of their own per side and run (the
    # feeds' random addresses hold about 15 of a /16: nearly all are new).
    awk -v s="$side" -v r="$i" 'BEGIN { o = (s == "after") * 16 + r; for (k = 0; k < 1000; k++) print "5." o "." int(k / 250) "." (1 + k % 250) }' \
      >"$OUT/new-$side-$i.txt"
  done
  RUNS=1 step "enrich, whole store ($side)" "$bin" --geo "$OUT/geo.snap" enrich
  step "ingest 1,000 new ($side)" "$bin" --geo "$OUT/geo.snap" ingest --source partner0 --format plain "$OUT/new-$side-@RUN@.txt"
  "$bin" --db "$DB" lookup "$LISTED" >/dev/null
  step "lookup, warm ($side)" "$bin" lookup "$LISTED"
  step "show ($side)" "$bin" show "$LISTED"
  "$bin" --db "$DB" scan --count "$OUT/access.log" >/dev/null
  step "scan --count, warm ($side)" "$bin" scan --count "$OUT/access.log"
  cp "$OUT/lookup, warm ($side).out" "$OUT/lookup.$side"
  cp "$OUT/scan --count, warm ($side).out" "$OUT/scan.$side"
done
if [ -n "$BEFORE" ]; then
  cmp "$OUT/lookup.before" "$OUT/lookup.after" && echo "lookup: before and after print the same"
  cmp "$OUT/scan.before" "$OUT/scan.after" && echo "scan --count: before and after print the same"
fi
