"""Validates XARF v4 reports with PyPI's xarf package (installed by
scripts/install-peers.sh): every file named on the command line must parse
with no schema error and no unknown field. Exits 1 naming each bad file,
2 when the package is missing."""
import json
import sys

try:
    from xarf import parse
except ModuleNotFoundError:
    print("the xarf package is missing: run scripts/install-peers.sh")
    sys.exit(2)

bad = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        result = parse(json.load(f))
    unknown = [w.message for w in result.warnings if "nknown" in w.message]
    if result.errors or unknown:
        bad = 1
        print(path, [(e.field, e.message) for e in result.errors], unknown)
sys.exit(bad)
