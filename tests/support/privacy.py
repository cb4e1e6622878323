"""The privacy inbox under moto: bucket, tickets table (from template.yaml), a verified SES identity,
SES events in the documented shape, and the messages SES was asked to send."""

from __future__ import annotations

import copy
import email
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from infra.local.template import Template
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import INBOX_BUCKET, PRIVACY_MAIL_FROM, TICKETS_TABLE
from tests.support.events import load_event

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:PrivacyFunction"
RECEIVED = datetime(2026, 11, 16, 9, 30, 2, 28000, tzinfo=UTC)


def corpus() -> list[Path]:
    return sorted(MAIL.glob("*.eml"))


def new_message_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(40))


def ses_event(
    raw: bytes,
    *,
    message_id: str,
    received_at: datetime = RECEIVED,
    spam: str = "PASS",
    virus: str = "PASS",
    source: str | None = None,
    spf: str | None = None,
    dkim: str | None = None,
    dmarc: str | None = None,
) -> dict[str, Any]:
    """The documented Lambda-action event (tests/events/ses_inbound.json) describing `raw`; its
    authentication verdicts (SPF and DKIM PASS, DMARC GRAY) unless given."""
    event = copy.deepcopy(load_event("ses_inbound.json"))
    record = event["Records"][0]["ses"]
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    stamp = received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = record["mail"]
    mail["timestamp"] = stamp
    mail["messageId"] = message_id
    mail["destination"] = [PRIVACY_MAIL_FROM]
    # The envelope sender: the Return-Path header when the message has one, else its From address
    # (a message without either still came from some envelope sender).
    envelope = (
        headers.get("return-path") or parseaddr(str(headers.get("from", "")))[1] or "someone@example.org"
    )
    mail["source"] = source if source is not None else str(envelope).strip("<> ")
    mail["headers"] = [{"name": k, "value": str(v)} for k, v in headers.items()]
    mail["commonHeaders"] = {
        "returnPath": mail["source"],
        "from": [str(headers["from"])] if headers["from"] else [],
        "date": str(headers.get("date", "")),
        "messageId": str(headers.get("message-id", "")),
        "subject": str(headers.get("subject", "")),
    }
    receipt = record["receipt"]
    receipt["timestamp"] = stamp
    receipt["recipients"] = [PRIVACY_MAIL_FROM]
    receipt["spamVerdict"] = {"status": spam}
    receipt["virusVerdict"] = {"status": virus}
    for name, verdict in (("spfVerdict", spf), ("dkimVerdict", dkim), ("dmarcVerdict", dmarc)):
        if verdict is not None:
            receipt[name] = {"status": verdict}
    receipt["action"]["functionArn"] = FUNCTION_ARN
    return event


@dataclass
class SentMail:
    to: list[str]
    source: str
    message: EmailMessage
    ses_message_id: str

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())


@dataclass
class PrivacyAws:
    s3: Any
    dynamodb: Any

    def store_raw(self, raw: bytes, message_id: str) -> None:
        """What the receipt rule's S3 action does before invoking the function."""
        self.s3.put_object(Bucket=INBOX_BUCKET, Key=f"inbox/{message_id}", Body=raw)

    def receive(self, raw: bytes, **event: Any) -> tuple[str, dict[str, Any]]:
        """S3 action, then the event for the Lambda action; returns (SES messageId, event)."""
        message_id = event.pop("message_id", None) or new_message_id()
        self.store_raw(raw, message_id)
        return message_id, ses_event(raw, message_id=message_id, **event)

    def sent(self) -> list[SentMail]:
        backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        found = []
        for message in backend.sent_messages:
            parsed = email.message_from_string(message.raw_data, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(SentMail(list(message.destinations), message.source, parsed, message.id))
        return found

    def ticket_items(self) -> list[dict[str, Any]]:
        items = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=TICKETS_TABLE):
            items += [i for i in page["Items"] if i["sk"]["S"] == "TICKET"]
        return items

    def raw_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=INBOX_BUCKET).get("Contents", [])]


@cache
def tickets_table_properties() -> dict[str, Any]:
    properties: dict[str, Any] = Template.load().resources["TicketsTable"]["Properties"]
    return properties


def create_privacy_resources(s3: Any, dynamodb: Any, ses: Any) -> PrivacyAws:
    """The inbox bucket, the tickets table exactly as template.yaml declares it, the SES identity."""
    s3.create_bucket(Bucket=INBOX_BUCKET)
    props = tickets_table_properties()
    dynamodb.create_table(
        TableName=TICKETS_TABLE,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    ses.verify_domain_identity(Domain=PRIVACY_MAIL_FROM.split("@", 1)[1])
    return PrivacyAws(s3, dynamodb)


def mail(
    *,
    sender: str = "jane.doe@example.net",
    subject: str = "Please delete my data",
    body: str = "Please delete my data.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A simple, well-formed inbound message."""
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))  # no folding into encoded words
    message["From"] = sender
    message["To"] = PRIVACY_MAIL_FROM
    message["Subject"] = subject
    message["Date"] = "Mon, 16 Nov 2026 09:30:00 +0000"
    message["Message-ID"] = f"<{message_id or new_message_id() + '@mail.example.net'}>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (extra or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()
