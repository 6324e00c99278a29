#!/usr/bin/env bash
# A submission over HTTP against `cordon ingest` of the same file (issue 13):
# LINES addresses (bench/core's generator) persisted into a fresh store by
# `cordon ingest`, then POSTed to a fresh server's /api/v1/submissions as a
# partner, plain and gzipped (the body streams into the import). RUNS
# alternating runs; prints each rate (lines/s), the medians and the ratio
# submission / ingest (target >= 0.70).
#
#   bench/serve/submit.sh          # LINES=1000000 RUNS=3
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES=${LINES:-1000000}
RUNS=${RUNS:-3}
OUT=bench/out/serve-submit
mkdir -p "$OUT"
cargo build --quiet --release -p cordon
BIN=$PWD/target/release/cordon
LINES=$LINES RUNS=0 bench/core/run.sh >/dev/null 2>&1 || true   # makes the list
LIST=$PWD/bench/out/core/list-$LINES.txt
[ -s "$LIST" ] || { echo "no list at $LIST" >&2; exit 1; }
gzip -1 -c "$LIST" >"$OUT/list.txt.gz"
PORT=18081

now() { date +%s.%N; }
rate() { echo "scale=0; $LINES / ($2 - $1)" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# submit BODY [HEADER]: one POST to a fresh server; prints lines/s.
submit() {
  local body=$1 header=${2:-X-Bench: 1}
  rm -rf "$OUT/s" && mkdir -p "$OUT/s"
  local db=$OUT/s/cordon.db
  "$BIN" --db "$db" org add bench --kind partner >/dev/null
  "$BIN" --db "$db" user add b@bench.example --org bench --role submitter >/dev/null
  local token
  token=$("$BIN" --db "$db" token create --user b@bench.example 2>/dev/null)
  "$BIN" --db "$db" serve --listen 127.0.0.1:$PORT --rate-limit 1000000 2>"$OUT/server.log" &
  local server=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  local t0 t1
  t0=$(now)
  curl -sf -H "Authorization: Bearer $token" -H "$header" --data-binary "@$body" \
    "http://127.0.0.1:$PORT/api/v1/submissions?tlp=green" >"$OUT/answer.json"
  t1=$(now)
  kill $server; wait $server 2>/dev/null || true
  grep -q "\"new\":" "$OUT/answer.json" || { echo "submission failed: $(cat "$OUT/answer.json")" >&2; exit 1; }
  rate "$t0" "$t1"
}

ingest() {
  rm -rf "$OUT/i" && mkdir -p "$OUT/i"
  local t0 t1
  t0=$(now)
  "$BIN" --db "$OUT/i/cordon.db" ingest "$LIST" --source bench --tlp green >/dev/null
  t1=$(now)
  rate "$t0" "$t1"
}

: >"$OUT/ingest" ; : >"$OUT/plain" ; : >"$OUT/gzip"
for run in $(seq "$RUNS"); do
  i=$(ingest); p=$(submit "$LIST"); g=$(submit "$OUT/list.txt.gz" "Content-Encoding: gzip")
  echo "$i" >>"$OUT/ingest"; echo "$p" >>"$OUT/plain"; echo "$g" >>"$OUT/gzip"
  echo "run $run: ingest $i lines/s, submission $p lines/s, gzipped submission $g lines/s"
done
I=$(median <"$OUT/ingest"); P=$(median <"$OUT/plain"); G=$(median <"$OUT/gzip")
echo "medians: ingest $I, submission $P ($(echo "scale=2; $P / $I" | bc)x), gzipped $G ($(echo "scale=2; $G / $I" | bc)x) lines/s"
