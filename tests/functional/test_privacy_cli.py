"""`ceip privacy ...` in-process against moto: the privacy team's commands and what they record."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from infra.local.gateway import LambdaContext

from ceip.cli import main
from ceip.privacy import app
from ceip.privacy.deadlines import add_months
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.privacy.tickets import Status, Ticket
from tests.conftest import TICKETS_TABLE
from tests.support.identities import act_as, principal_of
from tests.support.privacy import PrivacyAws, mail

NOW = datetime.now(UTC)
GUID = "9b2e4f6a-8c1d-4e3f-a5b7-c9d1e3f5a7b9"
ANA = principal_of("ana")
"""Who the CLI records: the verified principal of the person running it, never a typed name."""


@pytest.fixture(autouse=True)
def as_ana(privacy_aws: PrivacyAws, monkeypatch: pytest.MonkeyPatch) -> str:
    return act_as(monkeypatch, "ana")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["privacy", *args])
    out, err = capsys.readouterr()
    return code, out, err


def receive(aws: PrivacyAws, raw: bytes, *, days_ago: float = 0, **event: Any) -> str:
    _, ses_event = aws.receive(raw, received_at=NOW - timedelta(days=days_ago), **event)
    result = app.lambda_handler(ses_event, LambdaContext("PrivacyFunction", 60))
    ref: str = result["filed"][0]["ref"]
    return ref


def ticket(ref: str) -> Ticket:
    found = DynamoTicketStore(TICKETS_TABLE).get(ref)
    assert found is not None
    return found


def history(ref: str) -> list[Any]:
    return DynamoTicketStore(TICKETS_TABLE).history(ref)


@pytest.fixture
def inbox(privacy_aws: PrivacyAws, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Three tickets: an erasure from today, an access request from 40 days ago, a question from 2 days."""
    refs = {
        "erasure": receive(privacy_aws, mail(body=f"Please delete the data of machine {GUID}.")),
        "access": receive(
            privacy_aws, mail(subject="Access", body="Send me a copy of my personal data."), days_ago=40
        ),
        "question": receive(
            privacy_aws, mail(subject="Question", body="How do you use the reports?"), days_ago=2
        ),
    }
    capsys.readouterr()  # the function's own log lines
    return refs


def test_list_shows_open_tickets_nearest_deadline_first(inbox: dict[str, str], capsys: Any) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["REF", "STATUS", "LABELS"]
    assert [line.split()[0] for line in lines[1:]] == [inbox["access"], inbox["question"], inbox["erasure"]]
    assert "OVERDUE" in lines[1] and "OVERDUE" not in lines[3]


def test_list_json_and_filters(inbox: dict[str, str], capsys: Any) -> None:
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [t["ref"] for t in listed] == [inbox["access"], inbox["question"], inbox["erasure"]]
    assert listed[0]["overdue"] is True and listed[0]["labels"] == ["access"]

    def refs(*args: str) -> list[str]:
        return [t["ref"] for t in json.loads(run(capsys, "list", "--json", *args)[1])]

    assert refs("--label", "erasure") == [inbox["erasure"]]
    assert refs("--overdue") == [inbox["access"]]
    soon = (date.today() + timedelta(days=29)).isoformat()
    assert refs("--due-before", soon) == [inbox["access"], inbox["question"]]
    assert refs("--status", "closed") == []
    assert refs("--unacknowledged") == []
    run(capsys, "assign", inbox["question"], "--to", "ben")
    assert refs("--assignee", "ben") == [inbox["question"]]


def test_show_prints_the_ticket_its_history_and_its_message_text(inbox: dict[str, str], capsys: Any) -> None:
    code, out, _ = run(capsys, "show", inbox["erasure"].lower())
    assert code == 0
    assert out.startswith(f"{inbox['erasure']}  acknowledged  (email")
    assert f"guids:         {GUID}" in out
    assert "acknowledgement_sent" in out and "system" in out
    assert f"Please delete the data of machine {GUID}." in out
    code, out, _ = run(capsys, "show", inbox["erasure"], "--json")
    shown = json.loads(out)
    assert shown["guids"] == [GUID]
    assert [h["action"] for h in shown["history"]][:2] == ["received", "classified"]
    assert shown["thread"][0]["text"].startswith("Please delete the data")


def test_unknown_or_malformed_references_are_clear_errors(privacy_aws: PrivacyAws, capsys: Any) -> None:
    assert run(capsys, "show", "CEIP-ZZZZ")[1:] == ("", "ceip: no ticket CEIP-ZZZZ\n")
    code, _, err = run(capsys, "show", "hello")
    assert code == 1 and "not a ticket reference" in err


def test_assign_label_override_and_note_are_recorded_with_actor_and_reason(
    inbox: dict[str, str], capsys: Any
) -> None:
    ref = inbox["question"]
    assert run(capsys, "assign", ref, "--to", "ben", "--why", "knows telemetry")[0] == 0
    assert run(capsys, "label", ref, "--set", "complaint,question", "--why", "reads like a complaint")[0] == 0
    assert run(capsys, "note", ref, "Called the requester back.")[0] == 0
    stored = ticket(ref)
    assert (stored.assignee, stored.labels, stored.labels_by) == ("ben", ("complaint", "question"), ANA)
    entries = history(ref)[-3:]
    assert [(e.actor, e.action, e.why) for e in entries] == [
        (ANA, "assigned", "knows telemetry"),
        (ANA, "labels_overridden", "reads like a complaint"),
        (ANA, "note", "Called the requester back."),
    ]
    assert entries[1].details == {"from": ["question"], "to": ["complaint", "question"]}
    # An override needs a reason
    with pytest.raises(SystemExit):
        main(["privacy", "label", ref, "--set", "other"])


def test_jurisdiction_changes_the_governing_deadline(inbox: dict[str, str], capsys: Any) -> None:
    ref = inbox["erasure"]
    before = ticket(ref).deadlines
    assert before.governed_by == "gdpr"
    code, out, _ = run(capsys, "label", ref, "--jurisdiction", "california", "--why", "lives in San Diego")
    after = ticket(ref).deadlines
    assert code == 0 and after.governed_by == "ccpa" and after.gdpr_due is None
    assert after.answer_due == before.ccpa_due
    assert f"answer due {after.answer_due.isoformat()}" in out


def test_transitions_follow_the_table_and_illegal_ones_are_refused_clearly(
    inbox: dict[str, str], capsys: Any
) -> None:
    ref = inbox["access"]
    code, _, err = run(capsys, "transition", ref, "close")
    assert code == 1
    assert f"{ref}: cannot go from acknowledged to closed" in err
    code, _, err = run(capsys, "transition", ref, "deny")
    assert code == 1 and "reason code" in err
    assert (
        run(capsys, "transition", ref, "deny", "--reason-code", "identity_unverified", "--why", "no reply")[0]
        == 0
    )
    assert run(capsys, "transition", ref, "close")[0] == 0
    stored = ticket(ref)
    assert (stored.status, stored.deny_reason) == (Status.CLOSED, "identity_unverified")
    assert run(capsys, "transition", ref, "reopen", "--why", "new evidence")[0] == 0
    assert ticket(ref).status is Status.IN_PROGRESS


def test_duplicate_needs_an_existing_original(inbox: dict[str, str], capsys: Any) -> None:
    code, _, err = run(capsys, "transition", inbox["question"], "duplicate", "--of", "CEIP-ZZZZ")
    assert code == 1 and "no ticket CEIP-ZZZZ" in err
    assert run(capsys, "transition", inbox["question"], "duplicate", "--of", inbox["erasure"])[0] == 0
    assert ticket(inbox["question"]).duplicate_of == inbox["erasure"]


def test_reply_sends_a_templated_mail_by_ses_and_records_it(
    inbox: dict[str, str], privacy_aws: PrivacyAws, capsys: Any
) -> None:
    ref = inbox["erasure"]
    before = len(privacy_aws.sent())
    code, _, _ = run(capsys, "reply", ref, "--template", "need-info", "--text", "Which product version?")
    assert code == 0
    (sent,) = privacy_aws.sent()[before:]
    assert sent.subject == f"[{ref}] We need more information for your privacy request"
    assert "Which product version?" in sent.text and ref in sent.text
    assert "Auto-Submitted" not in sent.message
    assert ticket(ref).status is Status.AWAITING_REQUESTER
    assert [e.action for e in history(ref)][-2:] == ["reply_sent", "status_changed"]
    assert "Which product version?" in run(capsys, "show", ref)[1]  # the copy kept with the thread
    # A reply from the requester puts it back in progress
    reply = mail(subject=f"Re: [{ref}] version", body="Version 12.")
    assert receive(privacy_aws, reply) == ref
    assert ticket(ref).status is Status.IN_PROGRESS
    # An answer can close the outcome in one go
    code, _, _ = run(capsys, "reply", ref, "--text", "Done: all reports deleted.", "--then", "fulfil")
    assert code == 0 and ticket(ref).status is Status.FULFILLED


def test_extension_notifies_the_requester_and_is_allowed_once_within_the_first_period(
    inbox: dict[str, str], privacy_aws: PrivacyAws, capsys: Any
) -> None:
    ref = inbox["erasure"]
    first = ticket(ref).deadlines
    code, _, _ = run(capsys, "extend", ref, "--reason", "The deletion spans several archives.")
    assert code == 0
    extended = ticket(ref).deadlines
    assert extended.gdpr_extended and extended.ccpa_extended
    assert extended.answer_due > first.answer_due
    assert extended.ccpa_due == first.ccpa_due + timedelta(days=45)
    notice = privacy_aws.sent()[-1]
    assert "several archives" in notice.text and extended.answer_due.isoformat() in notice.text
    last = history(ref)[-1]
    assert (last.action, last.why, last.details["laws"]) == (
        "deadline_extended",
        "The deletion spans several archives.",
        ["gdpr", "ccpa"],
    )
    # Only once
    code, _, err = run(capsys, "extend", ref, "--reason", "again")
    assert code == 1 and "already extended" in err
    # And never after the first month
    code, _, err = run(capsys, "extend", inbox["access"], "--reason", "late", "--law", "gdpr")
    assert code == 1 and "must be notified by" in err


def test_a_letter_is_recorded_by_hand_and_treated_like_a_mail(privacy_aws: PrivacyAws, capsys: Any) -> None:
    received = (date.today() - timedelta(days=3)).isoformat()
    code, out, _ = run(
        capsys,
        "new",
        "--channel",
        "postal",
        "--received",
        received,
        "--sender",
        "Erika Muster, Hauptstr. 1, 10115 Berlin",
        "--text",
        f"Bitte löschen Sie alle Daten meines Rechners {GUID}. Mit freundlichen Grüßen",
        "--json",
    )
    assert code == 0
    created = json.loads(out)
    assert (created["channel"], created["labels"], created["guids"], created["language"]) == (
        "postal",
        ["erasure"],
        [GUID],
        "de",
    )
    # Deadlines run from the day the letter arrived
    assert created["deadlines"]["gdpr_due"] == add_months(date.today() - timedelta(days=3), 1).isoformat()
    assert created["acknowledgement"]["state"] == "by_post"
    assert privacy_aws.sent() == []
    # The letter's text is kept like a raw message; the acknowledgement by post is recorded by hand
    ref = created["ref"]
    assert "Bitte löschen Sie alle Daten" in run(capsys, "show", ref)[1]
    assert run(capsys, "transition", ref, "acknowledge", "--why", "letter posted")[0] == 0
    assert ticket(ref).acknowledgement.state == "sent"
    # Replies by e-mail are refused for a letter without an address
    code, _, err = run(capsys, "reply", ref, "--text", "hello")
    assert code == 1 and "by post" in err


def test_a_letter_with_an_email_address_is_acknowledged_by_ses(privacy_aws: PrivacyAws, capsys: Any) -> None:
    code, out, _ = run(
        capsys,
        "new",
        "--received",
        date.today().isoformat(),
        "--email",
        "writer@example.org",
        "--text",
        "I object to the processing of my data.",
    )
    assert code == 0 and "acknowledgement sent" in out
    (sent,) = privacy_aws.sent()
    assert set(sent.to) == {"writer@example.org"}
    code, _, err = run(capsys, "new", "--received", "2999-01-01", "--text", "x")
    assert code == 1 and "future" in err


def test_release_and_ack_commands(privacy_aws: PrivacyAws, capsys: Any) -> None:
    held = receive(privacy_aws, mail(), spam="GRAY")
    capsys.readouterr()
    assert [t["ref"] for t in json.loads(run(capsys, "list", "--json", "--unacknowledged")[1])] == [held]
    code, out, _ = run(capsys, "release", held, "--why", "a person")
    assert code == 0 and "acknowledgement sent" in out
    code, _, err = run(capsys, "ack", held)
    assert code == 1 and "needs no acknowledgement" in err


def test_export_writes_csv_without_personal_data_unless_asked(
    inbox: dict[str, str], capsys: Any, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "tickets-csv")  # `export` without a ticket until issue 15
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3
    assert "sender" not in rows[0] and "guids" not in rows[0]
    assert {r["ref"] for r in rows} == set(inbox.values())
    assert "jane.doe" not in out and GUID not in out
    target = tmp_path / "tickets.csv"
    assert run(capsys, "tickets-csv", "--with-personal-data", "--output", str(target))[0] == 0
    personal = list(csv.DictReader(target.open(encoding="utf-8")))
    erasure = next(r for r in personal if r["ref"] == inbox["erasure"])
    assert (erasure["sender"], erasure["guids"], erasure["guid_count"]) == ("jane.doe@example.net", GUID, "1")


def test_deliver_refuses_to_run_against_aws(privacy_aws: PrivacyAws, tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(mail())
    with pytest.raises(SystemExit, match="local stack only"):
        main(["privacy", "deliver", str(eml)])


def test_other_request_handlers_record_actions_through_the_service(inbox: dict[str, str]) -> None:
    # The API issue 5's `erase`/`export` use: read the GUIDs and sender, record, transition
    from ceip.privacy.inbox import S3RawMailStore
    from ceip.privacy.mailer import SesMailer
    from ceip.privacy.service import TicketService
    from tests.conftest import INBOX_BUCKET, PRIVACY_MAIL_FROM

    tickets = TicketService(
        DynamoTicketStore(TICKETS_TABLE), SesMailer(), S3RawMailStore(INBOX_BUCKET), PRIVACY_MAIL_FROM
    )
    found = tickets.get(inbox["erasure"])
    assert (found.guids, found.sender) == ((GUID,), "jane.doe@example.net")
    tickets.record(
        found.ref, actor="ana", action="erasure_filed", details={"request_id": "r-1", "at": "x"}, why="asked"
    )
    tickets.transition(found.ref, Status.FULFILLED, actor="ana", why="purged")
    last_two = tickets.history(found.ref)[-2:]
    assert [(e.action, e.actor) for e in last_two] == [("erasure_filed", "ana"), ("status_changed", "ana")]
    assert last_two[0].details == {"request_id": "r-1", "at": "x"} and last_two[0].why == "asked"
