"""The events PrivacyFunction receives: SES receipt-rule Lambda actions and the daily schedule.

The SES model is deliberately lenient (unlike Powertools' SesModel, which requires a Subject and a To
header): a message without them is still a message we must keep. SES sends headers only; the body is in
the inbox bucket, where the rule's S3 action stored it before invoking us.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ceip.privacy import mail as mail_parsing


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Verdict(_Lenient):
    status: str = "PROCESSING_FAILED"


class Header(_Lenient):
    name: str
    value: str


class SesMail(_Lenient):
    timestamp: datetime
    messageId: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    source: str | None = None
    destination: list[str] = Field(default_factory=list)
    headers: list[Header] = Field(default_factory=list)
    commonHeaders: dict[str, Any] = Field(default_factory=dict)


class SesReceipt(_Lenient):
    timestamp: datetime | None = None
    recipients: list[str] = Field(default_factory=list)
    # Missing verdicts count as "processing failed": a human looks at what SES could not scan.
    spamVerdict: Verdict = Verdict()
    virusVerdict: Verdict = Verdict()
    spfVerdict: Verdict = Verdict()
    dkimVerdict: Verdict = Verdict()
    dmarcVerdict: Verdict = Verdict()
    action: dict[str, Any] = Field(default_factory=dict)


class SesMessage(_Lenient):
    mail: SesMail
    receipt: SesReceipt


class SesRecord(_Lenient):
    eventSource: Literal["aws:ses"]
    ses: SesMessage


class SesEvent(_Lenient):
    Records: list[SesRecord] = Field(min_length=1)


class ScheduledAction(_Lenient):
    """The daily EventBridge Scheduler input: {"action": "retention"}."""

    action: Literal["retention"]


def is_ses_event(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and isinstance(records[0], dict)
        and (records[0].get("eventSource") == "aws:ses")
    )


def receipt_event(
    raw: bytes,
    *,
    message_id: str,
    received_at: datetime,
    recipient: str,
    function_arn: str,
    spam: str = "PASS",
    virus: str = "PASS",
    source: str | None = None,
    spf: str = "PASS",
    dkim: str = "PASS",
    dmarc: str = "PASS",
) -> dict[str, Any]:
    """The event SES's Lambda action sends for `raw`, in the documented shape (local delivery, tests)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    pairs = [(str(k), mail_parsing.clean(str(v))) for k, v in headers.items()]
    first = {k.lower(): v for k, v in reversed(pairs)}
    stamp = received_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if source is None:
        # The envelope sender: the Return-Path header when there is one, else the From address.
        source = (
            first["return-path"].strip("<> ")
            if "return-path" in first
            else parseaddr(first.get("from", ""))[1]
        )
    common: dict[str, Any] = {
        "returnPath": first.get("return-path", "").strip("<>"),
        "from": [first["from"]] if "from" in first else [],
        "date": first.get("date", ""),
        "to": [first["to"]] if "to" in first else [],
        "messageId": first.get("message-id", ""),
        "subject": first.get("subject", ""),
    }
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": stamp,
                        "source": source,
                        "messageId": message_id,
                        "destination": [recipient],
                        "headersTruncated": False,
                        "headers": [{"name": k, "value": v} for k, v in pairs],
                        "commonHeaders": common,
                    },
                    "receipt": {
                        "timestamp": stamp,
                        "processingTimeMillis": 412,
                        "recipients": [recipient],
                        "spamVerdict": {"status": spam},
                        "virusVerdict": {"status": virus},
                        "spfVerdict": {"status": spf},
                        "dkimVerdict": {"status": dkim},
                        "dmarcVerdict": {"status": dmarc},
                        "action": {"type": "Lambda", "functionArn": function_arn, "invocationType": "Event"},
                    },
                },
            }
        ]
    }
