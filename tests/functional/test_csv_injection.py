"""CSV injection end to end: a hostile sender in the ticket CSV, hostile versions in a partner CSV table."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from ceip.storage.aggregate_s3 import MemoryStore
from tests.functional.test_privacy_cli import receive, run
from tests.support.aggregate_tables import read_table
from tests.support.population import StoredReport, at, build_population, objects_of, report_of
from tests.support.privacy import PrivacyAws, mail
from tests.unit.test_aggregate_service import DAY, K
from tests.unit.test_aggregate_service import run as aggregate

HOSTILE_SENDER = "=cmd|'/ccalc'!a0@evil.example"


def test_the_ticket_csv_neutralises_a_sender_a_spreadsheet_would_run(
    privacy_aws: PrivacyAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a ticket from a sender whose address is a formula (a valid RFC 5322 local part)
    ref = receive(privacy_aws, mail(sender=HOSTILE_SENDER, subject="Question", body="What do you keep?"))
    capsys.readouterr()
    # When the team exports the tickets with personal data
    code, out, _ = run(capsys, "tickets-csv", "--with-personal-data")
    # Then the sender cell starts with an apostrophe, and the count column is still a plain number
    assert code == 0
    (row,) = [r for r in csv.DictReader(io.StringIO(out)) if r["ref"] == ref]
    assert row["sender"] == "'" + HOSTILE_SENDER
    assert row["guid_count"] == "0"
    assert f"\n{HOSTILE_SENDER}" not in out and f",{HOSTILE_SENDER}" not in out


def test_the_partner_csv_neutralises_values_starting_a_formula_and_keeps_numbers_numeric() -> None:
    # Given a day where every machine reports an OS version a spreadsheet would evaluate ("-2+3": the
    # version pattern allows + and - anywhere), enough machines for the partner table to publish it
    rng = random.Random(3)
    population = build_population(DAY, machines_per_product=K + 10)
    reports = []
    for machine in population.machines:
        report = report_of(machine, at(DAY, 10), rng, latest=True)
        report["configuration"]["os"]["version"] = "-2+3"
        reports.append(StoredReport(report, at(DAY, 10, 1)))
    store = MemoryStore()
    aggregate(objects_of(reports), store)
    # When the partner configuration table is read as CSV text and as Parquet
    parquet = read_table(store.objects, "partner", "configuration", DAY)
    text = b"".join(
        v for k, v in sorted(store.objects.items()) if "partner/configuration" in k and k.endswith(".csv")
    )
    rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(text.decode())))
    # Then the CSV's version cells carry the apostrophe, Parquet keeps the value, and numbers stay numbers
    versions = [r for r in rows if r["dimension"] == "os_version"]
    assert versions and {r["value"] for r in versions} == {"'-2+3"}
    assert {r["value"] for r in parquet if r["dimension"] == "os_version"} == {"-2+3"}
    assert all(r["machines"].lstrip("-").isdigit() for r in rows)
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for r in rows
        for k, cell in r.items()
        if k in ("product_id", "dimension", "value")
    )
