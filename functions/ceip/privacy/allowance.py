"""How much automatic mail (acknowledgements) may still go out today: per sender and in total. The
port, its DynamoDB adapter and its in-memory twin.

Counted in two counter items of the tickets table per day, each taken in one transaction with the cap
as its condition, so concurrent deliveries cannot overshoot:
- CAP#<day> / CAP: every automatic message of that UTC day;
- CAP#<day>#<digest> / CAP: those to one address, the digest an HMAC of the address keyed by the day.

Why a counter and not a count over tickets: the tickets table has no index by sender or by day, and a
count read before sending races with a concurrent delivery. The counter keeps no more than the ticket
already keeps: the ticket holds the address itself (until redaction, a year after closing); the digest
of it is only good for "the same address on the same day" (a new key each day, so days cannot be
linked), and the item expires by the table's TTL (`expires_at`, two days after the day it counts).
A slot is taken before sending and not given back when SES then fails: the count errs high.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.privacy.ticket_table import TicketStoreUnavailable, dynamodb_client
from ceip.runtime.lazy_client import LazyClient

DEFAULT_PER_SENDER_PER_DAY = 3
DEFAULT_PER_DAY = 200
SENDER_CAP = "sender-daily-cap"
TOTAL_CAP = "daily-cap"
"""Stable reasons, shown as the acknowledgement's reason of a ticket past a cap."""
COUNTER_DAYS = 2


@dataclass(frozen=True)
class Caps:
    per_sender: int = DEFAULT_PER_SENDER_PER_DAY
    total: int = DEFAULT_PER_DAY


def sender_digest(address: str, day: date) -> str:
    """The address's counter key for `day`: equal for the same address that day, different across days
    (the HMAC key is the day). Not a secret: whoever has the address can compute it, as whoever reads
    the table can read the ticket holding that address; it keeps the address itself out of the counter
    item, which expires after COUNTER_DAYS."""
    key = f"ceip-automatic-mail:{day.isoformat()}".encode()
    return hmac.new(key, address.strip().lower().encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def expires_at(day: date) -> int:
    """Epoch seconds at which DynamoDB's TTL may delete the counters of `day`."""
    return int(datetime.combine(day + timedelta(days=COUNTER_DAYS), time(), tzinfo=UTC).timestamp())


class MailAllowance(Protocol):
    def take(self, address: str, day: date, caps: Caps) -> str | None:
        """Count one automatic message to `address` on `day` if both caps allow it; else change
        nothing and return the cap that refused (SENDER_CAP or TOTAL_CAP)."""


@dataclass
class MemoryAllowance:
    """The in-memory twin (tests, benchmarks)."""

    counts: dict[str, int] = field(default_factory=dict)

    def take(self, address: str, day: date, caps: Caps) -> str | None:
        if caps.per_sender <= 0 or caps.total <= 0:
            return SENDER_CAP if caps.per_sender <= 0 else TOTAL_CAP
        sender, total = f"{day}#{sender_digest(address, day)}", str(day)
        if self.counts.get(sender, 0) >= caps.per_sender:
            return SENDER_CAP
        if self.counts.get(total, 0) >= caps.total:
            return TOTAL_CAP
        self.counts[sender] = self.counts.get(sender, 0) + 1
        self.counts[total] = self.counts.get(total, 0) + 1
        return None


class DynamoAllowance(LazyClient):
    """Counters beside the tickets, in the tickets table, through its client."""

    client_factory = staticmethod(dynamodb_client)

    def __init__(self, table: str, client: Any = None) -> None:
        super().__init__(client)
        self._table = table

    def take(self, address: str, day: date, caps: Caps) -> str | None:
        if caps.per_sender <= 0 or caps.total <= 0:  # a first ADD would pass its condition
            return SENDER_CAP if caps.per_sender <= 0 else TOTAL_CAP
        counters = (
            (f"CAP#{day.isoformat()}#{sender_digest(address, day)}", caps.per_sender),
            (f"CAP#{day.isoformat()}", caps.total),
        )
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": "CAP"}},
                    "UpdateExpression": "ADD #n :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(#n) OR #n < :cap",
                    "ExpressionAttributeNames": {"#n": "count"},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":cap": {"N": str(cap)},
                        ":expires": {"N": str(expires_at(day))},
                    },
                }
            }
            for pk, cap in counters
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise TicketStoreUnavailable(error_code(error)) from error
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return SENDER_CAP
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                return TOTAL_CAP
            raise TicketStoreUnavailable("TransactionCanceled") from error
        except BotoCoreError as error:
            raise TicketStoreUnavailable(error_code(error)) from error
        return None
