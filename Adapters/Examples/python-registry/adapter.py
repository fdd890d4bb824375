#!/usr/bin/env python3
"""The population registry's GovBus adapter, in Python: a drop-in for the Swift one.

    python3 adapter.py --config registry.yaml

It consumes its inbox (`govbus.adapter.<name>`, or its partitions `….0`, `….1`, …), turns each
`registry.identity.verification-requested.v1` into a LookupCitizen call (SOAP 1.1 with the X-Road
header) on the registry at `{system}/registry/soap`, and answers `registry.identity.verified.v1`
or `registry.identity.rejected.v1` to `govbus.ingress`, signed with Ed25519 as Schemas/README.md
says. Answers go through an SQLite outbox, so nothing is lost while the broker is away.

The bus side is written from Schemas/ (README.md, asyncapi.yaml, the JSON schemas) only; see
README.md beside this file for where they left something to guess.

Threads: one consumer connection (the inbox), worker lanes (one dossier's messages in order, the
registry calls of several dossiers side by side), one publisher connection (outbox + heartbeats),
and the HTTP server (/health, /metrics). pika connections are not thread-safe: each belongs to one
thread, and workers settle deliveries through `add_callback_threadsafe`.
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import logging
import os
import queue
import re
import signal
import socket
import sqlite3
import ssl
import sys
import threading
import time
import unicodedata
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import pika
import pika.exceptions
import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = "0.1.0"

REQUEST_TYPE = "registry.identity.verification-requested.v1"
VERIFIED_TYPE = "registry.identity.verified.v1"
REJECTED_TYPE = "registry.identity.rejected.v1"
HEARTBEAT_TYPE = "bus.adapter.heartbeat.v1"
INGRESS_EXCHANGE = "govbus.ingress"

log = logging.getLogger("registry")


# ---------------------------------------------------------------------------------------------
# Signing (Schemas/README.md, "Signing a message")
# ---------------------------------------------------------------------------------------------

# The canonical form's lines after the first, in order: (line name, key in a properties dict).
CANONICAL_FIELDS = [
    ("message-id", "messageId"),
    ("correlation-id", "correlationId"),
    ("type", "type"),
    ("content-type", "contentType"),
    ("timestamp", "timestamp"),
    ("app-id", "appId"),
    ("user-id", "userId"),
    ("causation-id", "causationId"),
]


class SignatureError(Exception):
    """Why a signature does not hold: kind is mismatch, unknownKey or malformedSignature."""

    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def canonical_form(properties, key_id, body):
    """The bytes a signature covers. `properties` uses the names of the test vectors (messageId,
    correlationId, …, causationId); an absent or None value is written empty. A value holding a
    line break is refused, never escaped: it would let one message pass for another."""
    lines = ["govbus-signature-v1"]
    for name, key in CANONICAL_FIELDS + [("key-id", None)]:
        value = key_id if key is None else properties.get(key)
        value = "" if value is None else str(value)
        if "\n" in value or "\r" in value:
            raise ValueError(f"the {name} of the message holds a line break and cannot be signed")
        lines.append(f"{name}:{value}")
    lines.append(f"body-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def sign(seed, key_id, properties, body):
    """The base64 Ed25519 signature of a message (the `govbus-signature` header)."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return base64.b64encode(key.sign(canonical_form(properties, key_id, body))).decode("ascii")


def verify(public_keys, key_id, signature_b64, properties, body):
    """Checks a signature; `public_keys` maps key ids to raw 32-byte public keys. The adapter
    itself verifies nothing (the spec gives adapters no key of the core's); the tests use it."""
    if key_id not in public_keys:
        raise SignatureError("unknownKey", key_id)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        signature = b""
    if len(signature) != 64:
        raise SignatureError("malformedSignature", "govbus-signature is not 64 bytes of base64")
    try:
        canonical = canonical_form(properties, key_id, body)
    except ValueError as error:
        raise SignatureError("malformedSignature", str(error))
    try:
        Ed25519PublicKey.from_public_bytes(public_keys[key_id]).verify(signature, canonical)
    except InvalidSignature:
        raise SignatureError("mismatch", key_id)


# ---------------------------------------------------------------------------------------------
# Ids, times, names
# ---------------------------------------------------------------------------------------------

def derived_uuid(*parts):
    """A UUID version 8 from the SHA-256 of the parts joined with "|" (the Swift `DerivedID.uuid`):
    the same parts give the same id, so a redelivered request gets the same answer id and the
    core's dedup drops the copy."""
    digest = bytearray(hashlib.sha256("|".join(parts).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def answer_id(request_message_id):
    """The id of the answer to one request (Swift: `RegistryConnector.answerID`)."""
    return derived_uuid("registry-answer", request_message_id)


def rfc3339(seconds):
    """UTC with `Z`, milliseconds only when there are some (as the Swift contracts write)."""
    total = round(seconds * 1000)
    millis = total % 1000
    text = datetime.fromtimestamp((total - millis) // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{millis:03d}" if millis else "") + "Z"


RFC3339_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))")


def is_rfc3339(text):
    match = RFC3339_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if not match:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    offset_ok = match.group(9) is None or (int(match.group(9)) < 24 and int(match.group(10)) < 60)
    return year >= 1 and hour < 24 and minute < 60 and second < 60 and offset_ok


def comparable_name(name):
    """A name as the check compares it: NFC (a portal may send "ễ" as e + two combining marks),
    lower case, words separated by one space."""
    return " ".join(unicodedata.normalize("NFC", name).lower().split())


def masked(personal_id):
    """Personal ids are masked in logs: the province and the last two digits stay."""
    if len(personal_id) != 12:
        return "***"
    return personal_id[:3] + "*" * 7 + personal_id[-2:]


def fnv1a(text):
    """A stable hash (Python's `hash` is seeded per process): the same lane for the same dossier."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def json_body(document):
    """Keys sorted, no spaces, UTF-8 unescaped: the same message always gives the same bytes."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Configuration (Sources/GovBusAdapterKit/AdapterConfiguration.swift documents the format)
# ---------------------------------------------------------------------------------------------

class ConfigError(Exception):
    pass


def parse_duration(text):
    """`30s`, `10m`, `2h`, `3d`: a positive whole number and one unit."""
    match = re.fullmatch(r"(\d+)([smhd])", str(text))
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(f"a duration such as 30s, 10m, 2h or 3d was expected, not '{text}'")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def parse_amqp_url(url):
    """`amqp://user:password@host:port[,host:port…]/vhost`: the nodes are tried in turn. Returns
    (the broker user, a list of pika parameters). Parsed by hand: urllib refuses several hosts."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("amqp", "amqps") or not rest:
        raise ConfigError(f"amqpUrl must be amqp://user:password@host:port/vhost, not '{url}'")
    authority, _, path = rest.partition("/")
    userinfo, _, hosts = authority.rpartition("@")
    user, _, password = userinfo.partition(":")
    user, password = urllib.parse.unquote(user or "guest"), urllib.parse.unquote(password or "guest")
    vhost = urllib.parse.unquote(path.split("?")[0]) if path else "/"
    parameters = []
    for node in hosts.split(","):
        host, port = node, 5671 if scheme == "amqps" else 5672
        if node.startswith("["):
            host, _, tail = node[1:].partition("]")
            port = int(tail[1:]) if tail.startswith(":") else port
        elif ":" in node:
            host, _, text = node.rpartition(":")
            port = int(text)
        parameters.append(pika.ConnectionParameters(
            host=host, port=port, virtual_host=vhost, credentials=pika.PlainCredentials(user, password),
            ssl_options=pika.SSLOptions(ssl.create_default_context(), host) if scheme == "amqps" else None,
            # A broker under a memory alarm blocks publishers; better a reconnect than a hang.
            blocked_connection_timeout=30, connection_attempts=1, socket_timeout=5,
            client_properties={"connection_name": "govbus registry adapter (python)"}))
    return user, parameters


class Config:
    def __init__(self, path):
        with open(path, encoding="utf-8") as file:
            root = yaml.safe_load(file)
        if not isinstance(root, dict):
            raise ConfigError(f"{path}: an adapter's configuration is a mapping")
        folder = os.path.dirname(os.path.abspath(path))

        def required(key):
            if key not in root:
                raise ConfigError(f"{path}: the configuration has no '{key}'")
            return root[key]

        def folder_path(value):
            value = str(value)
            return value if value.startswith("/") else os.path.join(folder, value)

        self.file = path
        self.name = str(required("name"))
        self.amqp_url = str(required("amqpUrl"))
        key = required("signingKey")
        if not isinstance(key, dict) or "id" not in key or "seed" not in key:
            raise ConfigError(f"{path}: signingKey must be {{id: …, seed: …}}")
        self.key_id = str(key["id"])
        try:
            self.seed = base64.b64decode(str(key["seed"]), validate=True)
        except ValueError:
            self.seed = b""
        if len(self.seed) != 32:
            raise ConfigError(f"{path}: signingKey.seed must be the base64 of a 32-byte Ed25519 seed")
        host, _, port = str(required("listen")).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{path}: listen must be host:port")
        self.listen = (host.strip("[]"), int(port))
        self.system = str(required("system")).rstrip("/")
        if not self.system.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: system must be the external system's http(s) URL")
        self.data = folder_path(root.get("data", f"../var/{self.name}"))
        self.heartbeat = parse_duration(root.get("heartbeat", "10s"))
        self.inbox_retries = int(root.get("inboxRetries", 16))
        if self.inbox_retries < 1:
            raise ConfigError(f"{path}: inboxRetries must be at least 1")
        self.schemas = folder_path(root["schemas"]) if root.get("schemas") else None
        # Each call on the registry: its timeout, and its tries before the inbox's own retries.
        self.http_timeout = parse_duration(root["httpTimeout"]) if root.get("httpTimeout") else None
        self.http_attempts = int(root["httpAttempts"]) if root.get("httpAttempts") else None
        if self.http_attempts is not None and not 1 <= self.http_attempts <= 10:
            raise ConfigError(f"{path}: httpAttempts must be from 1 to 10")
        index, _, count = str(root.get("instance", "0/1")).partition("/")
        self.instance = (int(index), int(count or 1))
        # Values are strings for the Swift reader; PyYAML may have made numbers of some.
        self.settings = {str(k): str(v) for k, v in (root.get("settings") or {}).items()}
        self.broker_user, self.amqp_parameters = parse_amqp_url(self.amqp_url)

    def setting(self, key):
        value = self.settings.get(key)
        if not value:
            raise ConfigError(f"{self.file}: settings.{key} is missing")
        return value


# ---------------------------------------------------------------------------------------------
# The registry's LookupCitizen service: SOAP 1.1 with the X-Road header
# ---------------------------------------------------------------------------------------------

class Transient(Exception):
    """May pass (registry down, slow, 5xx, garbled answer): tried again with a growing pause."""


class Permanent(Exception):
    """Can never be handled (wrong type, bad body, a request the registry refuses): dead-lettered."""


NAMESPACES = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "xrd": "http://x-road.eu/xsd/xroad.xsd",
    "id": "http://x-road.eu/xsd/identifiers",
    "reg": "urn:govbus:registry",
}
SOAP_ACTION = '"urn:govbus:registry:LookupCitizen"'


class RegistryClient:
    """Calls LookupCitizen under the Swift adapters' HTTP policy: each try times out after
    `httpTimeout` (15 s); a connection that fails, a timeout, 408/425/429/5xx are tried again
    `httpAttempts` times in all (2), the pause doubling from 0.2 s, before the failure goes back to
    the inbox; a 500 or a 4xx is read, since SOAP faults come with those."""

    def __init__(self, config):
        self.timeout = config.http_timeout or 15
        self.attempts = config.http_attempts or 2
        self.endpoint = urllib.parse.urlsplit(config.system + "/registry/soap")
        instance = config.setting("xroadInstance")
        self.client = [instance, config.setting("clientMemberClass"), config.setting("clientMemberCode"),
                       config.setting("clientSubsystem")]
        self.service = [instance, config.setting("serviceMemberClass"), config.setting("serviceMemberCode"),
                        config.setting("serviceSubsystem"), "LookupCitizen", "v1"]
        self.user_id = config.name

    def envelope(self, personal_id, request_id):
        """The request, prefixes as the registry's own documents write them (it reads any)."""
        def ids(values, names):
            return "".join(f"<id:{n}>{escape(v)}</id:{n}>" for n, v in zip(names, values))
        member = ["xRoadInstance", "memberClass", "memberCode", "subsystemCode"]
        declarations = " ".join(f'xmlns:{p}="{u}"' for p, u in NAMESPACES.items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<soapenv:Envelope {declarations}><soapenv:Header>"
            f'<xrd:client id:objectType="SUBSYSTEM">{ids(self.client, member)}</xrd:client>'
            f'<xrd:service id:objectType="SERVICE">'
            f'{ids(self.service, member + ["serviceCode", "serviceVersion"])}</xrd:service>'
            f"<xrd:id>{escape(request_id)}</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>"
            f"<xrd:userId>{escape(self.user_id)}</xrd:userId>"
            "</soapenv:Header><soapenv:Body><reg:LookupCitizen>"
            f"<reg:personalId>{escape(personal_id)}</reg:personalId>"
            "</reg:LookupCitizen></soapenv:Body></soapenv:Envelope>").encode("utf-8")

    def look_up(self, personal_id, trace=None):
        """The citizen's record (fullName, dateOfBirth as (y, m, d), eIdLevel), or None when the
        registry does not know the personal id. `trace`: the inbox message's traceparent and
        tracestate headers, passed on."""
        request_id = str(uuid.uuid4())
        body = self.envelope(personal_id, request_id)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION, **(trace or {})}
        pause = 0.2
        for attempt in range(1, self.attempts + 1):
            try:
                status, answer = self.post(body, headers)
                if status == 500 or 200 <= status < 500:
                    return outcome(status, answer, request_id, personal_id)
                failure = http_failure(status)
            except (OSError, http.client.HTTPException) as error:
                failure = Transient(f"the registry at {self.endpoint.geturl()} cannot be reached: {error!r}")
            if isinstance(failure, Permanent) or attempt == self.attempts:
                raise failure
            time.sleep(pause)
            pause *= 2

    def post(self, body, headers):
        connection_class = http.client.HTTPSConnection if self.endpoint.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.endpoint.hostname, self.endpoint.port, timeout=self.timeout)
        try:
            connection.request("POST", self.endpoint.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read((1 << 20) + 1)
        finally:
            connection.close()
        if len(answer) > 1 << 20:
            raise OSError("the registry's answer is larger than 1 MiB")
        return response.status, answer


def local(tag):
    """`{urn:govbus:registry}citizen` is `citizen`: elements are read by local name, whatever
    prefixes the other side chose."""
    return tag.rsplit("}", 1)[-1]


def child(element, name):
    if element is None:
        return None
    return next((c for c in element if local(c.tag) == name), None)


def text_of(element, name):
    found = child(element, name)
    return None if found is None else (found.text or "")


def http_failure(status):
    """An HTTP answer without a SOAP fault or response in it: 408, 425, 429 and 5xx may pass, and
    so may a 2xx that is not the 200 expected; any other status will not."""
    if status in (408, 425, 429) or 500 <= status < 600 or 200 <= status < 300:
        return Transient(f"the registry answered HTTP {status}")
    return Permanent(f"the registry answered HTTP {status} without a SOAP fault: is `system` its base URL?")


def civil_date(text):
    """`YYYY-MM-DD` as (year, month, day), or None."""
    parts = text.split("-")
    if len(text.encode("utf-8")) != 10 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    year, month, day = (int(p) for p in parts)
    return (year, month, day) if 1 <= month <= 12 and 1 <= day <= 31 else None


def outcome(status, body, request_id, personal_id):
    """What an HTTP answer of the registry says (the rules of the Swift `RegistryClient`). A SOAP
    fault saying the citizen is not found is an answer (None), not a failure."""
    def malformed(problem):
        return Transient(f"malformed SOAP response from the registry (HTTP {status}): {problem}")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise http_failure(status) if status != 200 else malformed(f"not XML: {error}")
    envelope_body = child(root, "Body")
    fault = child(envelope_body, "Fault")
    if fault is not None and text_of(fault, "faultcode") is not None and text_of(fault, "faultstring") is not None:
        code, message = text_of(fault, "faultcode"), text_of(fault, "faultstring")
        # `soapenv:Server.ServerProxy` is a Server fault: the prefix and X-Road's dotted detail go.
        kind = code.split(":")[-1].split(".")[0]
        if kind == "Client" and "not found" in message.lower():
            return None
        if kind == "Server":
            raise Transient(f"the registry failed: {message}")
        raise Permanent(f"the registry refused the request ({code}): {message}")
    if status != 200:
        raise http_failure(status)
    citizen = child(child(envelope_body, "LookupCitizenResponse"), "citizen")
    if citizen is None:
        raise malformed("the body holds no reg:LookupCitizenResponse with a reg:citizen")
    fields = {name: text_of(citizen, name) for name in ("personalId", "fullName", "dateOfBirth", "eIdLevel")}
    if None in fields.values():
        raise malformed("reg:citizen lacks " + ", ".join(k for k, v in fields.items() if v is None))
    if text_of(child(root, "Header"), "id") != request_id:
        raise malformed("the echoed xrd:id is not the request's")
    if fields["personalId"] != personal_id:
        raise malformed("the citizen returned is not the one asked for")
    date_of_birth = civil_date(fields["dateOfBirth"])
    if date_of_birth is None:
        raise malformed("reg:dateOfBirth is not YYYY-MM-DD")
    if fields["eIdLevel"].strip() not in ("1", "2"):
        raise malformed(f"reg:eIdLevel {fields['eIdLevel']} is neither 1 nor 2")
    return {"fullName": fields["fullName"], "dateOfBirth": date_of_birth, "eIdLevel": int(fields["eIdLevel"])}


# ---------------------------------------------------------------------------------------------
# The answer rules (Adapters/Registry/Adapter/IdentityCheck.swift)
# ---------------------------------------------------------------------------------------------

NOT_FOUND_MESSAGE = "Không tìm thấy công dân có số định danh cá nhân này trong Cơ sở dữ liệu quốc gia về dân cư."


def mismatch_message(fields):
    what = {(True, True): "Họ tên và ngày sinh", (True, False): "Họ tên"}.get(
        ("fullName" in fields, "dateOfBirth" in fields), "Ngày sinh")
    return f"{what} khai báo không khớp với Cơ sở dữ liệu quốc gia về dân cư."


def decode_request(body):
    """The request's fields, checked; Permanent when the body can never be answered. The echoed
    fields are held to the answer's schema here: an answer the core would refuse is not sent."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise Permanent(f"the body is not a valid {REQUEST_TYPE}: not JSON ({error})")
    if not isinstance(request, dict):
        raise Permanent(f"the body is not a valid {REQUEST_TYPE}: not a JSON object")
    checks = [
        ("dossierId", lambda v: isinstance(v, str) and re.fullmatch(r"[A-Z0-9.-]{6,40}", v)),
        ("personalId", lambda v: isinstance(v, str) and re.fullmatch(r"[0-9]{12}", v)),
        ("fullName", lambda v: isinstance(v, str) and v != ""),
        ("dateOfBirth", lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)),
        ("requestedAt", is_rfc3339),
    ]
    for name, check in checks:
        if name not in request:
            raise Permanent(f"the body is not a valid {REQUEST_TYPE}: '{name}' is missing")
        if not check(request[name]):
            raise Permanent(f"the body is not a valid {REQUEST_TYPE}: '{name}' is {json.dumps(request[name])}")
    return request


def identity_answer(request, registered, now):
    """(type, body) of the answer: verified when the declared full name and date of birth are the
    registry's, rejected when they differ or the registry does not know the personal id."""
    dossier, personal_id = request["dossierId"], request["personalId"]
    if registered is None:
        return REJECTED_TYPE, {
            "dossierId": dossier, "personalId": personal_id, "result": "not-found", "rejectedAt": rfc3339(now),
            "reason": {"code": "identity-not-found", "message": NOT_FOUND_MESSAGE}}
    mismatched = []
    if comparable_name(request["fullName"]) != comparable_name(registered["fullName"]):
        mismatched.append("fullName")
    if tuple(int(p) for p in request["dateOfBirth"].split("-")) != tuple(registered["dateOfBirth"]):
        mismatched.append("dateOfBirth")
    if mismatched:
        return REJECTED_TYPE, {
            "dossierId": dossier, "personalId": personal_id, "result": "mismatch", "mismatchedFields": mismatched,
            "rejectedAt": rfc3339(now), "reason": {"code": "identity-mismatch", "message": mismatch_message(mismatched)}}
    return VERIFIED_TYPE, {
        "dossierId": dossier, "personalId": personal_id, "result": "match", "eIdLevel": registered["eIdLevel"],
        "verifiedAt": rfc3339(now)}


# ---------------------------------------------------------------------------------------------
# The store: the outbox and the handled inbox ids, in SQLite
# ---------------------------------------------------------------------------------------------

class Store:
    """What the adapter has to publish, kept until the broker confirms it, and the ids of the
    inbox messages it has answered. An answer and its request's id are written in one
    transaction, synced to disk (WAL, synchronous FULL), before the request is acked."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        # WAL's default is NORMAL on some builds: a commit must reach the disk before it returns.
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS outbox (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                message_id TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                correlation_id TEXT NOT NULL,
                causation_id TEXT,
                body BLOB NOT NULL,
                stored_at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS handled_inbox (message_id TEXT PRIMARY KEY, handled_at REAL NOT NULL);
        """)
        # A redelivery comes within minutes; a week of ids is plenty.
        with self.lock:
            self.db.execute("DELETE FROM handled_inbox WHERE handled_at < ?", (time.time() - 7 * 86400,))

    def was_handled(self, message_id):
        with self.lock:
            return self.db.execute("SELECT 1 FROM handled_inbox WHERE message_id = ?", (message_id,)).fetchone() is not None

    def store_answer(self, inbox_message_id, message_id, type_, correlation_id, causation_id, body):
        """Stores the answer and notes the request as handled, together; False when either was
        there already (the answer goes out once)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                stored = self.db.execute(
                    "INSERT OR IGNORE INTO outbox (message_id, type, correlation_id, causation_id, body, stored_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (message_id, type_, correlation_id, causation_id, body, time.time())).rowcount > 0
                self.db.execute("INSERT OR IGNORE INTO handled_inbox (message_id, handled_at) VALUES (?, ?)",
                                (inbox_message_id, time.time()))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return stored

    def pending(self, limit=128):
        with self.lock:
            return self.db.execute(
                "SELECT sequence, message_id, type, correlation_id, causation_id, body FROM outbox"
                " ORDER BY sequence LIMIT ?", (limit,)).fetchall()

    def remove_through(self, sequence):
        with self.lock:
            self.db.execute("DELETE FROM outbox WHERE sequence <= ?", (sequence,))

    def count(self):
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self):
        with self.lock:
            self.db.close()


# ---------------------------------------------------------------------------------------------
# Metrics and the HTTP side
# ---------------------------------------------------------------------------------------------

class Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.counters = {}

    def count(self, name, **labels):
        key = (name, tuple(sorted(labels.items())))
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1

    def text(self, gauges):
        lines = []
        with self.lock:
            items = sorted(self.counters.items())
        for (name, labels), value in items:
            rendered = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")
        for name, value in gauges.items():
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {value}")
        return "\n".join(lines) + "\n"


def serve_http(adapter):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                healthy, report = adapter.health()
                self.answer(200 if healthy else 503, "application/json", json.dumps(report, sort_keys=True))
            elif self.path == "/metrics":
                self.answer(200, "text/plain; version=0.0.4", adapter.metrics.text(adapter.gauges()))
            else:
                self.answer(404, "application/json", json.dumps({"error": "not found"}))

        def answer(self, status, content_type, text):
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass  # /health is polled; the log is for messages

    server = http.server.ThreadingHTTPServer(adapter.config.listen, Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


# ---------------------------------------------------------------------------------------------
# The adapter: inbox, outbox, heartbeats
# ---------------------------------------------------------------------------------------------

class Delivery:
    """An inbox message and how to settle it on the connection that brought it."""

    def __init__(self, generation, connection, channel, method, properties, body):
        self.generation, self.connection, self.channel = generation, connection, channel
        self.tag, self.properties, self.body = method.delivery_tag, properties, body


class Adapter:
    lanes = 8
    prefetch = 64

    def __init__(self, config, registry=None):
        self.config = config
        self.registry = registry or RegistryClient(config)
        os.makedirs(config.data, exist_ok=True)
        self.store = Store(os.path.join(config.data, "python-outbox.sqlite"))
        self.metrics = Metrics()
        self.stop = threading.Event()
        self.stored = threading.Event()  # wakes the publisher
        self.generation = 0  # of the consumer connection: settle nothing of an older one
        self.consuming = False
        self.publishing = False
        self.registry_reachable = True
        self.inbox_queues = []
        self.started_at = time.time()
        self.instance = re.sub(r"[^A-Za-z0-9._:-]", "-", f"{socket.gethostname()}-{os.getpid()}")[:128]
        self.lane_queues = [queue.Queue() for _ in range(self.lanes)]
        self.busy = [False] * self.lanes

    # --- health

    def health(self):
        healthy = self.consuming and self.publishing
        try:
            outbox = str(self.store.count())
        except sqlite3.Error:
            outbox = "unreadable"
        return healthy, {
            "service": self.config.name, "status": "up" if healthy else "down", "version": VERSION,
            "implementation": "python", "outbox": outbox, "inbox": ",".join(self.inbox_queues),
            "consumer": "connected" if self.consuming else "disconnected",
            "publisher": "connected" if self.publishing else "disconnected",
            "registry": "reachable" if self.registry_reachable else "unreachable"}

    def gauges(self):
        try:
            outbox = self.store.count()
        except sqlite3.Error:
            outbox = -1
        return {"govbus_adapter_outbox_pending": outbox,
                "govbus_adapter_broker_connected": int(self.consuming and self.publishing)}

    # --- the inbox

    def find_inbox(self, connection):
        """The inbox's queues once the core has declared them: the single queue, or its
        partitions `….0`, `….1`, … (this instance's share first, the others as standby)."""
        inbox = f"govbus.adapter.{self.config.broker_user}"

        def exists(name):
            # A passive declare of a missing queue closes its channel: one channel per look.
            channel = connection.channel()
            try:
                channel.queue_declare(name, passive=True)
                return True
            except pika.exceptions.ChannelClosedByBroker:
                return False
            finally:
                if channel.is_open:
                    channel.close()

        while not self.stop.is_set():
            partitions = []
            while exists(f"{inbox}.{len(partitions)}"):
                partitions.append(f"{inbox}.{len(partitions)}")
            if partitions:
                index, instances = self.config.instance
                own = [q for i, q in enumerate(partitions) if i % instances == index]
                return own, [q for q in partitions if q not in own]
            if exists(inbox):
                return [inbox], []
            log.warning("no inbox %s yet: is the core running? Trying again in 2 s", inbox)
            connection.sleep(2)
        return [], []

    def consume(self):
        pause = 0.5
        while not self.stop.is_set():
            connection = None
            try:
                connection = pika.BlockingConnection(self.config.amqp_parameters)
                own, standby = self.find_inbox(connection)
                channel = connection.channel()
                channel.basic_qos(prefetch_count=self.prefetch)
                self.generation += 1
                generation = self.generation

                def on_message(ch, method, properties, body, generation=generation, connection=connection):
                    delivery = Delivery(generation, connection, ch, method, properties, body)
                    key = properties.correlation_id or properties.message_id or ""
                    self.lane_queues[fnv1a(key) % self.lanes].put(delivery)

                for name in own:
                    channel.basic_consume(name, on_message)
                self.inbox_queues = own + standby
                self.consuming = True
                log.info("consuming %s", ", ".join(own))
                pause = 0.5
                # A standby registers later: a partition's active consumer is the first registered.
                standby_at = time.monotonic() + 2 if standby else None
                while not self.stop.is_set():
                    connection.process_data_events(time_limit=0.2)
                    if standby_at and time.monotonic() >= standby_at:
                        for name in standby:
                            channel.basic_consume(name, on_message)
                        standby_at = None
                # Stopping: take nothing new; give the messages in hand a moment to be settled.
                for tag in list(channel.consumer_tags):
                    channel.basic_cancel(tag)
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and any(self.busy):
                    connection.process_data_events(time_limit=0.1)
                connection.process_data_events(time_limit=0)
                connection.close()
            except (pika.exceptions.AMQPError, OSError) as error:
                self.consuming = False
                if self.stop.is_set():
                    break
                log.warning("inbox: no broker connection (%r); reconnecting in %.1f s", error, pause)
                self.stop.wait(pause)
                pause = min(pause * 2, 30)
            finally:
                self.consuming = False
                if connection is not None and connection.is_open:
                    try:
                        connection.close()
                    except Exception:
                        pass

    def settle(self, delivery, action):
        """Acks, rejects (to the dead letters) or requeues, on the consumer's own thread. A
        delivery of a connection that has gone is left: the broker delivers it again."""
        def apply():
            if delivery.generation != self.generation or not delivery.channel.is_open:
                return
            if action == "ack":
                delivery.channel.basic_ack(delivery.tag)
            elif action == "reject":
                delivery.channel.basic_reject(delivery.tag, requeue=False)
            else:
                delivery.channel.basic_nack(delivery.tag, requeue=True)
        try:
            delivery.connection.add_callback_threadsafe(apply)
        except Exception:
            pass

    def work(self, lane):
        while True:
            delivery = self.lane_queues[lane].get()
            if delivery is None:
                return
            if self.stop.is_set() or delivery.generation != self.generation:
                # Never acked: the broker requeues it when its connection closes (or has).
                continue
            # A delivery of a connection just lost (not yet replaced) is still answered: its answer
            # is stored, its ack is lost, and its redelivery is acked as a duplicate.
            self.busy[lane] = True
            try:
                self.settle(delivery, self.handle(delivery))
            except Exception:
                log.exception("unexpected failure; the message goes back to the queue")
                self.settle(delivery, "requeue")
            finally:
                self.busy[lane] = False

    def handle(self, delivery):
        """What to do with one delivery: "ack", "reject" or "requeue". A transient failure is
        tried again here, in its lane, with a growing pause, so that the dossier's later messages
        wait behind it; after inboxRetries tries it goes to the dead letters."""
        properties = delivery.properties
        type_ = properties.type or ""
        message_id = properties.message_id or ""
        previous = int((properties.headers or {}).get("x-delivery-count") or 0)
        if message_id and self.store.was_handled(message_id):
            self.metrics.count("govbus_adapter_inbox_total", type=type_, outcome="duplicate")
            log.info("duplicate %s %s acked without a second answer", type_, message_id)
            return "ack"
        for attempt in range(1, self.config.inbox_retries + 1):
            try:
                line = self.answer(type_, message_id, delivery.body, properties.headers)
            except Permanent as error:
                self.metrics.count("govbus_adapter_inbox_total", type=type_, outcome="dead-lettered")
                log.error("cannot handle %s %s; dead-lettered: %s", type_ or "(no type)", message_id, error)
                return "reject"
            except Transient as error:
                self.registry_reachable = False
                self.metrics.count("govbus_adapter_inbox_total", type=type_, outcome="retried")
                pause = min(30.0, 0.1 * (1 << min(attempt + previous, 9)))
                if attempt == self.config.inbox_retries:
                    log.warning("cannot handle %s %s (attempt %d): %s", type_, message_id, attempt, error)
                    break
                log.warning("cannot handle %s %s yet (attempt %d): %s; trying again in %.1f s",
                            type_, message_id, attempt, error, pause)
                if self.stop.is_set() or delivery.generation != self.generation:
                    return "requeue"
                if self.stop.wait(pause) or delivery.generation != self.generation:
                    return "requeue"
                continue
            self.registry_reachable = True
            self.metrics.count("govbus_adapter_inbox_total", type=type_, outcome="handled")
            log.info("%s", line)
            return "ack"
        self.metrics.count("govbus_adapter_inbox_total", type=type_, outcome="dead-lettered")
        log.error("cannot handle %s %s after %d tries; dead-lettered", type_, message_id, self.config.inbox_retries)
        return "reject"

    def answer(self, type_, message_id, body, headers=None):
        """Looks the applicant up, stores the answer; the log line of the outcome."""
        if type_ != REQUEST_TYPE:
            raise Permanent(f"the registry adapter receives {REQUEST_TYPE} only, not '{type_}'")
        if not message_id:
            raise Permanent("the request has no message id: its answer could not be told from a repeat")
        request = decode_request(body)
        trace = {k: str(v) for k, v in (headers or {}).items() if k in ("traceparent", "tracestate")}
        registered = self.registry.look_up(request["personalId"], trace)
        answer_type, answer = identity_answer(request, registered, time.time())
        identifier = answer_id(message_id)
        stored = self.store.store_answer(message_id, identifier, answer_type, request["dossierId"], message_id,
                                         json_body(answer))
        self.stored.set()
        if stored:
            self.metrics.count("govbus_adapter_outbox_stored_total", type=answer_type)
        verdict = "identity verified" if answer_type == VERIFIED_TYPE else f"identity rejected ({answer['reason']['code']})"
        return (f"{verdict} dossier={request['dossierId']} personalId={masked(request['personalId'])}"
                f" request={message_id} answer={identifier}{'' if stored else ' (stored before)'}")

    # --- the outbox and heartbeats

    def properties(self, message_id, type_, correlation_id, causation_id, body):
        """The AMQP properties of a message, signed."""
        timestamp = int(time.time())
        app_id = self.config.name
        signed = {"messageId": message_id, "correlationId": correlation_id, "type": type_,
                  "contentType": "application/json", "timestamp": timestamp, "appId": app_id,
                  "userId": self.config.broker_user, "causationId": causation_id}
        headers = {"govbus-key-id": self.config.key_id,
                   "govbus-signature": sign(self.config.seed, self.config.key_id, signed, body)}
        if causation_id:
            headers["govbus-causation-id"] = causation_id
        return pika.BasicProperties(
            content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent, message_id=message_id,
            correlation_id=correlation_id, timestamp=timestamp, type=type_, user_id=self.config.broker_user,
            app_id=app_id, headers=headers)

    def heartbeat(self, channel):
        now = time.time()
        body = json_body({
            "adapter": self.config.name, "version": VERSION, "instance": self.instance,
            "startedAt": rfc3339(self.started_at), "sentAt": rfc3339(now),
            "status": "up" if self.registry_reachable else "degraded"})
        try:
            channel.basic_publish(INGRESS_EXCHANGE, HEARTBEAT_TYPE, body, mandatory=True, properties=self.properties(
                str(uuid.uuid4()), HEARTBEAT_TYPE, self.instance, None, body))
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as error:
            log.warning("heartbeat not taken by the broker: %r", error)

    def forward(self):
        pause = 0.5
        while not self.stop.is_set():
            connection = None
            try:
                connection = pika.BlockingConnection(self.config.amqp_parameters)
                channel = connection.channel()
                channel.confirm_delivery()
                self.publishing = True
                if pause > 0.5:
                    log.info("outbox connected again; %d to forward", self.store.count())
                pause = 0.5
                next_heartbeat = time.monotonic()
                while not self.stop.is_set():
                    if time.monotonic() >= next_heartbeat:
                        self.heartbeat(channel)
                        next_heartbeat = time.monotonic() + self.config.heartbeat
                    entries = self.store.pending()
                    if not entries:
                        self.stored.wait(0.25)
                        self.stored.clear()
                        connection.process_data_events(time_limit=0)
                        continue
                    self.publish(channel, entries)
                connection.close()
            except (pika.exceptions.AMQPError, OSError) as error:
                self.publishing = False
                if self.stop.is_set():
                    break
                log.warning("outbox: no broker connection (%r); %d kept, reconnecting in %.1f s",
                            error, self.store.count(), pause)
                self.stop.wait(pause)
                pause = min(pause * 2, 30)
            finally:
                self.publishing = False
                if connection is not None and connection.is_open:
                    try:
                        connection.close()
                    except Exception:
                        pass

    def publish(self, channel, entries):
        """Publishes entries one by one, each confirmed before the next; removes what the broker
        confirmed, even when a later one fails (kept, and published again with the same id)."""
        confirmed = None
        try:
            for sequence, message_id, type_, correlation_id, causation_id, body in entries:
                body = bytes(body)
                try:
                    channel.basic_publish(INGRESS_EXCHANGE, type_, body, mandatory=True, properties=self.properties(
                        message_id, type_, correlation_id, causation_id, body))
                except pika.exceptions.UnroutableError:
                    # No binding for the type: the core's topology lacks it. Kept until it has.
                    log.error("%s %s is unroutable on %s; kept in the outbox", type_, message_id, INGRESS_EXCHANGE)
                    self.stop.wait(5)
                    return
                except pika.exceptions.NackError:
                    log.warning("the broker refused %s %s; kept in the outbox", type_, message_id)
                    self.stop.wait(1)
                    return
                confirmed = sequence
                self.metrics.count("govbus_adapter_published_total", type=type_)
        finally:
            if confirmed is not None:
                self.store.remove_through(confirmed)

    # --- running

    def run(self):
        server = serve_http(self)
        workers = [threading.Thread(target=self.work, args=(i,), name=f"lane-{i}", daemon=True)
                   for i in range(self.lanes)]
        for worker in workers:
            worker.start()
        consumer = threading.Thread(target=self.consume, name="inbox", daemon=True)
        publisher = threading.Thread(target=self.forward, name="outbox", daemon=True)
        consumer.start()
        publisher.start()
        log.info("adapter running (python %s): listen %s:%d, registry %s/registry/soap, inbox retries %d,"
                 " %d tries of %d s a call", VERSION, *self.config.listen, self.config.system,
                 self.config.inbox_retries, self.registry.attempts, self.registry.timeout)
        while not self.stop.wait(0.5):
            if not (consumer.is_alive() and publisher.is_alive()):
                log.error("a connection thread ended unexpectedly; stopping")
                self.stop.set()
        log.info("stopping")
        consumer.join(10)
        publisher.join(10)
        for lane in self.lane_queues:
            lane.put(None)
        for worker in workers:
            worker.join(2)
        server.shutdown()
        self.store.close()
        log.info("adapter stopped")


def main(argv=None):
    parser = argparse.ArgumentParser(description="The population registry's GovBus adapter (Python).")
    parser.add_argument("--config", required=True, help="the adapter's YAML configuration")
    arguments = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s.%(msecs)03dZ registry-python %(levelname)s %(message)s",
                        datefmt="%Y-%m-%dT%H:%M:%S")
    logging.Formatter.converter = time.gmtime
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # its reconnects are logged here, once
    try:
        config = Config(arguments.config)
        adapter = Adapter(config)
    except (ConfigError, OSError, ValueError, yaml.YAMLError) as error:
        log.error("%s", error)
        return 2

    def stop(signum, _frame):
        log.info("%s received", signal.Signals(signum).name)
        adapter.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    adapter.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
