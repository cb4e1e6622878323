"""A synthetic population of machines with known truth, stored exactly as ingest stores reports.

Machines have fixed products and configurations; problems are hit with chosen prevalence, one machine
hits a problem very often; every machine sends several reports a day, and a few change configuration
during the day (the tables must take the latest). The builder returns the reports as stored lines,
and `truth` (tests/support/aggregate_truth.py) computes every table from them in plain Python. The
reports come from the shared generator (benchmarks/workloads/reports.py), seeded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from benchmarks.workloads.reports import (
    Catalogue,
    Machine,
    MachineStyle,
    ReportStyle,
    Samples,
    draw_machine,
    draw_report,
    guid,
)

from ceip.reports.model import Report
from ceip.storage import keys, report_codec

__all__ = [
    "Machine",
    "Population",
    "StoredReport",
    "at",
    "build_population",
    "guid",
    "objects_of",
    "report_of",
]

CATALOGUE = Catalogue(
    products={"contoso.editor": ("12.0.4471",), "contoso.mail": ("12.0.4471",)},
    os_versions={"windows": ("10.0.19045", "10.0.22631"), "macos": ("14.5",), "linux": ("6.8.0",)},
    os_weights=(8, 3, 1),
    processor_counts=(2, 4, 4, 8, 8, 8, 16, 64),
    hardware=("bluetooth", "high_speed_usb", "touch"),
    problems=(),
    features=(),
)
PROBLEM_PREVALENCE = {
    ("crash.mso.dll.0xc0000005", "program"): 0.5,
    ("hang.ui.thread", "program"): 0.2,
    ("driver.usb.reset", "device"): 0.05,
}
HEAVY_PROBLEM = ("crash.heavy.hitter", "program")
"""Hit by one machine a hundred times a report, and by a few others once."""
FEATURE_PREVALENCE = {"editor.spellcheck": 0.8, "editor.track_changes": 0.3, "mail.rules": 0.1}
MACHINE_STYLE = MachineStyle(
    problem_prevalence=PROBLEM_PREVALENCE,
    problem_hits=(1, 4),
    feature_prevalence=FEATURE_PREVALENCE,
    feature_uses=(1, 9),
    hardware_share=0.6,
)
REPORT_STYLE = ReportStyle(
    ui_response_ms=Samples((1, 6), (5, 900)),
    send_kbps=Samples((0, 3), (100, 9000)),
    receive_kbps=Samples((1, 3), (100, 90000)),
    help_center_opens=(0, 3),
    desktop_folder_count=(0, 120),
)


@dataclass(frozen=True)
class StoredReport:
    report: dict[str, Any]
    received_at: datetime

    @property
    def line(self) -> str:
        return report_codec.canonical_line(Report.model_validate(self.report))


@dataclass
class Population:
    day: date
    machines: list[Machine]
    reports: list[StoredReport] = field(default_factory=list)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


def build_population(
    day: date,
    *,
    machines_per_product: int = 60,
    reports_per_machine: int = 3,
    seed: int = 7,
) -> Population:
    rng = random.Random(seed)
    machines: list[Machine] = []
    for product in CATALOGUE.products:
        for index in range(machines_per_product):
            machine = draw_machine(
                rng, CATALOGUE, MACHINE_STYLE, product_id=product, processor_count=128 if index == 5 else None
            )
            if index == 0:
                machine = replace(machine, problems={**machine.problems, HEAVY_PROBLEM: 100})
            elif index in (1, 2, 3):
                machine = replace(machine, problems={**machine.problems, HEAVY_PROBLEM: 1})
            if machine.os_family == "windows" and index % 7 == 3:
                machine = replace(machine, early_os_version="10.0.17763")
            machines.append(machine)
    population = Population(day, machines)
    for machine in machines:
        hours = sorted(rng.randrange(0, 24) for _ in range(reports_per_machine))
        for number, hour in enumerate(hours):
            created = at(day, hour, number * 3, rng.randrange(60))  # increasing per machine: no ties
            received = created + timedelta(seconds=rng.randrange(1, 50))
            latest = number == reports_per_machine - 1
            population.reports.append(StoredReport(report_of(machine, created, rng, latest=latest), received))
    return population


def report_of(machine: Machine, created: datetime, rng: random.Random, *, latest: bool) -> dict[str, Any]:
    return draw_report(machine, created, rng, REPORT_STYLE, latest=latest)


def objects_of(reports: Sequence[StoredReport], per_object: int = 25) -> dict[str, bytes]:
    """Stored objects as ingest writes them: batches of one receive hour, each line stamped with the
    batch's received_at, keyed by the digest of the batch's lines."""
    by_hour: dict[datetime, list[StoredReport]] = {}
    for stored in reports:
        by_hour.setdefault(stored.received_at.replace(minute=0, second=0, microsecond=0), []).append(stored)
    objects: dict[str, bytes] = {}
    for _, members in sorted(by_hour.items()):
        for start in range(0, len(members), per_object):
            batch = members[start : start + per_object]
            lines = [stored.line for stored in batch]
            received = max(stored.received_at for stored in batch)
            key = keys.report_object_key(received, report_codec.content_digest(lines))
            objects[key] = report_codec.encode_lines(lines, received)
    return objects
