"""The dead-letter decision and the redaction of failures, with the in-memory twins."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from ceip.privacy.dead_letters import (
    DeadlineExceeded,
    InMemoryDeadLetterQueue,
    InMemoryDeliveryAttempts,
    deadline,
    give_up,
    redact,
)
from ceip.privacy.ticket_table import TicketStoreUnavailable

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_only_the_last_failed_attempt_sends_a_letter_with_the_identifiers_and_the_class() -> None:
    # Given a message that fails on each of three attempts
    attempts, queue = InMemoryDeliveryAttempts(), InMemoryDeadLetterQueue()
    failure = ValueError("Received: from [192.0.2.55] <robin@example.org>")
    answers = [
        give_up(
            ses_message_id="m1",
            key="inbox/m1",
            failure=failure,
            attempts=attempts,
            queue=queue,
            max_attempts=3,
            now=NOW,
        )
        for _ in range(3)
    ]
    # Then the first two are left to Lambda's retries and the third is a dead letter
    assert answers[:2] == [None, None] and answers[2] is not None
    (letter,) = queue.letters
    assert json.loads(letter.body()) == {
        "schema": "ceip.privacy.dead-letter/1",
        "ses_message_id": "m1",
        "key": "inbox/m1",
        "attempts": 3,
        "failure": "ValueError",
        "failed_at": "2026-12-01T09:30:00+00:00",
    }
    # and another message's count is its own
    assert attempts.counts == {"m1": 3}


def test_redaction_strips_every_message_in_the_chain_but_aws_error_codes() -> None:
    # Given a failure caused by a parser error quoting the mail, itself caused by an AWS error
    aws = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")
    try:
        try:
            raise aws
        except ClientError as error:
            raise KeyError("From: robin@example.org") from error
    except KeyError as error:
        try:
            raise RuntimeError("while filing 192.0.2.55") from error
        except RuntimeError as outer:
            failure = outer
    wrapped = TicketStoreUnavailable("ThrottlingException")
    # When they are redacted
    redact(failure)
    redact(wrapped)
    # Then the types and the chain stay, the mail's text is gone, AWS's code is kept
    assert str(failure) == "RuntimeError" and failure.__traceback__ is not None
    assert isinstance(failure.__cause__, KeyError) and str(failure.__cause__) == "'KeyError'"
    assert "ThrottlingException" in str(failure.__cause__.__cause__)
    assert str(wrapped) == "ThrottlingException"


def test_the_deadline_interrupts_pure_python_work_and_is_lifted_after_the_block() -> None:
    # Given a loop that would spin for 20 s, under a 0.2 s deadline
    def spin() -> None:
        with deadline(0.2):
            end = time.monotonic() + 20
            while time.monotonic() < end:
                sum(range(100))

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        spin()
    assert time.monotonic() - started < 2
    # Then a block that finishes in time is not interrupted, nor is anything after it
    with deadline(5):
        total = sum(range(1000))
    assert total == 499500
    with pytest.raises(DeadlineExceeded), deadline(0):
        pass
