"""What of a valid report is stored: no more entries than the aggregation can count.

The aggregation counts at most `problems` distinct problems and `features` distinct features per machine
and day, and `hardware_features` hardware-feature names per machine and product (ceip.aggregate.bounds,
the same template parameters). A report's entries past those can never count, so ingest does not keep
them (data minimization), and a report of 256 made-up ids costs storage, the aggregation and the purge
what one at the bounds does. The cut is the aggregation's own first step (sql/problem_totals.sql,
feature_totals.sql, machine_hardware.sql): the most hit problems and the most used features (ties by
id, then kind), the hardware names first in name order. So reports stored whole by an
earlier ingest aggregate to the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ceip.reports.model import Report


@dataclass(frozen=True, slots=True)
class StoredEntries:
    """Per report: the most entries of each list that are stored."""

    problems: int = 16
    features: int = 48
    hardware_features: int = 8

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"stored entries {field.name} must be at least 1")


def minimized(report: Report, stored: StoredEntries) -> Report:
    """The report with its lists cut to what can count; the report itself when nothing is cut."""
    performance, usage, configuration = report.performance, report.usage, report.configuration
    update: dict[str, object] = {}
    if performance is not None and len(performance.problems) > stored.problems:
        problems = sorted(performance.problems, key=lambda p: (-p.count, p.id, p.kind))
        update["performance"] = performance.model_copy(update={"problems": problems[: stored.problems]})
    if usage is not None and len(usage.features) > stored.features:
        features = sorted(usage.features, key=lambda f: (-f.count, f.id))
        update["usage"] = usage.model_copy(update={"features": features[: stored.features]})
    hardware = configuration.hardware_features if configuration is not None else None
    if configuration is not None and hardware is not None and len(hardware) > stored.hardware_features:
        kept = dict(sorted(hardware.items())[: stored.hardware_features])
        update["configuration"] = configuration.model_copy(update={"hardware_features": kept})
    return report.model_copy(update=update) if update else report
