#!/usr/bin/env bash
# Fetches the published MISP warninglists (lists of well-known indicators
# that are not malicious: public resolvers, CDN and cloud ranges, top sites,
# URL shorteners, scanners, sinkholes, ...) that `cordon_enrich::Warninglists`
# reads, from PyPI's pymispwarninglists wheel, into data/warninglists/
# (git-ignored):
#
#   data/warninglists/<name>/list.json   one warninglist, as MISP publishes it
#   data/warninglists/schema.json        the format's JSON schema
#   data/warninglists/LICENSE            the package's licence (BSD-3-Clause)
#   data/warninglists/VERSION            "pymispwarninglists <version>"
#
# Idempotent: when the recorded version is PyPI's current one nothing is
# fetched again. Set WARNINGLISTS_DIR to fetch elsewhere and
# WARNINGLISTS_VERSION to pin a version.
# Exits non-zero with a message naming the step that failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${WARNINGLISTS_DIR:-$root/data/warninglists}
package=pymispwarninglists

die() { echo "fetch-warninglists: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is not installed"
python3 -m pip --version >/dev/null 2>&1 || die "pip is not installed (apt-get install python3-pip)"
command -v unzip >/dev/null || die "unzip is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${WARNINGLISTS_VERSION:-}" ]; then
  version=$WARNINGLISTS_VERSION
else
  # `pip index versions` prints "pymispwarninglists (X.Y.Z)" first.
  version=$(python3 -m pip index versions "$package" 2>"$work/err" | sed -n "s/^$package (\(.*\))$/\1/p") ||
    die "cannot ask PyPI for $package: $(cat "$work/err")"
fi
[ -n "$version" ] || die "PyPI gave no version for $package: $(cat "$work/err")"

if [ -f "$dest/VERSION" ] && grep -qxF "$package $version" "$dest/VERSION" &&
  [ -n "$(find "$dest" -mindepth 2 -maxdepth 2 -name list.json -print -quit)" ]; then
  echo "fetch-warninglists: $package $version already in $dest"
  exit 0
fi

echo "fetch-warninglists: fetching $package $version"
python3 -m pip download --quiet --no-deps --only-binary=:all: "$package==$version" -d "$work" 2>"$work/err" ||
  die "pip download $package==$version failed: $(cat "$work/err")"
wheel=$(find "$work" -maxdepth 1 -name "$package-*.whl" -print -quit)
[ -n "$wheel" ] || die "pip download did not produce a wheel for $package"
unzip -q "$wheel" -d "$work/wheel" || die "cannot unpack $wheel"
lists="$work/wheel/$package/data/misp-warninglists"
[ -n "$(find "$lists/lists" -mindepth 2 -maxdepth 2 -name list.json -print -quit 2>/dev/null)" ] ||
  die "$package $version holds no lists/<name>/list.json"

mkdir -p "$(dirname "$dest")" || die "cannot create $(dirname "$dest")"
rm -rf "$dest.new"
mkdir -p "$dest.new"
cp -R "$lists/lists/." "$dest.new/" || die "cannot copy the lists"
if [ -f "$lists/schema.json" ]; then cp "$lists/schema.json" "$dest.new/"; fi
licence=$(find "$work/wheel" -path "*.dist-info/*" -name 'LICENSE*' -print -quit)
if [ -n "$licence" ]; then cp "$licence" "$dest.new/LICENSE"; fi
echo "$package $version" >"$dest.new/VERSION"
rm -rf "$dest"
mv "$dest.new" "$dest"

echo "fetch-warninglists: $(find "$dest" -mindepth 2 -maxdepth 2 -name list.json | wc -l) lists in $dest ($package $version)"
