#!/usr/bin/env bash
# PostgreSQL against SQLite (issue 16): the deterministic store of bench/scale
# (85% IPv4, 10% URLs, 5% CIDRs, three partners) ingested into both backends
# in the same run, then the same steps on each, timed with GNU time (wall,
# CPU = user + system, peak RSS of cordon; the PostgreSQL server's own CPU
# is not in it). Prints indicators/s and bytes per indicator (the SQLite
# file with its WAL; pg_database_size).
#
#   bench/postgres/run.sh [N]
#
# N defaults to 1,000,000. Uses target/release/cordon (BIN= another), GNU time
# (scripts/install-peers.sh) and a server as scripts/pg.sh finds one:
#
#   scripts/pg.sh bench/postgres/run.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
BIN=${BIN:-$PWD/target/release/cordon}
OUT=$(mktemp -d /tmp/cordon-pg-bench.XXXXXX)
SERVER=${CORDON_TEST_PG:?run under scripts/pg.sh}
NAME=cordon_bench_$$
PGURL="${SERVER%/*}/$NAME"
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p cordon" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/install-peers.sh" >&2; exit 1; }
psql "$SERVER" -qc "CREATE DATABASE $NAME"
trap 'psql "$SERVER" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null; rm -rf "$OUT"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
scale_feeds "$N" "$OUT"

# step BACKEND DB NAME ARGS...: one timed run.
step() {
  local backend=$1 db=$2 name=$3; shift 3
  /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "$BIN" --db "$db" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  read -r wall user sys kib <"$OUT/time"
  printf '%-10s %-24s wall %7.2f s  cpu %7.2f s  peak RSS %6d MB\n' "$backend" "$name" "$wall" \
    "$(echo "$user + $sys" | bc)" "$((kib / 1024))"
  echo "$wall" >"$OUT/$backend-$name.wall"
}

echo "postgres benchmark: $N indicators, in $OUT"
for backend in sqlite postgres; do
  if [ "$backend" = sqlite ]; then db=$OUT/cordon.db; else db=$PGURL; fi
  step $backend "$db" migrate migrate
  for p in 0 1 2; do
    step $backend "$db" "ingest-partner$p" ingest "$OUT/partner$p.txt" --source "partner$p" --category c2 --tlp green
  done
  step $backend "$db" reingest-partner0 ingest "$OUT/partner0.txt" --source partner0 --category c2 --tlp green
  step $backend "$db" indicators indicators --json
  step $backend "$db" export-plain export --format plain
  step $backend "$db" show show "$(grep -m 1 -v '^#' "$OUT/export-plain.out")"
  wall=$(cat "$OUT/$backend-ingest-partner"{0,1,2}.wall | paste -sd+ | bc)
  if [ "$backend" = sqlite ]; then
    bytes=$(cat "$OUT"/cordon.db* | wc -c)
  else
    bytes=$(psql "$SERVER" -Atc "SELECT pg_database_size('$NAME')")
  fi
  printf '%-10s ingest %.0f indicators/s, %.0f bytes per indicator\n' "$backend" \
    "$(echo "$N / $wall" | bc -l)" "$(echo "$bytes / $N" | bc -l)"
done
