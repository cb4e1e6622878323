"""Look for canary IP addresses in everything the system keeps or prints.

An address can hide from a plain substring search: inside gzip or zstd-compressed Parquet, inside a
base64 or quoted-printable MIME part, URL-encoded, or with IPv6 written another way. Each blob is
therefore searched as it is and in every view we can decode it into, for every written form of each
canary. A port after the address (`203.0.113.77:51234`, `[2001:db8::1]:443`) needs no form of its own:
the address is a substring of it.
"""

from __future__ import annotations

import base64
import email
import ipaddress
import json
import tempfile
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb

MAX_VIEW_DEPTH = 4
"""gzip inside gzip inside a mail part... deeper than this is not something the system writes."""


@dataclass(frozen=True)
class Form:
    name: str
    needle: bytes
    ignore_case: bool = True


@dataclass(frozen=True)
class Canary:
    address: str

    def forms(self) -> list[Form]:
        ip = ipaddress.ip_address(self.address)
        text = str(ip)
        forms = [Form("text", text.encode())]
        if isinstance(ip, ipaddress.IPv4Address):
            forms += [
                # ::ffff:cb00:714d is how an IPv6 socket reports an IPv4 client, hex-written.
                Form("ipv4-mapped-hex", ipaddress.IPv6Address(f"::ffff:{text}").compressed.encode()),
                Form("integer", str(int(ip)).encode()),
                # Four packed bytes are not searched: in compressed data they occur by chance.
            ]
        else:
            forms += [
                Form("url-encoded", quote(text, safe="").encode()),
                Form("exploded", ip.exploded.encode()),
                Form("packed", ip.packed, ignore_case=False),
            ]
        forms += [Form(f"base64+{pad}", needle, False) for pad, needle in base64_needles(text.encode())]
        return forms


def base64_needles(data: bytes) -> list[tuple[int, bytes]]:
    """The base64 text that encodes `data` wherever it starts in a longer input (three alignments):
    only the characters that depend on `data` alone."""
    needles = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data)
        start = {0: 0, 1: 2, 2: 3}[pad]
        end = (pad + len(data)) // 3 * 4
        needles.append((pad, encoded[start:end]))
    return needles


@dataclass(frozen=True)
class Finding:
    place: str
    view: str
    canary: str
    form: str


@dataclass
class Scan:
    """Findings and what was looked at, per kind of place (s3-object-version, dynamodb-item, log-line...)."""

    canaries: tuple[Canary, ...]
    findings: list[Finding] = field(default_factory=list)
    scanned: Counter[str] = field(default_factory=Counter)
    queues: dict[str, int] = field(default_factory=dict)
    """Queue name -> messages read from it."""

    def blob(self, kind: str, place: str, data: bytes) -> None:
        self.scanned[kind] += 1
        for view, content in decoded_views(data):
            self._search(place, view, content)

    def text(self, kind: str, place: str, text: str) -> None:
        self.blob(kind, place, text.encode("utf-8", "surrogateescape"))

    def _search(self, place: str, view: str, content: bytes) -> None:
        folded = content.lower()
        for canary in self.canaries:
            for form in canary.forms():
                haystack = folded if form.ignore_case else content
                needle = form.needle.lower() if form.ignore_case else form.needle
                if needle in haystack:
                    self.findings.append(Finding(place, view, canary.address, form.name))

    def places(self, *addresses: str) -> set[str]:
        return {f.place for f in self.findings if f.canary in addresses}


# -- decoding ---------------------------------------------------------------------------------------
def decoded_views(data: bytes, view: str = "raw", depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """The blob itself and what it decodes to: gzip, Parquet rows, MIME parts (recursively)."""
    yield view, data
    if depth >= MAX_VIEW_DEPTH:
        return
    if data[:2] == b"\x1f\x8b":
        try:
            inflated = zlib.decompress(data, wbits=16 + zlib.MAX_WBITS)
        except zlib.error:
            inflated = b""
        if inflated:
            yield from decoded_views(inflated, f"{view}>gzip", depth + 1)
    if data[:4] == b"PAR1":
        yield from decoded_views(parquet_text(data), f"{view}>parquet", depth + 1)
    if _looks_like_mail(data):
        for index, part in enumerate(mime_parts(data)):
            yield from decoded_views(part, f"{view}>mime[{index}]", depth + 1)


def parquet_text(data: bytes) -> bytes:
    """Every value of every row, as text (BLOB columns as their bytes)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "table.parquet"
        path.write_bytes(data)
        connection = duckdb.connect()
        try:
            relation = connection.execute("SELECT * FROM read_parquet(?)", [str(path)])
            columns = [d[0] for d in relation.description or []]
            rows = relation.fetchall()
        finally:
            connection.close()
    out = [",".join(columns).encode()]
    for row in rows:
        out.append(b"\t".join(v if isinstance(v, bytes) else str(v).encode() for v in row))
    return b"\n".join(out)


def _looks_like_mail(data: bytes) -> bool:
    head = data[:4096].lower()
    return b"\nsubject:" in head or head.startswith((b"received:", b"return-path:", b"from:"))


def mime_parts(data: bytes) -> list[bytes]:
    """The decoded payload of every leaf part (base64 and quoted-printable undone)."""
    message = email.message_from_bytes(data, policy=policy.compat32)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload)
    return parts


# -- AWS stores (the local stack's moto server) ------------------------------------------------------
def scan_buckets(scan: Scan, s3: Any) -> None:
    """Every version of every object (and each delete marker's key) of every bucket."""
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                key, version_id = version["Key"], version["VersionId"]
                place = f"s3://{bucket}/{key}?versionId={version_id}"
                args = {"Bucket": bucket, "Key": key}
                if version_id != "null":
                    args["VersionId"] = version_id
                stored = s3.get_object(**args)
                scan.blob("s3-object-version", place, stored.pop("Body").read())
                # Key, user metadata, content headers and tags are kept with the object too.
                stored.pop("ResponseMetadata", None)
                tags = s3.get_object_tagging(**args)["TagSet"]
                scan.text("s3-object-attributes", place, json.dumps([key, stored, tags], default=str))
            for marker in page.get("DeleteMarkers", []):
                scan.text(
                    "s3-object-attributes", f"s3://{bucket}/{marker['Key']} (delete marker)", marker["Key"]
                )


def scan_tables(scan: Scan, dynamodb: Any) -> None:
    """Every item of every table (the raw attribute values, as DynamoDB holds them)."""
    for table in dynamodb.list_tables()["TableNames"]:
        keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                key = "/".join(str(next(iter(item[k].values()))) for k in keys)
                scan.blob("dynamodb-item", f"dynamodb://{table}/{key}", _item_bytes(item))


def _item_bytes(value: Any) -> bytes:
    """An item as JSON, binary attributes as their own bytes (so gzip or mail inside is decoded)."""
    binaries: list[bytes] = []

    def plain(node: Any) -> Any:
        if isinstance(node, bytes | bytearray):
            binaries.append(bytes(node))
            return f"<binary #{len(binaries) - 1}>"
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        if isinstance(node, list | set | tuple):
            return [plain(v) for v in node]
        return node if isinstance(node, str | int | float | bool) or node is None else str(node)

    text = json.dumps(plain(value), sort_keys=True).encode()
    return b"\n".join([text, *binaries])


def scan_secrets(scan: Scan, secrets: Any) -> None:
    for secret in secrets.list_secrets()["SecretList"]:
        value = secrets.get_secret_value(SecretId=secret["ARN"])
        scan.text("secret", f"secretsmanager://{secret['Name']}", value.get("SecretString", ""))


QUEUE_HOLD_SECONDS = 120
"""How long the scan hides the messages it has read (so a receive cannot return them twice) before it
makes them visible again: longer than any queue's scan takes."""


def scan_queues(scan: Scan, sqs: Any) -> list[str]:
    """Every message of every queue (dead-letter queues included): body, system attributes and message
    attributes. Messages are received with a visibility timeout until the queue returns none, then made
    visible again, so the scan consumes nothing. Returns the URLs of the queues read."""
    urls = [url for page in sqs.get_paginator("list_queues").paginate() for url in page.get("QueueUrls", [])]
    for url in urls:
        name = url.rsplit("/", 1)[-1]
        handles: list[str] = []
        seen: set[str] = set()
        try:
            while True:
                answer = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=QUEUE_HOLD_SECONDS,
                    WaitTimeSeconds=0,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    handles.append(message["ReceiptHandle"])
                    if message["MessageId"] in seen:
                        continue
                    seen.add(message["MessageId"])
                    place = f"sqs://{name}/{message['MessageId']}"
                    scan.text("sqs-message", place, message["Body"])
                    kept = {k: message.get(k, {}) for k in ("Attributes", "MessageAttributes")}
                    scan.blob("sqs-message-attributes", place, _item_bytes(kept))
        finally:
            for handle in handles:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        scan.scanned["sqs-queue"] += 1
        scan.queues[name] = len(seen)
    return urls


def scan_moto_state(scan: Scan, endpoint: str, skip: tuple[str, ...] = ()) -> None:
    """Everything moto's own API exposes (SES's sent mail among it): a catch-all for the services not
    read above (`skip`)."""
    with urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=30) as response:
        data: dict[str, Any] = json.load(response)
    for service, models in data.items():
        if service in skip:
            continue
        for model, records in (models or {}).items():
            for index, record in enumerate(records or []):
                place = f"moto://{service}/{model}#{index}"
                if service == "ses" and model == "RawMessage":
                    scan.text("ses-sent-mail", place, str(record.get("raw_data", "")))
                scan.text("moto-record", place, json.dumps(record, default=str))


def scan_output(scan: Scan, lines: Iterable[tuple[str, str]]) -> None:
    """Captured output, line by line: (source, line). EMF records are counted on their own."""
    for source, line in lines:
        kind = "emf-record" if _is_emf(line) else "log-line"
        scan.text(kind, f"{source}: {line[:120]}", line)


def _is_emf(line: str) -> bool:
    if not line.startswith("{") or '"_aws"' not in line:
        return False
    try:
        return "_aws" in json.loads(line)
    except ValueError:
        return False
