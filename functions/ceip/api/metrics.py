"""EMF counts by reason. Reasons are our own fixed codes, never client input."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "ceip"


def count_by_reason(metric: str, reason_counts: dict[str, int], service: str) -> None:
    """One EMF record per reason, each with the dimensions service and reason."""
    for reason, count in sorted(reason_counts.items()):
        with single_metric(name=metric, unit=MetricUnit.Count, value=count, namespace=NAMESPACE) as record:
            record.add_dimension(name="service", value=service)
            record.add_dimension(name="reason", value=reason)
