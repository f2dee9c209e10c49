#!/usr/bin/env bash
# Server-only registration throughput: a release `ember serve` on loopback, loaded by wrk with one fresh key and one
# new device per request (keys minted beforehand in batches of 1,000), so the load generator spends none of the
# server's cores on key generation or HTTP client work. Durable: SQLite runs with synchronous=FULL, so every 204
# means the row survives a power cut. Prints the same-run anchor: 4 KiB write+fsync/s on the database's disk.
# Usage: Benchmarks/registrations-wrk.sh [seconds=8] [connections=64]
# EMBER_WRK_MANY_ADDRESSES=1: every request from its own address (X-Forwarded-For, the server trusting 127.0.0.1 as
# its proxy), as a fleet registers; without it all come from one address, which the failed-key limiter allows 10
# registrations in flight (see docs/security.md).
# EMBER_BENCH_DATABASE=postgres://… runs the server on PostgreSQL (an empty database) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
connections=${2:-64}
vectors=Tests/Fixtures/vectors/device-crypto.json
work=$(mktemp -d)
port=18197
trap '[ -n "${server:-}" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

. Benchmarks/serve.sh
start_ember_serve $port ${EMBER_WRK_MANY_ADDRESSES:+--trusted-proxies 127.0.0.1/32}

requests=$((seconds * 6000))
python3 - "$url" "$token" "$requests" "$work/reqs.txt" <<'PY'
import json, sys, urllib.request, uuid
url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
keys = []
while len(keys) < count:
    mint = urllib.request.Request(f"{url}/registration-keys", data=json.dumps({"count": min(1000, count - len(keys))}).encode(), method="POST",
                                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    keys += json.load(urllib.request.urlopen(mint))["keys"]
with open(out, "w") as f:
    for key in keys: f.write(f"{key} {uuid.uuid4()}\n")
PY
public_key=$(python3 -c "import json,sys; print(json.load(open('$vectors'))['devices'][0]['public_key_b64'])")
[ -n "${EMBER_BENCH_PERF:-}" ] && { perf record -F 499 -g -p $server -o "$EMBER_BENCH_PERF" -- sleep "$seconds" >/dev/null 2>&1 & }
EMBER_WRK_REQUESTS="$work/reqs.txt" EMBER_WRK_PUBLIC_KEY="$public_key" wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/registrations.lua "$url"
echo "server RSS: $(( $(ps -o rss= -p $server) / 1024 )) MiB"
python3 - "$work" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
block, n, start = b"\0" * 4096, 0, time.time()
while time.time() - start < 2:
    os.pwrite(fd, block, 0); os.fsync(fd); n += 1
print(f"4 KiB write+fsync/s (same disk): {n / (time.time() - start):.0f}")
PY
