"""AggregateFunction handler: the EventBridge Scheduler input in, one day of tables out.

The schedule's Input is a JSON object: {"scheduled_time": "<aws.scheduler.scheduled-time>"} from the
template (the day before the scheduled time), {} (the day before now) or {"date": "YYYY-MM-DD"}.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ceip.aggregate import dates, service
from ceip.aggregate.settings import AggregateSettings, aggregate_settings
from ceip.datasubject.snapshot import suppression_snapshot
from ceip.storage.aggregate_s3 import S3AggregateStore, S3ReportSource

NAMESPACE = "ceip"

logger = Logger(service="ceip-aggregate")
metrics = Metrics(namespace=NAMESPACE, service="ceip-aggregate")
tracer = Tracer(service="ceip-aggregate")


class AggregateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date | None = Field(default=None, alias="date")
    scheduled_time: AwareDatetime | None = None


class InvalidRequest(ValueError):
    """The event is not an aggregation request; its content is deliberately not repeated."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def options_from(settings: AggregateSettings) -> service.AggregationOptions:
    return service.AggregationOptions(
        min_machines=settings.min_machines,
        fold_share=settings.fold_share,
        lookback_hours=settings.dedup_lookback_hours,
        memory_limit_mb=settings.memory_limit_mb,
        threads=available_cpus(),
        fetch_workers=settings.fetch_workers,
        work_dir=Path(settings.work_dir),
    )


def record(result: service.DayResult) -> None:
    counts = result.manifest.input
    for name, value in (
        ("ReportsAggregated", counts.reports_aggregated),
        ("DuplicateReportsDropped", counts.duplicates_dropped),
        ("CorruptLinesSkipped", counts.corrupt_lines_skipped),
        ("CorruptObjectsSkipped", counts.objects_corrupt),
        ("SuppressedReportsDropped", counts.suppressed_reports_dropped),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info(
        "day_aggregated",
        dt=result.manifest.dt.isoformat(),
        objects=counts.objects_read,
        reports=counts.reports_aggregated,
        machines=counts.machines,
        duplicates=counts.duplicates_dropped,
        corrupt_lines=counts.corrupt_lines_skipped,
        corrupt_objects=counts.objects_corrupt,
        stale_files_deleted=result.manifest.stale_files_deleted,
        rows=result.manifest.rows,
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        request = AggregateRequest.model_validate(event)
    except ValidationError as error:
        logger.error("invalid_request", errors=error.error_count())
        metrics.add_metric(name="InvalidRequests", unit=MetricUnit.Count, value=1)
        raise InvalidRequest('expected {} or {"date": "YYYY-MM-DD"}') from None
    day = dates.requested_day(request.day, request.scheduled_time, utc_now())
    settings = aggregate_settings()
    result = service.aggregate_day(
        day,
        source=S3ReportSource(settings.reports_bucket),
        store=S3AggregateStore(settings.aggregates_bucket),
        suppression=suppression_snapshot(settings.suppression_table, settings.machine_key_secret_id),
        options=options_from(settings),
    )
    record(result)
    return {
        "dt": day.isoformat(),
        "manifest": f"s3://{settings.aggregates_bucket}/{result.manifest_key}",
        "reports": result.manifest.input.reports_aggregated,
        "rows": result.manifest.rows,
    }
