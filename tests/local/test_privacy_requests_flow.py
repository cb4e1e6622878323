"""Erasure and export on the local stack, as a client and the privacy team use them over HTTP and the CLI."""

from __future__ import annotations

import email
import json
import urllib.error
import urllib.request
import uuid
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import RunningStack
from tests.local.test_privacy_inbox import cli_json, sent_messages
from tests.support.privacy import mail
from tests.support.reports import make_batch

pytestmark = pytest.mark.local


def request(stack: RunningStack, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        stack.url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stored_machines(stack: RunningStack) -> list[str]:
    listing = stack.cli("reports", "list", "--date", "today", "--show")
    assert listing.returncode == 0, listing.stderr
    return [json.loads(line)["machine_id"] for line in listing.stdout.splitlines() if line.startswith("  {")]


def test_erasure_request_purge_and_receipt_over_http_and_cli(local_stack: RunningStack) -> None:
    # Given machine X and machine Y reported
    x, y = str(uuid.uuid4()), str(uuid.uuid4())
    for machine in (x, y):
        status, _ = request(local_stack, "POST", "/v1/reports", make_batch(3, machine_id=machine))
        assert status == 202
    assert {x, y} <= set(stored_machines(local_stack))
    y_before = [m for m in stored_machines(local_stack) if m == y]
    # When X asks for erasure and the team runs the purge
    status, filed = request(local_stack, "POST", "/v1/privacy/requests", {"type": "erasure", "machine_id": x})
    assert status == 202
    purge = local_stack.cli("privacy", "purge")
    assert purge.returncode == 0, purge.stderr + purge.stdout
    # Then no stored object holds X, Y's reports are all there
    after = stored_machines(local_stack)
    assert x not in after
    assert [m for m in after if m == y] == y_before
    # And new reports from X are answered as usual but not stored
    status, answer = request(local_stack, "POST", "/v1/reports", make_batch(2, machine_id=x))
    assert (status, answer["accepted"]) == (202, 2)
    assert x not in stored_machines(local_stack)
    # And the request's status shows the receipt
    status, shown = request(local_stack, "GET", f"/v1/privacy/requests/{filed['request_id']}")
    assert status == 200
    assert shown["status"] == "fulfilled"
    assert shown["receipt"]["reports_removed"] == 3
    assert shown["receipt"]["verification_remaining"] == 0
    assert x not in json.dumps(shown)


def test_ticket_erasure_and_approved_export_through_the_cli(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    # Given a machine with reports, and a mail from its owner asking for a copy and then deletion
    guid = str(uuid.uuid4())
    assert request(local_stack, "POST", "/v1/reports", make_batch(2, machine_id=guid))[0] == 202
    eml = tmp_path / "access.eml"
    eml.write_bytes(
        mail(
            sender="robin@example.org",
            subject="My data",
            body=f"Please send me a copy of all data you hold for my machine {guid}, then delete it.",
        )
    )
    ((filed,),) = [cli_json(local_stack, "deliver", str(eml))["filed"]]
    ref = filed["ref"]
    # When the team exports without approval, it is refused
    refused = local_stack.cli("privacy", "export", ref)
    assert refused.returncode == 1
    assert "approval" in refused.stderr
    # When alex approves and sam sends the export (two people, each by their verified identity)
    approved = local_stack.cli("privacy", "approve-export", ref, "--why", "GUID shown", person="alex")
    assert approved.returncode == 0, approved.stderr
    assert local_stack.cli("privacy", "export", ref, person="alex").returncode == 1  # not their own
    before = len(sent_messages(local_stack))
    exported = local_stack.cli("privacy", "export", ref, person="sam")
    assert exported.returncode == 0, exported.stderr
    # Then the requester gets a reply with a link that serves exactly that machine's reports
    (reply,) = sent_messages(local_stack)[before:]
    body = email.message_from_string(reply["raw_data"], policy=policy.default).get_body(("plain",))
    assert body is not None
    link = next(w for w in body.get_content().split() if w.startswith("http") and "exports/" in w)
    with urllib.request.urlopen(link, timeout=30) as response:
        document = json.loads(response.read())
    ((machine,),) = [document["machines"]]
    assert machine["report_count"] == 2
    assert {r["machine_id"] for r in machine["reports"]} == {guid}
    # And the history names both people by their principals
    shown = cli_json(local_stack, "show", ref)
    by = {entry["action"]: entry["actor"] for entry in shown["history"]}
    assert by["export_approved"].endswith("assumed-role/PrivacyTeam/alex")
    assert by["export_sent"].endswith("assumed-role/PrivacyTeam/sam")
    # And once revoked, the link answers no more
    revoked = local_stack.cli("privacy", "revoke-export", ref, "--why", "test", person="alex")
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(link, timeout=30)
    assert gone.value.code in (403, 404)
    # And erasure through the ticket links the receipt to its history after the purge
    assert local_stack.cli("privacy", "erase", ref).returncode == 0
    assert local_stack.cli("privacy", "purge").returncode == 0
    shown = cli_json(local_stack, "show", ref)
    actions = [entry["action"] for entry in shown["history"]]
    assert {"export_approved", "export_sent", "erasure_filed", "erasure_receipt"} <= set(actions)
    assert guid not in stored_machines(local_stack)
