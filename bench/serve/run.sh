#!/usr/bin/env bash
# The server under load (issue 13): `cordon serve` on one core, wrk (Debian)
# on the other, on a store of LINES indicators (bench/core's generator).
#
#   bench/serve/run.sh            # LINES=1000000 DURATION=10s CONNECTIONS=32 [BIN=cordon]
#
# Measures requests/s and latency (p50, p99) of /healthz, a single lookup, a
# bulk lookup of 1,000 addresses, indicator pages 1 and 1,000 (100 per page)
# and a plain blocklist, with the server's CPU time per request read from
# /proc; prints the ratio of single-lookup to /healthz throughput of the
# same run, and the same ratio from CPU per request (what one dedicated
# core would serve), the figure that survives a machine others share.
# Then single lookups at half their maximum rate (the rate just measured),
# open loop: oha (crates.io, installed into bench/out/tools on first use)
# sends at that rate whatever the answers do, and corrects latencies for
# coordinated omission (--latency-correction); then /healthz at the same
# rate, the floor of this client and kernel; each HALF_RUNS (3) times,
# interleaved; prints the medians of the rate, p50, p99 and p99.9, and the
# server's own histogram of those lookups.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
LINES=${LINES:-1000000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
OUT=bench/out/serve
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
OHA=$PWD/bench/out/tools/bin/oha
[ -x "$OHA" ] || cargo install --quiet --locked oha@1.16.0 --root bench/out/tools
# BIN=path runs that binary instead of building this tree's.
if [ -z "${BIN:-}" ]; then
  cargo build --quiet --release -p cordon
  BIN=$PWD/target/release/cordon
fi
mkdir -p bench/out/core
LIST=bench/out/core/list-$LINES.txt   # bench/core's list
[ -s "$LIST" ] || public_v4_list "$LINES" >"$LIST"
DB=$OUT/serve.db
if [ ! -s "$DB" ]; then
  "$BIN" --db "$DB" ingest "$LIST" --source bench --tlp green >/dev/null
  "$BIN" --db "$DB" org add soc --kind defender >/dev/null
  "$BIN" --db "$DB" user add bench@soc.example --org soc --role reader >/dev/null
fi
"$BIN" --db "$DB" user list 2>/dev/null | grep -q metrics@hub.example ||
  "$BIN" --db "$DB" user add metrics@hub.example --org hub --role admin >/dev/null
TOKEN=$("$BIN" --db "$DB" token create --user bench@soc.example)
# An admin token reads /metrics: the server's own latency histogram.
METRICS_TOKEN=$("$BIN" --db "$DB" token create --user metrics@hub.example)
PORT=18080
taskset -c 0 "$BIN" --db "$DB" serve --listen 127.0.0.1:$PORT --rate-limit 10000000 2>"$OUT/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
PROBE=$(sed -n '1000p' "$LIST")
# Warm the lookup index (built once per view and store generation).
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/lookup/$PROBE" >/dev/null
CURSOR=$(sort -u "$LIST" | sed -n '100000p' | tr -d '\n' | od -An -tx1 | tr -d ' \n')
BULK=$(head -1000 "$LIST" | awk 'BEGIN{printf "{\"values\":["} {printf "%s\"%s\"", (NR>1?",":""), $1} END{printf "]}"}')
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$BULK'" >"$OUT/bulk.lua"

# The server's CPU time so far (user + system, all threads), in clock ticks.
TICKS=$(getconf CLK_TCK)
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# run NAME PATH [LUA]: one wrk run on core 1; prints req/s, p50, p99 and
# the server's CPU time per request (what its one core can afford: the
# figure that holds when other work shares the machine).
run() {
  local name=$1 path=$2 script=${3:-}
  local args=(-t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -H "Authorization: Bearer $TOKEN")
  [ -n "$script" ] && args+=(-s "$script")
  local before after
  before=$(server_ticks)
  taskset -c 1 wrk "${args[@]}" "http://127.0.0.1:$PORT$path" >"$OUT/$name.txt"
  after=$(server_ticks)
  local rps p50 p99 requests
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
  local bad
  bad=$(awk '/Non-2xx/ {print $NF}' "$OUT/$name.txt")
  [ -z "$bad" ] || { echo "$name: $bad answers were not 2xx (see $OUT/$name.txt)" >&2; exit 1; }
  requests=$(awk '/requests in/ {print $1}' "$OUT/$name.txt")
  local cpu_us=-
  # A run that completed no request (a loaded machine, a slow route) has
  # no CPU per request.
  [ "${requests:-0}" -gt 0 ] && cpu_us=$(echo "scale=2; ($after - $before) * 1000000 / $TICKS / $requests" | bc)
  printf '%-16s %12s req/s  p50 %8s  p99 %8s  server CPU %8s us/req\n' "$name" "$rps" "$p50" "$p99" "$cpu_us"
  eval "RPS_$name=$rps"
  eval "CPU_$name=$cpu_us"
}
echo "store: $LINES lines; server on core 0, wrk on core 1, $CONNECTIONS connections, $DURATION each"
run healthz /healthz
run lookup "/api/v1/lookup/$PROBE"
run bulk /api/v1/lookup "$OUT/bulk.lua"
run page1 "/api/v1/indicators?limit=100"
run page1000 "/api/v1/indicators?limit=100&cursor=$CURSOR"
CONNECTIONS=2 DURATION=${BLOCKLIST_DURATION:-20s} run blocklist /api/v1/blocklists/plain
echo "lookup / healthz: $(echo "scale=2; $RPS_lookup / $RPS_healthz" | bc) (by server CPU per request: $(echo "scale=2; $CPU_healthz / $CPU_lookup" | bc))"
echo "bulk: $(echo "$RPS_bulk * 1000" | bc) values/s"
echo "page 1000 / page 1 throughput: $(echo "scale=2; $RPS_page1000 / $RPS_page1" | bc)"
HALF=$(echo "$RPS_lookup / 2" | bc)
echo "half the maximum single-lookup rate: $HALF req/s, open loop (oha, $CONNECTIONS connections)"
# The server's own histogram of single lookups (from reading the request
# to its answer, without the client's or the kernel's queues): the
# cumulative count at each bucket bound.
lookup_buckets() {
  curl -s -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$PORT/metrics" |
    awk -F'[ "]' '/^cordon_http_request_duration_seconds_bucket\{route="\/api\/v1\/lookup\/\{value\}"/ { print $4, $NF }'
}
# The blocklist answers take seconds: wait (at most 30 s) until the
# server is idle, so the open-loop step measures lookups, not the tail of
# the last streamed blocklist.
for _ in $(seq 30); do
  idle_before=$(server_ticks); sleep 1
  [ $(( $(server_ticks) - idle_before )) -le $(( TICKS / 20 )) ] && break
done
lookup_buckets >"$OUT/buckets.before"
# half NAME PATH RUN: one open-loop run at $HALF req/s; prints its p50,
# p99 and p99.9 in ms (and its rate) on one line.
half() {
  taskset -c 1 "$OHA" --no-tui --output-format json -z "$DURATION" -c "$CONNECTIONS" -q "$HALF" --latency-correction \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$2" >"$OUT/$1_half_$3.json"
  python3 - "$OUT/$1_half_$3.json" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
summary, latency = answer["summary"], answer["latencyPercentiles"]
codes = answer.get("statusCodeDistribution", {})
if set(codes) != {"200"}:
    raise SystemExit("%s: answers other than 200: %s" % (sys.argv[1], codes))
print("%.3f %.3f %.3f %.2f" % (latency["p50"] * 1000, latency["p99"] * 1000, latency["p99.9"] * 1000,
                               summary["requestsPerSec"]))
PY
}
# Lookups and, as the floor of this client and kernel on this machine,
# /healthz at the same rate, interleaved, HALF_RUNS times each: the
# medians are printed (one run's tail is one hiccup of a shared machine).
HALF_RUNS=${HALF_RUNS:-3}
: >"$OUT/lookup_half.runs"; : >"$OUT/healthz_half.runs"
for i in $(seq "$HALF_RUNS"); do
  half lookup "/api/v1/lookup/$PROBE" "$i" >>"$OUT/lookup_half.runs"
  half healthz /healthz "$i" >>"$OUT/healthz_half.runs"
done
for name in lookup healthz; do
  col() { awk -v c="$1" '{print $c}' "$OUT/${name}_half.runs" | median; }
  printf '%-12s %12s req/s  p50 %6sms  p99 %6sms  p99.9 %6sms  (open loop, latency corrected, median of %s; p99 of each: %s)\n' \
    "${name}_half" "$(col 4)" "$(col 1)" "$(col 2)" "$(col 3)" "$HALF_RUNS" "$(awk '{print $2}' "$OUT/${name}_half.runs" | paste -sd' ')"
done
lookup_buckets >"$OUT/buckets.after"
paste -d' ' "$OUT/buckets.before" "$OUT/buckets.after" | awk '
  { bound[NR] = $1; n[NR] = $4 - $2 } END {
    total = n[NR]; line = "server-side, at half rate: " total " lookups"
    for (i = 1; i < NR; i++) if (bound[i] + 0 <= 0.01) line = line sprintf(", %.2f%% within %s s", 100 * n[i] / total, bound[i])
    print line }'
