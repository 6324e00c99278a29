#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60),
# starting from its committed corpus (fuzz/corpus/<target>, which it grows
# in a scratch copy: the committed seeds stay small). Installs cargo-fuzz
# when it is missing. Builds on the stable toolchain: cargo-fuzz passes
# nightly-only flags (-Zsanitizer=address), which RUSTC_BOOTSTRAP=1 allows.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# A crash is saved under fuzz/artifacts/<target>/; copy it into
# fuzz/corpus/<target>/ once fixed, so the test suite replays it
# (crates/fuzz-targets/tests/corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    cp fuzz/corpus/"$target"/* "$scratch/$target/"
    echo "== $target (${seconds}s)"
    if ! (cd fuzz && cargo fuzz run "$target" "$scratch/$target" -- \
            -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1); then
        failed+=("$target")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "failed: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
