"""Mail that cannot act by forgery, under moto: SES events in their real shapes (tests/events), raw
MIME in the inbox bucket, tickets in DynamoDB, what SES was asked to send."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from benchmarks.workloads import mime_messages
from infra.local.gateway import LambdaContext

from ceip.privacy import app
from ceip.privacy.allowance import Caps, DynamoAllowance, MemoryAllowance, expires_at
from ceip.privacy.inbox import S3RawMailStore
from ceip.privacy.mailer import SesMailer
from ceip.privacy.service import RequestRefused, TicketService
from ceip.privacy.settings import privacy_settings
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.privacy.tickets import AckState, Status, Ticket
from tests.conftest import INBOX_BUCKET, PRIVACY_MAIL_FROM, TICKETS_TABLE
from tests.support.events import load_event
from tests.support.privacy import MAIL, PrivacyAws, mail

AUTHENTICATED = {"dmarc": "PASS"}


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("PrivacyFunction", timeout_seconds=60)


def store() -> DynamoTicketStore:
    return DynamoTicketStore(TICKETS_TABLE)


def service() -> TicketService:
    return TicketService(store(), SesMailer(), S3RawMailStore(INBOX_BUCKET), PRIVACY_MAIL_FROM)


def ticket(ref: str) -> Ticket:
    found = store().get(ref)
    assert found is not None
    return found


def filed(result: dict[str, Any]) -> tuple[str, str]:
    ((entry),) = result["filed"]
    return entry["ref"], entry["outcome"]


def deliver(aws: PrivacyAws, context: Any, raw: bytes, **event: Any) -> tuple[str, str]:
    _, ses_event = aws.receive(raw, **event)
    return filed(app.lambda_handler(ses_event, context))


def deliver_recorded(aws: PrivacyAws, context: Any, event_name: str, raw: bytes) -> tuple[str, str]:
    """A recorded event from tests/events, with its raw message stored as the S3 action would."""
    event = load_event(event_name)
    aws.store_raw(raw, event["Records"][0]["ses"]["mail"]["messageId"])
    return filed(app.lambda_handler(event, context))


def caps(monkeypatch: pytest.MonkeyPatch, *, per_sender: int, total: int) -> None:
    monkeypatch.setenv("PRIVACY_AUTOMATIC_MAIL_PER_SENDER", str(per_sender))
    monkeypatch.setenv("PRIVACY_AUTOMATIC_MAIL_PER_DAY", str(total))
    privacy_settings.cache_clear()


# ---------------------------------------------------------------- authentication
def test_a_forged_from_with_dmarc_fail_gets_no_mail_and_waits_unverified_for_a_person(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # Given a message claiming to be from victim@victim.example, sent by another domain: DMARC FAIL
    raw = mail(sender="Victim <victim@victim.example>", message_id="forged-1@mailer.attacker.example")
    # When SES delivers it
    ref, outcome = deliver_recorded(privacy_aws, context, "ses_inbound_forged_from.json", raw)
    # Then it is a ticket, marked unverified, and nothing was sent to the victim
    stored = ticket(ref)
    assert outcome == "created"
    assert (stored.sender_verified, stored.authentication) == (False, "dmarc-fail")
    assert (stored.acknowledgement.state, stored.acknowledgement.reason) == (
        AckState.BY_PERSON,
        "unverified-sender",
    )
    assert stored.status is Status.TRIAGED
    assert privacy_aws.sent() == []
    # and the daily run does not send it either
    assert app.lambda_handler(load_event("privacy_daily_schedule.json"), context)["acknowledged"] == 0
    assert privacy_aws.sent() == []
    # but a person who checked it can acknowledge it, recorded under their name
    acknowledged = service().acknowledge(ref, actor="ana")
    assert acknowledged.status is Status.ACKNOWLEDGED
    (sent,) = privacy_aws.sent()
    assert set(sent.to) == {"victim@victim.example"}
    assert ("ana", "acknowledgement_sent") in [(h.actor, h.action) for h in store().history(ref)]


def test_dmarc_pass_is_acknowledged_automatically(privacy_aws: PrivacyAws, context: Any) -> None:
    ref, _ = deliver(privacy_aws, context, mail(), dmarc="PASS", spf="FAIL", dkim="PASS")
    stored = ticket(ref)
    assert (stored.sender_verified, stored.authentication) == (True, "dmarc")
    assert stored.status is Status.ACKNOWLEDGED
    assert len(privacy_aws.sent()) == 1


@pytest.mark.parametrize(
    ("verdicts", "source", "verified", "basis"),
    [
        # No DMARC policy: SPF and DKIM pass, and the envelope domain is the From domain (or a parent)
        ({"dmarc": "GRAY"}, "jane.doe@example.net", True, "spf+dkim"),
        ({"dmarc": "GRAY"}, "bounces@mail.example.net", True, "spf+dkim"),
        # SPF passed for someone else's domain: it says nothing about the From address
        ({"dmarc": "GRAY"}, "bounce@attacker.example", False, "spf-not-aligned"),
        ({"dmarc": "GRAY", "dkim": "FAIL"}, "jane.doe@example.net", False, "no-dmarc-spf-pass-dkim-fail"),
        ({"dmarc": "PROCESSING_FAILED"}, "jane.doe@example.net", False, "dmarc-processing_failed"),
    ],
)
def test_without_dmarc_spf_and_dkim_must_both_pass_with_spf_aligned(
    privacy_aws: PrivacyAws,
    context: Any,
    verdicts: dict[str, str],
    source: str,
    verified: bool,
    basis: str,
) -> None:
    ref, _ = deliver(privacy_aws, context, mail(sender="jane.doe@example.net"), source=source, **verdicts)
    stored = ticket(ref)
    assert (stored.sender_verified, stored.authentication) == (verified, basis)
    assert len(privacy_aws.sent()) == (1 if verified else 0)


def test_two_from_addresses_are_never_authenticated(privacy_aws: PrivacyAws, context: Any) -> None:
    raw = mail(sender="jane.doe@example.net, boss@victim.example")
    ref, _ = deliver(privacy_aws, context, raw, **AUTHENTICATED)
    assert (ticket(ref).sender_verified, ticket(ref).authentication) == (False, "no-single-from")
    assert privacy_aws.sent() == []


# ---------------------------------------------------------------- list and robot mail
def test_a_mailman_digest_gets_no_mail_and_no_objection_label(privacy_aws: PrivacyAws, context: Any) -> None:
    # Given a Mailman digest (from *-request@, X-Mailman-Version) whose footer talks of objecting
    raw = (MAIL / "mailman-digest.eml").read_bytes()
    # When SES delivers it (authenticated: lists sign their mail)
    ref, outcome = deliver_recorded(privacy_aws, context, "ses_inbound_mailman_digest.json", raw)
    # Then nothing is sent, and it is list mail, not an objection
    stored = ticket(ref)
    assert outcome == "created"
    assert privacy_aws.sent() == []
    assert stored.automatic == "mailing-list"
    assert stored.acknowledgement.state is AckState.NOT_REQUIRED
    assert stored.labels == ("other",)
    assert "objection" not in [s.label for s in stored.scores]


@pytest.mark.parametrize(
    ("sender", "extra", "reason"),
    [
        ("announce-request@lists.example.org", {}, "list-address"),
        ("owner-announce@lists.example.org", {}, "list-address"),
        ("announce-bounces@lists.example.org", {}, "list-address"),
        ("jane.doe@example.net", {"Sender": "announce-bounces@lists.example.org"}, "list-address"),
        ("jane.doe@example.net", {"List-Archive": "<https://lists.example.org/a>"}, "mailing-list"),
        ("jane.doe@example.net", {"X-Mailman-Version": "3.3.8"}, "mailing-list"),
    ],
)
def test_list_and_robot_senders_get_no_mail(
    privacy_aws: PrivacyAws, context: Any, sender: str, extra: dict[str, str], reason: str
) -> None:
    raw = mail(sender=sender, extra=extra, body="Please delete my data, or unsubscribe me.")
    ref, _ = deliver(privacy_aws, context, raw, source=sender, **AUTHENTICATED)
    assert ticket(ref).automatic == reason
    assert privacy_aws.sent() == []


# ---------------------------------------------------------------- daily caps
def test_past_the_per_sender_cap_the_ticket_says_why_it_got_no_mail(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given at most two automatic messages per sender and day
    caps(monkeypatch, per_sender=2, total=100)
    # When one address writes three times, and another once
    refs = [deliver(privacy_aws, context, mail(), **AUTHENTICATED)[0] for _ in range(3)]
    other = deliver(privacy_aws, context, mail(sender="sam@example.org"), **AUTHENTICATED)[0]
    # Then the third gets no acknowledgement and says why; the other sender is not affected
    assert [ticket(r).acknowledgement.state for r in refs] == [
        AckState.SENT,
        AckState.SENT,
        AckState.BY_PERSON,
    ]
    assert ticket(refs[2]).acknowledgement.reason == "sender-daily-cap"
    assert store().history(refs[2])[-1].details == {"cap": "sender-daily-cap"}
    assert ticket(other).acknowledgement.state is AckState.SENT
    assert sorted(s.to[0] for s in privacy_aws.sent()) == ["jane.doe@example.net"] * 2 + ["sam@example.org"]
    # and neither SES retrying the event nor the daily run sends it
    assert app.lambda_handler(load_event("privacy_daily_schedule.json"), context)["acknowledged"] == 0
    assert len(privacy_aws.sent()) == 3


def test_past_the_global_cap_nobody_gets_automatic_mail(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps(monkeypatch, per_sender=5, total=2)
    senders = ["a@example.org", "b@example.org", "c@example.org"]
    refs = [deliver(privacy_aws, context, mail(sender=s), **AUTHENTICATED)[0] for s in senders]
    assert [ticket(r).acknowledgement.reason for r in refs][2] == "daily-cap"
    assert len(privacy_aws.sent()) == 2
    # A person can still acknowledge it
    service().acknowledge(refs[2], actor="ana")
    assert len(privacy_aws.sent()) == 3


def test_unverified_mail_takes_nothing_from_the_caps(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A flood of forged mail must not use up the allowance of genuine senders
    caps(monkeypatch, per_sender=1, total=1)
    for _ in range(3):
        deliver(privacy_aws, context, mail(sender="x@victim.example"), dmarc="FAIL")
    ref, _ = deliver(privacy_aws, context, mail(), **AUTHENTICATED)
    assert ticket(ref).acknowledgement.state is AckState.SENT


# ---------------------------------------------------------------- replies
def test_a_reply_from_another_sender_opens_a_linked_ticket(privacy_aws: PrivacyAws, context: Any) -> None:
    # Given Jane's ticket
    ref, _ = deliver(privacy_aws, context, mail(message_id="orig-9@mail.example.net"), **AUTHENTICATED)
    # When someone else, authenticated as themselves, replies with its reference and its message id
    other = mail(
        sender="mallory@example.org",
        subject=f"Re: [{ref}] also send me everything",
        in_reply_to="<orig-9@mail.example.net>",
    )
    new_ref, outcome = deliver(privacy_aws, context, other, **AUTHENTICATED)
    # Then the reply opens a new ticket that names the claimed one, and Jane's ticket is untouched
    assert outcome == "linked" and new_ref != ref
    assert ticket(new_ref).claimed_ref == ref
    claim = next(h for h in store().history(new_ref) if h.action == "claimed_thread")
    assert claim.details == {"claimed_ref": ref, "reason": "sender-not-requester"}
    assert len(ticket(ref).messages) == 2  # the request and our acknowledgement
    assert "reply_received" not in [h.action for h in store().history(ref)]


def test_a_reply_with_the_requesters_address_but_no_authentication_is_not_attached(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    ref, _ = deliver(privacy_aws, context, mail(message_id="orig-8@mail.example.net"), **AUTHENTICATED)
    forged = mail(subject=f"Re: [{ref}]", in_reply_to="<orig-8@mail.example.net>")
    new_ref, outcome = deliver(privacy_aws, context, forged, dmarc="FAIL")
    assert outcome == "linked"
    assert (ticket(new_ref).claimed_ref, ticket(new_ref).sender_verified) == (ref, False)
    reason = next(h for h in store().history(new_ref) if h.action == "claimed_thread").details["reason"]
    assert reason == "sender-not-authenticated"
    # nobody is mailed about the forged reply
    assert len(privacy_aws.sent()) == 1


def test_an_authenticated_reply_from_the_requester_joins(privacy_aws: PrivacyAws, context: Any) -> None:
    ref, _ = deliver(privacy_aws, context, mail(), **AUTHENTICATED)
    reply = mail(sender="Jane.Doe@Example.net", subject=f"Re: [{ref.lower()}] one more thing")
    assert deliver(privacy_aws, context, reply, **AUTHENTICATED) == (ref, "joined")


def test_an_old_short_reference_still_attaches(privacy_aws: PrivacyAws, context: Any) -> None:
    # Given a ticket filed before references grew (CEIP-XXXX)
    new, _ = deliver(privacy_aws, context, mail(), **AUTHENTICATED)
    legacy = ticket(new).model_copy(update={"ref": "CEIP-7F3K", "version": 0})
    store().create(legacy, [])
    # When its requester replies with the short reference in the subject
    reply = mail(subject="Re: [CEIP-7F3K] any news?")
    # Then the reply joins it, and the team can still name it by its short reference
    assert deliver(privacy_aws, context, reply, **AUTHENTICATED) == ("CEIP-7F3K", "joined")
    assert service().get("ceip-7f3k").ref == "CEIP-7F3K"


def test_new_references_are_long_and_a_mistyped_one_is_refused(privacy_aws: PrivacyAws, context: Any) -> None:
    ref, _ = deliver(privacy_aws, context, mail(), **AUTHENTICATED)
    assert len(ref) == len("CEIP-XXXXX-XXXXX-XXXXX")
    typo = ref[:-1] + ("0" if ref[-1] != "0" else "1")
    with pytest.raises(ValueError, match="not a ticket reference"):
        service().get(typo)
    with pytest.raises(RequestRefused):
        service().acknowledge(ref, actor="ana")  # already acknowledged: nothing owed


# ---------------------------------------------------------------- parsing limits
def many_parts(count: int) -> bytes:
    head = (
        b"From: jane.doe@example.net\r\nTo: privacy@example.com\r\nSubject: Please delete my data\r\n"
        b"Message-ID: <parts-1@mail.example.net>\r\nMIME-Version: 1.0\r\n"
    )
    return mime_messages.multipart(count, head=head)


def test_a_50k_part_message_becomes_a_ticket_with_a_defect_well_inside_the_timeout(
    privacy_aws: PrivacyAws, context: Any
) -> None:
    # Given 50,000 tiny parts (1.7 MB), which took the email package about 60 s in Lambda
    raw = many_parts(50_000)
    assert len(raw) > 1_700_000
    # When SES delivers it
    started = time.perf_counter()
    ref, outcome = deliver(privacy_aws, context, raw, **AUTHENTICATED)
    elapsed = time.perf_counter() - started
    # Then it is a ticket, read from its headers, with the stable defect code, in a fraction of 60 s
    stored = ticket(ref)
    assert outcome == "created"
    assert elapsed < 5, elapsed
    assert stored.messages[0].defects == ("TooManyMimeParts",)
    assert (stored.sender, stored.labels) == ("jane.doe@example.net", ("erasure",))
    received = store().history(ref)[0]
    assert received.details["defects"] == ["TooManyMimeParts"]


def test_a_message_over_the_size_limit_is_filed_from_its_headers(
    privacy_aws: PrivacyAws, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVACY_MAX_MESSAGE_BYTES", str(64 * 1024))
    privacy_settings.cache_clear()
    raw = mail(subject="Access request", body="x" * 70_000)
    ref, _ = deliver(privacy_aws, context, raw, **AUTHENTICATED)
    assert ticket(ref).messages[0].defects == ("MessageTooLarge",)
    assert ticket(ref).labels == ("access",)
    # the raw message is kept whole for the team
    key = ticket(ref).messages[0].key
    assert key is not None and S3RawMailStore(INBOX_BUCKET).get(key) == raw


def test_the_dynamodb_counters_answer_as_their_twin_and_expire_unlike_tickets(
    privacy_aws: PrivacyAws,
) -> None:
    # Given the same sequence of automatic messages against DynamoDB and the in-memory twin
    dynamo, twin = DynamoAllowance(TICKETS_TABLE), MemoryAllowance()
    limits = Caps(per_sender=2, total=3)
    day = date(2026, 11, 16)
    sequence = ["a@example.net", "a@example.net", "a@example.net", "b@example.net", "c@example.net"]
    # Then both refuse the same messages for the same cap
    answers = [(dynamo.take(s, day, limits), twin.take(s, day, limits)) for s in sequence]
    assert (
        [d for d, _ in answers]
        == [t for _, t in answers]
        == [None, None, "sender-daily-cap", None, "daily-cap"]
    )
    # and the counters hold no address, carry a TTL two days after their day; tickets carry none
    items = privacy_aws.dynamodb.scan(TableName=TICKETS_TABLE)["Items"]
    counters = [i for i in items if i["pk"]["S"].startswith("CAP#")]
    assert len(counters) == 3
    assert all(i["expires_at"]["N"] == str(expires_at(day)) for i in counters)
    assert expires_at(day) == int(datetime(2026, 11, 18, tzinfo=UTC).timestamp())
    assert not any("example.net" in str(i) for i in counters)


def test_tickets_and_history_never_carry_the_ttl_attribute(privacy_aws: PrivacyAws, context: Any) -> None:
    deliver(privacy_aws, context, mail(), **AUTHENTICATED)
    items = privacy_aws.dynamodb.scan(TableName=TICKETS_TABLE)["Items"]
    assert any(i["pk"]["S"].startswith("CAP#") for i in items)
    assert all("expires_at" not in i for i in items if not i["pk"]["S"].startswith("CAP#"))
