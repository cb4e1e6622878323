"""PrivacyFunction's own dead letters, on moto: a message that fails every attempt Lambda makes ends as its
identifiers in the privacy dead-letter queue, never as the SES event (headers, addresses).

Lambda itself retries the asynchronous event (EventInvokeConfig, two retries); these tests play its three
deliveries by invoking the handler three times with the same event.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from infra.local.gateway import LambdaContext

from ceip.privacy import app, intake, ticket_table
from ceip.privacy.ticket_table import TicketStoreUnavailable
from tests.support import faults
from tests.support.faults import Backoff, Faults
from tests.support.privacy import PrivacyAws, mail

ATTEMPTS_TABLE = "ceip-test-privacy-delivery-attempts"
QUEUE = "ceip-test-privacy-dead-letters"
MAIL_V4 = "192.0.2.55"
MAIL_V6 = "2001:db8:beef::55"
SENDER = "robin@example.org"
CANARY_HEADERS = {
    "Received": f"from mta.example.org ([{MAIL_V4}]) by inbound-smtp.us-east-1.amazonaws.com",
    "X-Originating-IP": f"[{MAIL_V4}]",
    "X-Forwarded-For": f"{MAIL_V6}, {MAIL_V4}",
}
LETTER_FIELDS = {"schema", "ses_message_id", "key", "attempts", "failure", "failed_at"}


@pytest.fixture
def queue_url(privacy_aws: PrivacyAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The dead-letter queue and the attempts table, named in the function's environment."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=ATTEMPTS_TABLE,
        KeySchema=[{"AttributeName": "ses_message_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "ses_message_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName=QUEUE)["QueueUrl"]
    monkeypatch.setenv("PRIVACY_DEAD_LETTER_QUEUE_URL", url)
    monkeypatch.setenv("PRIVACY_DELIVERY_ATTEMPTS_TABLE", ATTEMPTS_TABLE)
    monkeypatch.setenv("PRIVACY_DELIVERY_ATTEMPTS", "3")
    app.privacy_settings.cache_clear()
    app.dead_letters.sqs_client.cache_clear()
    app.dead_letters.dynamodb_client.cache_clear()
    yield url
    app.dead_letters.sqs_client.cache_clear()
    app.dead_letters.dynamodb_client.cache_clear()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("PrivacyFunction", timeout_seconds=60)


def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(copy.deepcopy(event), context)
    return result


def queued(url: str) -> list[dict[str, Any]]:
    """Every message in the queue, with its attributes, consumed (the test owns the queue)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def assert_identifiers_only(
    message: dict[str, Any], message_id: str, event: dict[str, Any]
) -> dict[str, Any]:
    body = json.loads(message["Body"])
    assert set(body) == LETTER_FIELDS
    assert (body["ses_message_id"], body["key"]) == (message_id, f"inbox/{message_id}")
    assert message.get("MessageAttributes") is None
    # Nothing of the event's headers or addresses, in any field
    whole = json.dumps(message)
    for needle in (MAIL_V4, MAIL_V6, SENDER, "example.org", "Received", "Subject"):
        assert needle.lower() not in whole.lower(), needle
    headers = event["Records"][0]["ses"]["mail"]["headers"]
    assert {h["name"] for h in headers} >= {"Received", "X-Originating-IP", "From"}  # they were there to leak
    return body


def test_a_message_failing_every_attempt_is_dead_lettered_as_its_identifiers_on_the_last(
    privacy_aws: PrivacyAws, queue_url: str, context: Any, backoff: Backoff
) -> None:
    # Given the tickets table is down for every attempt, and a message with canary headers arrives
    table = Faults(ticket_table.dynamodb_client())
    table.fail("GetItem", faults.THROUGHPUT_EXCEEDED)
    message_id, event = privacy_aws.receive(mail(sender=SENDER, extra=CANARY_HEADERS))
    # When Lambda delivers the event three times (the first try and its two retries)
    with pytest.raises(TicketStoreUnavailable):
        invoke(event, context)
    assert queued(queue_url) == []  # a retry is coming: nothing is given up yet
    with pytest.raises(TicketStoreUnavailable):
        invoke(event, context)
    result = invoke(event, context)
    # Then the last delivery succeeds as a dead letter, so Lambda neither retries nor drops it
    assert result == {"filed": [], "dead_lettered": [message_id]}
    # and the queue holds one record: the identifiers, three attempts, the failure's class only
    (message,) = queued(queue_url)
    body = assert_identifiers_only(message, message_id, event)
    assert (body["attempts"], body["failure"], body["schema"]) == (
        3,
        "TicketStoreUnavailable",
        "ceip.privacy.dead-letter/1",
    )
    # and the raw message is still in the inbox for the person who files it again
    assert f"inbox/{message_id}" in privacy_aws.raw_keys()
    assert privacy_aws.ticket_items() == []


def test_an_error_quoting_the_headers_leaves_only_its_class_in_the_dead_letter(
    privacy_aws: PrivacyAws, queue_url: str, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a parser failure whose message quotes a header with the sender's address and IP
    def broken(*args: Any, **kwargs: Any) -> intake.IntakeResult:
        raise ValueError(f"cannot parse Received: from [{MAIL_V4}] for <{SENDER}>")

    monkeypatch.setattr(app.intake, "receive", broken)
    message_id, event = privacy_aws.receive(mail(sender=SENDER, extra=CANARY_HEADERS))
    # When every delivery fails
    for _ in range(2):
        with pytest.raises(ValueError, match=r"^ValueError$"):  # its message may quote the mail: redacted
            invoke(event, context)
    assert invoke(event, context)["dead_lettered"] == [message_id]
    # Then the dead letter names the class, not the message
    (message,) = queued(queue_url)
    assert assert_identifiers_only(message, message_id, event)["failure"] == "ValueError"


def test_a_retry_that_succeeds_leaves_no_dead_letter(
    privacy_aws: PrivacyAws, queue_url: str, context: Any, backoff: Backoff
) -> None:
    # Given the tickets table is down for the first two deliveries only
    table = Faults(ticket_table.dynamodb_client())
    table.fail("GetItem", faults.THROUGHPUT_EXCEEDED)
    _, event = privacy_aws.receive(mail(sender=SENDER))
    for _ in range(2):
        with pytest.raises(TicketStoreUnavailable):
            invoke(event, context)
    table.clear()
    # When Lambda's last retry runs
    result = invoke(event, context)
    # Then the message is filed and nothing is dead-lettered
    assert [f["outcome"] for f in result["filed"]] == ["created"] and result["dead_lettered"] == []
    assert queued(queue_url) == []


def test_a_message_that_would_time_the_function_out_fails_at_the_deadline_and_is_counted(
    privacy_aws: PrivacyAws, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given filing a message takes longer than the function has (a crafted message, say)
    def slow(*args: Any, **kwargs: Any) -> intake.IntakeResult:
        end = time.monotonic() + 30
        while time.monotonic() < end:  # pure Python work, as parsing is
            sum(range(1000))
        raise AssertionError("the deadline did not interrupt the work")

    monkeypatch.setattr(app.intake, "receive", slow)
    message_id, event = privacy_aws.receive(mail(sender=SENDER, extra=CANARY_HEADERS))
    # When each delivery has 6 s left (a deadline 1 s away, with the 5 s margin)
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(app.dead_letters.DeadlineExceeded):
            invoke(event, LambdaContext("PrivacyFunction", timeout_seconds=6))
    result = invoke(event, LambdaContext("PrivacyFunction", timeout_seconds=6))
    # Then each stopped at its deadline, and the third is a dead letter, not a timeout
    assert time.monotonic() - started < 3 * 3
    assert result["dead_lettered"] == [message_id]
    (message,) = queued(queue_url)
    assert assert_identifiers_only(message, message_id, event)["failure"] == "DeadlineExceeded"


def test_when_the_count_cannot_be_kept_the_original_error_fails_the_invocation_and_nothing_is_queued(
    privacy_aws: PrivacyAws, queue_url: str, context: Any, monkeypatch: pytest.MonkeyPatch, backoff: Backoff
) -> None:
    # Given the attempts table is gone (and the tickets table is down)
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=ATTEMPTS_TABLE)
    table = Faults(ticket_table.dynamodb_client())
    table.fail("GetItem", faults.THROUGHPUT_EXCEEDED)
    _, event = privacy_aws.receive(mail(sender=SENDER, extra=CANARY_HEADERS))
    # When every delivery fails, then each fails with the message's own error (Lambda would retry, then
    # drop the last and alarm)
    for _ in range(4):
        with pytest.raises(TicketStoreUnavailable):
            invoke(event, context)
    # and no queue ever saw the event
    assert queued(queue_url) == []
