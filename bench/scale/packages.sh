#!/usr/bin/env bash
# Scale benchmark of `package build` (issue 12): the store of bench/scale
# (N deterministic indicators: 85% IPv4, 10% URLs, 5% CIDRs, three
# partners), enriched with the real geo data of data/geo, targets built and
# triaged; then `package build` timed with GNU time (wall, CPU = user +
# system, peak RSS), once per binary, each on its own copy of the store
# (packaging moves targets to referred).
#
#   bench/scale/packages.sh [N] [CORDON_BEFORE]
#
# N defaults to 1,000,000. The store is built with this tree's
# target/release/cordon ("after"); CORDON_BEFORE (e.g. a release build of
# the base commit) is "before".
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
AFTER=$PWD/target/release/cordon
BEFORE=${2:-}
OUT=$(mktemp -d /tmp/cordon-packages.XXXXXX)
DB=$OUT/cordon.db
GEO=$OUT/geo.snap
# shellcheck source=bench/lib.sh
source bench/lib.sh
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/install-peers.sh" >&2; exit 1; }
scale_feeds "$N" "$OUT"

# timed NAME BINARY ARGS...: one run of bench/lib.sh's timed_step, with
# the geo snapshot.
timed() { local name=$1 bin=$2; shift 2; RUNS=1 timed_step "$name" "$bin" --geo "$GEO" "$@"; }

echo "package benchmark: $N indicators, in $OUT"
timed "geo import" "$AFTER" geo import data/geo/asn data/geo/asn-country
for p in 0 1 2; do timed "ingest partner$p" "$AFTER" ingest --source "partner$p" --format plain --tlp green "$OUT/partner$p.txt"; done
timed "enrich" "$AFTER" enrich
timed "operation create" "$AFTER" operation create --start 2000-01-01 --end 2100-12-31 scale
timed "targets build" "$AFTER" targets build --operation scale
timed "target transition" "$AFTER" target transition --operation scale --state identified --to triaged --actor bench
cp "$DB" "$OUT/triaged.db"
for side in before after; do
  bin=$AFTER; [ "$side" = before ] && bin=$BEFORE
  [ -n "$bin" ] || continue
  cp "$OUT/triaged.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
  timed "package build ($side)" "$bin" package build --operation scale --out "$OUT/packages-$side"
  du -sh "$OUT/packages-$side" | sed "s/^/  $side: /"
  rm -rf "$OUT/packages-$side"
done
rm -f "$OUT/triaged.db"
