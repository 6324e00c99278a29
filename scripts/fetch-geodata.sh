#!/usr/bin/env bash
# Fetches the free IP→ASN and IP→country data that `cordon geo import` reads,
# from the npm registry (packages by sapics/ip-location-db), into data/geo/
# (git-ignored):
#
#   data/geo/asn/          asn-ipv{4,6}[-num].csv          start,end,asn,organization
#                          (RouteViews + RIRs + DB-IP ASN Lite, CC BY 4.0)
#   data/geo/asn-country/  asn-country-ipv{4,6}[-num].csv  start,end,country
#                          (NRO delegation statistics, CC BY 4.0)
#   data/geo/mmdb/         geo-whois-asn-country*.mmdb     {country_code}
#                          (a real MaxMind DB file, for tests and the benchmark)
#   data/geo/VERSIONS      one "package version" line per package
#
# Idempotent: a package whose recorded version is the registry's current one
# is not fetched again. Set GEO_DATA_DIR to fetch elsewhere, and
# GEO_PACKAGE_VERSION to pin one version for all three packages.
# Exits non-zero with a message naming the step that failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${GEO_DATA_DIR:-$root/data/geo}
packages=(
  "@ip-location-db/asn:asn"
  "@ip-location-db/asn-country:asn-country"
  "@ip-location-db/geo-whois-asn-country-mmdb:mmdb"
)

die() { echo "fetch-geodata: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"
command -v tar >/dev/null || die "tar is not installed"

mkdir -p "$dest" || die "cannot create $dest"
versions="$dest/VERSIONS"
touch "$versions"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${packages[@]}"; do
  package=${entry%%:*}
  dir=${entry##*:}
  if [ -n "${GEO_PACKAGE_VERSION:-}" ]; then
    version=$GEO_PACKAGE_VERSION
  else
    version=$(npm view "$package" version 2>"$work/err") ||
      die "cannot ask the npm registry for $package: $(cat "$work/err")"
  fi
  [ -n "$version" ] || die "the npm registry gave no version for $package"
  if grep -qxF "$package $version" "$versions" && [ -d "$dest/$dir" ] &&
    [ -n "$(ls -A "$dest/$dir")" ]; then
    echo "fetch-geodata: $package $version already in $dest/$dir"
    continue
  fi
  echo "fetch-geodata: fetching $package $version"
  (cd "$work" && npm pack --silent "$package@$version" >"$work/name" 2>"$work/err") ||
    die "npm pack $package@$version failed: $(cat "$work/err")"
  tarball="$work/$(tail -n1 "$work/name")"
  [ -f "$tarball" ] || die "npm pack did not produce a tarball for $package"
  rm -rf "$dest/$dir.new"
  mkdir -p "$dest/$dir.new"
  tar xzf "$tarball" -C "$dest/$dir.new" --strip-components=1 ||
    die "cannot unpack $tarball"
  [ -n "$(find "$dest/$dir.new" -maxdepth 1 \( -name '*.csv' -o -name '*.mmdb' \))" ] ||
    die "$package $version holds no .csv or .mmdb file"
  rm -rf "$dest/$dir"
  mv "$dest/$dir.new" "$dest/$dir"
  grep -v "^$package " "$versions" >"$work/versions" || true
  echo "$package $version" >>"$work/versions"
  sort "$work/versions" >"$versions"
  rm -f "$tarball"
done

echo "fetch-geodata: data in $dest:"
cat "$versions"
