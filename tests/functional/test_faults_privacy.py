"""PrivacyFunction with AWS failing underneath it (faults injected into botocore, served by moto).

The promises: an acknowledgement SES refuses (throttled, 500, unreachable) keeps its ticket and is sent
later, exactly once; a ticket-table or inbox failure fails the invocation (Lambda retries the
asynchronous SES event) with the raw mail still in the inbox, and the retry leaves exactly one ticket.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from infra.local.gateway import LambdaContext

from ceip.privacy import app, ticket_table
from ceip.privacy.inbox import InboxUnavailable
from ceip.privacy.mailer import ses_client
from ceip.privacy.ticket_table import DynamoTicketStore, TicketStoreUnavailable
from ceip.privacy.tickets import AckState, Status, Ticket
from ceip.storage.s3 import s3_client
from tests.conftest import TICKETS_TABLE
from tests.support import faults
from tests.support.events import load_event
from tests.support.faults import Backoff, Failure, Faults
from tests.support.privacy import PrivacyAws, mail

SES_SEND_ATTEMPTS = 3
"""ceip.privacy.mailer's client: standard retry mode, three attempts in all."""
TABLE_ATTEMPTS = 4
"""ceip.privacy.ticket_table's client: four attempts in all."""

SES_FAILURES: dict[str, Failure] = {
    "Throttling": faults.SES_THROTTLED,
    "InternalFailure 500": faults.SES_INTERNAL_FAILURE,
    "connection reset": faults.connection_reset,
    "no connection": faults.no_connection,
}
TABLE_FAILURES: dict[str, tuple[str, Failure, int]] = {
    # name: (operation, failure, HTTP attempts the adapter makes before it gives up)
    "GetItem throughput exceeded": ("GetItem", faults.THROUGHPUT_EXCEEDED, TABLE_ATTEMPTS),
    "GetItem read timeout": ("GetItem", faults.read_timeout, TABLE_ATTEMPTS),
    "TransactWriteItems throttled": ("TransactWriteItems", faults.THROTTLING_EXCEPTION, TABLE_ATTEMPTS),
    "TransactWriteItems 500": ("TransactWriteItems", faults.DYNAMODB_INTERNAL_ERROR, TABLE_ATTEMPTS),
    # botocore does not retry a cancelled transaction; the Lambda retry does
    "TransactWriteItems cancelled by throttling": ("TransactWriteItems", faults.TRANSACTION_THROTTLED, 1),
    "TransactWriteItems connection reset": ("TransactWriteItems", faults.connection_reset, TABLE_ATTEMPTS),
}


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("PrivacyFunction", timeout_seconds=60)


@pytest.fixture
def ses(privacy_aws: PrivacyAws) -> Faults:
    return Faults(ses_client())


@pytest.fixture
def table(privacy_aws: PrivacyAws) -> Faults:
    return Faults(ticket_table.dynamodb_client())


def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One invocation with its own copy of the event (Lambda retries deliver the same event again)."""
    result: dict[str, Any] = app.lambda_handler(copy.deepcopy(event), context)
    return result


def filed(result: dict[str, Any]) -> tuple[str, str]:
    ((entry),) = result["filed"]
    return entry["ref"], entry["outcome"]


def ticket(ref: str) -> Ticket:
    found = DynamoTicketStore(TICKETS_TABLE).get(ref)
    assert found is not None
    return found


def daily_run(context: Any) -> dict[str, Any]:
    return invoke(load_event("privacy_daily_schedule.json"), context)


def is_ticket_item(request: Any) -> bool:
    """A GetItem of a ticket itself (not of a messageId link)."""
    return b'"TICKET"' in (request.body or b"")


# -- acknowledgements ------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", SES_FAILURES.values(), ids=SES_FAILURES.keys())
def test_an_acknowledgement_ses_refuses_keeps_the_ticket_and_the_daily_run_sends_it_once(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, ses: Faults, failure: Failure
) -> None:
    # Given SES fails every SendRawEmail attempt
    ses.fail("SendRawEmail", failure)
    message_id, event = privacy_aws.receive(mail(sender="jane.doe@example.net"))
    # When the message is filed
    ref, outcome = filed(invoke(event, context))
    # Then the invocation succeeds (the ticket is safe), after the mailer's own retries
    assert outcome == "created"
    assert ses.attempts["SendRawEmail"] == SES_SEND_ATTEMPTS
    stored = ticket(ref)
    assert (stored.status, stored.acknowledgement.state, stored.acknowledgement.attempts) == (
        Status.TRIAGED,
        AckState.FAILED,
        1,
    )
    assert privacy_aws.sent() == []
    assert f"inbox/{message_id}" in privacy_aws.raw_keys()
    # When SES works again and the daily run comes
    ses.clear()
    assert daily_run(context)["acknowledged"] == 1
    # Then exactly one acknowledgement went to the sender, and later runs send no other
    assert daily_run(context)["acknowledged"] == 0
    (sent,) = privacy_aws.sent()
    assert set(sent.to) == {"jane.doe@example.net"} and ref in sent.subject
    assert ticket(ref).status is Status.ACKNOWLEDGED


def test_an_acknowledgement_still_refused_at_the_daily_run_stays_owed(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, ses: Faults
) -> None:
    # Given SES throttles through the intake and the first daily run
    ses.fail("SendRawEmail", faults.SES_THROTTLED)
    _, event = privacy_aws.receive(mail())
    ref, _ = filed(invoke(event, context))
    result = daily_run(context)
    # Then the run reports the failure and the ticket still waits, with both attempts recorded
    assert (result["acknowledged"], result["acknowledgements_failed"]) == (0, 1)
    assert ticket(ref).acknowledgement.attempts == 2
    # And the next run after recovery sends it, once
    ses.clear()
    assert daily_run(context)["acknowledged"] == 1
    assert len(privacy_aws.sent()) == 1


def test_one_throttled_send_is_absorbed_by_the_mailers_retry(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, ses: Faults
) -> None:
    ses.fail("SendRawEmail", faults.SES_THROTTLED, times=1)
    _, event = privacy_aws.receive(mail())
    ref, _ = filed(invoke(event, context))
    assert ses.attempts["SendRawEmail"] == 2
    assert ticket(ref).acknowledgement.state is AckState.SENT
    assert len(privacy_aws.sent()) == 1


def test_a_redelivered_event_sends_the_acknowledgement_the_first_delivery_could_not(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, ses: Faults
) -> None:
    # Given the first delivery could not acknowledge (SES 500 on every attempt)
    ses.fail("SendRawEmail", faults.SES_INTERNAL_FAILURE)
    _, event = privacy_aws.receive(mail())
    ref, _ = filed(invoke(event, context))
    # When SES delivers the same event again after recovery
    ses.clear()
    again, outcome = filed(invoke(event, context))
    # Then it finds the same ticket and sends the one acknowledgement owed
    assert (again, outcome) == (ref, "redelivered")
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
    assert daily_run(context)["acknowledged"] == 0


def test_an_acknowledgement_whose_answer_was_lost_is_sent_again_rather_than_lost(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, ses: Faults
) -> None:
    # Given SES sends the first attempt but its answer times out (SendRawEmail has no idempotency token)
    ses.fail("SendRawEmail", faults.read_timeout, times=1, after_service=True)
    _, event = privacy_aws.receive(mail())
    ref, _ = filed(invoke(event, context))
    # Then the mailer's retry sends it again: delivery is at least once, never zero
    assert ticket(ref).acknowledgement.state is AckState.SENT
    assert len(privacy_aws.sent()) == 2
    assert {sent.subject for sent in privacy_aws.sent()} == {privacy_aws.sent()[0].subject}


# -- intake ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "failure", "attempts"), TABLE_FAILURES.values(), ids=TABLE_FAILURES.keys()
)
def test_a_ticket_table_outage_fails_the_invocation_and_its_retry_makes_one_ticket(
    privacy_aws: PrivacyAws,
    context: Any,
    backoff: Backoff,
    table: Faults,
    operation: str,
    failure: Failure,
    attempts: int,
) -> None:
    # Given the tickets table fails every attempt of one operation
    table.fail(operation, failure)
    message_id, event = privacy_aws.receive(mail())
    # When SES invokes the function, the invocation fails (so Lambda retries the asynchronous event)
    with pytest.raises(TicketStoreUnavailable):
        invoke(event, context)
    # Then the table was retried by the adapter, nothing half-written, nothing sent, the mail kept
    assert table.attempts[operation] == attempts
    assert privacy_aws.ticket_items() == []
    assert privacy_aws.sent() == []
    assert f"inbox/{message_id}" in privacy_aws.raw_keys()
    # And Lambda's retry after the outage files exactly one ticket, acknowledged once
    table.clear()
    ref, outcome = filed(invoke(event, context))
    assert outcome == "created"
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
    assert ticket(ref).status is Status.ACKNOWLEDGED


def test_a_ticket_written_whose_answer_was_lost_is_found_by_the_retry(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, table: Faults
) -> None:
    # Given DynamoDB writes the ticket's transaction but every answer is lost
    table.fail("TransactWriteItems", faults.read_timeout, after_service=True)
    _, event = privacy_aws.receive(mail())
    with pytest.raises(TicketStoreUnavailable):
        invoke(event, context)
    assert len(privacy_aws.ticket_items()) == 1
    assert privacy_aws.sent() == []
    # When Lambda retries after the outage
    table.clear()
    ref, outcome = filed(invoke(event, context))
    # Then it finds the ticket by the SES messageId: still one ticket, one acknowledgement
    assert outcome == "redelivered"
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
    assert ticket(ref).acknowledgement.state is AckState.SENT


def test_a_lost_answer_retried_by_botocore_still_makes_one_ticket(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, table: Faults
) -> None:
    # Given the ticket's transaction is written but its first answer lost; botocore sends it again
    table.fail("TransactWriteItems", faults.connection_reset, times=1, after_service=True)
    _, event = privacy_aws.receive(mail())
    # When the message is filed
    ref, _ = filed(invoke(event, context))
    # Then the repeated transaction did not make a second ticket, and one acknowledgement went out
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
    assert ticket(ref).acknowledgement.state is AckState.SENT


def test_a_table_failure_after_the_ticket_was_written_is_finished_by_the_retry(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, table: Faults
) -> None:
    # Given the ticket is created, then reading it back for the acknowledgement fails on every attempt
    table.fail("GetItem", faults.THROUGHPUT_EXCEEDED, when=is_ticket_item)
    _, event = privacy_aws.receive(mail())
    with pytest.raises(TicketStoreUnavailable):
        invoke(event, context)
    assert len(privacy_aws.ticket_items()) == 1 and privacy_aws.sent() == []
    # When Lambda retries
    table.clear()
    ref, outcome = filed(invoke(event, context))
    # Then the retry sends the acknowledgement the first attempt owed: one ticket, one mail
    assert outcome == "redelivered"
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
    assert ticket(ref).status is Status.ACKNOWLEDGED


@pytest.mark.parametrize("failure", [faults.SLOW_DOWN, faults.read_timeout], ids=["SlowDown", "read timeout"])
def test_an_unreadable_inbox_fails_the_invocation_and_the_retry_files_the_mail(
    privacy_aws: PrivacyAws, context: Any, backoff: Backoff, failure: Failure
) -> None:
    # Given S3 fails to return the raw message the receipt rule stored
    inbox = Faults(s3_client()).fail("GetObject", failure)
    message_id, event = privacy_aws.receive(mail())
    with pytest.raises(InboxUnavailable):
        invoke(event, context)
    assert privacy_aws.ticket_items() == []
    assert f"inbox/{message_id}" in privacy_aws.raw_keys()
    # When Lambda retries after S3 recovers, the mail becomes one ticket
    inbox.clear()
    filed(invoke(event, context))
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1
