"""The CLI's new commands against the local stack as `make run` starts it: attach, tickets-csv, dry runs,
aggregate tables and aggregate show, each in a process of its own as an operator runs them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.local.conftest import ROOT, RunningStack
from tests.local.test_aggregate_cli import post
from tests.local.test_privacy_inbox import cli_json, sent_messages
from tests.support.privacy import mail
from tests.support.reports import make_report

pytestmark = pytest.mark.local
PRODUCT = "contoso.cli-show-test"


Deliver = Callable[[str], str]


@pytest.fixture
def deliver(local_stack: RunningStack, tmp_path: Path) -> Iterator[Deliver]:
    """Delivers a mail from a sender a spreadsheet would evaluate; closes its tickets afterwards, so the
    stack's other tests still find their own ticket at the top of the open ones."""
    refs: list[str] = []

    def delivered(body: str) -> str:
        eml = tmp_path / f"{uuid.uuid4().hex}.eml"
        eml.write_bytes(mail(sender="=cmd@example.org", subject="My computer", body=body))
        ((filed,),) = [cli_json(local_stack, "deliver", str(eml))["filed"]]
        refs.append(str(filed["ref"]))
        return refs[-1]

    yield delivered
    for ref in refs:
        for state in ("withdraw", "close"):
            local_stack.cli("privacy", "transition", ref, state, "--why", "test done")


def test_attach_then_erase_and_a_dry_run_reply_that_sends_nothing(
    local_stack: RunningStack, deliver: Deliver
) -> None:
    # Given a ticket without a GUID
    ref = deliver("Please delete what you hold about my computer.")
    guid = str(uuid.uuid4())
    # When the team attaches the GUID the requester sent by phone, and files the erasure
    attached = local_stack.cli("privacy", "attach", ref, guid, person="alex")
    erased = local_stack.cli("privacy", "erase", ref)
    # Then both work and the history says who attached it
    assert attached.returncode == 0, attached.stderr
    assert erased.returncode == 0, erased.stderr
    shown = cli_json(local_stack, "show", ref)
    assert shown["guids"] == [guid]
    alex = "arn:aws:sts::123456789012:assumed-role/PrivacyTeam/alex"
    assert (alex, "guids_attached") in [(h["actor"], h["action"]) for h in shown["history"]]
    # And a dry-run reply prints the message and sends nothing
    before = len(sent_messages(local_stack))
    preview = local_stack.cli("privacy", "reply", ref, "--text", "Done.", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert f"Subject: [{ref}] Your privacy request" in preview.stdout and "Done." in preview.stdout
    assert len(sent_messages(local_stack)) == before


def test_tickets_csv_neutralises_a_sender_a_spreadsheet_would_evaluate(
    local_stack: RunningStack, deliver: Deliver
) -> None:
    ref = deliver("A question about your reports.")
    result = local_stack.cli("privacy", "tickets-csv", "--with-personal-data")
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["ref"] == ref]
    assert row["sender"] == "'=cmd@example.org"


def test_aggregate_tables_and_show_print_what_was_published(local_stack: RunningStack) -> None:
    # Given a product's reports aggregated today
    reports = [
        make_report(machine_id=str(uuid.uuid4()), product={"id": PRODUCT, "version": "1.0"}) for _ in range(3)
    ]
    assert post(local_stack, reports) == 202
    assert local_stack.cli("aggregate", "build", "--date", "today").returncode == 0
    today = datetime.now(UTC).date().isoformat()
    # When an operator lists the day's tables and prints one
    listed = local_stack.cli("aggregate", "tables", "--date", today, "--json")
    shown = local_stack.cli(
        "aggregate", "show", "active", "--date", today, "--format", "json", "--limit", "0"
    )
    as_csv = local_stack.cli("aggregate", "show", "active", "--date", today, "--format", "csv")
    as_table = local_stack.cli("aggregate", "show", "active", "--date", today)
    # Then the listing has both audiences with their rows, and the table holds the product's count
    assert listed.returncode == 0, listed.stderr
    tables = json.loads(listed.stdout)["tables"]
    assert {(t["table"], t["audience"]) for t in tables} >= {("active", "internal"), ("active", "partner")}
    assert shown.returncode == 0, shown.stderr
    rows = [r for r in json.loads(shown.stdout) if r.get("product_id") == PRODUCT]
    assert rows and rows[0]["machines"] == 3
    assert as_csv.returncode == 0, as_csv.stderr
    assert "product_id" in as_csv.stdout.splitlines()[0].split(",")
    assert as_table.returncode == 0 and PRODUCT in as_table.stdout
    # And a day without tables is one line naming the way to build it
    missing = local_stack.cli("aggregate", "tables", "--date", "2001-01-01")
    assert (missing.returncode, missing.stderr.count("\n")) == (1, 1)
    assert "ceip aggregate build --date 2001-01-01" in missing.stderr


def test_the_stack_is_found_from_a_folder_inside_the_checkout(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    # Given a checkout whose .ceip/local.json is the running stack's state, and a folder deep inside it
    checkout = tmp_path / "checkout"
    (checkout / ".ceip").mkdir(parents=True)
    (checkout / ".ceip" / "local.json").write_text(local_stack.state_file.read_text())
    deep = checkout / "docs" / "adr"
    deep.mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "functions")}

    # When an operator runs the CLI from there, and from outside the checkout
    def ceip_from(folder: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ceip.cli", "privacy", "list"]
        return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)

    inside, outside = ceip_from(deep), ceip_from(tmp_path)
    # Then inside it reaches the stack, and outside the one line names --local-state
    assert inside.returncode == 0, inside.stderr
    assert outside.returncode == 1 and "--local-state" in outside.stderr and "Traceback" not in outside.stderr


def test_deliver_with_a_failing_dmarc_verdict_files_an_unverified_ticket_and_sends_nothing(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    # Given a message whose From SES could not authenticate (DMARC FAIL)
    eml = tmp_path / "forged.eml"
    eml.write_bytes(mail(sender="ceo@example.org", subject="Delete my data", body="Please delete my data."))
    before = len(sent_messages(local_stack))
    # When it is delivered to the local stack with that verdict
    ((filed,),) = [cli_json(local_stack, "deliver", str(eml), "--dmarc", "FAIL")["filed"]]
    # Then it is a ticket that says unverified, and no mail went out
    shown = cli_json(local_stack, "show", filed["ref"])
    assert shown["sender_verified"] is False
    assert len(sent_messages(local_stack)) == before
    for state in ("withdraw", "close"):
        local_stack.cli("privacy", "transition", filed["ref"], state, "--why", "test done")
