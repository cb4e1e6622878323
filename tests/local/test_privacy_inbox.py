"""The privacy inbox on the local stack, as a developer uses it: `ceip privacy deliver FILE.eml` plays
SES's receipt rule, the CLI works the tickets, moto's SES keeps what was sent."""

from __future__ import annotations

import email
import json
import urllib.request
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest

from ceip.privacy import deadlines, templates
from tests.local.conftest import RunningStack
from tests.support.privacy import MAIL, mail

pytestmark = pytest.mark.local
GUID = "5d2c8e1a-7b3f-4a9d-8e6c-1f0a2b3c4d5e"


def sent_messages(stack: RunningStack) -> list[dict[str, Any]]:
    """What moto's SES was asked to send, from the moto server's own API."""
    with urllib.request.urlopen(stack.state["endpoint"] + "/moto-api/data.json", timeout=30) as response:
        data: dict[str, Any] = json.load(response)
    return list(data.get("ses", {}).get("RawMessage", []))


def cli_json(stack: RunningStack, *args: str) -> Any:
    result = stack.cli("privacy", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_erasure_mail_becomes_the_top_ticket_and_is_acknowledged_with_its_deadline(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    # Given an e-mail asking to delete the data of a machine
    eml = tmp_path / "erasure.eml"
    eml.write_bytes(
        mail(
            sender="dana@example.org",
            subject="Delete my data",
            body=f"Hello, please delete all data of my machine {GUID}. Dana",
        )
    )
    before = len(sent_messages(local_stack))
    # When it is delivered as if SES had received it
    delivered = cli_json(local_stack, "deliver", str(eml))
    ((filed),) = delivered["filed"]
    ref = filed["ref"]
    assert filed["outcome"] == "created"
    # Then `ceip privacy list` shows it at the top (the first ticket of this stack), labelled erasure,
    # with the GUID
    listed = cli_json(local_stack, "list")
    assert listed[0]["ref"] == ref
    assert listed[0]["labels"] == ["erasure"]
    assert listed[0]["guids"] == [GUID]
    assert listed[0]["status"] == "acknowledged"
    # And the acknowledgement went out through SES with the right deadline
    due = deadlines.compute(datetime.now(UTC)).answer_due
    assert listed[0]["deadlines"]["answer_due"] == due.isoformat()
    new = sent_messages(local_stack)[before:]
    assert len(new) == 1
    ack = email.message_from_string(new[0]["raw_data"], policy=policy.default)
    assert ack["Subject"] == f"[{ref}] We have received your privacy request"
    assert "dana@example.org" in ack["To"]
    body = ack.get_body(preferencelist=("plain",))
    assert body is not None and templates.long_date(due, "en") in body.get_content()
    # The human table lists it too
    table = local_stack.cli("privacy", "list")
    assert table.returncode == 0 and table.stdout.splitlines()[1].startswith(ref)


def test_malformed_and_machine_mail_over_the_cli_never_fails(local_stack: RunningStack) -> None:
    for name, extra in (
        ("missing-boundary.eml", ()),
        ("8bit-junk.eml", ()),
        ("bounce-mailer-daemon.eml", ()),
        ("virus-fail.eml", ("--virus", "FAIL")),
    ):
        result = local_stack.cli("privacy", "deliver", str(MAIL / name), *extra, "--json")
        assert result.returncode == 0, (name, result.stderr)
        ((filed),) = json.loads(result.stdout)["filed"]
        assert filed["outcome"] == ("quarantined" if name == "virus-fail.eml" else "created")
        # The function's log lines go to stderr (stdout stays the answer), without the sender's address
        assert "message_filed" in result.stderr
        for address in ("mailer-daemon@", "junk@example.com", "broken@example.com", "invoice@billing"):
            assert address not in result.stderr.lower()
