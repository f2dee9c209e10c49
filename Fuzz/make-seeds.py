#!/usr/bin/env python3
"""Writes the seed inputs of Fuzz/corpus/ from the test vectors (python cryptography, independent of Ember's code).

Run from the repository root: python3 Fuzz/make-seeds.py. libFuzzer adds what it finds to the same folders."""
import base64
import json
import os
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
vectors = json.load(open(os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "vectors", "device-crypto.json")))
device = vectors["devices"][0]


def seed(target, name, data):
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def ffce(plaintext, key, nonce):
    sealed = AESGCM(key).encrypt(nonce, plaintext, None)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return b"FFCE\x01" + nonce + len(plaintext).to_bytes(4, "little") + tag + ciphertext


fuzz_key = bytes([7]) * 32  # FuzzTarget.key
seed("ffce", "vector-backup", base64.b64decode(device["ffce_backup"]["blob_b64"]))
seed("ffce", "fuzz-key", ffce(b'{"formatName":"dexie"}', fuzz_key, bytes(range(12))))
seed("ffce", "empty-plaintext", ffce(b"", fuzz_key, bytes(12)))
seed("ffce", "truncated", base64.b64decode(device["ffce_backup"]["blob_b64"])[:40])

v1, v2 = device["signature_v1"], device["signature_v2"]
seed("signed-headers", "v1", "\n".join([device["uuid"], v1["nonce_b64"], v1["timestamp"], v1["signature_der_b64"], ""]))
seed("signed-headers", "v2", "\n".join([device["uuid"], v2["nonce_b64"], v2["timestamp"], v2["signature_der_b64"], "2"]))
seed("signed-headers", "timestamp", "2026-12-31T23:59:59Z")

registration = {
    "uuid": device["uuid"].upper(),
    "product_id": "FFC0806-2305",
    "product_hex": "0x08062305",
    "device_class": "CONTROLLER",
    "public_key": device["public_key_b64"],
    "registering_application": "Hardware Registration and Configuration",
    "registering_version": "0.1.0",
    "mcu": {"model": "ESP32-S3", "revision": 2, "cpu_freq_mhz": 240, "cores": 2, "flash_chip_size": 16777216,
            "flash_chip_speed": 80000000, "flash_chip_mode": "QIO", "psram_size": 8388608,
            "features": ["WiFi", "BLE"], "idf_version": "v5.1.2"},
    "network": [{"interface": "wifi_sta", "mac_address": "24:0A:C4:00:00:01"}],
    "partitions": [{"type": 0, "subtype": 16, "address": 65536, "size": 4194304, "label": "app0"}],
    "region": "eu-north", "fleet_id": "line-3",
}
seed("registration", "full", json.dumps(registration))
seed("registration", "empty-object", "{}")

seed("cidr", "mixed", "10.0.0.0/8, 127.0.0.1, ::1/128|203.0.113.7, 10.1.2.3")
seed("cidr", "ipv6", "2001:db8::/32|2001:db8::5, 198.51.100.1")
seed("cidr", "slash", "/")

seed("identity", "full", json.dumps({"uuid": device["uuid"], "product_id": "FFC0806-2305", "product_hex": "0x08062305",
                                     "region": "eu-north", "fleet_id": "line-3"}))
seed("identity", "minimal", json.dumps({"uuid": device["uuid"], "product_hex": "0x08062305"}))
