#!/usr/bin/env bash
# Lookup throughput of cordon's geo snapshot against Python's maxminddb C
# extension, on the same addresses in the same run.
#
#   bench/geo/run.sh [N_ADDRESSES] [ROUNDS]
#
# 1. fetches the data if missing (scripts/fetch-geodata.sh) and installs the
#    PyPI `maxminddb` package (its C extension) if missing;
# 2. draws N random public-ish IPv4 addresses (seed 42) into bench/out/geo/;
# 3. builds two snapshots: the full ASN+country CSV data, and one from the
#    same .mmdb Python reads (apples to apples);
# 4. times lookups: Rust snapshot (both), the Rust `maxminddb` crate on the
#    .mmdb, and Python's maxminddb.Reader.get on the .mmdb; prints the ratio.
#
# Rates are per CPU second of the measuring thread (not wall time), so other
# load on the machine skews them less; they are still noisy on a busy host.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
rounds=${2:-10}
out=$root/bench/out/geo
mkdir -p "$out"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
mmdb=$root/data/geo/mmdb/geo-whois-asn-country-ipv4.mmdb

[ -f "$mmdb" ] || bash "$root/scripts/fetch-geodata.sh"
if ! python3 -c 'import maxminddb.extension' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check maxminddb
fi
python3 -c 'import maxminddb, maxminddb.extension' ||
  { echo "run.sh: the maxminddb C extension is not available" >&2; exit 1; }

python3 - "$n" "$out/addresses.txt" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
with open(path, "w") as f:
    for _ in range(n):
        f.write("%d.%d.%d.%d\n" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(256)))
PY

cargo build --quiet --release -p cordon-enrich --example geo_import --example geo_bench
bin=$CARGO_TARGET_DIR/release/examples
geo=$root/data/geo
"$bin/geo_import" "$out/full.snap" "$geo/asn/asn-ipv4.csv" "$geo/asn/asn-ipv6.csv" \
  "$geo/asn-country/asn-country-ipv4.csv" "$geo/asn-country/asn-country-ipv6.csv" >"$out/import-full.log"
"$bin/geo_import" "$out/mmdb.snap" "$mmdb" >"$out/import-mmdb.log"

echo "== full CSV data (ASN + org + country)"
"$bin/geo_bench" "$out/full.snap" "$out/addresses.txt" "$rounds" | tee "$out/rust-full.txt"
echo "== same .mmdb ($mmdb)"
"$bin/geo_bench" "$out/mmdb.snap" "$out/addresses.txt" "$rounds" "$mmdb" | tee "$out/rust-mmdb.txt"
python3 - "$mmdb" "$out/addresses.txt" <<'PY' | tee "$out/python.txt"
import sys, time, maxminddb
reader = maxminddb.open_database(sys.argv[1], maxminddb.MODE_MMAP_EXT)
ips = open(sys.argv[2]).read().split()
get = reader.get
t0, c0 = time.perf_counter(), time.thread_time()
found = 0
for ip in ips:
    if get(ip) is not None:
        found += 1
wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
print("python-maxminddb-ext (%s): %d lookups in %.3f s wall, %.2f s CPU = %.2f M lookups/s per CPU second (found %d)"
      % (type(reader).__module__, len(ips), wall, cpu, len(ips) / cpu / 1e6, found))
PY
rate() { sed -n 's/.*= \([0-9.]*\) M lookups.*/\1/p' "$1" | head -1; }
rust=$(rate "$out/rust-mmdb.txt")
python=$(rate "$out/python.txt")
python3 -c "print('ratio rust-snapshot / python-maxminddb-ext on the same .mmdb and addresses: %.1fx' % ($rust / $python))"
