"""GovBus message signatures in Python: the canonical form of Schemas/README.md, with Ed25519.

    python3 govbus_signing.py vectors > ../signing-test-vectors.json   writes the test vectors
    python3 govbus_signing.py sign SEED_B64 KEY_ID < message.json      prints the signature
    python3 govbus_signing.py negative-vectors > ../signing-negative-test-vectors.json
    python3 govbus_signing.py check-negative < ../signing-negative-test-vectors.json
        checks that each negative vector fails (or verifies) as its "expect" says

A message (JSON): {"properties": {"messageId", "correlationId", "type", "contentType",
"timestamp" (seconds), "appId", "userId", "causationId"}, "body": "text"}; absent or null
properties are signed as empty strings.
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
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


def canonical_form(properties, key_id, body, refuse_line_breaks=True):
    lines = ["govbus-signature-v1"]
    for name, key in FIELDS + [("key-id", None)]:
        value = key_id if key is None else properties.get(key)
        value = "" if value is None else str(value)
        if refuse_line_breaks and ("\n" in value or "\r" in value):
            raise ValueError(f"the {name} of the message holds a line break and cannot be signed")
        lines.append(f"{name}:{value}")
    lines.append(f"body-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def sign(seed, key_id, properties, body):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.sign(canonical_form(properties, key_id, body))


# The messages of the first vectors, which the negative vectors change.
PORTAL_SEED, REGISTRY_SEED = bytes(range(32)), bytes([7] * 32)
PORTAL_MESSAGE = {
    "messageId": "0b6f1f9e-3c1a-4f57-9a8e-6c1d2b3a4f50",
    "correlationId": "G22.99-251121-0001",
    "type": "portal.dossier.submitted.v1",
    "contentType": "application/json",
    "timestamp": 1763700000,
    "appId": "portal-adapter",
    "userId": "portal",
    "causationId": None,
}
PORTAL_BODY = '{"dossierId":"G22.99-251121-0001","applicant":{"fullName":"Nguyễn Thị Mai"}}'


def vectors():
    cases = [
        ("a dossier submitted by the portal", PORTAL_SEED, "portal-2026-01", PORTAL_MESSAGE, PORTAL_BODY),
        ("an answer of the registry, with a causation id", REGISTRY_SEED, "registry-2026-01", {
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


class VerificationError(Exception):
    """Why a signature does not hold: kind is mismatch, unknownKey or malformedSignature."""

    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def verify(public_keys, key_id, signature_b64, properties, body):
    """Checks a message's signature; public_keys maps key ids to raw public keys (bytes)."""
    if key_id not in public_keys:
        raise VerificationError("unknownKey", key_id)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        signature = b""
    if len(signature) != 64:
        raise VerificationError("malformedSignature", "govbus-signature is not 64 bytes of base64")
    try:
        canonical = canonical_form(properties, key_id, body)
    except ValueError as error:
        raise VerificationError("malformedSignature", str(error))
    try:
        Ed25519PublicKey.from_public_bytes(public_keys[key_id]).verify(signature, canonical)
    except InvalidSignature:
        raise VerificationError("mismatch", key_id)


def negative_vectors():
    """Messages that must not verify (or that verify only because they are the same as a signed one).

    Each: the key that really signed (privateKeySeed), the key the verifier holds for keyId
    (publicKey), the bytes that were signed (canonical), the message as received (properties,
    body) and what verifying it must give (expect)."""
    def changed(**values):
        return {**PORTAL_MESSAGE, **values}

    cases = [
        # (description, signing seed, key id, verifier's seed, signed properties, signed body,
        #  received properties, received body, expect)
        ("a tampered body: one letter of the applicant's name changed after signing",
         PORTAL_SEED, "portal-2026-01", PORTAL_SEED, PORTAL_MESSAGE, PORTAL_BODY,
         PORTAL_MESSAGE, PORTAL_BODY.replace("Mai", "Mei"),
         {"error": "mismatch", "detail": "portal-2026-01"}),
        ("a wrong key: signed with the registry's key under the portal's key id",
         REGISTRY_SEED, "portal-2026-01", PORTAL_SEED, PORTAL_MESSAGE, PORTAL_BODY,
         PORTAL_MESSAGE, PORTAL_BODY,
         {"error": "mismatch", "detail": "portal-2026-01"}),
        ("a line feed inside a property: refused, not escaped (the signature here is over the raw, "
         "ambiguous lines a careless signer would write: a second type line)",
         PORTAL_SEED, "portal-2026-01", PORTAL_SEED,
         changed(correlationId="G22.99-251121-0001\ntype:payment.fee.paid.v1"), PORTAL_BODY,
         changed(correlationId="G22.99-251121-0001\ntype:payment.fee.paid.v1"), PORTAL_BODY,
         {"error": "malformedSignature",
          "detail": "the correlation-id of the message holds a line break and cannot be signed"}),
        ("a carriage return at the end of a property: refused",
         PORTAL_SEED, "portal-2026-01", PORTAL_SEED,
         changed(appId="portal-adapter\r"), PORTAL_BODY, changed(appId="portal-adapter\r"), PORTAL_BODY,
         {"error": "malformedSignature",
          "detail": "the app-id of the message holds a line break and cannot be signed"}),
        ("a carriage return and line feed inside a property: refused like any line break",
         PORTAL_SEED, "portal-2026-01", PORTAL_SEED,
         changed(correlationId="G22.99-251121-0001\r\ntype:payment.fee.paid.v1"), PORTAL_BODY,
         changed(correlationId="G22.99-251121-0001\r\ntype:payment.fee.paid.v1"), PORTAL_BODY,
         {"error": "malformedSignature",
          "detail": "the correlation-id of the message holds a line break and cannot be signed"}),
        ("absent against empty: signed with no correlation_id and no causation header, received with "
         "both present and empty; the canonical form is the same (an absent value is written empty), "
         "so the signature holds",
         PORTAL_SEED, "portal-2026-01", PORTAL_SEED,
         changed(correlationId=None), PORTAL_BODY, changed(correlationId="", causationId=""), PORTAL_BODY,
         {"valid": True}),
    ]
    result = []
    for (description, seed, key_id, verifier_seed, signed_properties, signed_body,
         properties, body_text, expect) in cases:
        signed = canonical_form(signed_properties, key_id, signed_body.encode("utf-8"), refuse_line_breaks=False)
        public = Ed25519PrivateKey.from_private_bytes(verifier_seed).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
        result.append({
            "description": description,
            "keyId": key_id,
            "privateKeySeed": base64.b64encode(seed).decode(),
            "publicKey": base64.b64encode(public).decode(),
            "properties": properties,
            "body": body_text,
            "canonical": base64.b64encode(signed).decode(),
            "signature": base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).sign(signed)).decode(),
            "expect": expect,
        })
    return result


def check_negative(vectors):
    """Verifies each negative vector; returns the descriptions of those that do not behave as expected."""
    failures = []
    for vector in vectors:
        seed = base64.b64decode(vector["privateKeySeed"])
        signing_key = Ed25519PrivateKey.from_private_bytes(seed)
        canonical = base64.b64decode(vector["canonical"])
        # The vector itself: its signature is over its canonical bytes, with its private key.
        if base64.b64encode(signing_key.sign(canonical)).decode() != vector["signature"]:
            failures.append(f"{vector['description']}: the signature is not over the canonical bytes")
            continue
        keys = {vector["keyId"]: base64.b64decode(vector["publicKey"])}
        try:
            verify(keys, vector["keyId"], vector["signature"], vector["properties"], vector["body"].encode("utf-8"))
            outcome = {"valid": True}
        except VerificationError as error:
            outcome = {"error": error.kind}
        expected = vector["expect"]
        if ("valid" in expected) != ("valid" in outcome) or expected.get("error") != outcome.get("error"):
            failures.append(f"{vector['description']}: expected {expected}, got {outcome}")
    return failures


if __name__ == "__main__":
    if sys.argv[1] == "vectors":
        print(json.dumps(vectors(), indent=2, ensure_ascii=False))
    elif sys.argv[1] == "negative-vectors":
        print(json.dumps(negative_vectors(), indent=2, ensure_ascii=False))
    elif sys.argv[1] == "check-negative":
        vectors_read = json.load(sys.stdin)
        failures = check_negative(vectors_read)
        for failure in failures:
            print("FAIL", failure)
        print(f"{len(vectors_read) - len(failures)} of {len(vectors_read)} negative vectors behave as expected")
        sys.exit(1 if failures else 0)
    else:
        seed, key_id = base64.b64decode(sys.argv[2]), sys.argv[3]
        message = json.load(sys.stdin)
        print(base64.b64encode(sign(seed, key_id, message["properties"], message["body"].encode("utf-8"))).decode())
