"""What the load clients send: valid v1 batches with realistic variety, and which of them are resent.

Content comes from a seeded generator (products, OS versions, hardware, problems, features and samples
vary per machine and report); report and machine ids are always fresh uuid4s, so a rerun against a
running stack never collides with an earlier run's ids. Product ids carry a per-run tag, which lets the
audit tell this run's reports from anything else stored that day.
"""

from __future__ import annotations

import enum
import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCTS = {
    "contoso.editor": ("12.0.4471", "12.0.4480", "12.1.102"),
    "contoso.mail": ("8.2.1", "8.3.0"),
    "contoso.sheets": ("5.0.77",),
    "contoso.viewer": ("2.4.0", "2.4.1"),
}
OS_VERSIONS = {
    "windows": ("10.0.19045", "10.0.22631", "10.0.26100"),
    "macos": ("13.6.7", "14.5"),
    "linux": ("6.8.0", "6.1.0"),
}
OS_WEIGHTS = (8, 3, 1)
HARDWARE = ("bluetooth", "high_speed_usb", "touch", "tpm2", "gpu.discrete")
PROBLEMS = (
    ("crash.mso.dll.0xc0000005", "program"),
    ("hang.ui.thread", "program"),
    ("crash.render.oom", "program"),
    ("driver.usb.reset", "device"),
    ("driver.gpu.timeout", "device"),
)
FEATURES = ("spellcheck", "track_changes", "export.pdf", "search", "rules", "dark_mode", "sync")
PROCESSOR_COUNTS = (2, 4, 4, 8, 8, 8, 12, 16, 32, 64)


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


@dataclass(frozen=True, slots=True)
class Machine:
    machine_id: str
    product_id: str
    version: str
    os_family: str
    os_version: str
    processor_count: int
    hardware: dict[str, bool]
    problems: tuple[tuple[str, str], ...]
    features: tuple[str, ...]


def run_tag() -> str:
    return f"load-{secrets.token_hex(3)}"


def make_machines(count: int, rng: random.Random, tag: str) -> list[Machine]:
    machines = []
    for _ in range(count):
        product = rng.choice(list(PRODUCTS))
        family = rng.choices(list(OS_VERSIONS), weights=OS_WEIGHTS)[0]
        machines.append(
            Machine(
                machine_id=str(uuid.uuid4()),
                product_id=f"{tag}.{product}",
                version=rng.choice(PRODUCTS[product]),
                os_family=family,
                os_version=rng.choice(OS_VERSIONS[family]),
                processor_count=rng.choice(PROCESSOR_COUNTS),
                hardware={name: rng.random() < 0.5 for name in rng.sample(HARDWARE, rng.randint(0, 4))},
                problems=tuple(rng.sample(PROBLEMS, rng.choices((0, 1, 2), weights=(5, 3, 1))[0])),
                features=tuple(rng.sample(FEATURES, rng.randint(0, 4))),
            )
        )
    return machines


def make_report(machine: Machine, rng: random.Random, now: datetime) -> dict[str, Any]:
    """One valid report; sections are optional on the wire, so some reports carry only one or two."""
    report: dict[str, Any] = {
        "schema_version": 1,
        "report_id": str(uuid.uuid4()),
        "machine_id": machine.machine_id,
        "product": {"id": machine.product_id, "version": machine.version},
        "created_at": (now - timedelta(seconds=rng.randrange(0, 6 * 3600))).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    sections = rng.choice(
        (("configuration", "performance", "usage"),) * 4 + (("performance",), ("usage",), ("configuration",))
    )
    if "configuration" in sections:
        report["configuration"] = {
            "processor_count": machine.processor_count,
            "network_connection_count": rng.randint(0, 4),
            "os": {"family": machine.os_family, "version": machine.os_version},
            "hardware_features": machine.hardware,
        }
    if "performance" in sections:
        report["performance"] = {
            "ui_response_ms": [rng.randint(3, 2500) for _ in range(rng.randint(0, 24))],
            "problems": [{"id": p, "kind": k, "count": rng.randint(1, 9)} for p, k in machine.problems],
            "network_kbps": {
                "send": [rng.randint(10, 20_000) for _ in range(rng.randint(0, 6))],
                "receive": [rng.randint(10, 200_000) for _ in range(rng.randint(0, 6))],
            },
        }
    if "usage" in sections:
        report["usage"] = {
            "features": [{"id": f, "count": rng.randint(1, 40)} for f in machine.features],
            "help_center_opens": rng.randint(0, 3),
            "desktop_folder_count": rng.randint(0, 200),
        }
    return report


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
        body = json.dumps({"reports": items}, separators=(",", ":")).encode()
        batches.append(Batch(index, body, tuple(r["report_id"] for r in items), kinds.get(index)))
    return batches
