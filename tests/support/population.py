"""A synthetic population of machines with known truth, stored exactly as ingest stores reports.

Machines have fixed products and configurations; problems are hit with chosen prevalence, one machine
hits a problem very often; every machine sends several reports a day, and a few change configuration
during the day (the tables must take the latest). The builder returns the reports as stored lines,
and `truth` (tests/support/aggregate_truth.py) computes every table from them in plain Python.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ceip.reports.model import Report
from ceip.storage import keys, report_codec

PRODUCTS = ("contoso.editor", "contoso.mail")
OS_VERSIONS = {"windows": ("10.0.19045", "10.0.22631"), "macos": ("14.5",), "linux": ("6.8.0",)}
HARDWARE = ("bluetooth", "high_speed_usb", "touch")
PROBLEM_PREVALENCE = {
    ("crash.mso.dll.0xc0000005", "program"): 0.5,
    ("hang.ui.thread", "program"): 0.2,
    ("driver.usb.reset", "device"): 0.05,
}
HEAVY_PROBLEM = ("crash.heavy.hitter", "program")
"""Hit by one machine a hundred times a report, and by a few others once."""
FEATURE_PREVALENCE = {"editor.spellcheck": 0.8, "editor.track_changes": 0.3, "mail.rules": 0.1}


@dataclass(frozen=True)
class Machine:
    machine_id: str
    product_id: str
    processor_count: int
    os_family: str
    os_version: str
    hardware: dict[str, bool]
    problems: dict[tuple[str, str], int]
    """Hits per report, for the problems this machine has."""
    features: dict[str, int]
    early_os_version: str | None = None
    """When set, the machine's earlier reports state this version (an upgrade during the day)."""


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


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


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
    for product in PRODUCTS:
        for index in range(machines_per_product):
            family = rng.choices(list(OS_VERSIONS), weights=(8, 3, 1))[0]
            problems = {
                key: rng.randint(1, 4) for key, share in PROBLEM_PREVALENCE.items() if rng.random() < share
            }
            if index == 0:
                problems[HEAVY_PROBLEM] = 100
            elif index in (1, 2, 3):
                problems[HEAVY_PROBLEM] = 1
            features = {
                name: rng.randint(1, 9) for name, share in FEATURE_PREVALENCE.items() if rng.random() < share
            }
            machines.append(
                Machine(
                    machine_id=guid(rng),
                    product_id=product,
                    processor_count=128 if index == 5 else rng.choice((2, 4, 4, 8, 8, 8, 16, 64)),
                    os_family=family,
                    os_version=rng.choice(OS_VERSIONS[family]),
                    hardware={name: rng.random() < 0.6 for name in HARDWARE},
                    problems=problems,
                    features=features,
                    early_os_version="10.0.17763" if family == "windows" and index % 7 == 3 else None,
                )
            )
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
    version = machine.os_version if latest or machine.early_os_version is None else machine.early_os_version
    report: dict[str, Any] = {
        "schema_version": 1,
        "report_id": guid(rng),
        "machine_id": machine.machine_id,
        "product": {"id": machine.product_id, "version": "12.0.4471"},
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "configuration": {
            "processor_count": machine.processor_count,
            "network_connection_count": 1 + machine.processor_count % 3,
            "os": {"family": machine.os_family, "version": version},
            "hardware_features": dict(machine.hardware),
        },
        "performance": {
            "ui_response_ms": [rng.randint(5, 900) for _ in range(rng.randint(1, 6))],
            "problems": [
                {"id": problem_id, "kind": kind, "count": hits}
                for (problem_id, kind), hits in machine.problems.items()
            ],
            "network_kbps": {
                "send": [rng.randint(100, 9000) for _ in range(rng.randint(0, 3))],
                "receive": [rng.randint(100, 90000) for _ in range(rng.randint(1, 3))],
            },
        },
        "usage": {
            "features": [{"id": name, "count": uses} for name, uses in machine.features.items()],
            "help_center_opens": rng.randint(0, 3),
            "desktop_folder_count": rng.randint(0, 120),
        },
    }
    return report


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
