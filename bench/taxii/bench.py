"""Pages TAXII 2.1 collections with taxii2-client, limit=1000, against
cordon and against medallion (memory backend) loaded with the objects
cordon served, in the same run. Prints objects per second (median of the
runs) and the time of the first and the last page.

medallion sorts a collection by comparing every manifest record with
every object (quadratic), so at the full size it is given one first page
with a time limit; the paging race runs on the small collection, where it
finishes.

Usage: bench.py CORDON_URL BIG_ID SMALL_ID USER TOKEN WORKDIR MEDALLION_PORT RUNS LIMIT_SECONDS
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

import requests
from taxii2client.v21 import Collection, as_pages

(root, big_id, small_id, user, token, workdir, port, runs, limit_seconds) = sys.argv[1:10]
port, runs, limit_seconds = int(port), int(runs), float(limit_seconds)
PAGE = 1000
TAXII = "application/taxii+json;version=2.1"


def page_through(collection):
    """Every object of the collection: (objects, seconds, page times)."""
    objects, times = [], []
    pages = as_pages(collection.get_objects, per_request=PAGE)
    started = time.perf_counter()
    while True:
        before = time.perf_counter()
        try:
            envelope = next(pages)
        except StopIteration:
            break
        times.append(time.perf_counter() - before)
        objects.extend(envelope.get("objects", []))
    return objects, time.perf_counter() - started, times


def measure(name, collection):
    """Medians over the runs: (objects, seconds, first page, last page)."""
    results = []
    for run in range(runs):
        objects, seconds, times = page_through(collection)
        results.append((seconds, times[0], times[-1]))
        print("%s run %d: %d objects in %.3f s (%.0f objects/s), first page %.4f s, last page %.4f s"
              % (name, run + 1, len(objects), seconds, len(objects) / seconds, times[0], times[-1]), flush=True)
    return objects, *(statistics.median(r[i] for r in results) for i in range(3))


def report(name, count, seconds, first, last):
    print("%s: %d objects in %.3f s, %.0f objects/s, first page %.4f s, last page %.4f s, last/first %.2f"
          % (name, count, seconds, count / seconds, first, last, last / first))


def medallion_server(objects):
    """medallion (memory backend) holding `objects` in one collection."""
    collection_id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    # Cyber-observables carry no `created`/`modified`: medallion versions
    # them by the `_date_added` it gives them itself when they are posted
    # (and strips from its answers).
    undated = "2024-01-01T00:00:00.000Z"
    stamp = [o.get("modified", o.get("created", undated)) for o in objects]
    objects = [o if "created" in o else dict(o, _date_added=undated) for o in objects]
    manifest = [{"id": o["id"], "date_added": at, "version": at,
                 "media_type": "application/stix+json;version=2.1"} for o, at in zip(objects, stamp)]
    api_root = "http://127.0.0.1:%d/api1/" % port
    data = {
        "/discovery": {"title": "medallion", "default": api_root, "api_roots": [api_root]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 100000000},
            "status": [],
            "collections": [{"id": collection_id, "title": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"],
                             "objects": objects, "manifest": manifest}],
        },
    }
    data_path = os.path.join(workdir, "medallion-data.json")
    with open(data_path, "w") as f:
        json.dump(data, f)
    config_path = os.path.join(workdir, "medallion.json")
    with open(config_path, "w") as f:
        json.dump({"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                               "filename": data_path},
                   "users": {"bench": "bench"}, "taxii": {"max_page_size": PAGE}}, f)
    server = subprocess.Popen(["medallion", "--host", "127.0.0.1", "--port", str(port), config_path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(3000):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/taxii2/" % port, timeout=1)
            break
        except urllib.error.HTTPError:
            break  # 401: it is up
        except OSError:
            time.sleep(0.1)
    return server, "%scollections/%s/" % (api_root, collection_id)


def cordon(collection_id):
    return Collection("%s%s/" % (root, collection_id), user=user, password=token)


# The paging race on the small collection, both servers in this run.
small, c_s, c_first, c_last = measure("cordon small", cordon(small_id))
server, url = medallion_server(small)
try:
    served, m_s, m_first, m_last = measure("medallion small", Collection(url, user="bench", password="bench"))
finally:
    server.terminate()
    server.wait()
if sorted(o["id"] for o in served) != sorted(o["id"] for o in small):
    raise SystemExit("medallion served other objects than cordon")

# The full collection: cordon pages it all; medallion gets one first page.
big, b_s, b_first, b_last = measure("cordon big", cordon(big_id))
server, url = medallion_server(big)
try:
    started = time.perf_counter()
    try:
        answer = requests.get(url + "objects/", params={"limit": PAGE}, auth=("bench", "bench"),
                              headers={"Accept": TAXII}, timeout=limit_seconds)
        big_first = "%.1f s (%d objects)" % (time.perf_counter() - started, len(answer.json().get("objects", [])))
    except requests.exceptions.Timeout:
        big_first = "no answer within %.0f s" % limit_seconds
finally:
    server.terminate()
    server.wait()

print("page size %d, runs %d (medians)" % (PAGE, runs))
report("cordon small", len(small), c_s, c_first, c_last)
report("medallion small", len(served), m_s, m_first, m_last)
print("ratio small (cordon objects/s / medallion objects/s): %.1fx" % (m_s / c_s))
report("cordon big", len(big), b_s, b_first, b_last)
print("medallion big: first page of %d: %s" % (PAGE, big_first))
