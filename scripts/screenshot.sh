#!/usr/bin/env bash
# Renders an HTML page cordon wrote (report.html, a package's report.html)
# to a PNG with headless Chromium (installed by scripts/install-peers.sh),
# to look at it before and after a change:
#
#   scripts/screenshot.sh demo-out/report.html report.png [WIDTH [HEIGHT]]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PAGE.html OUT.png [WIDTH [HEIGHT]]" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium is not installed: run scripts/install-peers.sh" >&2; exit 1; }
page=$(realpath "$1")
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="${3:-1200},${4:-2600}" --screenshot="$(realpath -m "$2")" "file://$page" 2>/dev/null
echo "wrote $2"
