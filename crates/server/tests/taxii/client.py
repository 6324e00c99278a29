"""Drives cordon's TAXII 2.1 server with PyPI taxii2-client and validates
every object it returns with stix2-validator. Prints one JSON summary.

Usage: client.py URL READER_USER READER_TOKEN WRITER_USER WRITER_TOKEN
"""
import json
import sys

import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

url, reader, reader_token, writer, writer_token = sys.argv[1:6]
summary = {}
options = ValidationOptions(strict=False)


def check(objects):
    for obj in objects:
        result = validate_instance(obj, options)
        if not result.is_valid:
            raise SystemExit("invalid STIX: %s %s" % (json.dumps(obj), [str(e) for e in result.errors]))


server = Server(url, user=reader, password=reader_token)
root = server.api_roots[0]
summary["root_title"] = root.title
summary["root_versions"] = root.versions
collections = {c.alias: c for c in root.collections}
summary["collections"] = sorted(collections)
everything = collections["everything"]

ids, dates = [], []
pages = 0
for envelope in as_pages(everything.get_objects, per_request=7):
    pages += 1
    objects = envelope.get("objects", [])
    check(objects)
    ids.extend(o["id"] for o in objects)
summary["pages"] = pages
summary["objects"] = len(ids)
summary["distinct"] = len(set(ids))
for page in as_pages(everything.get_manifest, per_request=11):
    dates.extend(r["date_added"] for r in page.get("objects", []))
summary["manifest"] = len(dates)
summary["manifest_ascending"] = dates == sorted(dates)

summary["type_indicator"] = len(everything.get_objects(type="indicator").get("objects", []))
summary["type_malware"] = len(everything.get_objects(type="malware").get("objects", []))
summary["type_either"] = len(everything.get_objects(type=["malware", "indicator"]).get("objects", []))
summary["type_sco"] = len(everything.get_objects(type="ipv4-addr").get("objects", []))
one = [i for i in ids if i.startswith("indicator--")][0]
summary["by_id"] = [o["id"] for o in everything.get_objects(id=one).get("objects", [])] == [one]
summary["version_all"] = len(everything.get_objects(version="all").get("objects", []))
summary["spec_20"] = len(everything.get_objects(spec_version="2.0").get("objects", []))
summary["after_last"] = len(everything.get_objects(added_after=dates[-1]).get("objects", []))
single = everything.get_object(one)
check(single["objects"])
summary["versions"] = len(everything.object_versions(one)["versions"])

# The public collection: TLP:CLEAR only, whatever the reader may see.
public = collections["public"]
markings = set()
for envelope in as_pages(public.get_objects, per_request=100):
    check(envelope.get("objects", []))
    for o in envelope.get("objects", []):
        markings.update(o.get("object_marking_refs", []))
summary["public_markings"] = sorted(markings)

# A writer posts two indicators, twice.
writer_server = Server(url, user=writer, password=writer_token)
inbox = {c.alias: c for c in writer_server.api_roots[0].collections}["everything"]
posted = [
    {
        "type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uid,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '%s']" % ip, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        "labels": ["c2"],
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }
    for uid, ip in [("6a1c0b43-4c9b-4c55-8a0b-4e4e9c0a1a01", "91.200.12.7"), ("6a1c0b43-4c9b-4c55-8a0b-4e4e9c0a1a02", "91.200.12.8")]
]
envelope = {"objects": posted}
first = inbox.add_objects(envelope)
second = inbox.add_objects(json.dumps(envelope))
summary["post"] = [first.status, first.total_count, first.success_count, first.failure_count, first.pending_count]
summary["repost"] = [second.status, second.total_count, second.success_count, second.failure_count]
summary["status_again"] = writer_server.api_roots[0].get_status(first.id).success_count
after = sum(len(e.get("objects", [])) for e in as_pages(everything.get_objects, per_request=500))
summary["after_posts"] = after

# The writer deletes what it posted; the object is gone for it.
by_name = {}
for envelope in as_pages(inbox.get_objects, per_request=500):
    for o in envelope.get("objects", []):
        if o["type"] == "indicator":
            by_name[o["name"]] = o["id"]
inbox.delete_object(by_name["91.200.12.7"])
try:
    inbox.get_object(by_name["91.200.12.7"])
    summary["deleted"] = False
except requests.exceptions.HTTPError as e:
    summary["deleted"] = e.response.status_code == 404
print(json.dumps(summary))
