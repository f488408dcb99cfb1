#!/usr/bin/env python3
"""Creates N API-key connections (verify: false) through the API, concurrently, and writes
their ids one per line. Usage: seed.py BASE_URL TOKEN N OUT_FILE"""
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, token, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def create(i: int) -> str:
    body = json.dumps({
        "provider": "bench-key",
        "name": f"bench {i}",
        "credentials": {"api_key": f"bench-secret-{i:06d}"},
        "verify": False,
    }).encode()
    req = urllib.request.Request(f"{base}/v1/connections", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)["connection"]["id"]


with ThreadPoolExecutor(max_workers=16) as pool:
    ids = list(pool.map(create, range(n)))
with open(out, "w") as f:
    f.write("\n".join(ids) + "\n")
print(f"created {len(ids)} connections")
