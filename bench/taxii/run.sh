#!/usr/bin/env bash
# TAXII 2.1 paging: 200,000 indicators served as STIX by `cordon serve` and
# by PyPI medallion (memory backend) loaded with the same objects, paged
# with limit=1000 by taxii2-client in the same run.
#   bench/taxii/run.sh [COUNT] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${1:-200000}
RUNS=${2:-3}
PORT=${PORT:-18731}
MEDALLION_PORT=${MEDALLION_PORT:-18732}
scripts/install-peers.sh
cargo build --release -q -p cordon
CORDON=$PWD/target/release/cordon
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CORDON_DB=$WORK/cordon.db
# Deterministic public addresses: 45.0.0.1, 45.0.0.2, … (one import, so
# every object shares one date added: the keyset must page them by id).
awk -v n="$COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "%d.%d.%d.%d\n", 45 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$WORK/feed.txt"
"$CORDON" ingest "$WORK/feed.txt" --source bench --tlp clear --category scanner
"$CORDON" org add soc --kind defender >/dev/null
"$CORDON" collection add scanners --category scanner >/dev/null
"$CORDON" user add bench@soc.example --org soc --role reader >/dev/null
TOKEN=$("$CORDON" token create --user bench@soc.example 2>/dev/null)
"$CORDON" serve --listen "127.0.0.1:$PORT" --rate-limit 100000 >"$WORK/serve.log" 2>&1 &
SERVER=$!
until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.1; done
python3 bench/taxii/bench.py "http://127.0.0.1:$PORT/taxii2/cordon/collections/scanners/" \
  bench@soc.example "$TOKEN" "$WORK" "$MEDALLION_PORT" "$RUNS"
