"""Builders of valid wire-format reports and batches for tests: one fixed report with fresh ids, in the
shared generator's wire format (benchmarks/workloads/reports.py)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.workloads.reports import format_created_at, wire_report

EXAMPLE_BATCH = Path(__file__).resolve().parents[2] / "docs" / "examples" / "batch.json"


def utc_now() -> datetime:
    """The time reports are made at: tests that fix the server's clock fix this one with it, so their
    reports are never "made" a day ahead of the server (which refuses those)."""
    return datetime.now(UTC)


def make_report(**overrides: Any) -> dict[str, Any]:
    """A valid report with fresh ids, made five minutes before utc_now(); keyword arguments replace
    top-level fields."""
    report = wire_report(
        report_id=str(uuid.uuid4()),
        machine_id=str(uuid.uuid4()),
        product=("contoso.editor", "12.0.4471"),
        created_at=format_created_at(utc_now() - timedelta(minutes=5)),
        configuration={
            "processor_count": 8,
            "network_connection_count": 2,
            "os": {"family": "windows", "version": "10.0.22631"},
            "hardware_features": {"bluetooth": True, "high_speed_usb": False},
        },
        performance={
            "ui_response_ms": [12, 40, 18],
            "problems": [{"id": "crash.mso.dll.0xc0000005", "kind": "program", "count": 3}],
            "network_kbps": {"send": [1200], "receive": [980, 4100]},
        },
        usage={
            "features": [{"id": "editor.spellcheck", "count": 14}],
            "help_center_opens": 2,
            "desktop_folder_count": 7,
        },
    )
    report.update(copy.deepcopy(overrides))
    return report


def make_batch(count: int = 2, **overrides: Any) -> dict[str, Any]:
    return {"reports": [make_report(**overrides) for _ in range(count)]}


def example_batch() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLE_BATCH.read_text(encoding="utf-8"))
    return loaded
