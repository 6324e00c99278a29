"""Pages a TAXII 2.1 collection with taxii2-client, limit=1000, against
cordon and against medallion (memory backend) loaded with the objects
cordon served, in the same run. Prints objects per second (median of the
runs), the time of the first and the last page, and the ratios.

Usage: bench.py CORDON_COLLECTION_URL USER TOKEN WORKDIR MEDALLION_PORT RUNS
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

from taxii2client.v21 import Collection, as_pages

url, user, token, workdir, port, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
PAGE = 1000


def page_through(collection):
    """Every object of the collection, a page at a time: (objects, seconds, page times)."""
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
    results = []
    for run in range(runs):
        objects, seconds, times = page_through(collection)
        results.append((seconds, times))
        print("%s run %d: %d objects in %.3f s (%.0f objects/s), first page %.4f s, last page %.4f s"
              % (name, run + 1, len(objects), seconds, len(objects) / seconds, times[0], times[-1]), flush=True)
    seconds = statistics.median(r[0] for r in results)
    first = statistics.median(r[1][0] for r in results)
    last = statistics.median(r[1][-1] for r in results)
    return objects, seconds, first, last


cordon = Collection(url, user=user, password=token)
objects, cordon_s, cordon_first, cordon_last = measure("cordon", cordon)
count = len(objects)

# medallion, memory backend, the same objects.
collection_id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
manifest = [{"id": o["id"], "date_added": o["modified"], "version": o["modified"],
             "media_type": "application/stix+json;version=2.1"} for o in objects]
data = {
    "/discovery": {"title": "medallion", "default": "http://127.0.0.1:%d/api1/" % port,
                   "api_roots": ["http://127.0.0.1:%d/api1/" % port]},
    "api1": {
        "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                        "max_content_length": 100000000},
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
    json.dump({"backend": {"module_class": "MemoryBackend", "filename": data_path},
               "users": {"bench": "bench"}, "taxii": {"max_page_size": PAGE}}, f)
server = subprocess.Popen(["medallion", "--host", "127.0.0.1", "--port", str(port), config_path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/taxii2/" % port, timeout=1)
        except urllib.error.HTTPError:
            break  # 401: it is up
        except OSError:
            time.sleep(0.1)
    medallion = Collection("http://127.0.0.1:%d/api1/collections/%s/" % (port, collection_id),
                           user="bench", password="bench")
    served, medallion_s, medallion_first, medallion_last = measure("medallion", medallion)
finally:
    server.terminate()
    server.wait()
if len(served) != count or sorted(o["id"] for o in served) != sorted(o["id"] for o in objects):
    raise SystemExit("medallion served %d objects, cordon %d: not the same set" % (len(served), count))
print("objects: %d, page size %d, runs %d (medians)" % (count, PAGE, runs))
print("cordon: %.3f s, %.0f objects/s, first page %.4f s, last page %.4f s, last/first %.2f"
      % (cordon_s, count / cordon_s, cordon_first, cordon_last, cordon_last / cordon_first))
print("medallion: %.3f s, %.0f objects/s, first page %.4f s, last page %.4f s, last/first %.2f"
      % (medallion_s, count / medallion_s, medallion_first, medallion_last, medallion_last / medallion_first))
print("ratio (cordon objects/s / medallion objects/s): %.1fx" % (medallion_s / cordon_s))
