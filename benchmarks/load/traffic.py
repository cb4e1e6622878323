"""What the load clients send: valid v1 batches with realistic variety, and which of them are resent.

Content comes from the shared seeded generator, benchmarks/workloads/reports.py (products, OS versions,
hardware, problems, features and samples vary per machine and report); report and machine ids are
always fresh uuid4s, so a rerun against a running stack never collides with an earlier run's ids.
Product ids carry a per-run tag, which lets the audit tell this run's reports from anything else
stored that day.
"""

from __future__ import annotations

import enum
import random
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.workloads.reports import (
    Catalogue,
    Machine,
    MachineStyle,
    ReportStyle,
    Samples,
    batch_body,
    draw_machine,
    draw_report,
    one_of,
)

CATALOGUE = Catalogue(
    products={
        "contoso.editor": ("12.0.4471", "12.0.4480", "12.1.102"),
        "contoso.mail": ("8.2.1", "8.3.0"),
        "contoso.sheets": ("5.0.77",),
        "contoso.viewer": ("2.4.0", "2.4.1"),
    },
    os_versions={
        "windows": ("10.0.19045", "10.0.22631", "10.0.26100"),
        "macos": ("13.6.7", "14.5"),
        "linux": ("6.8.0", "6.1.0"),
    },
    os_weights=(8, 3, 1),
    processor_counts=(2, 4, 4, 8, 8, 8, 12, 16, 32, 64),
    hardware=("bluetooth", "high_speed_usb", "touch", "tpm2", "gpu.discrete"),
    problems=(
        ("crash.mso.dll.0xc0000005", "program"),
        ("hang.ui.thread", "program"),
        ("crash.render.oom", "program"),
        ("driver.usb.reset", "device"),
        ("driver.gpu.timeout", "device"),
    ),
    features=("spellcheck", "track_changes", "export.pdf", "search", "rules", "dark_mode", "sync"),
)
MACHINE_STYLE = MachineStyle(
    problem_sample=((0, 1, 2), (5, 3, 1)), feature_sample=(0, 4), hardware_share=0.5, hardware_sample=(0, 4)
)
_FULL = frozenset({"configuration", "performance", "network", "usage"})
REPORT_STYLE = ReportStyle(
    ui_response_ms=Samples((0, 24), (3, 2500)),
    send_kbps=Samples((0, 6), (10, 20_000)),
    receive_kbps=Samples((0, 6), (10, 200_000)),
    help_center_opens=(0, 3),
    desktop_folder_count=(0, 200),
    # Sections are optional on the wire, so some reports carry only one or two.
    sections=one_of(
        *(_FULL,) * 4,
        frozenset({"performance", "network"}),
        frozenset({"usage"}),
        frozenset({"configuration"}),
    ),
    network_connections=(0, 4),
    problem_hits=(1, 9),
    feature_uses=(1, 40),
)


class Repeat(enum.Enum):
    """How a client resends a batch."""

    ABANDONED = "abandoned"
    """The first attempt is dropped before its answer (the client's timeout), then the body is resent."""
    AFTER_ANSWER = "after-answer"
    """The body is resent after its 202 arrived (a client that lost or distrusted the answer)."""


@dataclass(frozen=True, slots=True)
class Batch:
    index: int
    body: bytes
    report_ids: tuple[str, ...]
    repeat: Repeat | None = None


def run_tag() -> str:
    return f"load-{secrets.token_hex(3)}"


def make_machines(count: int, rng: random.Random, tag: str) -> list[Machine]:
    """Machines with fresh ids whose product ids carry the run's tag."""
    machines = [draw_machine(rng, CATALOGUE, MACHINE_STYLE, fresh_ids=True) for _ in range(count)]
    return [replace(machine, product_id=f"{tag}.{machine.product_id}") for machine in machines]


def make_report(machine: Machine, rng: random.Random, now: datetime) -> dict[str, Any]:
    """One valid report with a fresh id, made up to six hours before `now`."""
    created = now - timedelta(seconds=rng.randrange(0, 6 * 3600))
    return draw_report(machine, created, rng, REPORT_STYLE, fresh_ids=True)


def make_batches(
    reports: int,
    batch_size: int,
    repeat_share: float,
    *,
    seed: int,
    tag: str,
    now: datetime | None = None,
) -> list[Batch]:
    """`reports` reports in batches of `batch_size` (the last may be smaller); a `repeat_share` of the
    batches is marked for resending, half abandoned first, half resent after the answer."""
    if reports < 1 or not 1 <= batch_size <= 100 or not 0 <= repeat_share <= 1:
        raise ValueError("reports >= 1, batch size 1..100 and repeat share 0..1")
    rng = random.Random(seed)
    moment = now or datetime.now(UTC)
    # About three reports per machine, spread over the batches as machines report independently.
    machines = make_machines(max(1, reports // 3), rng, tag)
    count = -(-reports // batch_size)
    repeated = rng.sample(range(count), round(count * repeat_share))
    kinds = {
        index: (Repeat.ABANDONED if n % 2 == 0 else Repeat.AFTER_ANSWER) for n, index in enumerate(repeated)
    }
    batches = []
    for index in range(count):
        size = min(batch_size, reports - index * batch_size)
        items = [make_report(rng.choice(machines), rng, moment) for _ in range(size)]
        body = batch_body(items, compact=True).encode()
        batches.append(Batch(index, body, tuple(r["report_id"] for r in items), kinds.get(index)))
    return batches
