"""GovBus message signatures in Python: the canonical form of Schemas/README.md, with Ed25519.

    python3 govbus_signing.py vectors > ../signing-test-vectors.json   writes the test vectors
    python3 govbus_signing.py sign SEED_B64 KEY_ID < message.json      prints the signature

A message (JSON): {"properties": {"messageId", "correlationId", "type", "contentType",
"timestamp" (seconds), "appId", "userId", "causationId"}, "body": "text"}; absent or null
properties are signed as empty strings.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FIELDS = [
    ("message-id", "messageId"),
    ("correlation-id", "correlationId"),
    ("type", "type"),
    ("content-type", "contentType"),
    ("timestamp", "timestamp"),
    ("app-id", "appId"),
    ("user-id", "userId"),
    ("causation-id", "causationId"),
]


def canonical_form(properties, key_id, body):
    lines = ["govbus-signature-v1"]
    for name, key in FIELDS:
        value = properties.get(key)
        value = "" if value is None else str(value)
        if "\n" in value or "\r" in value:
            raise ValueError(f"{name} holds a line break")
        lines.append(f"{name}:{value}")
    lines.append(f"key-id:{key_id}")
    lines.append(f"body-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def sign(seed, key_id, properties, body):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.sign(canonical_form(properties, key_id, body))


def vectors():
    cases = [
        ("a dossier submitted by the portal", bytes(range(32)), "portal-2026-01", {
            "messageId": "0b6f1f9e-3c1a-4f57-9a8e-6c1d2b3a4f50",
            "correlationId": "G22.99-251121-0001",
            "type": "portal.dossier.submitted.v1",
            "contentType": "application/json",
            "timestamp": 1763700000,
            "appId": "portal-adapter",
            "userId": "portal",
            "causationId": None,
        }, '{"dossierId":"G22.99-251121-0001","applicant":{"fullName":"Nguyễn Thị Mai"}}'),
        ("an answer of the registry, with a causation id", bytes([7] * 32), "registry-2026-01", {
            "messageId": "5d0c7a52-8d9e-4c1b-b1a3-2f4e6a7b8c9d",
            "correlationId": "G22.99-251121-0001",
            "type": "registry.identity.verified.v1",
            "contentType": "application/json",
            "timestamp": 1763700042,
            "appId": "registry-adapter",
            "userId": "registry",
            "causationId": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        }, '{"dossierId":"G22.99-251121-0001","result":"match","eIdLevel":2}'),
        ("an empty body and absent properties", bytes([255] * 32), "bus-test", {
            "messageId": "00000000-0000-4000-8000-000000000000",
        }, ""),
    ]
    result = []
    for description, seed, key_id, properties, body_text in cases:
        body = body_text.encode("utf-8")
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        result.append({
            "description": description,
            "keyId": key_id,
            "privateKeySeed": base64.b64encode(seed).decode(),
            "publicKey": base64.b64encode(public).decode(),
            "properties": properties,
            "body": body_text,
            "canonical": base64.b64encode(canonical_form(properties, key_id, body)).decode(),
            "signature": base64.b64encode(sign(seed, key_id, properties, body)).decode(),
        })
    return result


if __name__ == "__main__":
    if sys.argv[1] == "vectors":
        print(json.dumps(vectors(), indent=2, ensure_ascii=False))
    else:
        seed, key_id = base64.b64decode(sys.argv[2]), sys.argv[3]
        message = json.load(sys.stdin)
        print(base64.b64encode(sign(seed, key_id, message["properties"], message["body"].encode("utf-8"))).decode())
