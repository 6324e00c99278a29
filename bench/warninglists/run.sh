#!/usr/bin/env bash
# Ingest with the MISP warninglists on and off (issue 11: checking every
# value against all lists must stay under the ingest rate).
#
#   scripts/fetch-geodata.sh && scripts/fetch-warninglists.sh
#   bench/warninglists/run.sh          # RUNS=3, LINES=1000000
#   [BIN=cordon] NO_GEO=1 bench/warninglists/run.sh # without a geo snapshot:
#                                      # ingest then records only the flags
#                                      # that need no geo data
#
# Uses bench/core's deterministic list of LINES public IPv4 addresses (made
# here if missing, by the same generator), a geo snapshot compiled once from
# data/geo, and for each run alternately: ingest into a fresh store (which
# enriches what it imported, flags included) with the lists, and without
# (a directory that does not exist); then an export of the store with the
# lists (every indicator checked again, as exports do whether or not
# enrichment ran). Prints median wall times and the rates.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
RUNS=${RUNS:-3}
LINES=${LINES:-1000000}
OUT=bench/out/warninglists
mkdir -p "$OUT"
[ -d data/warninglists ] || { echo "run scripts/fetch-warninglists.sh first" >&2; exit 1; }
[ -n "${NO_GEO:-}" ] || [ -d data/geo/asn ] || { echo "run scripts/fetch-geodata.sh first" >&2; exit 1; }
# BIN=path runs that binary instead of building this tree's.
if [ -z "${BIN:-}" ]; then
  cargo build --quiet --release -p cordon
  BIN=$PWD/target/release/cordon
fi
LIST=bench/out/core/list-$LINES.txt
if [ ! -s "$LIST" ]; then
  mkdir -p bench/out/core
  public_v4_list "$LINES" >"$LIST"
fi
GEO=$OUT/geo.snap
if [ -n "${NO_GEO:-}" ]; then
  GEO=$OUT/no-geo.snap
  rm -f "$GEO"
else
  [ -s "$GEO" ] || "$BIN" --db "$OUT/geo.db" --geo "$GEO" geo import data/geo/asn data/geo/asn-country >/dev/null
fi
on=() off=() export_on=()
for i in $(seq "$RUNS"); do
  for mode in on off; do
    db=$OUT/$mode.db
    rm -f "$db" "$db"-* "$db".lookup-*
    lists=data/warninglists; [ "$mode" = off ] && lists=$OUT/no-lists
    t=$(time_run /dev/null "$BIN" --db "$db" --geo "$GEO" --warninglists "$lists" ingest "$LIST" --source bench --tlp green)
    if [ "$mode" = on ]; then on+=("$t"); else off+=("$t"); fi
  done
  export_on+=("$(time_run "$OUT/export.txt" "$BIN" --db "$OUT/on.db" --geo "$GEO" --warninglists data/warninglists export --format plain)")
  echo "run $i: ingest+enrich with lists ${on[-1]}s, without ${off[-1]}s; export with lists ${export_on[-1]}s"
done
m_on=$(printf '%s\n' "${on[@]}" | median)
m_off=$(printf '%s\n' "${off[@]}" | median)
m_export=$(printf '%s\n' "${export_on[@]}" | median)
echo "median ingest+enrich with lists: ${m_on}s ($(echo "$LINES / $m_on" | bc) lines/s)"
echo "median ingest+enrich without:    ${m_off}s ($(echo "$LINES / $m_off" | bc) lines/s)"
echo "ratio (with / without): $(echo "scale=2; $m_on / $m_off" | bc)x"
echo "median export with lists: ${m_export}s, $(wc -l <"$OUT/export.txt") lines exported"
