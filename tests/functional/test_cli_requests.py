"""`ceip privacy attach|detach|erase|export --dry-run|reply --dry-run|ack --dry-run|show|requests`
in-process against moto: GUIDs given later, one history entry per idempotent command, previews that
send nothing."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from ceip.cli import main
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.privacy.tickets import Status
from tests.conftest import INBOX_BUCKET, REPORTS_BUCKET, TICKETS_TABLE, create_api_resources
from tests.functional.test_privacy_cli import receive
from tests.support.identities import act_as, principal_of
from tests.support.privacy import PrivacyAws, mail

GUID = "0f6e2d4c-1b3a-4c5d-8e7f-9a0b1c2d3e4f"
EXPORTS_BUCKET = "ceip-test-exports"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["privacy", *args])
    out, err = capsys.readouterr()
    return code, out, err


def actions(ref: str) -> list[str]:
    return [e.action for e in DynamoTicketStore(TICKETS_TABLE).history(ref)]


def approved(capsys: pytest.CaptureFixture[str], ref: str) -> None:
    """The ticket's machine attached and its export approved by whoever acts now (ana, by default)."""
    assert run(capsys, "attach", ref, GUID)[0] == 0
    assert run(capsys, "approve-export", ref, "--why", "GUID shown on a screenshot")[0] == 0


@pytest.fixture
def question(privacy_aws: PrivacyAws, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ticket without a GUID, with the data-subject side and an exports bucket beside it."""
    create_api_resources()
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=EXPORTS_BUCKET)
    monkeypatch.setenv("EXPORTS_BUCKET", EXPORTS_BUCKET)
    act_as(monkeypatch, "ana")
    ref = receive(privacy_aws, mail(subject="My data", body="Please delete everything about my computer."))
    capsys.readouterr()
    return ref


def test_erase_names_attach_and_works_once_a_guid_is_attached(question: str, capsys: Any) -> None:
    # Given a ticket whose GUID came later
    code, _, err = run(capsys, "erase", question)
    assert (code, err.count("\n")) == (1, 1)
    assert f"ceip privacy attach {question} GUID" in err
    # When the team attaches it (upper-case, as a person types it), twice
    assert run(capsys, "attach", question, GUID.upper())[0] == 0
    assert run(capsys, "attach", question, GUID)[0] == 0
    # Then the ticket has it once, the history says so once and never holds the GUID
    history = DynamoTicketStore(TICKETS_TABLE).history(question)
    assert actions(question).count("guids_attached") == 1
    assert GUID not in json.dumps([h.model_dump(mode="json") for h in history])
    assert DynamoTicketStore(TICKETS_TABLE).get(question).guids == (GUID,)  # type: ignore[union-attr]
    # And erase files one request, and a second erase records nothing new
    code, out, _ = run(capsys, "erase", question)
    assert code == 0 and "erasure filed for 1 machine(s)" in out
    code, out, _ = run(capsys, "erase", question)
    assert code == 0 and "nothing new recorded" in out
    assert actions(question).count("erasure_filed") == 1


def test_attach_refuses_what_is_not_a_guid_and_detach_removes(question: str, capsys: Any) -> None:
    code, out, err = run(capsys, "attach", question, "not-a-guid")
    assert (code, out) == (1, "")
    assert err == "ceip: not a machine GUID: 'not-a-guid'\n"
    assert "guids_attached" not in actions(question)
    run(capsys, "attach", question, GUID)
    assert run(capsys, "detach", question, GUID)[0] == 0
    assert run(capsys, "detach", question, GUID)[0] == 0  # nothing left to remove: no entry
    assert DynamoTicketStore(TICKETS_TABLE).get(question).guids == ()  # type: ignore[union-attr]
    assert actions(question).count("guids_detached") == 1


def test_dry_runs_print_the_message_and_send_and_record_nothing(
    question: str, privacy_aws: PrivacyAws, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an approved export and the history as it stands
    approved(capsys, question)
    before, sent_before = actions(question), len(privacy_aws.sent())
    # When the team previews a reply, an extension and the export
    code, reply, err = run(
        capsys, "reply", question, "--template", "need-info", "--text", "Which version?", "--dry-run"
    )
    assert code == 0 and "nothing sent" in err
    code, extension, _ = run(capsys, "extend", question, "--reason", "Archives take time.", "--dry-run")
    assert code == 0
    act_as(monkeypatch, "ben")  # an export is sent by someone other than its approver
    code, export, _ = run(capsys, "export", question, "--dry-run")
    assert code == 0
    # Then each is the message as it would go out: headers and text
    assert reply.startswith("To: jane.doe@example.net\nFrom: CEIP Privacy <")
    assert f"Subject: [{question}] We need more information" in reply and "Which version?" in reply
    assert "Archives take time." in extension and "Subject: [" in extension
    assert f"Machine {GUID}: 0 report(s)" in export and "<link made when the export is sent>" in export
    # And nothing was sent, written or recorded
    assert len(privacy_aws.sent()) == sent_before
    assert actions(question) == before
    objects = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=EXPORTS_BUCKET)
    assert objects.get("KeyCount", 0) == 0


def test_ack_dry_run_and_show_print_the_acknowledgement_text(privacy_aws: PrivacyAws, capsys: Any) -> None:
    # Given a held message (acknowledgement owed) and an acknowledged one
    held = receive(privacy_aws, mail(), spam="GRAY")
    acknowledged = receive(privacy_aws, mail(subject="Access", body="Send me my data."))
    capsys.readouterr()
    # When the team previews the owed acknowledgement... (release first: held mail is never acknowledged)
    assert run(capsys, "release", held, "--why", "a person")[0] == 0
    code, _, err = run(capsys, "ack", held, "--dry-run")
    assert code == 1 and "needs no acknowledgement" in err
    # ...and shows the acknowledged ticket
    code, out, _ = run(capsys, "show", acknowledged)
    # Then the acknowledgement's text is there, rendered from its template
    assert code == 0
    assert f"Subject: [{acknowledged}] We have received your privacy request" in out
    assert f"under the reference {acknowledged}" in out
    assert "sent by template" not in out


def test_requests_shows_a_readable_summary_or_json(question: str, capsys: Any) -> None:
    run(capsys, "attach", question, GUID)
    run(capsys, "erase", question)
    history = DynamoTicketStore(TICKETS_TABLE).history(question)
    (request_id,) = next(h for h in history if h.action == "erasure_filed").details["request_ids"]
    code, out, _ = run(capsys, "requests", request_id)
    assert code == 0
    assert out.splitlines()[0] == f"{request_id}  received"
    assert "expected by:" in out and "none yet" in out
    code, out, _ = run(capsys, "requests", request_id, "--json")
    assert json.loads(out)["origin"] == f"ticket:{question}"
    code, _, err = run(capsys, "requests", "no-such-request")
    assert (code, err) == (1, "ceip: no request no-such-request\n")


def test_release_dry_run_previews_the_acknowledgement_and_leaves_the_message_held(
    privacy_aws: PrivacyAws, capsys: Any
) -> None:
    # Given a held message (gray spam verdict): releasing it would acknowledge it
    held = receive(privacy_aws, mail(), spam="GRAY")
    capsys.readouterr()
    before, sent_before = actions(held), len(privacy_aws.sent())
    # When the team previews the release
    code, draft, err = run(capsys, "release", held, "--why", "a person", "--dry-run")
    # Then the acknowledgement is printed as it would go out, and nothing was sent or recorded
    assert code == 0 and "nothing sent" in err
    assert f"Subject: [{held}] We have received your privacy request" in draft
    assert len(privacy_aws.sent()) == sent_before and actions(held) == before
    # And the real release sends that message
    assert run(capsys, "release", held, "--why", "a person")[0] == 0
    (sent,) = privacy_aws.sent()[sent_before:]
    assert f"Subject: {sent.message['Subject']}" in draft


def test_new_letter_dry_run_previews_its_acknowledgement_and_records_no_ticket(
    privacy_aws: PrivacyAws, capsys: Any
) -> None:
    # Given no ticket yet
    tickets_before = list(DynamoTicketStore(TICKETS_TABLE).by_status(list(Status)))
    letter = ["new", "--received", "2026-11-02", "--text", "Please delete my data."]
    # When a letter that gives an e-mail address, and one that does not, are previewed
    code, with_email, err = run(capsys, *letter, "--email", "e.muster@example.de", "--dry-run")
    code_post, by_post, _ = run(capsys, *letter, "--sender", "E. Muster, Berlin", "--dry-run")
    # Then the first shows the acknowledgement to that address, the second says it goes by post
    assert code == code_post == 0 and "nothing sent" in err
    assert with_email.startswith("To: e.muster@example.de\n") and "We have received" in with_email
    assert "acknowledged by post" in by_post
    # And no ticket, letter or mail exists
    assert list(DynamoTicketStore(TICKETS_TABLE).by_status(list(Status))) == tickets_before
    assert privacy_aws.sent() == []
    inbox = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=INBOX_BUCKET)
    assert not [o["Key"] for o in inbox.get("Contents", []) if "postal-" in o["Key"]]


def exported_documents() -> list[dict[str, Any]]:
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=EXPORTS_BUCKET).get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=EXPORTS_BUCKET, Key=k)["Body"].read()) for k in keys]


def test_approving_an_export_again_writes_one_entry_until_the_export_is_sent(
    question: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ticket with a machine
    run(capsys, "attach", question, GUID)
    # When the same person approves its export twice
    first = run(capsys, "approve-export", question, "--why", "GUID shown on a screenshot")
    second = run(capsys, "approve-export", question, "--why", "GUID shown on a screenshot")
    # Then both succeed and the history holds one approval, by ana's verified principal
    assert first[0] == second[0] == 0
    assert actions(question).count("export_approved") == 1
    approval = DynamoTicketStore(TICKETS_TABLE).get(question).approvals[-1]  # type: ignore[union-attr]
    assert (approval.approver, approval.guids) == (principal_of("ana"), (GUID,))
    # And once another person sent the export, a new approval is needed and recorded again
    act_as(monkeypatch, "ben")
    assert run(capsys, "export", question)[0] == 0
    code, _, err = run(capsys, "export", question)
    assert code == 1 and "no approval on record" in err
    act_as(monkeypatch, "ana")
    run(capsys, "approve-export", question, "--why", "asked again")
    assert actions(question).count("export_approved") == 2


def test_an_approver_cannot_send_their_own_approval(question: str, capsys: Any) -> None:
    # Given ana approved the export of the ticket's machine
    run(capsys, "attach", question, GUID)
    assert run(capsys, "approve-export", question, "--why", "GUID shown on a screenshot")[0] == 0
    # When ana sends it herself
    code, out, err = run(capsys, "export", question)
    # Then it is refused, nothing is written and the history has no export
    assert (code, out) == (1, "")
    assert "another person must send it (two-person rule)" in err
    assert exported_documents() == []
    assert "export_sent" not in actions(question)


def test_a_guid_added_after_the_approval_is_never_exported(
    question: str, privacy_aws: PrivacyAws, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ana approved GUID A, and the requester then replied with someone else's GUID B
    other = "5c1d9e7a-3b2f-4a6c-9d8e-7f6a5b4c3d2e"
    run(capsys, "attach", question, GUID)
    run(capsys, "approve-export", question, "--why", "GUID A shown on a screenshot")
    run(capsys, "attach", question, other)
    # When ben sends the export
    act_as(monkeypatch, "ben")
    code, out, _ = run(capsys, "export", question)
    # Then one document holds A only, the mail names A only, and B is reported as not covered
    assert code == 0 and "1 GUID(s) on the ticket not covered by the approval" in out
    (document,) = exported_documents()
    assert [m["machine_id"] for m in document["machines"]] == [GUID]
    answer = privacy_aws.sent()[-1].text
    assert GUID in answer and other not in answer
    # And the history names both people and never a GUID
    history = DynamoTicketStore(TICKETS_TABLE).history(question)
    sent = next(h for h in history if h.action == "export_sent")
    assert (sent.actor, sent.details["approved_by"], sent.details["not_covered"]) == (
        principal_of("ben"),
        principal_of("ana"),
        1,
    )
    assert GUID not in json.dumps([h.model_dump(mode="json") for h in history])


def test_an_approval_goes_stale_and_follows_its_requester(
    question: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an approval, and approvals that may be at most one hour old
    approved(capsys, question)
    act_as(monkeypatch, "ben")
    monkeypatch.setenv("EXPORT_APPROVAL_MAX_AGE_HOURS", "1")
    store = DynamoTicketStore(TICKETS_TABLE)
    ticket = store.get(question)
    assert ticket is not None
    old = ticket.approvals[0].model_copy(
        update={"approved_at": ticket.approvals[0].approved_at - timedelta(hours=2)}
    )
    store.save(ticket.model_copy(update={"approvals": (old,)}), [])
    # When ben sends it, it is refused as too old
    code, _, err = run(capsys, "export", question)
    assert code == 1 and "older than 1 hours" in err
    # And an approval for a requester the ticket no longer has is refused too
    monkeypatch.delenv("EXPORT_APPROVAL_MAX_AGE_HOURS")
    ticket = store.get(question)
    assert ticket is not None
    moved = ticket.model_copy(
        update={
            "approvals": (old.model_copy(update={"approved_at": old.approved_at + timedelta(hours=2)}),),
            "sender": "someone.else@example.org",
        }
    )
    store.save(moved, [])
    code, _, err = run(capsys, "export", question)
    assert code == 1 and "the requester changed since the approval" in err
    assert exported_documents() == []


def test_revoke_export_deletes_the_document_and_records_it(
    question: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an export sent under ana's approval by ben
    approved(capsys, question)
    act_as(monkeypatch, "ben")
    assert run(capsys, "export", question)[0] == 0
    assert len(exported_documents()) == 1
    # When ana revokes it
    act_as(monkeypatch, "ana")
    code, out, _ = run(capsys, "revoke-export", question, "--why", "sent to the wrong address")
    # Then the document is gone, the history says who and why, and revoking again is refused
    assert code == 0 and "1 export document(s) deleted" in out
    assert exported_documents() == []
    revoked = DynamoTicketStore(TICKETS_TABLE).history(question)[-1]
    assert (revoked.action, revoked.actor, revoked.why) == (
        "export_revoked",
        principal_of("ana"),
        "sent to the wrong address",
    )
    assert run(capsys, "revoke-export", question, "--why", "again")[0] == 1


def test_a_typed_actor_is_refused(question: str, capsys: Any) -> None:
    code, _, err = run(capsys, "note", question, "hello", "--actor", "somebody-else")
    assert code == 2 and "--actor is no longer accepted" in err
    assert "note" not in actions(question)


def test_an_export_over_an_unreadable_object_says_so_to_the_team(
    question: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one readable object with the machine's report and one that is not gzip at all
    s3 = boto3.client("s3", region_name="us-east-1")
    report = {"machine_id": GUID, "report_id": "r-1", "received_at": "2026-12-01T00:00:00Z"}
    line = json.dumps(report, separators=(",", ":"))  # compact, as ingest stores it
    s3.put_object(
        Bucket=REPORTS_BUCKET,
        Key="reports/dt=2026-12-01/hr=00/a.ndjson.gz",
        Body=gzip.compress(f"{line}\n".encode()),
    )
    s3.put_object(
        Bucket=REPORTS_BUCKET, Key="reports/dt=2026-12-01/hr=00/b.ndjson.gz", Body=b"\x1f\x8b broken"
    )
    approved(capsys, question)
    # When another person sends the export
    act_as(monkeypatch, "ben")
    code, out, err = run(capsys, "export", question)
    # Then the readable report is exported, the team is warned, and the history counts the object
    assert code == 0 and "1 report(s) of 1 machine(s) exported" in out
    assert "1 report object(s) could not be read" in err
    (document,) = exported_documents()
    assert [r["report_id"] for r in document["machines"][0]["reports"]] == ["r-1"]
    sent = DynamoTicketStore(TICKETS_TABLE).history(question)[-1]
    assert (sent.action, sent.details["objects_unreadable"]) == ("export_sent", 1)
