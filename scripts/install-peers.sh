#!/usr/bin/env bash
# Installs the peer tools that cordon's tests compare against: FireHOL iprange,
# grepcidr, libmaxminddb's mmdblookup, ipset and nft (the firewall exports are
# reloaded by them in a network namespace of their own, which needs root or
# CAP_NET_ADMIN + CAP_SYS_ADMIN) (Debian) and stix2-validator, PyMISP,
# openapi-spec-validator, schemathesis, xarf, taxii2-client and medallion (PyPI).
# Idempotent: skips what is already installed. Tests fail (never skip) when a
# peer is missing, so run this before `cargo nextest run`.
set -euo pipefail
need_apt=()
command -v iprange >/dev/null || need_apt+=(iprange)
command -v grepcidr >/dev/null || need_apt+=(grepcidr)
command -v mmdblookup >/dev/null || need_apt+=(mmdb-bin)
command -v ipset >/dev/null || need_apt+=(ipset)
command -v nft >/dev/null || need_apt+=(nftables)
# Headless Chromium renders the report and packages for a look
# (scripts/screenshot.sh), as issue 11 asks before and after a change.
command -v chromium >/dev/null || need_apt+=(chromium)
# chromedriver drives it for the dashboard's browser tests (crates/web/tests/browser.rs).
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import stix2validator, pymisp, openapi_spec_validator, xarf, taxii2client, medallion' 2>/dev/null || ! command -v schemathesis >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check stix2-validator pymisp openapi-spec-validator schemathesis xarf taxii2-client medallion
fi
# GNU time: crates/cordon/tests/streams.rs measures the peak memory of
# `cordon` with `/usr/bin/time -f %M`.
if [ ! -x /usr/bin/time ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi
