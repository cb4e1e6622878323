"""Dead letters of the privacy inbox: identifiers only, sent by the handler itself.

Lambda's own dead-letter queue (and its on-failure destinations) would keep the whole SES event for 14
days: every header (Received, X-Originating-IP, Authentication-Results), the envelope sender and the
recipients. So PrivacyFunction has none. Lambda still retries a failed event (EventInvokeConfig,
MaximumRetryAttempts); the handler counts the failed attempts of each SES message in a small table and,
on the last one, sends this record instead of failing: the SES message id and the inbox object key
(where the raw message already is), how many attempts failed, the exception's class (never its message,
which may quote a header) and when. With those the privacy team finds the raw message and delivers it
again (`ceip privacy deliver`), and nothing in the queue is personal data.

A failure the handler cannot catch (out of memory, a hang in native code) is bounded by `deadline`
where it can be (the interpreter's alarm signal, a few seconds before Lambda's timeout); what is left is
dropped by Lambda after its retries and counted by its AsyncEventsDropped metric, which alarms.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cache
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.inbox import InboxUnavailable
from ceip.privacy.ticket_table import TicketStoreUnavailable
from ceip.runtime.lazy_client import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ATTEMPT_RECORD_DAYS = 2
"""How long a message's failure count is kept: past Lambda's longest retry window (6 hours) with room."""

SCHEMA = "ceip.privacy.dead-letter/1"


@dataclass(frozen=True)
class DeadLetter:
    """One SES message the function gave up on. Identifiers only: nothing from the mail itself."""

    ses_message_id: str
    key: str
    attempts: int
    failure: str
    """The exception's class name (ours or Python's), never its message."""
    failed_at: datetime
    schema: str = field(default=SCHEMA)

    def body(self) -> str:
        fields = asdict(self)
        fields["failed_at"] = self.failed_at.isoformat()
        return json.dumps(fields, sort_keys=True)


# -- ports, with their AWS adapters and in-memory twins ------------------------------------------------
class DeadLetterQueue(Protocol):
    def send(self, letter: DeadLetter) -> None: ...


class DeliveryAttempts(Protocol):
    def failed(self, ses_message_id: str, now: datetime) -> int:
        """Record one more failed attempt at this message; returns how many have failed in all."""
        ...


_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}
)


@cache
def sqs_client() -> Any:  # no SQS type stubs are installed
    return boto3.client("sqs", config=_CLIENT_CONFIG)


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


class SqsDeadLetterQueue(LazyClient):
    client_factory = staticmethod(sqs_client)

    def __init__(self, queue_url: str, client: Any = None) -> None:
        super().__init__(client)
        self.queue_url = queue_url

    def send(self, letter: DeadLetter) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=letter.body())


class DynamoDeliveryAttempts(LazyClient):
    """One item per failing SES message: its id, the count, and an expiry (the table's TTL attribute)."""

    client_factory = staticmethod(dynamodb_client)

    def __init__(self, table: str, client: Any = None) -> None:
        super().__init__(client)
        self.table = table

    def failed(self, ses_message_id: str, now: datetime) -> int:
        expires = int((now + timedelta(days=ATTEMPT_RECORD_DAYS)).timestamp())
        answer = self.client.update_item(
            TableName=self.table,
            Key={"ses_message_id": {"S": ses_message_id}},
            UpdateExpression="ADD attempts :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["attempts"]["N"])


@dataclass
class InMemoryDeadLetterQueue:
    letters: list[DeadLetter] = field(default_factory=list)

    def send(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


@dataclass
class InMemoryDeliveryAttempts:
    counts: dict[str, int] = field(default_factory=dict)

    def failed(self, ses_message_id: str, now: datetime) -> int:
        self.counts[ses_message_id] = self.counts.get(ses_message_id, 0) + 1
        return self.counts[ses_message_id]


# -- the decision ----------------------------------------------------------------------------------------
def give_up(
    *,
    ses_message_id: str,
    key: str,
    failure: BaseException,
    attempts: DeliveryAttempts,
    queue: DeadLetterQueue,
    max_attempts: int,
    now: datetime,
) -> DeadLetter | None:
    """After a failed attempt: the dead letter sent when this was the last attempt Lambda makes, else
    None (the caller fails the invocation so that Lambda retries it). If counting or sending fails, that
    error propagates; the caller fails the invocation with the message's own error, and Lambda retries
    or, after its last retry, drops the event (AsyncEventsDropped): the whole event never reaches a
    queue either way."""
    failed = attempts.failed(ses_message_id, now)
    if failed < max_attempts:
        return None
    letter = DeadLetter(
        ses_message_id=ses_message_id,
        key=key,
        attempts=failed,
        failure=type(failure).__name__,
        failed_at=now,
    )
    queue.send(letter)
    return letter


_MESSAGES_WITHOUT_MAIL = (ClientError, BotoCoreError, TicketStoreUnavailable, InboxUnavailable)


def redact(failure: BaseException) -> None:
    """Strip, in place, the message of a failure and of every exception behind it, keeping their types
    and tracebacks: a parser's message may quote the mail (a header, an address), and Lambda's runtime
    and Powertools' tracer log the message of an error that leaves the handler. AWS's own errors keep
    theirs (an error code and AWS's text, nothing of the mail), and so do the adapters' errors that
    carry only such a code."""
    seen: set[int] = set()
    current: BaseException | None = failure
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not isinstance(current, _MESSAGES_WITHOUT_MAIL):
            current.args = (type(current).__name__,)
        current = current.__cause__ or current.__context__


class DeadlineExceeded(Exception):
    """The message was still being processed a few seconds before the function's timeout."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise DeadlineExceeded inside the block after `seconds`, so that a message which would time the
    function out fails like any other (and is counted) instead. Lambda runs handlers on the main thread,
    where the alarm signal works; elsewhere (the local gateway's threads) the block runs unbounded."""
    if seconds <= 0:
        raise DeadlineExceeded
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise DeadlineExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
