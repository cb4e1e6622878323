"""PrivacyFunction under moto: SES events in the documented shape, raw MIME in the inbox bucket,
tickets in DynamoDB, acknowledgements through SES."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from infra.local.gateway import LambdaContext

from ceip.privacy import app, ticket_table
from ceip.privacy.inbox import S3RawMailStore
from ceip.privacy.mailer import MailerUnavailable, SesMailer
from ceip.privacy.service import RequestRefused, TicketService
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.privacy.tickets import AckState, Hold, Status, Ticket
from tests.conftest import INBOX_BUCKET, PRIVACY_MAIL_FROM, TICKETS_TABLE
from tests.support.events import load_event
from tests.support.privacy import MAIL, RECEIVED, PrivacyAws, corpus, mail

GUID = "3f1c9a2e-5b7d-4c8e-9f21-6a4b8c0d2e7f"
VERDICTS = {
    "spam-fail.eml": ("FAIL", "PASS"),
    "virus-fail.eml": ("PASS", "FAIL"),
    "gray-verdict.eml": ("GRAY", "PASS"),
}
NEVER_ACKNOWLEDGED = {
    "auto-reply-out-of-office.eml": "auto-submitted",
    "bounce-mailer-daemon.eml": "auto-submitted",
    "precedence-bulk.eml": "precedence",
    "broken-headers.eml": "no-sender-address",
    "empty.eml": "no-sender-address",
    "no-headers-at-all.eml": "no-sender-address",
    "virus-fail.eml": "virus",
}


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("PrivacyFunction", timeout_seconds=60)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = app.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def store() -> DynamoTicketStore:
    return DynamoTicketStore(TICKETS_TABLE)


def service() -> TicketService:
    return TicketService(store(), SesMailer(), S3RawMailStore(INBOX_BUCKET), PRIVACY_MAIL_FROM)


def deliver(aws: PrivacyAws, context: Any, raw: bytes, **event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the handler's result, the event) for one message received by SES."""
    _, ses_event = aws.receive(raw, **event)
    return app.lambda_handler(ses_event, context), ses_event


def filed(result: dict[str, Any]) -> tuple[str, str]:
    ((entry),) = result["filed"]
    return entry["ref"], entry["outcome"]


def ticket(ref: str) -> Ticket:
    found = store().get(ref)
    assert found is not None
    return found


def test_the_documented_event_is_filed_with_deadlines_from_the_ses_timestamp(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # Given the event exactly as AWS documents it, and its raw message stored by the S3 action
    event = load_event("ses_inbound.json")
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    privacy_aws.store_raw(mail(body=f"Please delete the data of machine {GUID}."), message_id)
    # When the function runs (long after the mail arrived)
    ref, outcome = filed(app.lambda_handler(event, context))
    # Then the ticket's deadlines run from mail.timestamp (5 August 2019), not from now
    stored = ticket(ref)
    assert outcome == "created"
    assert stored.received_at == datetime(2019, 8, 5, 21, 30, 2, 28000, tzinfo=UTC)
    assert stored.deadlines.gdpr_due == date(2019, 9, 5)
    assert stored.deadlines.answer_due == date(2019, 9, 5)
    assert stored.guids == (GUID,)


def test_erasure_mail_becomes_an_erasure_ticket_with_its_guid_and_is_acknowledged(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # Given an e-mail asking to delete the data of a machine
    raw = mail(
        subject="Delete my data",
        body=f"Hello, please delete all data of my machine {GUID.upper()}. Thanks, Jane",
        message_id="request-1@mail.example.net",
    )
    # When SES delivers it
    result, _ = deliver(privacy_aws, context, raw)
    # Then the ticket is labelled erasure, carries the GUID and is acknowledged
    ref, outcome = filed(result)
    stored = ticket(ref)
    assert outcome == "created"
    assert stored.labels == ("erasure",)
    assert stored.guids == (GUID,)
    assert stored.status is Status.ACKNOWLEDGED
    assert stored.sender == "jane.doe@example.net"
    (sent,) = privacy_aws.sent()
    assert set(sent.to) == {"jane.doe@example.net"}
    assert sent.subject == f"[{ref}] We have received your privacy request"
    # with the answer deadline: one month after 16 November (GDPR governs, earlier than CCPA's 45 days)
    assert "16 December 2026 (2026-12-16)" in sent.text
    assert stored.deadlines.answer_due == date(2026, 12, 16)
    # threaded to the request, and marked so other responders do not answer it
    assert sent.message["In-Reply-To"] == "<request-1@mail.example.net>"
    assert sent.message["Auto-Submitted"] == "auto-replied"
    assert sent.message["From"] == f"CEIP Privacy <{PRIVACY_MAIL_FROM}>"
    # and the history says what happened, automatically, as `system`
    actions = [(h.actor, h.action) for h in store().history(ref)]
    assert actions == [
        ("system", "received"),
        ("system", "classified"),
        ("system", "status_changed"),
        ("system", "acknowledgement_sent"),
        ("system", "status_changed"),
    ]


ACK_SUBJECTS = {
    "en": "We have received your privacy request",
    "de": "Wir haben Ihre Datenschutzanfrage erhalten",
    "fr": "Nous avons bien reçu votre demande relative à vos données",
    "es": "Hemos recibido su solicitud de privacidad",
}
INQUIRIES = sorted(MAIL.glob("inquiry-*.eml"))


def test_inquiries_in_four_languages_are_classified_and_acknowledged_in_their_language(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # One moto session for all twenty (4 languages x 5 labels): each check names its file.
    assert len(INQUIRIES) == 20
    for path in INQUIRIES:
        _, language, label = path.stem.split("-")
        sent_before = len(privacy_aws.sent())
        # When the inquiry arrives
        ref, _ = filed(deliver(privacy_aws, context, path.read_bytes())[0])
        # Then it has its label and language, and the acknowledgement is in that language
        stored = ticket(ref)
        assert label in stored.labels, path.name
        assert stored.language == language, path.name
        (sent,) = privacy_aws.sent()[sent_before:]
        assert sent.subject == f"[{ref}] {ACK_SUBJECTS[language]}", path.name
        assert sent.message["Content-Language"] == language, path.name
        assert stored.deadlines.answer_due.isoformat() in sent.text, path.name


def test_every_corpus_message_yields_a_ticket_or_a_quarantine_entry_and_never_an_exception(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    refs: dict[str, str] = {}
    # When every message of the corpus arrives, with its SES verdicts
    for path in corpus():
        spam, virus = VERDICTS.get(path.name, ("PASS", "PASS"))
        ref, _ = filed(deliver(privacy_aws, context, path.read_bytes(), spam=spam, virus=virus)[0])
        refs[path.name] = ref
    # Then each has its own ticket, its raw message is kept, and machine mail is never acknowledged
    assert len(set(refs.values())) == len(refs) == len(privacy_aws.ticket_items())
    assert len(privacy_aws.raw_keys()) == len(refs)
    for name, ref in refs.items():
        stored = ticket(ref)
        assert stored.messages[0].key in privacy_aws.raw_keys()
        if name in NEVER_ACKNOWLEDGED:
            assert stored.acknowledgement.state is AckState.NOT_REQUIRED, name
            assert stored.acknowledgement.reason == NEVER_ACKNOWLEDGED[name], name
    assert ticket(refs["virus-fail.eml"]).status is Status.QUARANTINED
    assert ticket(refs["spam-fail.eml"]).status is Status.QUARANTINED
    assert (ticket(refs["gray-verdict.eml"]).status, ticket(refs["gray-verdict.eml"]).hold) == (
        Status.RECEIVED,
        Hold.REVIEW,
    )
    assert ticket(refs["missing-boundary.eml"]).messages[0].defects
    acknowledged = {s.to[0] for s in privacy_aws.sent()}
    assert "jane.doe@example.net" in acknowledged
    assert not acknowledged & {
        "news@shop.example.com",
        "mailer-daemon@mx.example.net",
        "winner@lottery.example",
    }


def test_virus_is_quarantined_never_acknowledged_and_never_released(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    ref, outcome = filed(
        deliver(privacy_aws, context, (MAIL / "virus-fail.eml").read_bytes(), virus="FAIL")[0]
    )
    assert outcome == "quarantined"
    assert ticket(ref).hold is Hold.VIRUS
    assert privacy_aws.sent() == []
    with pytest.raises(RequestRefused, match="virus"):
        service().release(ref, actor="ana", why="looks fine")
    with pytest.raises(RequestRefused, match="virus"):
        service().transition(ref, Status.TRIAGED, actor="ana")
    assert service().transition(ref, Status.CLOSED, actor="ana").status is Status.CLOSED
    assert privacy_aws.sent() == []


def test_spam_is_quarantined_until_a_human_releases_it_then_it_is_acknowledged(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    ref, outcome = filed(deliver(privacy_aws, context, mail(), spam="FAIL")[0])
    assert (outcome, ticket(ref).status, privacy_aws.sent()) == ("quarantined", Status.QUARANTINED, [])
    released = service().release(ref, actor="ana", why="a genuine request")
    assert released.status is Status.ACKNOWLEDGED
    assert len(privacy_aws.sent()) == 1
    assert [h.action for h in store().history(ref)][-4:] == [
        "released",
        "status_changed",
        "acknowledgement_sent",
        "status_changed",
    ]


@pytest.mark.parametrize("verdict", ["GRAY", "PROCESSING_FAILED"])
def test_gray_or_failed_scans_wait_for_a_human(privacy_aws: PrivacyAws, context: Any, verdict: str) -> None:
    ref, outcome = filed(deliver(privacy_aws, context, mail(), spam=verdict)[0])
    assert (outcome, ticket(ref).status, ticket(ref).hold) == ("held", Status.RECEIVED, Hold.REVIEW)
    assert privacy_aws.sent() == []
    service().release(ref, actor="ana", why="checked")
    assert ticket(ref).status is Status.ACKNOWLEDGED


def test_ses_retrying_the_same_message_creates_one_ticket_and_one_acknowledgement(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    result, event = deliver(privacy_aws, context, mail())
    again = app.lambda_handler(copy.deepcopy(event), context)
    assert filed(again) == (filed(result)[0], "redelivered")
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1


def test_the_same_message_id_delivered_twice_is_one_ticket_with_both_deliveries(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    raw = mail(message_id="same-1@mail.example.net")
    first, _ = deliver(privacy_aws, context, raw)
    second, _ = deliver(privacy_aws, context, raw)  # another SES messageId: sent to two of our addresses
    ref = filed(first)[0]
    assert filed(second) == (ref, "duplicate")
    assert len(privacy_aws.ticket_items()) == 1
    assert [m.kind for m in ticket(ref).messages if m.direction == "in"] == ["initial", "duplicate"]
    assert "duplicate_delivery" in [h.action for h in store().history(ref)]
    assert len(privacy_aws.sent()) == 1


def test_concurrent_deliveries_of_one_message_id_still_make_one_ticket(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a first delivery filed, and a second one that looked the Message-ID up before it was written
    raw = mail(message_id="race-1@mail.example.net")
    ref = filed(deliver(privacy_aws, context, raw)[0])[0]
    monkeypatch.setattr(DynamoTicketStore, "ref_for_message_id", lambda self, message_id: None)
    # When the second one tries to create its ticket
    second, _ = deliver(privacy_aws, context, raw)
    # Then the conditional write refuses a second ticket and the delivery is filed on the first
    assert filed(second) == (ref, "duplicate")
    assert len(privacy_aws.ticket_items()) == 1


def test_concurrent_redelivery_of_one_ses_message_still_makes_one_ticket(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, event = deliver(privacy_aws, context, mail())
    monkeypatch.setattr(DynamoTicketStore, "ref_for_ses_message", lambda self, ses_message_id: None)
    monkeypatch.setattr(DynamoTicketStore, "ref_for_message_id", lambda self, message_id: None)
    again = app.lambda_handler(copy.deepcopy(event), context)
    assert filed(again) == (filed(result)[0], "redelivered")
    assert len(privacy_aws.ticket_items()) == 1


def test_a_reply_with_in_reply_to_joins_its_ticket(privacy_aws: PrivacyAws, context: Any) -> None:
    ref = filed(deliver(privacy_aws, context, mail(message_id="orig-1@mail.example.net"))[0])[0]
    reply = mail(subject="Re: more", body=f"Also machine {GUID}.", in_reply_to="<orig-1@mail.example.net>")
    assert filed(deliver(privacy_aws, context, reply)[0]) == (ref, "joined")
    assert ticket(ref).guids == (GUID,)
    assert len(privacy_aws.ticket_items()) == 1
    assert len(privacy_aws.sent()) == 1  # a reply is not acknowledged again


def test_a_reply_to_our_acknowledgement_joins_by_references(privacy_aws: PrivacyAws, context: Any) -> None:
    ref = filed(deliver(privacy_aws, context, mail())[0])[0]
    (ack,) = privacy_aws.sent()
    # SES gives the sent message the Message-ID <messageId@email.amazonses.com>
    reply = mail(
        subject="Re: your mail", references=f"<other@x.example> <{ack.ses_message_id}@email.amazonses.com>"
    )
    assert filed(deliver(privacy_aws, context, reply)[0]) == (ref, "joined")


def test_a_reference_in_the_subject_joins_only_from_the_same_sender(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    ref = filed(deliver(privacy_aws, context, mail(sender="jane.doe@example.net"))[0])[0]
    same = mail(sender="Jane.Doe@Example.net", subject=f"Re: [{ref}] one more thing")
    other = mail(sender="mallory@example.org", subject=f"[{ref}] please delete")
    assert filed(deliver(privacy_aws, context, same)[0]) == (ref, "joined")
    other_ref, outcome = filed(deliver(privacy_aws, context, other)[0])
    # another sender's reply opens its own ticket, which names the one it claimed
    assert (outcome, other_ref != ref) == ("linked", True)
    assert ticket(other_ref).claimed_ref == ref


def test_a_reply_reopens_a_closed_ticket_but_an_auto_reply_does_not(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    ref = filed(deliver(privacy_aws, context, mail(message_id="c-1@mail.example.net"))[0])[0]
    tickets = service()
    tickets.transition(ref, Status.RESOLVED, actor="ana", why="answered")
    tickets.transition(ref, Status.CLOSED, actor="ana")
    # An out-of-office answer to our mail is filed but changes nothing
    auto = mail(in_reply_to="<c-1@mail.example.net>", extra={"Auto-Submitted": "auto-replied"})
    assert filed(deliver(privacy_aws, context, auto)[0]) == (ref, "joined")
    assert ticket(ref).status is Status.CLOSED
    # The requester writing back reopens it
    reply = mail(in_reply_to="<c-1@mail.example.net>", body="You did not answer my question.")
    assert filed(deliver(privacy_aws, context, reply)[0]) == (ref, "joined")
    reopened = ticket(ref)
    assert reopened.status is Status.IN_PROGRESS and reopened.closed_at is None
    last = store().history(ref)[-1]
    assert (last.actor, last.details, last.why) == (
        "system",
        {"from": "closed", "to": "in_progress"},
        "the requester replied",
    )


def test_a_ticket_store_failure_raises_for_a_retry_that_then_makes_exactly_one_ticket(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB refuses the first transaction
    client = ticket_table.dynamodb_client()
    real = client.transact_write_items
    failures = [
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")
    ]

    def flaky(**kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", flaky)
    _, event = privacy_aws.receive(mail())
    # When SES invokes the function, it fails (so Lambda retries the asynchronous event)
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        app.lambda_handler(copy.deepcopy(event), context)
    assert privacy_aws.ticket_items() == [] and privacy_aws.sent() == []
    # And the retry files exactly one ticket, acknowledged once
    ref, outcome = filed(app.lambda_handler(copy.deepcopy(event), context))
    assert outcome == "created"
    assert len(privacy_aws.ticket_items()) == 1 and len(privacy_aws.sent()) == 1
    assert ticket(ref).status is Status.ACKNOWLEDGED


def test_a_failed_acknowledgement_keeps_the_ticket_and_the_daily_run_sends_it(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # Given SES refuses to send (the sender identity is not verified)
    ses = boto3.client("ses", region_name="us-east-1")
    ses.delete_identity(Identity="example.com")
    # When a request arrives
    ref, outcome = filed(deliver(privacy_aws, context, mail())[0])
    # Then the ticket is kept, triaged, its acknowledgement failed and visible
    stored = ticket(ref)
    assert (outcome, stored.status, stored.acknowledgement.state) == (
        "created",
        Status.TRIAGED,
        AckState.FAILED,
    )
    assert stored.acknowledgement.reason == "MessageRejected"
    assert "acknowledgement_failed" in [h.action for h in store().history(ref)]
    # And once SES works again, the daily run sends it
    ses.verify_domain_identity(Domain="example.com")
    result = app.lambda_handler(load_event("privacy_daily_schedule.json"), context)
    assert result["acknowledged"] == 1
    assert ticket(ref).status is Status.ACKNOWLEDGED
    assert len(privacy_aws.sent()) == 1
    # A second daily run has nothing left to send
    assert app.lambda_handler(load_event("privacy_daily_schedule.json"), context)["acknowledged"] == 0


def test_an_acknowledgement_failure_is_retried_on_redelivery(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: SesMailer, raw: bytes, *, source: str, destination: str) -> str:
        raise MailerUnavailable("Throttling")

    with monkeypatch.context() as patched:
        patched.setattr(SesMailer, "send", refuse)
        result, event = deliver(privacy_aws, context, mail())
    ref = filed(result)[0]
    assert ticket(ref).acknowledgement.attempts == 1
    app.lambda_handler(copy.deepcopy(event), context)
    assert ticket(ref).acknowledgement.state is AckState.SENT
    assert ticket(ref).acknowledgement.attempts == 2


def test_the_daily_run_redacts_tickets_closed_longer_than_the_retention(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    old_ref = filed(deliver(privacy_aws, context, mail(body=f"delete {GUID}"))[0])[0]
    recent_ref = filed(deliver(privacy_aws, context, mail())[0])[0]
    long_ago = datetime.now(UTC) - timedelta(days=400)
    for ref, at in ((old_ref, long_ago), (recent_ref, datetime.now(UTC) - timedelta(days=3))):
        tickets = TicketService(
            store(), SesMailer(), S3RawMailStore(INBOX_BUCKET), PRIVACY_MAIL_FROM, clock=lambda at=at: at
        )
        tickets.transition(ref, Status.FULFILLED, actor="ana")
        tickets.transition(ref, Status.CLOSED, actor="ana")
    old_key = ticket(old_ref).messages[0].key
    # When the daily run goes
    result = app.lambda_handler({"action": "retention"}, context)
    # Then only the long-closed ticket loses its raw message, sender and GUIDs; its record stays
    assert result["redacted"] == 1
    redacted = ticket(old_ref)
    assert old_key not in privacy_aws.raw_keys()
    assert (redacted.sender, redacted.guids, redacted.status) == ("[redacted]", (), Status.CLOSED)
    assert redacted.labels == ("erasure",)
    assert store().history(old_ref)[-1].action == "redacted"
    assert ticket(recent_ref).sender == "jane.doe@example.net"
    assert ticket(recent_ref).messages[0].key in privacy_aws.raw_keys()
    # and a second run does not redact again
    assert app.lambda_handler({"action": "retention"}, context)["redacted"] == 0


def test_logs_and_metrics_carry_no_address_subject_body_guid_or_ip(
    privacy_aws: PrivacyAws, context: Any, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given requests whose headers carry a client IP, with a sender address, subject and GUID
    raw = mail(
        sender="canary.person@example.net",
        subject="Canary subject line",
        body=f"Canary body text, machine {GUID}",
        extra={"Received": "from client (client [198.51.100.23]) by mx"},
    )
    deliver(privacy_aws, context, raw)
    deliver(privacy_aws, context, raw, spam="FAIL")
    # Then the logs and metrics name tickets and outcomes only
    output = logs.getvalue() + capsys.readouterr().out
    assert "message_filed" in output and "TicketsCreated" in output
    for secret in ("canary.person", "Canary subject", "Canary body", GUID, "198.51.100.23", "203.0.113"):
        assert secret not in output


def test_a_missing_raw_message_fails_the_invocation_so_it_is_retried(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    _, event = privacy_aws.receive(mail())
    key = f"inbox/{event['Records'][0]['ses']['mail']['messageId']}"
    privacy_aws.s3.delete_object(Bucket=INBOX_BUCKET, Key=key)
    with pytest.raises(app.RawMessageMissing):
        app.lambda_handler(event, context)
    assert privacy_aws.ticket_items() == []


def test_unknown_events_are_refused(privacy_aws: PrivacyAws, context: Any) -> None:
    with pytest.raises(ValueError, match="SES receipt events"):
        app.lambda_handler({"detail-type": "Scheduled Event"}, context)
    with pytest.raises(ValueError):
        app.lambda_handler({"action": "purge"}, context)
    broken = load_event("ses_inbound.json")
    broken["Records"][0]["ses"]["mail"]["messageId"] = "../../etc"
    with pytest.raises(ValueError):
        app.lambda_handler(broken, context)


def test_deliver_builds_the_documented_event_shape() -> None:
    # The local stand-in for SES must send what SES sends
    from ceip.privacy.ses_event import receipt_event

    documented = load_event("ses_inbound.json")
    built = receipt_event(
        mail(), message_id="abc", received_at=RECEIVED, recipient=PRIVACY_MAIL_FROM, function_arn="arn:x"
    )

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items() if k not in ("cc", "bcc", "replyTo")}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__

    assert shape(built) == shape(documented)
    assert json.dumps(built)


def test_a_flood_of_replies_does_not_outgrow_the_ticket(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ceip.privacy import intake

    monkeypatch.setattr(intake, "MAX_THREAD_MESSAGES", 3)
    ref = filed(deliver(privacy_aws, context, mail(message_id="flood-0@mail.example.net"))[0])[0]
    for n in range(4):
        reply = mail(in_reply_to="<flood-0@mail.example.net>", message_id=f"flood-{n + 1}@mail.example.net")
        assert filed(deliver(privacy_aws, context, reply)[0]) == (ref, "joined")
    assert len(ticket(ref).messages) == 3
    assert [h.action for h in store().history(ref)].count("reply_received") == 4
