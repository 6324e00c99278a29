#!/usr/bin/env bash
# Ingest throughput (issue 2): parse+normalize 1M plain lines and 1M CSV rows
# in memory, and the same persisted into SQLite. Data is generated
# deterministically inside the benchmark. Criterion reports the median time
# and throughput (elements/s) of each.
set -euo pipefail
cd "$(dirname "$0")/../.."
taskset -c 0 cargo bench -p cordon-ingest --bench ingest -- "$@" 2>&1 | grep -E '^(parse|persist)|time:|thrpt:'
