"""Tests of the Python registry adapter that need no broker: `python3 -m unittest` in this folder.

They check the signature against Schemas/signing-test-vectors.json and the negative vectors, the
answer id against ids the Swift adapter gave, the answer rules, the SOAP exchange against a
stand-in registry that answers as Adapters/Registry/Sandbox does, the outbox and inbox records,
and what is published against the JSON schemas of Schemas/ (with a small validator of the
keywords those schemas use).
"""

import base64
import http.server
import json
import logging
import os
import re
import tempfile
import threading
import unittest
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import adapter

adapter.log.setLevel(logging.CRITICAL)  # the tests provoke failures on purpose
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "Schemas"))


def load(name):
    with open(os.path.join(SCHEMAS, name), encoding="utf-8") as file:
        return json.load(file)


def public_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# ---------------------------------------------------------------------------------------------
# A small JSON Schema validator: the keywords the registry's and the heartbeat's schemas use.
# ---------------------------------------------------------------------------------------------

def schema_errors(schema, value, root, path=""):
    if "$ref" in schema:
        file, _, pointer = schema["$ref"].partition("#")
        target = load(file) if file else root
        for part in pointer.strip("/").split("/") if pointer else []:
            target = target[part]
        errors = schema_errors(target, value, target if file else root, path)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return errors + schema_errors(rest, value, root, path)
    errors = []
    kind = schema.get("type")
    kinds = {"object": dict, "string": str, "array": list}
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return [f"{path}: not an integer"]
    if kind in kinds and not isinstance(value, kinds[kind]):
        return [f"{path}: not a{'n' if kind[0] in 'aeiou' else ''} {kind}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            errors.append(f"{path}: wrong length")
        if schema.get("format") == "date-time" and not adapter.is_rfc3339(value):
            errors.append(f"{path}: not a date-time")
        if schema.get("format") == "date" and adapter.civil_date(value) is None:
            errors.append(f"{path}: not a date")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            errors.append(f"{path}: repeated items")
        for index, item in enumerate(value):
            errors += schema_errors(schema.get("items", {}), item, root, f"{path}/{index}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: '{key}' is required")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(properties[key], item, root, f"{path}/{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: '{key}' is not allowed")
    if "if" in schema:
        branch = "then" if not schema_errors(schema["if"], value, root, path) else "else"
        errors += schema_errors(schema.get(branch, {}), value, root, path)
    if "not" in schema and not schema_errors(schema["not"], value, root, path):
        errors.append(f"{path}: matches what it must not")
    return errors


def validate(type_, body):
    schema = load(f"{type_}.schema.json")
    return schema_errors(schema, body, schema)


class SchemaValidatorTests(unittest.TestCase):
    """The validator itself, on the examples of Schemas/examples: valid ones pass, invalid fail."""

    def test_examples(self):
        for type_ in (adapter.VERIFIED_TYPE, adapter.REJECTED_TYPE, adapter.HEARTBEAT_TYPE, adapter.REQUEST_TYPE):
            folder = os.path.join(SCHEMAS, "examples", type_)
            for name in sorted(os.listdir(folder)):
                if name == "expectations.json":
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as file:
                    errors = validate(type_, json.load(file))
                with self.subTest(type=type_, example=name):
                    self.assertEqual(name.startswith("valid"), not errors, errors)


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------

class SigningTests(unittest.TestCase):
    def test_vectors(self):
        for vector in load("signing-test-vectors.json"):
            with self.subTest(vector["description"]):
                seed = base64.b64decode(vector["privateKeySeed"])
                body = vector["body"].encode("utf-8")
                self.assertEqual(base64.b64encode(public_key(seed)).decode(), vector["publicKey"])
                self.assertEqual(adapter.canonical_form(vector["properties"], vector["keyId"], body),
                                 base64.b64decode(vector["canonical"]))
                self.assertEqual(adapter.sign(seed, vector["keyId"], vector["properties"], body), vector["signature"])
                adapter.verify({vector["keyId"]: public_key(seed)}, vector["keyId"], vector["signature"],
                               vector["properties"], body)

    def test_negative_vectors(self):
        for vector in load("signing-negative-test-vectors.json"):
            with self.subTest(vector["description"]):
                keys = {vector["keyId"]: base64.b64decode(vector["publicKey"])}
                try:
                    adapter.verify(keys, vector["keyId"], vector["signature"], vector["properties"],
                                   vector["body"].encode("utf-8"))
                    outcome = {"valid": True}
                except adapter.SignatureError as error:
                    outcome = {"error": error.kind, "detail": error.detail}
                if "valid" in vector["expect"]:
                    self.assertEqual(outcome, {"valid": True})
                else:
                    self.assertEqual(outcome, {"error": vector["expect"]["error"], "detail": vector["expect"]["detail"]})

    def test_unknown_key_and_malformed_signature(self):
        vector = load("signing-test-vectors.json")[0]
        body = vector["body"].encode("utf-8")
        with self.assertRaises(adapter.SignatureError) as caught:
            adapter.verify({}, vector["keyId"], vector["signature"], vector["properties"], body)
        self.assertEqual(caught.exception.kind, "unknownKey")
        keys = {vector["keyId"]: base64.b64decode(vector["publicKey"])}
        for signature in ("not base64!", base64.b64encode(b"short").decode()):
            with self.assertRaises(adapter.SignatureError) as caught:
                adapter.verify(keys, vector["keyId"], signature, vector["properties"], body)
            self.assertEqual(caught.exception.kind, "malformedSignature")

    def test_readme_example(self):
        """The canonical form printed in Schemas/README.md, line for line."""
        vector = load("signing-test-vectors.json")[0]
        text = adapter.canonical_form(vector["properties"], vector["keyId"], vector["body"].encode()).decode()
        self.assertTrue(text.startswith("govbus-signature-v1\nmessage-id:0b6f1f9e-3c1a-4f57-9a8e-6c1d2b3a4f50\n"))
        self.assertIn("\ncausation-id:\nkey-id:portal-2026-01\nbody-length:80\n\n{", text)
        self.assertTrue(text.endswith('"}}'))


# ---------------------------------------------------------------------------------------------
# Ids and the answer rules
# ---------------------------------------------------------------------------------------------

class AnswerIDTests(unittest.TestCase):
    # Requests the Swift registry adapter answered in a `govbus up` run, and its answers' ids
    # (read from the core's audit): the Python adapter must give the very same.
    SWIFT_ANSWERS = {
        "5dc0991f-aba6-844d-9f64-ae64fa6686cb": "dc7837fb-48f2-8966-9b74-3e15ae815ba8",
        "038bcac7-fd4c-83ac-8d54-0179c7d8df3f": "51061f54-80c3-860c-9798-b9a7c4731901",
        "1be3fab2-2a05-8dad-8623-f136fa7fe488": "a7b38557-ef1b-8efc-bb3e-653659f70a7f",
    }

    def test_same_as_swift(self):
        for request, answer in self.SWIFT_ANSWERS.items():
            self.assertEqual(adapter.answer_id(request), answer)

    def test_shape(self):
        first = adapter.answer_id("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11")
        self.assertEqual(first, adapter.answer_id("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))
        self.assertNotEqual(first, adapter.answer_id("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a12"))
        self.assertRegex(first, r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

    def test_by_hand(self):
        """SHA-256 of "registry-answer|<id>", its first 16 bytes, version 8 and variant bits set."""
        import hashlib
        digest = hashlib.sha256(b"registry-answer|abc").hexdigest()[:32]
        expected = list(digest)
        expected[12] = "8"
        expected[16] = "0123456789abcdef"[(int(digest[16], 16) & 0x3) | 0x8]
        text = "".join(expected)
        self.assertEqual(adapter.answer_id("abc"),
                         f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")


class TimeAndNameTests(unittest.TestCase):
    def test_rfc3339(self):
        self.assertEqual(adapter.rfc3339(1763700000), "2025-11-21T04:40:00Z")
        self.assertEqual(adapter.rfc3339(1763700000.25), "2025-11-21T04:40:00.250Z")
        self.assertEqual(adapter.rfc3339(1763700000.9996), "2025-11-21T04:40:01Z")
        for text in ("2025-11-21T09:15:43+07:00", "2025-11-21t07:02:11z", "2025-11-21T07:02:11.123456Z"):
            self.assertTrue(adapter.is_rfc3339(text), text)
        for text in ("2025-11-21T09:15:43", "2025-02-30T00:00:00Z", "2025-11-21 09:15:43Z", "1988-03-14"):
            self.assertFalse(adapter.is_rfc3339(text), text)

    def test_comparable_name(self):
        decomposed = "Nguye\u0302\u0303n Thi\u0323 Mai"  # e + circumflex + tilde, i + dot below
        self.assertEqual(adapter.comparable_name(decomposed), adapter.comparable_name("Nguyễn Thị Mai"))
        self.assertEqual(adapter.comparable_name("  NGUYỄN   thị\tMAI "), "nguyễn thị mai")

    def test_masked(self):
        self.assertEqual(adapter.masked("001188012345"), "001*******45")
        self.assertEqual(adapter.masked("123"), "***")


REQUEST = {"dossierId": "G22.99-251121-0001", "personalId": "079090004821", "fullName": "Trần Văn Hùng",
           "dateOfBirth": "1990-07-02", "requestedAt": "2025-11-21T07:02:11Z"}
REGISTERED = {"fullName": "Trần Văn Hùng", "dateOfBirth": (1990, 7, 2), "eIdLevel": 2}


class IdentityCheckTests(unittest.TestCase):
    def check(self, request_changes=None, registered=REGISTERED):
        request = dict(REQUEST, **(request_changes or {}))
        type_, body = adapter.identity_answer(request, registered, 1763700042.5)
        self.assertEqual(validate(type_, body), [], body)
        return type_, body

    def test_verified(self):
        type_, body = self.check({"fullName": "trần  VĂN hùng"})
        self.assertEqual(type_, adapter.VERIFIED_TYPE)
        self.assertEqual(body, {"dossierId": "G22.99-251121-0001", "personalId": "079090004821", "result": "match",
                                "eIdLevel": 2, "verifiedAt": "2025-11-21T04:40:42.500Z"})
        self.assertEqual(adapter.json_body(body),
                         '{"dossierId":"G22.99-251121-0001","eIdLevel":2,"personalId":"079090004821","result":"match",'
                         '"verifiedAt":"2025-11-21T04:40:42.500Z"}'.encode())

    def test_not_found(self):
        type_, body = self.check(registered=None)
        self.assertEqual(type_, adapter.REJECTED_TYPE)
        self.assertEqual(body["result"], "not-found")
        self.assertEqual(body["reason"]["code"], "identity-not-found")
        self.assertNotIn("mismatchedFields", body)

    def test_mismatches(self):
        cases = [
            ({"fullName": "Trần Văn Hưng"}, ["fullName"], "Họ tên khai báo"),
            ({"dateOfBirth": "1990-07-03"}, ["dateOfBirth"], "Ngày sinh khai báo"),
            ({"fullName": "Trần Văn Hưng", "dateOfBirth": "1991-07-02"}, ["fullName", "dateOfBirth"],
             "Họ tên và ngày sinh khai báo"),
        ]
        for changes, fields, message in cases:
            with self.subTest(fields=fields):
                type_, body = self.check(changes)
                self.assertEqual(type_, adapter.REJECTED_TYPE)
                self.assertEqual((body["result"], body["mismatchedFields"]), ("mismatch", fields))
                self.assertEqual(body["reason"]["code"], "identity-mismatch")
                self.assertEqual(body["reason"]["message"],
                                 f"{message} không khớp với Cơ sở dữ liệu quốc gia về dân cư.")

    def test_bad_requests_are_permanent(self):
        bodies = [b"not json", b"[]", json.dumps({k: v for k, v in REQUEST.items() if k != "fullName"}).encode(),
                  json.dumps(dict(REQUEST, personalId="79090004821")).encode(),
                  json.dumps(dict(REQUEST, dateOfBirth="1990-07-02T00:00:00+07:00")).encode(),
                  json.dumps(dict(REQUEST, requestedAt="2025-11-21T07:02:11")).encode(),
                  "{\"dossierId\": \"\udcff\"}".encode("utf-8", "surrogatepass")]
        for body in bodies:
            with self.subTest(body=body[:60]):
                with self.assertRaises(adapter.Permanent):
                    adapter.decode_request(body)
        self.assertEqual(adapter.decode_request(json.dumps(REQUEST).encode()), REQUEST)


# ---------------------------------------------------------------------------------------------
# The SOAP exchange
# ---------------------------------------------------------------------------------------------

def envelope(header_id, body):
    return (f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:x="http://x-road.eu/xsd/xroad.xsd" xmlns:r="urn:govbus:registry"><S:Header><x:id>{header_id}</x:id>'
            f"</S:Header><S:Body>{body}</S:Body></S:Envelope>").encode()


def citizen(personal_id="079090004821", date="1990-07-02", level="2"):
    return (f"<r:LookupCitizenResponse><r:citizen><r:personalId>{personal_id}</r:personalId><r:fullName>Trần Văn Hùng"
            f"</r:fullName><r:dateOfBirth>{date}</r:dateOfBirth><r:eIdLevel>{level}</r:eIdLevel></r:citizen>"
            "</r:LookupCitizenResponse>")


def fault(code, text):
    return f"<S:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></S:Fault>"


class OutcomeTests(unittest.TestCase):
    def test_answers(self):
        self.assertEqual(adapter.outcome(200, envelope("r1", citizen()), "r1", "079090004821"),
                         {"fullName": "Trần Văn Hùng", "dateOfBirth": (1990, 7, 2), "eIdLevel": 2})
        self.assertIsNone(adapter.outcome(500, envelope("r1", fault("soapenv:Client", "citizen not found")), "r1", "x"))

    def test_failures(self):
        transient, permanent = adapter.Transient, adapter.Permanent
        cases = [
            (503, b"sandbox: a failure, as configured", transient),
            (429, b"", transient),
            (425, b"", transient),
            (201, b"", transient),
            (302, b"", permanent),
            (404, b"<html>no</html>", permanent),
            (400, envelope("r1", fault("soapenv:Client", "the SOAPAction HTTP header must be ...")), permanent),
            (500, envelope("r1", fault("soapenv:Server.ServerProxy", "database down")), transient),
            (200, b"<<<", transient),
            (200, envelope("other", citizen()), transient),
            (200, envelope("r1", citizen(personal_id="001188012345")), transient),
            (200, envelope("r1", citizen(date="1990-7-2")), transient),
            (200, envelope("r1", citizen(level="3")), transient),
            (200, envelope("r1", ""), transient),
        ]
        for status, body, expected in cases:
            with self.subTest(status=status, body=body[-80:]):
                with self.assertRaises(expected):
                    adapter.outcome(status, body, "r1", "079090004821")


class FakeRegistry:
    """The registry sandbox's LookupCitizen as far as the adapter sees it: checks the SOAPAction
    and the X-Road header, echoes the header, answers a citizen or the "not found" fault; or
    answers 503 while `failing`."""

    def __init__(self, citizens):
        self.citizens, self.failing, self.calls = citizens, False, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                owner.calls.append((self.path, self.headers.get("SOAPAction"), data, self.headers.get("traceparent")))
                if owner.failing:
                    return self.reply(503, b"sandbox: a failure, as configured")
                root = ET.fromstring(data)
                ns = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "x": "http://x-road.eu/xsd/xroad.xsd",
                      "i": "http://x-road.eu/xsd/identifiers", "r": "urn:govbus:registry"}
                header = root.find("s:Header", ns)
                assert self.headers.get("SOAPAction").strip('"') == "urn:govbus:registry:LookupCitizen"
                assert header.find("x:service/i:serviceCode", ns).text == "LookupCitizen"
                assert header.find("x:client", ns).get("{http://x-road.eu/xsd/identifiers}objectType") == "SUBSYSTEM"
                request_id = header.find("x:id", ns).text
                personal_id = root.find("s:Body/r:LookupCitizen/r:personalId", ns).text
                known = owner.citizens.get(personal_id)
                if known is None:
                    return self.reply(500, envelope(request_id, fault("soapenv:Client", "citizen not found")))
                self.reply(200, envelope(request_id, citizen(personal_id, known)))

            def reply(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SEED = bytes(range(32))
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CONFIG = """\
# Written by govbus up.
name: registry
amqpUrl: amqp://registry:p%40ss@127.0.0.1:5672,127.0.0.1:5673/gov%2Fbus
signingKey: {{id: registry-sandbox, seed: {seed}}}
listen: 127.0.0.1:0
system: {system}
instance: 0/1
data: registry
schemas: /nowhere/Schemas
heartbeat: 10s
inboxRetries: 2
settings:
  clientMemberClass: "GOV"
  clientMemberCode: "000.00.00.H01"
  clientSubsystem: "GOVBUS"
  serviceMemberClass: "GOV"
  serviceMemberCode: "000.00.00.G06"
  serviceSubsystem: "DANCU"
  xroadInstance: "VN"
"""


class Properties:
    """What pika hands a consumer, as far as the adapter reads it."""

    def __init__(self, type_, message_id, correlation_id=None, headers=None):
        self.type, self.message_id, self.correlation_id, self.headers = type_, message_id, correlation_id, headers


class Method:
    delivery_tag = 1


class AdapterTests(unittest.TestCase):
    def setUp(self):
        self.registry = FakeRegistry({"079090004821": "1990-07-02"})
        self.folder = tempfile.TemporaryDirectory()
        path = os.path.join(self.folder.name, "registry.yaml")
        with open(path, "w", encoding="utf-8") as file:
            file.write(CONFIG.format(seed=base64.b64encode(SEED).decode(), system=self.registry.url))
        self.config = adapter.Config(path)
        self.adapter = adapter.Adapter(self.config)

    def tearDown(self):
        self.adapter.store.close()
        self.registry.close()
        self.folder.cleanup()

    def delivery(self, body, type_=adapter.REQUEST_TYPE, message_id="0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        return adapter.Delivery(self.adapter.generation, None, None, Method(),
                                Properties(type_, message_id, REQUEST["dossierId"], {"traceparent": TRACEPARENT}), body)

    def test_config(self):
        config = self.config
        self.assertEqual((config.name, config.key_id, config.seed), ("registry", "registry-sandbox", SEED))
        self.assertEqual(config.data, os.path.join(self.folder.name, "registry"))
        self.assertEqual((config.heartbeat, config.inbox_retries, config.instance), (10, 2, (0, 1)))
        self.assertEqual((config.http_timeout, config.http_attempts), (None, None))
        self.assertEqual((self.adapter.registry.timeout, self.adapter.registry.attempts), (15, 2))
        self.assertEqual(config.broker_user, "registry")
        self.assertEqual([(p.host, p.port, p.virtual_host) for p in config.amqp_parameters],
                         [("127.0.0.1", 5672, "gov/bus"), ("127.0.0.1", 5673, "gov/bus")])
        self.assertEqual(config.amqp_parameters[0].credentials.password, "p@ss")
        self.assertEqual([adapter.parse_duration(t) for t in ("30s", "10m", "2h", "3d")], [30, 600, 7200, 259200])
        for text in ("10", "0s", "1.5s", "10 s"):
            with self.assertRaises(adapter.ConfigError):
                adapter.parse_duration(text)

    def test_http_policy_settings(self):
        path = os.path.join(self.folder.name, "other.yaml")
        for extra, expected in (("httpTimeout: 3s\nhttpAttempts: 1\n", (3, 1)), ("httpAttempts: 11\n", None)):
            with open(path, "w", encoding="utf-8") as file:
                file.write(CONFIG.format(seed=base64.b64encode(SEED).decode(), system=self.registry.url) + extra)
            if expected is None:
                with self.assertRaises(adapter.ConfigError):
                    adapter.Config(path)
            else:
                client = adapter.RegistryClient(adapter.Config(path))
                self.assertEqual((client.timeout, client.attempts), expected)

    def test_answers_once(self):
        self.assertEqual(self.adapter.handle(self.delivery(REQUEST)), "ack")
        entries = self.adapter.store.pending()
        self.assertEqual(len(entries), 1)
        _, message_id, type_, correlation_id, causation_id, body = entries[0]
        self.assertEqual(message_id, adapter.answer_id("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))
        self.assertEqual((type_, correlation_id, causation_id),
                         (adapter.VERIFIED_TYPE, REQUEST["dossierId"], "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))
        self.assertEqual(validate(type_, json.loads(body)), [])
        self.assertEqual(self.registry.calls[0][0], "/registry/soap")
        self.assertEqual(self.registry.calls[0][3], TRACEPARENT)
        # A redelivery: acked, no second call, no second answer.
        self.assertEqual(self.adapter.handle(self.delivery(REQUEST)), "ack")
        self.assertEqual(len(self.registry.calls), 1)
        self.assertEqual(len(self.adapter.store.pending()), 1)
        # Answered by hand again (its record lost): the same id, stored once.
        self.assertIn("(stored before)", self.adapter.answer(adapter.REQUEST_TYPE,
                                                             "0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11",
                                                             json.dumps(REQUEST).encode()))
        self.assertEqual(len(self.adapter.store.pending()), 1)

    def test_not_found_and_mismatch(self):
        self.adapter.handle(self.delivery(dict(REQUEST, personalId="001188012345"), message_id="m-1"))
        self.adapter.handle(self.delivery(dict(REQUEST, fullName="Trần Văn Hưng"), message_id="m-2"))
        bodies = [json.loads(entry[5]) for entry in self.adapter.store.pending()]
        self.assertEqual([b["result"] for b in bodies], ["not-found", "mismatch"])

    def test_dead_letters(self):
        self.assertEqual(self.adapter.handle(self.delivery(REQUEST, type_="payment.fee.requested.v1")), "reject")
        self.assertEqual(self.adapter.handle(self.delivery(b"{")), "reject")
        self.assertEqual(self.adapter.handle(self.delivery(REQUEST, message_id=None)), "reject")
        self.assertEqual(self.registry.calls, [])
        self.assertEqual(self.adapter.store.pending(), [])

    def test_transient_then_dead_letter(self):
        self.registry.failing = True
        self.assertEqual(self.adapter.handle(self.delivery(REQUEST)), "reject")
        self.assertEqual(len(self.registry.calls), 4)  # inboxRetries 2 × httpAttempts 2 (the default)
        self.assertFalse(self.adapter.store.was_handled("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))

    def test_unreachable_registry_is_transient(self):
        self.registry.close()
        with self.assertRaises(adapter.Transient):
            self.adapter.registry.look_up("079090004821")

    def test_signed_properties(self):
        body = b'{"dossierId":"G22.99-251121-0001"}'
        properties = self.adapter.properties("5d0c7a52-8d9e-4c1b-b1a3-2f4e6a7b8c9d", adapter.VERIFIED_TYPE,
                                             "G22.99-251121-0001", "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", body)
        self.assertEqual((properties.user_id, properties.app_id, properties.content_type, properties.delivery_mode),
                         ("registry", "registry", "application/json", 2))
        # govbus-attempt is the core's: the core dead-letters an adapter's message that carries it.
        self.assertEqual(set(properties.headers), {"govbus-key-id", "govbus-signature", "govbus-causation-id"})
        received = {"messageId": properties.message_id, "correlationId": properties.correlation_id,
                    "type": properties.type, "contentType": properties.content_type,
                    "timestamp": properties.timestamp, "appId": properties.app_id, "userId": properties.user_id,
                    "causationId": properties.headers["govbus-causation-id"]}
        adapter.verify({"registry-sandbox": public_key(SEED)}, properties.headers["govbus-key-id"],
                       properties.headers["govbus-signature"], received, body)

    def test_heartbeat(self):
        published = []

        class Channel:
            def basic_publish(self, exchange, routing_key, body, mandatory, properties):
                published.append((exchange, routing_key, body, mandatory, properties))

        self.adapter.heartbeat(Channel())
        exchange, routing_key, body, mandatory, properties = published[0]
        self.assertEqual((exchange, routing_key, mandatory), ("govbus.ingress", adapter.HEARTBEAT_TYPE, True))
        self.assertEqual(validate(adapter.HEARTBEAT_TYPE, json.loads(body)), [])
        self.assertRegex(properties.correlation_id, r"^[A-Za-z0-9._:-]{1,128}$")

    def test_inbox_partitions(self):
        import pika.exceptions

        class Channel:
            is_open = True

            def __init__(self, queues):
                self.queues = queues

            def queue_declare(self, name, passive):
                if name not in self.queues:
                    self.is_open = False
                    raise pika.exceptions.ChannelClosedByBroker(404, f"NOT_FOUND - no queue '{name}'")

            def close(self):
                self.is_open = False

        class Connection:
            def __init__(self, queues):
                self.queues = queues

            def channel(self):
                return Channel(self.queues)

        single = Connection({"govbus.adapter.registry"})
        self.assertEqual(self.adapter.find_inbox(single), (["govbus.adapter.registry"], []))
        partitions = Connection({f"govbus.adapter.registry.{i}" for i in range(4)})
        self.assertEqual(self.adapter.find_inbox(partitions), ([f"govbus.adapter.registry.{i}" for i in range(4)], []))
        self.config.instance = (1, 2)
        self.assertEqual(self.adapter.find_inbox(partitions),
                         (["govbus.adapter.registry.1", "govbus.adapter.registry.3"],
                          ["govbus.adapter.registry.0", "govbus.adapter.registry.2"]))

    def test_outbox_survives_a_restart(self):
        self.adapter.handle(self.delivery(REQUEST))
        self.adapter.store.close()
        store = adapter.Store(os.path.join(self.config.data, "python-outbox.sqlite"))
        try:
            self.assertEqual(len(store.pending()), 1)
            self.assertTrue(store.was_handled("0b5e4c1a-7d1f-4a3e-9c55-2f4f1f0e8a11"))
            self.assertEqual(store.db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            store.remove_through(store.pending()[0][0])
            self.assertEqual(store.count(), 0)
        finally:
            store.close()
        self.adapter.store = adapter.Store(os.path.join(self.config.data, "python-outbox.sqlite"))


if __name__ == "__main__":
    unittest.main()
