#!/usr/bin/env python3
"""Writes N pre-signed FireFly v1 check requests (nonce, timestamp, signature) for the first vector device.

An independent signer (Python `cryptography`), so wrk can load `ember serve` without sharing its CPU with signing.
Usage: presign.py N SECONDS_AHEAD OUT VECTORS_JSON
"""
import base64, datetime, json, os, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

count, ahead, out, vectors = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
device = json.load(open(vectors))["devices"][0]
key = ec.derive_private_key(int(device["key_auth_hex"], 16), ec.SECP256R1())
stamp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ahead)).strftime("%Y-%m-%dT%H:%M:%SZ")
with open(out, "w") as f:
    for _ in range(count):
        nonce = os.urandom(32)
        signature = key.sign(nonce + stamp.encode(), ec.ECDSA(hashes.SHA256()))
        f.write(f"{base64.b64encode(nonce).decode()} {stamp} {base64.b64encode(signature).decode()}\n")
