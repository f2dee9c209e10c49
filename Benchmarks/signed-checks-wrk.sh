#!/usr/bin/env bash
# Server-only signed-check throughput: a release `ember serve` on loopback, loaded by wrk with pre-signed v1
# requests (unique nonces), so the load generator does not spend the server's cores on signing or HTTP client work.
# Needs wrk and Python's cryptography (apt-get install wrk; pip install cryptography).
# Usage: Benchmarks/signed-checks-wrk.sh [seconds=8] [connections=64]
# EMBER_BENCH_DATABASE=postgres://… runs the server on PostgreSQL (an empty database) instead of a throwaway SQLite file.
# EMBER_BENCH_PERF=file records a profile of the server (perf record -g) while wrk runs; EMBER_BENCH_PERF_HZ sets its rate
# (default 499) and EMBER_BENCH_PERF_CALLGRAPH its call graphs (e.g. "--call-graph dwarf,16384" for frames without frame pointers).
# EMBER_BENCH_URL and EMBER_BENCH_TOKEN load a running deployment instead (e.g. deploy/local-cluster.sh behind nginx).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
connections=${2:-64}
vectors=Tests/Fixtures/vectors/device-crypto.json
work=$(mktemp -d)
port=18195
trap '[ -n "${server:-}" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

server=
if [ -n "${EMBER_BENCH_URL:-}" ]; then
    url=$EMBER_BENCH_URL
    token=$EMBER_BENCH_TOKEN
else
    . Benchmarks/serve.sh
    start_ember_serve $port
fi

python3 - "$url" "$token" "$vectors" <<'PY'
import json, sys, urllib.error, urllib.request
url, token, vectors = sys.argv[1:4]
device = json.load(open(vectors))["devices"][0]
mint = urllib.request.Request(f"{url}/registration-keys", method="POST", headers={"Authorization": "Bearer " + token})
key = json.load(urllib.request.urlopen(mint))["key"]
body = {"uuid": device["uuid"], "product_id": "FFC0806-2305", "product_hex": "0x08062305", "device_class": "CONTROLLER",
        "public_key": device["public_key_b64"], "registering_application": "wrk", "registering_version": "1", "mcu": {"model": "ESP32"}}
register = urllib.request.Request(f"{url}/devices/register", data=json.dumps(body).encode(), method="POST",
                                  headers={"X-Registration-Key": key, "Content-Type": "application/json"})
assert urllib.request.urlopen(register).status == 204  # 204 also when already registered with this key
PY

# As many requests as the machine could verify in the run (openssl's rate on every core, the same-run anchor): no
# server can check more, so wrk never wraps around to a nonce it has already sent.
verify_per_s=$(openssl speed -mr -seconds 2 ecdsap256 2>/dev/null | awk -F: '/^\+F4/ {printf "%.0f", $5}' || true)
requests=$((seconds * ${verify_per_s:-30000} * $(nproc)))  # without openssl: no anchor, 30,000 a core
python3 Benchmarks/presign.py "$requests" $((seconds / 2 + 1)) "$work/reqs.txt" "$vectors"
[ -n "${EMBER_BENCH_PERF:-}" ] && [ -n "$server" ] && { perf record -F ${EMBER_BENCH_PERF_HZ:-499} ${EMBER_BENCH_PERF_CALLGRAPH:--g} -p $server -o "$EMBER_BENCH_PERF" -- sleep "$seconds" >/dev/null 2>&1 & }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/$1/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }
written() { awk '/^write_bytes/ {print $2}' "/proc/$1/io"; }
[ -n "$server" ] && before=$(cpu_ticks $server) && switches_before=$(switches $server) && written_before=$(written $server)
EMBER_WRK_REQUESTS="$work/reqs.txt" /usr/bin/time -f "wrk CPU: %U s user %S s system" wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/signed-checks.lua "$url" | tee "$work/wrk.txt"
if [ -n "$server" ]; then
    echo "server RSS: $(( $(ps -o rss= -p $server) / 1024 )) MiB"
    # The server's own CPU time per check: steadier than checks/s on a machine whose neighbours steal cycles.
    awk -v ticks=$(( $(cpu_ticks $server) - before )) -v hz=$(getconf CLK_TCK) '/requests in/ {printf "server CPU per check: %.0f µs\n", ticks / hz * 1e6 / $1}' "$work/wrk.txt"
    # Thread hand-offs show as context switches (of the threads alive at the end: a thread that ended meanwhile is not counted).
    awk -v n=$(( $(switches $server) - switches_before )) '/requests in/ {printf "server context switches per check: %.2f\n", n / $1}' "$work/wrk.txt"
    # What the commits cost the disk: WAL frames, and checkpoints that fell within the run.
    awk -v n=$(( $(written $server) - written_before )) '/requests in/ {printf "server bytes written to storage per check: %.0f\n", n / $1}' "$work/wrk.txt"
fi
if [ -n "$verify_per_s" ]; then echo "openssl verify/s (1 core): $verify_per_s; × $(nproc) cores = $((verify_per_s * $(nproc)))"; fi
