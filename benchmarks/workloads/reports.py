"""The one generator of synthetic wire-format v1 reports (functions/ceip/reports/model.py).

Benchmarks, the load test and the tests draw their reports here: a `Catalogue` names what reports may
mention, `draw_machine` draws a machine's fixed profile from it (product, OS, hardware, problems and
features it has), and `draw_report` draws one report of that machine under a `ReportStyle` (which
sections, how many samples, counts per report). Everything is drawn from the `random.Random` passed in,
so a seed gives the same reports byte for byte; `fresh_ids=True` takes ids from uuid4 instead, for runs
against a stack that may hold an earlier run's reports. `wire_report` is the format alone, for a report
whose every value the caller chooses. `batch_body` and `stored_line` give a request body and a stored
line for a list of reports. `max_size_report` is a hostile client's report: every list at its limit,
every id fresh and as long as the wire format allows.

The draw order is part of the contract: tests/support/population.py reproduces the population its
tests were written against only while every draw happens in the order below. A single-option choice
draws nothing, except the OS version (the populations were generated with that draw).
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ceip.reports import limits

SECTIONS = frozenset({"configuration", "performance", "network", "usage"})
"""Optional parts of a report; "network" is network_kbps inside performance."""


@dataclass(frozen=True, slots=True)
class Samples:
    """A list of integer samples: its length uniform in `count`, each value uniform in `value`."""

    count: tuple[int, int]
    value: tuple[int, int]

    def draw(self, rng: random.Random) -> list[int]:
        return [rng.randint(*self.value) for _ in range(rng.randint(*self.count))]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What reports may name."""

    products: Mapping[str, tuple[str, ...]]
    """Product id -> its versions."""
    os_versions: Mapping[str, tuple[str, ...]]
    """OS family -> its versions."""
    os_weights: tuple[int, ...]
    processor_counts: tuple[int, ...]
    hardware: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]
    """(problem id, kind) pairs."""
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MachineStyle:
    """How a machine's fixed profile is drawn from a catalogue."""

    problem_prevalence: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """Share of machines that have each problem (hits per report drawn from problem_hits)."""
    problem_hits: tuple[int, int] = (1, 4)
    feature_prevalence: Mapping[str, float] = field(default_factory=dict)
    feature_uses: tuple[int, int] = (1, 9)
    problem_sample: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    """Instead of prevalence: (sizes, weights) of a weighted choice of how many catalogue problems."""
    feature_sample: tuple[int, int] | None = None
    """Instead of prevalence: how many catalogue features, uniform in this range."""
    hardware_share: float = 0.5
    """Chance that a hardware feature is on."""
    hardware_sample: tuple[int, int] | None = None
    """How many hardware features a machine states (uniform); None: every one in the catalogue."""


@dataclass(frozen=True, slots=True)
class Machine:
    machine_id: str
    product_id: str
    version: str
    os_family: str
    os_version: str
    processor_count: int
    hardware: dict[str, bool]
    problems: dict[tuple[str, str], int]
    """The problems this machine has -> hits per report (ReportStyle.problem_hits may redraw them)."""
    features: dict[str, int]
    """The features this machine uses -> uses per report (ReportStyle.feature_uses may redraw them)."""
    early_os_version: str | None = None
    """When set, reports not marked latest state this OS version (an upgrade during the day)."""


def all_sections(rng: random.Random) -> frozenset[str]:
    return SECTIONS


def one_of(*choices: frozenset[str]) -> Callable[[random.Random], frozenset[str]]:
    """Each report takes one of the given section sets, uniformly (repeat a set to weight it)."""

    def pick(rng: random.Random) -> frozenset[str]:
        return rng.choice(choices)

    return pick


def independent(
    configuration: float, performance: float, usage: float, network: float
) -> Callable[[random.Random], frozenset[str]]:
    """Each section with its own chance; performance whenever there is no configuration (a report needs
    one of the two to say anything), network only inside performance."""

    def pick(rng: random.Random) -> frozenset[str]:
        chosen = {"configuration"} if rng.random() < configuration else set()
        if rng.random() < performance or not chosen:
            chosen.add("performance")
            if rng.random() < network:
                chosen.add("network")
        if rng.random() < usage:
            chosen.add("usage")
        return frozenset(chosen)

    return pick


@dataclass(frozen=True, slots=True)
class ReportStyle:
    """How one report of a machine is drawn."""

    ui_response_ms: Samples
    send_kbps: Samples
    receive_kbps: Samples
    help_center_opens: tuple[int, int] = (0, 3)
    desktop_folder_count: tuple[int, int] = (0, 120)
    sections: Callable[[random.Random], frozenset[str]] = all_sections
    network_connections: tuple[int, int] | None = None
    """Drawn per report; None: derived from the machine (1 + processor_count % 3)."""
    problem_hits: tuple[int, int] | None = None
    """Hits of each of the machine's problems drawn per report; None: the machine's own."""
    feature_uses: tuple[int, int] | None = None
    """Uses of each of the machine's features drawn per report; None: the machine's own."""
    extra_problems: Callable[[random.Random], list[tuple[str, str]]] | None = None
    """Problems a report names besides the machine's, drawn per report (hits from extra_problem_hits)."""
    extra_problem_hits: tuple[int, int] = (1, 5)
    extra_features: Callable[[random.Random], list[str]] | None = None
    extra_feature_uses: tuple[int, int] = (1, 30)
    local_time_share: float = 0.0
    """Share of created_at written with a +01:00 offset instead of Z."""


_CET = timezone(timedelta(hours=1))


_VERSION_4_KEEP = ~(0xF000 << 64) & ~(0xC000 << 48)
_VERSION_4_SET = (0x4000 << 64) | (0x8000 << 48)


def guid(rng: random.Random) -> str:
    """str(uuid.UUID(int=rng.getrandbits(128), version=4)), formatted directly: the same text for the same
    draws at a third of the cost (the purge flood benchmark draws two million)."""
    digits = f"{rng.getrandbits(128) & _VERSION_4_KEEP | _VERSION_4_SET:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _new_id(rng: random.Random, fresh_ids: bool) -> str:
    return str(uuid.uuid4()) if fresh_ids else guid(rng)


def _pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return options[0] if len(options) == 1 else rng.choice(options)


def draw_machine(
    rng: random.Random,
    catalogue: Catalogue,
    style: MachineStyle,
    *,
    product_id: str | None = None,
    processor_count: int | None = None,
    fresh_ids: bool = False,
) -> Machine:
    """One machine's profile; product and processor count are drawn unless given."""
    product = product_id if product_id is not None else _pick(rng, list(catalogue.products))
    version = _pick(rng, catalogue.products[product])
    family = rng.choices(list(catalogue.os_versions), weights=catalogue.os_weights)[0]
    if style.problem_sample is not None:
        sizes, weights = style.problem_sample
        problems = dict.fromkeys(rng.sample(catalogue.problems, rng.choices(sizes, weights)[0]), 0)
    else:
        problems = {
            key: rng.randint(*style.problem_hits)
            for key, share in style.problem_prevalence.items()
            if rng.random() < share
        }
    if style.feature_sample is not None:
        features = dict.fromkeys(rng.sample(catalogue.features, rng.randint(*style.feature_sample)), 0)
    else:
        features = {
            name: rng.randint(*style.feature_uses)
            for name, share in style.feature_prevalence.items()
            if rng.random() < share
        }
    machine_id = _new_id(rng, fresh_ids)
    processors = processor_count if processor_count is not None else rng.choice(catalogue.processor_counts)
    os_version = rng.choice(catalogue.os_versions[family])
    names = (
        catalogue.hardware
        if style.hardware_sample is None
        else rng.sample(catalogue.hardware, rng.randint(*style.hardware_sample))
    )
    hardware = {name: rng.random() < style.hardware_share for name in names}
    return Machine(machine_id, product, version, family, os_version, processors, hardware, problems, features)


def format_created_at(created: datetime, local: bool = False) -> str:
    if local:
        return created.astimezone(_CET).isoformat(timespec="seconds")
    utc = created.astimezone(UTC) if created.tzinfo is not None else created
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_report(
    *,
    report_id: str,
    machine_id: str,
    product: tuple[str, str],
    created_at: str,
    configuration: dict[str, Any] | None = None,
    performance: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A wire-format v1 report from its parts (fields in the model's order; absent sections left out)."""
    report: dict[str, Any] = {
        "schema_version": 1,
        "report_id": report_id,
        "machine_id": machine_id,
        "product": {"id": product[0], "version": product[1]},
        "created_at": created_at,
    }
    for name, section in (("configuration", configuration), ("performance", performance), ("usage", usage)):
        if section is not None:
            report[name] = section
    return report


def draw_report(
    machine: Machine,
    created: datetime,
    rng: random.Random,
    style: ReportStyle,
    *,
    latest: bool = True,
    fresh_ids: bool = False,
) -> dict[str, Any]:
    """One valid report of `machine`, made at `created`."""
    report_id = _new_id(rng, fresh_ids)
    sections = style.sections(rng)
    local = style.local_time_share > 0 and rng.random() < style.local_time_share
    configuration = performance = usage = None
    if "configuration" in sections:
        os_version = (
            machine.os_version if latest or machine.early_os_version is None else machine.early_os_version
        )
        connections = (
            1 + machine.processor_count % 3
            if style.network_connections is None
            else rng.randint(*style.network_connections)
        )
        configuration = {
            "processor_count": machine.processor_count,
            "network_connection_count": connections,
            "os": {"family": machine.os_family, "version": os_version},
            "hardware_features": dict(machine.hardware),
        }
    if "performance" in sections:
        ui = style.ui_response_ms.draw(rng)
        problems = [
            {
                "id": problem_id,
                "kind": kind,
                "count": hits if style.problem_hits is None else rng.randint(*style.problem_hits),
            }
            for (problem_id, kind), hits in machine.problems.items()
        ]
        if style.extra_problems is not None:
            picked = style.extra_problems(rng)
            problems += [
                {"id": problem_id, "kind": kind, "count": rng.randint(*style.extra_problem_hits)}
                for problem_id, kind in picked
            ]
        performance = {"ui_response_ms": ui, "problems": problems}
        if "network" in sections:
            send = style.send_kbps.draw(rng)
            performance["network_kbps"] = {"send": send, "receive": style.receive_kbps.draw(rng)}
    if "usage" in sections:
        features = [
            {"id": name, "count": uses if style.feature_uses is None else rng.randint(*style.feature_uses)}
            for name, uses in machine.features.items()
        ]
        if style.extra_features is not None:
            picked_features = style.extra_features(rng)
            features += [
                {"id": name, "count": rng.randint(*style.extra_feature_uses)} for name in picked_features
            ]
        help_opens = rng.randint(*style.help_center_opens)
        usage = {
            "features": features,
            "help_center_opens": help_opens,
            "desktop_folder_count": rng.randint(*style.desktop_folder_count),
        }
    return wire_report(
        report_id=report_id,
        machine_id=machine.machine_id,
        product=(machine.product_id, machine.version),
        created_at=format_created_at(created, local),
        configuration=configuration,
        performance=performance,
        usage=usage,
    )


def batch_body(reports: Sequence[dict[str, Any]], *, compact: bool = False) -> str:
    """A POST /v1/reports body."""
    return json.dumps({"reports": list(reports)}, separators=(",", ":") if compact else None)


def stored_line(report: dict[str, Any], received_at: str) -> str:
    """A stored line without pydantic (keys sorted, received_at last): for days too large to validate.

    ceip's readers take fields by name, so key order does not matter to them; ingest's own canonical
    line (report_codec.canonical_line) is in the model's field order.
    """
    return (
        json.dumps(report, sort_keys=True, separators=(",", ":"))[:-1] + f',"received_at":"{received_at}"}}\n'
    )


# --- a hostile client: reports at every limit of the wire format (ceip.reports.limits) --------------

_ID_FIRST = string.ascii_lowercase + string.digits
_ID_REST = _ID_FIRST + "._:-"
_VERSION_CHARS = string.ascii_letters + string.digits + ".+-"
_ID_LENGTH = 128
"""limits.IDENTIFIER_PATTERN: a first character, then at most 127 more."""
_VERSION_LENGTH = 32
"""limits.VERSION_PATTERN."""


def _random_text(rng: random.Random, alphabet: str, length: int) -> str:
    # randbytes and a translation table: a million ids of 128 characters in seconds, not minutes.
    table = bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))
    return rng.randbytes(length).translate(table).decode()


def long_id(rng: random.Random) -> str:
    """A random identifier of the longest length the wire format allows."""
    return _random_text(rng, _ID_FIRST, 1) + _random_text(rng, _ID_REST, _ID_LENGTH - 1)


def max_size_report(rng: random.Random, product_id: str, created: datetime) -> dict[str, Any]:
    """A valid report as large as the limits allow: a fresh machine GUID and report id, the most
    problems, features and hardware features with fresh maximum-length ids, the most samples of the
    largest values, and a random OS version."""

    def ids(count: int) -> list[str]:
        return [long_id(rng) for _ in range(count)]

    def samples(maximum: int) -> list[int]:
        return [rng.randint(maximum // 10, maximum) for _ in range(limits.MAX_SAMPLES)]

    def count() -> int:
        return rng.randint(limits.MAX_COUNT // 10, limits.MAX_COUNT)

    return wire_report(
        report_id=guid(rng),
        machine_id=guid(rng),
        product=(product_id, _random_text(rng, _VERSION_CHARS, _VERSION_LENGTH)),
        created_at=format_created_at(created),
        configuration={
            "processor_count": rng.randint(1, limits.MAX_PROCESSOR_COUNT),
            "network_connection_count": rng.randint(0, limits.MAX_NETWORK_CONNECTIONS),
            "os": {
                "family": rng.choice(("windows", "macos", "linux")),
                "version": _random_text(rng, _VERSION_CHARS, _VERSION_LENGTH),
            },
            "hardware_features": {name: rng.random() < 0.5 for name in ids(limits.MAX_HARDWARE_FEATURES)},
        },
        performance={
            "ui_response_ms": samples(limits.MAX_UI_RESPONSE_MS),
            "problems": [
                {"id": problem_id, "kind": rng.choice(("program", "device")), "count": count()}
                for problem_id in ids(limits.MAX_LIST_ITEMS)
            ],
            "network_kbps": {
                "send": samples(limits.MAX_NETWORK_KBPS),
                "receive": samples(limits.MAX_NETWORK_KBPS),
            },
        },
        usage={
            "features": [{"id": feature_id, "count": count()} for feature_id in ids(limits.MAX_LIST_ITEMS)],
            "help_center_opens": count(),
            "desktop_folder_count": count(),
        },
    )


# --- client traffic: reports shaped like docs/examples/batch.json, one fresh machine each -------------

CLIENT_CATALOGUE = Catalogue(
    products={
        "contoso.editor": ("12.0.4471", "12.0.4480", "12.1.102"),
        "contoso.mail": ("8.3.2", "8.4.0"),
        "fabrikam.viewer": ("3.11.7", "3.12.0-beta1"),
    },
    os_versions={
        "windows": ("10.0.19045", "10.0.22631", "10.0.26100"),
        "macos": ("14.6.1", "15.1"),
        "linux": ("6.8.0", "6.1.112"),
    },
    os_weights=(1, 1, 1),
    processor_counts=(2, 4, 8, 12, 16, 32),
    hardware=("bluetooth", "high_speed_usb", "touch_screen", "pen", "webcam", "tpm2"),
    problems=(
        ("crash.mso.dll.0xc0000005", "program"),
        ("crash.render.0xc0000409", "program"),
        ("hang.ui.thread", "program"),
        ("driver.usb.reset", "device"),
        ("driver.gpu.timeout", "device"),
    ),
    features=(
        "editor.spellcheck",
        "editor.autosave",
        "editor.find_replace",
        "editor.track_changes",
        "editor.comments",
        "editor.export.pdf",
        "mail.search",
        "viewer.print",
    ),
)
CLIENT_MACHINES = MachineStyle(
    problem_sample=((0, 1, 2), (1, 1, 1)), feature_sample=(1, 5), hardware_share=0.5, hardware_sample=(1, 4)
)
CLIENT_REPORTS = ReportStyle(
    ui_response_ms=Samples((1, 12), (5, 400)),
    send_kbps=Samples((1, 4), (100, 20_000)),
    receive_kbps=Samples((1, 4), (100, 80_000)),
    help_center_opens=(0, 3),
    desktop_folder_count=(0, 20),
    sections=independent(configuration=0.8, performance=0.9, usage=0.7, network=0.6),
    network_connections=(0, 4),
    problem_hits=(1, 5),
    feature_uses=(1, 50),
    local_time_share=0.3,
)


def client_report(rng: random.Random, now: datetime) -> dict[str, Any]:
    """A report of a machine not seen before, made one minute to six hours before `now`."""
    machine = draw_machine(rng, CLIENT_CATALOGUE, CLIENT_MACHINES)
    return draw_report(machine, now - timedelta(seconds=rng.randint(60, 6 * 3600)), rng, CLIENT_REPORTS)


def client_bodies(count: int, reports_per_body: int, seed: int, now: datetime) -> list[str]:
    """`count` request bodies of `reports_per_body` client reports each."""
    rng = random.Random(seed)
    return [batch_body([client_report(rng, now) for _ in range(reports_per_body)]) for _ in range(count)]
