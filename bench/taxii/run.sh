#!/usr/bin/env bash
# TAXII 2.1 paging: 200,000 indicators served as STIX by `cordon serve` and
# by PyPI medallion (memory backend) loaded with the same objects, paged
# with limit=1000 by taxii2-client in the same run.
#   bench/taxii/run.sh [COUNT] [RUNS] [SMALL] [MEDALLION_LIMIT_SECONDS]
# BIN=path/to/cordon benches a built binary instead of this tree's release
# build. The server's resident memory is printed before the first request
# and at the end (VmRSS, VmHWM from /proc): the views' cost per indicator.
# medallion sorts by comparing every manifest record with every object, so
# the race of whole pagings runs on SMALL objects (a second collection of
# the first SMALL addresses, as c2) and medallion gets one first page of
# the full collection within MEDALLION_LIMIT_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${1:-200000}
RUNS=${2:-3}
SMALL=${3:-2000}
MEDALLION_LIMIT=${4:-300}
PORT=${PORT:-18731}
MEDALLION_PORT=${MEDALLION_PORT:-18732}
scripts/install-peers.sh
if [ -z "${BIN:-}" ]; then cargo build --release -q -p cordon; fi
CORDON=${BIN:-$PWD/target/release/cordon}
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CORDON_DB=$WORK/cordon.db
# Deterministic public addresses: 45.0.0.1, 45.0.0.2, … (one import, so
# every object shares one date added: the keyset must page them by id).
awk -v n="$COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "%d.%d.%d.%d\n", 45 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$WORK/feed.txt"
"$CORDON" ingest "$WORK/feed.txt" --source bench --tlp clear --category scanner
head -n "$SMALL" "$WORK/feed.txt" >"$WORK/small.txt"
"$CORDON" ingest "$WORK/small.txt" --source bench-small --tlp clear --category c2
"$CORDON" org add soc --kind defender >/dev/null
id_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
BIG=$("$CORDON" collection add scanners --category scanner --json | id_of)
SMALL_ID=$("$CORDON" collection add c2 --category c2 --json | id_of)
"$CORDON" user add bench@soc.example --org soc --role reader >/dev/null
TOKEN=$("$CORDON" token create --user bench@soc.example 2>/dev/null)
"$CORDON" serve --listen "127.0.0.1:$PORT" --rate-limit 100000 >"$WORK/serve.log" 2>&1 &
SERVER=$!
until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.1; done
# memory WHEN: the server's resident and peak resident memory, in MiB.
memory() { awk -v when="$1" '/^VmRSS|^VmHWM/ { kb[$1] = $2 } END { printf "cordon serve memory %s: rss %.0f MiB, peak %.0f MiB\n", when, kb["VmRSS:"] / 1024, kb["VmHWM:"] / 1024 }' "/proc/$SERVER/status"; }
memory "before the first request"
python3 bench/taxii/bench.py "http://127.0.0.1:$PORT/taxii2/cordon/collections/" "$BIG" "$SMALL_ID" \
  bench@soc.example "$TOKEN" "$WORK" "$MEDALLION_PORT" "$RUNS" "$MEDALLION_LIMIT"
memory "after the pagings"
