#!/usr/bin/env bash
# Runs cordon's whole test suite from a clean checkout: installs the peer tools
# the comparison tests need (iprange, grepcidr, mmdblookup, stix2-validator,
# PyMISP) and the real geo/ASN data (npm registry), checks formatting and lints, then runs every test with nextest and
# the doctests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-peers.sh
scripts/fetch-geodata.sh
scripts/fetch-warninglists.sh
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# PostgreSQL for the store tests of the second backend (scripts/pg.sh says how).
scripts/pg.sh cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc --quiet
